"""Writes AlphaFold2's residue constants as C++ tables (used by Alg 24 and the atom maps).

Run with the reference environment's python (tests/reference/env.sh prints it):
    $(bash tests/reference/env.sh) cpp/tools/gen_residue_constants.py

The tables are taken from alphafold.common.residue_constants as imported, not re-derived, so the
float32 values are exactly those the reference computes with. The atom37/atom14 index maps and
the atom37 existence mask are built the way the reference's feature pipeline builds them
(alphafold/model/tf/data_transforms.py, make_atom14_masks), on the constants' own lists.
Writes cpp/include/exafold/model/residue_constants.h and cpp/src/model/residue_constants.cpp;
rerunning on the same reference version reproduces them byte for byte.
"""
import importlib.metadata
import pathlib
import textwrap

import numpy as np
from alphafold.common import residue_constants as rc

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = ROOT / "cpp/include/exafold/model/residue_constants.h"
SOURCE = ROOT / "cpp/src/model/residue_constants.cpp"
NUM_RESTYPES = rc.restype_num + 1  # the 20 amino acids and UNK


def atom_maps():
    """(restype_atom14_to_atom37, restype_atom37_to_atom14, restype_atom37_mask), UNK last."""
    to37, to14 = [], []
    for rt in rc.restypes:
        names = rc.restype_name_to_atom14_names[rc.restype_1to3[rt]]
        to37.append([rc.atom_order[n] if n else 0 for n in names])
        index14 = {n: i for i, n in enumerate(names)}
        to14.append([index14.get(n, 0) for n in rc.atom_types])
    to37.append([0] * 14)
    to14.append([0] * rc.atom_type_num)
    mask37 = np.zeros([NUM_RESTYPES, rc.atom_type_num], np.float32)
    for restype, letter in enumerate(rc.restypes):
        for name in rc.residue_atoms[rc.restype_1to3[letter]]:
            mask37[restype, rc.atom_order[name]] = 1
    return np.array(to37, np.int32), np.array(to14, np.int32), mask37


def literal(value, kind):
    if kind == "float":
        text = np.format_float_positional(np.float32(value), unique=True, trim="0")
        return f"{text}f"
    if kind == "int":
        return str(int(value))
    return '"' + value + '"'


def initializer(array, kind, indent=0):
    """Nested braces; a sub-array that fits in the column limit stays on one line."""
    pad = " " * indent
    if array.ndim == 1:
        return "{" + ", ".join(literal(v, kind) for v in array) + "}"
    inner = [initializer(a, kind, indent + 2) for a in array]
    one_line = "{" + ", ".join(inner) + "}"
    if "\n" not in one_line and indent + len(one_line) <= 96:
        return one_line
    return "{\n" + ",\n".join(pad + "  " + s for s in inner) + "\n" + pad + "}"


def doc_comment(text):
    return "".join(f"/// {line}\n" for line in textwrap.wrap(text, 96))


def main():
    to37, to14, mask37 = atom_maps()
    # residue_constants' own atom37 mask (from the rigid-group atom lists) must agree with the
    # feature pipeline's (from residue_atoms): both describe which atoms a residue has.
    assert np.array_equal(mask37, rc.restype_atom37_mask), "atom37 masks disagree"
    chi_mask = np.array(rc.chi_angles_mask + [[0.0] * 4], np.float32)
    atom14_names = np.array(
        [rc.restype_name_to_atom14_names[rc.restype_1to3[r]] for r in rc.restypes]
        + [rc.restype_name_to_atom14_names["UNK"]])
    tables = [
        # (name, C type, kind, array, doc)
        ("restype_rigid_group_default_frame", "float", "float",
         rc.restype_rigid_group_default_frame,
         "Frame of rigid group g in its parent group (4x4, last row 0 0 0 1). Groups: backbone, "
         "pre-omega, phi, psi (parent: backbone), chi1 (backbone), chi2..4 (the previous chi)."),
        ("restype_atom14_to_rigid_group", "int32_t", "int", rc.restype_atom14_to_rigid_group,
         "Rigid group (0..7) that carries each atom14 slot."),
        ("restype_atom14_mask", "float", "float", rc.restype_atom14_mask,
         "1 where the residue type has an atom in the atom14 slot."),
        ("restype_atom14_rigid_group_positions", "float", "float",
         rc.restype_atom14_rigid_group_positions,
         "Literature position of each atom14 slot in its rigid group's frame (Angstrom)."),
        ("chi_pi_periodic", "float", "float", np.array(rc.chi_pi_periodic, np.float32),
         "1 where chi angle k is symmetric under a rotation by pi."),
        ("chi_angles_mask", "float", "float", chi_mask,
         "1 where the residue type has chi angle k (UNK row added, all 0)."),
        ("restype_atom14_to_atom37", "int32_t", "int", to37,
         "atom37 index of each atom14 slot (0 for empty slots)."),
        ("restype_atom37_to_atom14", "int32_t", "int", to14,
         "atom14 slot of each atom37 type (0 where the residue lacks the atom)."),
        ("restype_atom37_mask", "float", "float", mask37,
         "1 where the residue type has the atom37 type (the atom37_atom_exists feature)."),
    ]
    strings = [
        ("atom_types", rc.atom_types, "The 37 atom names of the atom37 layout, in order."),
        ("restype_1", rc.restypes + ["X"], "One-letter residue names in aatype order, X = UNK."),
        ("restype_3", rc.resnames, "Three-letter residue names in aatype order, UNK last."),
    ]
    version = importlib.metadata.version("alphafold-colabfold")
    generated = (f"// GENERATED by cpp/tools/gen_residue_constants.py from "
                 f"alphafold.common.residue_constants\n// (alphafold-colabfold {version}); "
                 f"do not edit, rerun the script.\n")

    h = [f"// AlphaFold2 residue constants for Alg 24 (all-atom coordinates) and the atom maps.\n",
         generated,
         "#pragma once\n\n#include <cstdint>\n\nnamespace exafold::model::rc {\n\n",
         f"inline constexpr int kNumRestypes = {NUM_RESTYPES};  ///< 20 amino acids and UNK\n",
         f"inline constexpr int kUnknownRestype = {rc.unk_restype_index};\n",
         f"inline constexpr int kAtom37 = {rc.atom_type_num};\n",
         "inline constexpr int kAtom14 = 14;\n",
         "inline constexpr int kRigidGroups = 8;\n",
         "inline constexpr int kTorsions = 7;  ///< pre-omega, phi, psi, chi1..4\n",
         f"inline constexpr int kAtomCA = {rc.atom_order['CA']};\n",
         f"inline constexpr int kAtomCB = {rc.atom_order['CB']};\n",
         f"inline constexpr int kRestypeGly = {rc.restype_order['G']};\n\n"]
    s = [f"// AlphaFold2 residue constants for Alg 24 (all-atom coordinates) and the atom maps.\n",
         generated,
         '#include "exafold/model/residue_constants.h"\n\n',
         "namespace exafold::model::rc {\n\n// clang-format off\n"]
    for name, ctype, kind, array, doc in tables:
        array = np.asarray(array)
        dims = "".join(f"[{d}]" for d in array.shape)
        h.append(f"{doc_comment(doc)}extern const {ctype} {name}{dims};\n")
        s.append(f"const {ctype} {name}{dims} = {initializer(array, kind)};\n\n")
    h.append("/// atom14 slot names per residue type (empty for absent atoms).\n"
             "extern const char* const restype_atom14_names[21][14];\n")
    s.append("const char* const restype_atom14_names[21][14] = "
             f"{initializer(atom14_names, 'str')};\n\n")
    for name, values, doc in strings:
        h.append(f"{doc_comment(doc)}extern const char* const {name}[{len(values)}];\n")
        s.append(f"const char* const {name}[{len(values)}] = "
                 f"{initializer(np.array(values), 'str')};\n\n")
    h.append("\n}  // namespace exafold::model::rc\n")
    s.append("// clang-format on\n\n}  // namespace exafold::model::rc\n")
    HEADER.write_text("".join(h))
    SOURCE.write_text("".join(s))
    print(f"wrote {HEADER.relative_to(ROOT)} and {SOURCE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
