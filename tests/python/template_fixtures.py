"""Inputs for the template tests: the short73 case of tests/data, and crafted mmCIF files, HHsearch
and hmmsearch results and obsolete.dat lists that reach the rules real data rarely does.

The crafted structures are built here, text first, so the same bytes go to exafold and to the
reference: helical backbones with CB (and the side-chain atoms a case needs), in entries whose
chains, residue names, alternate locations, models and dates each exercise one rule.
"""
from __future__ import annotations

import gzip
import math
import pathlib
import shutil

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
SHORT73 = DATA / "short73"
SHORT73_QUERY = "".join((SHORT73 / "short73.fasta").read_text().splitlines()[1:])
SHORT73_ENTRIES = ("1psm", "2crb", "2q2k", "3u8v", "3zee", "4i6p", "4zey", "5kc1")

THREE = {"A": "ALA", "R": "ARG", "N": "ASN", "D": "ASP", "C": "CYS", "Q": "GLN", "E": "GLU",
         "G": "GLY", "H": "HIS", "I": "ILE", "L": "LEU", "K": "LYS", "M": "MET", "F": "PHE",
         "P": "PRO", "S": "SER", "T": "THR", "W": "TRP", "Y": "TYR", "V": "VAL"}


def short73_mmcif_dir(tmp: pathlib.Path) -> pathlib.Path:
    """The 8 short73 mmCIF files decompressed (the reference reads plain .cif files only)."""
    out = tmp / "short73_mmcifs"
    if not out.exists():
        out.mkdir(parents=True)
        for gz in sorted((SHORT73 / "mmcifs").glob("*.cif.gz")):
            with gzip.open(gz, "rb") as f, open(out / gz.name[:-3], "wb") as g:
                shutil.copyfileobj(f, g)
    return out


# ---- mmCIF text

def quote(v) -> str:
    v = str(v)
    return f"'{v}'" if (" " in v or v == "") else v


class Cif:
    """One data block: entities (SEQRES), chains (label -> entity, author id), atoms."""

    def __init__(self, entry_id: str, dates=("2005-06-01",), entry=True):
        self.entry_id, self.dates, self.entry = entry_id, dates, entry
        self.entities, self.chains, self.atoms, self.extra = [], [], [], ""
        self.chem = {}

    def entity(self, eid, residues, start=1, hetero=()):
        """SEQRES of entity `eid`: (num, mon_id) from `start`; `hetero` adds (num, mon_id)."""
        rows = [(start + i, r) for i, r in enumerate(residues)] + list(hetero)
        self.entities.append((eid, sorted(rows, key=lambda x: x[0])))
        for _, r in rows:
            self.chem.setdefault(r, "L-peptide linking")

    def chain(self, label, eid, auth):
        self.chains.append((label, eid, auth))

    def atom(self, name, resname, label, seq, auth, auth_seq, xyz, alt=".", occ=1.0, icode="?",
             model=1, group=None, ins_label_seq=None):
        group = group or ("HETATM" if resname in ("MSE", "HOH") or seq == "." else "ATOM")
        self.atoms.append((group, name, alt, resname, label, seq, icode, xyz, occ, auth_seq,
                           auth, model))

    def residue(self, resname, label, seq, auth, auth_seq, index, atoms=None, **kw):
        """Backbone (and CB unless glycine) of helix position `index`, plus `atoms`
        {name: (x, y, z)}; keyword arguments go to every atom."""
        for name, xyz in helix_atoms(index, resname).items():
            self.atom(name, resname, label, seq, auth, auth_seq, xyz, **kw)
        for name, xyz in (atoms or {}).items():
            self.atom(name, resname, label, seq, auth, auth_seq, xyz, **kw)

    def text(self) -> str:
        out = [f"data_{self.entry_id.upper()}", "#"]
        if self.entry:
            out += [f"_entry.id {self.entry_id.upper()}", "#"]
        if self.dates:
            out += ["loop_", "_pdbx_audit_revision_history.ordinal",
                    "_pdbx_audit_revision_history.revision_date"]
            out += [f"{i + 1} {d}" for i, d in enumerate(self.dates)] + ["#"]
        out += ["loop_", "_entity_poly_seq.entity_id", "_entity_poly_seq.num",
                "_entity_poly_seq.mon_id", "_entity_poly_seq.hetero"]
        for eid, rows in self.entities:
            nums = [n for n, _ in rows]
            out += [f"{eid} {n} {r} {'y' if nums.count(n) > 1 else 'n'}" for n, r in rows]
        out += ["#", "loop_", "_chem_comp.id", "_chem_comp.type"]
        out += [f"{k} {quote(v)}" for k, v in sorted(self.chem.items())]
        out += ["HOH non-polymer", "#", "loop_", "_struct_asym.id", "_struct_asym.entity_id"]
        out += [f"{label} {eid}" for label, eid, _ in self.chains] + ["#", "loop_"]
        out += [f"_atom_site.{c}" for c in (
            "group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id",
            "label_asym_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y",
            "Cartn_z", "occupancy", "B_iso_or_equiv", "auth_seq_id", "auth_asym_id",
            "pdbx_PDB_model_num")]
        for i, (group, name, alt, res, label, seq, icode, xyz, occ, auth_seq, auth,
                model) in enumerate(self.atoms, 1):
            x, y, z = (f"{v:.3f}" for v in xyz)
            out.append(f"{group:<6} {i} {name[0]} {quote(name)} {alt} {res} {label} {seq} {icode} "
                       f"{x} {y} {z} {occ:.2f} 20.00 {auth_seq} {auth} {model}")
        return "\n".join(out) + "\n#\n" + self.extra


def helix_atoms(i: int, resname: str) -> dict:
    """Backbone atoms of residue i of an ideal-ish helix (3.6 residues per turn, 1.5 A rise)."""
    def at(radius, phase, dz):
        a = math.radians(100.0 * i + phase)
        return (radius * math.cos(a), radius * math.sin(a), 1.5 * i + dz)
    atoms = {"N": at(1.55, -28, -0.4), "CA": at(2.3, 0, 0.0), "C": at(1.65, 28, 0.45),
             "O": at(1.75, 40, 1.55)}
    if resname not in ("GLY",):
        atoms["CB"] = at(3.3, -8, -0.9)
    return atoms


def chain_residues(cif: Cif, seq: str, label: str, auth: str, start_index=0, skip=(), **kw):
    """Atoms for every residue of one-letter `seq` (MSE for 'X'), label_seq_id from 1."""
    for k, letter in enumerate(seq):
        if k in skip:
            continue
        name = "MSE" if letter == "X" else THREE[letter]
        extra = {"SE": (0.0, 0.0, 1.5 * (start_index + k) + 2.0)} if name == "MSE" else None
        cif.residue(name, label, k + 1, auth, k + 1, start_index + k, atoms=extra, **kw)


def names(seq: str):
    return ["MSE" if c == "X" else THREE[c] for c in seq]


# ---- crafted entries for the featuriser (query CRAFTED_QUERY)

CRAFTED_QUERY = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"


def crafted_entries() -> dict[str, str]:
    """Entry id -> mmCIF text. See crafted_hits for the hit each one meets."""
    q = CRAFTED_QUERY
    out = {}
    # A homodimer whose chain B carries MSE where the query has M: with Biopython 1.79's names
    # chain B matches exactly; with the 20 standard names its SEQRES has X, and AlphaFold2 finds
    # the hit's residues in chain A instead.
    c = Cif("9mse", dates=("2003-01-01",))
    seq_b = "GS" + q[:30].replace("M", "X")
    c.entity(1, names("GS" + q[:30]))
    c.entity(2, names(seq_b))
    c.chain("A", 1, "A")
    c.chain("B", 2, "B")
    chain_residues(c, "GS" + q[:30], "A", "A")
    chain_residues(c, seq_b, "B", "B", start_index=40)
    out["9mse"] = c.text()
    # A chain that differs from the hits at a few residues (kalign realigns), with missing
    # residues, an inserted residue and author numbering with insertion codes.
    c = Cif("9rea", dates=("2001-02-03", "1999-12-31"))
    # q[30] is not in this chain: the realignment leaves it unaligned (mapped to -1, which
    # AlphaFold2 then reads as the chain's last residue).
    seq = "PG" + q[10:24] + "W" + q[24:30] + q[31:40].replace("L", "I", 1) + "GG"
    c.entity(1, names(seq))
    c.chain("A", 1, "C")
    for k, letter in enumerate(seq):
        if k in (3, 20):
            continue
        icode = "A" if k == 9 else "?"
        auth_seq = 100 + k - (1 if k > 9 else 0)
        c.residue(THREE[letter], "A", k + 1, "C", auth_seq, k, icode=icode)
    out["9rea"] = c.text()
    # A single chain whose author id is not the hit's: realignment falls back to it, then the
    # atoms are looked up under the hit's chain id, which fails (a warning in AlphaFold2).
    c = Cif("9one")
    seq = q[30:60].replace("S", "T", 1)
    c.entity(1, names(seq))
    c.chain("A", 1, "Z")
    chain_residues(c, seq, "A", "Z")
    out["9one"] = c.text()
    # The query itself (DeepMind's duplicate filter drops it, ColabFold's keeps it), with
    # alternate locations and a second NMR model.
    c = Cif("9dup", dates=("2004-04-04",))
    c.entity(1, names(q))
    c.chain("A", 1, "A")
    for k, letter in enumerate(q):
        if k == 5:
            for alt, occ, dx in (("A", 0.4, 0.0), ("B", 0.6, 0.3)):
                c.residue(THREE[letter], "A", k + 1, "A", k + 1, k, alt=alt, occ=occ)
                c.atoms[-1] = c.atoms[-1][:7] + (tuple(v + dx for v in c.atoms[-1][7]),) + \
                    c.atoms[-1][8:]
        else:
            c.residue(THREE[letter], "A", k + 1, "A", k + 1, k)
    for k, letter in enumerate(q[:10]):
        c.residue(THREE[letter], "A", k + 1, "A", k + 1, k + 50, model=2)
    out["9dup"] = c.text()
    # Released after the crafted date limit.
    c = Cif("9new", dates=("2031-05-05",))
    c.entity(1, names(q[20:50]))
    c.chain("A", 1, "A")
    chain_residues(c, q[20:50], "A", "A")
    out["9new"] = c.text()
    # Consecutive C-alpha atoms 200 A apart: no atom data (a warning).
    c = Cif("9far")
    c.entity(1, names(q[:25]))
    c.chain("A", 1, "A")
    chain_residues(c, q[:12], "A", "A")
    for k, letter in enumerate(q[12:25], 12):
        c.residue(THREE[letter], "A", k + 1, "A", k + 1, k + 130)
    out["9far"] = c.text()
    # Content AlphaFold2 cannot parse (an atom given twice): no chains (a warning).
    c = Cif("9bad")
    c.entity(1, names(q[:20]))
    c.chain("A", 1, "A")
    chain_residues(c, q[:20], "A", "A")
    c.atoms.append(c.atoms[3])
    out["9bad"] = c.text()
    # Two protein entities, a DNA entity and ligands: the hit's chain is the second protein.
    c = Cif("9two", dates=("2002-02-02",))
    c.entity(1, names("AAAAAAAAAA"))
    c.entity(2, names(q[40:66]))
    c.entity(3, ["DA", "DC", "DG"])
    for r in ("DA", "DC", "DG"):
        c.chem[r] = "DNA linking"
    c.chain("A", 1, "B")
    c.chain("B", 2, "A")
    c.chain("C", 3, "D")
    chain_residues(c, "AAAAAAAAAA", "A", "B")
    chain_residues(c, q[40:66], "B", "A", start_index=20, skip=(0, 25))
    c.atom("O", "HOH", "D", ".", "A", 501, (9.0, 9.0, 9.0))
    out["9two"] = c.text()
    return out


def hhr_block(no, name, desc, probs, cols, q_start, q_seq, t_start, t_seq, t_len=200):
    q_end = q_start + sum(c != "-" for c in q_seq) - 1
    t_end = t_start + sum(c != "-" for c in t_seq) - 1
    return (f"No {no}\n>{name} {desc}\n"
            f"Probab=10.00  E-value=1.0e+02  Score=20.00  Aligned_cols={cols}  Identities=30%  "
            f"Similarity=0.300  Sum_probs={probs:.1f}  Template_Neff=5.000\n\n"
            f"Q {'query':<15}{q_start:>4} {q_seq} {q_end:>4} ({len(CRAFTED_QUERY)})\n"
            f"Q Consensus     {q_start:>4} {q_seq.lower()} {q_end:>4} ({len(CRAFTED_QUERY)})\n"
            f"{'':>22}{'|' * len(q_seq)}\n"
            f"T Consensus     {t_start:>4} {t_seq.lower()} {t_end:>4} ({t_len})\n"
            f"T {name:<15}{t_start:>4} {t_seq} {t_end:>4} ({t_len})\n"
            f"T ss_pred             {'H' * len(t_seq)}\n"
            f"Confidence            {'5' * len(t_seq)}\n\n")


def crafted_hits() -> str:
    """An HHsearch result for CRAFTED_QUERY against the crafted entries (and the short73 ones,
    which it does not match), one hit per rule."""
    q = CRAFTED_QUERY
    blocks = [
        # exact in chain B with Biopython 1.79's names, in chain A with the standard ones
        ("9MSE_B", 30.0, 1, q[:30], 3, q[:30]),
        # realigned: a mutation; the gap in the hit is a residue the mmCIF has ('W')
        ("9REA_C", 25.0, 11, q[10:40], 3, q[10:40]),
        # realigned onto the one chain, then no atoms under chain A: a warning
        ("9ONE_A", 24.0, 31, q[30:60], 1, q[30:60]),
        # realignment below 90% identity: an error
        ("9REA_C", 23.5, 1, q[:20], 1, "WWWWWWWWWWWWWWWWWWWW"),
        # the query itself
        ("9DUP_A", 23.0, 1, q, 1, q),
        # released too late
        ("9NEW_A", 22.0, 21, q[20:50], 1, q[20:50]),
        # no structure, and an entry the obsolete list removes / replaces
        ("9ZZZ_A", 21.0, 1, q[:20], 1, q[:20]),
        ("8DEL_A", 20.0, 1, q[:20], 1, q[:20]),
        ("8OLD_A", 19.5, 41, q[40:66], 1, q[40:66]),
        # far C-alpha atoms, unparseable content
        ("9FAR_A", 19.0, 1, q[:25], 1, q[:25]),
        ("9BAD_A", 18.5, 1, q[:20], 1, q[:20]),
        # the second protein entity (label B, author A), gaps on both sides
        ("9TWO_A", 18.0, 41, q[40:47] + "-" + q[47:56], 1, q[40:50] + "-" + q[50:56]),
        # too few aligned columns (6/66 <= 0.1), and too short (9 residues, 9/66 > 0.1)
        ("9DUP_A", 17.0, 1, q[:6], 1, q[:6]),
        ("9DUP_A", 16.0, 1, q[:9], 1, q[:9]),
        # X in the hit is a wildcard
        ("9DUP_A", 15.0, 5, q[4:20], 5, q[4:9] + "X" + q[10:20]),
        # equal sum_probs keep file order
        ("9TWO_A", 15.0, 41, q[40:52], 1, q[40:52]),
    ]
    text = (f"Query         query\nMatch_columns {len(q)}\nNo_of_seqs    1 out of 1\n\n"
            " No Hit                             Prob E-value P-value  Score    SS Cols\n\n")
    for no, (name, probs, qs, qseq, ts, tseq) in enumerate(blocks, 1):
        cols = sum(a != "-" and b != "-" for a, b in zip(qseq, tseq))
        text += hhr_block(no, name, "crafted", probs, cols, qs, qseq, ts, tseq)
    return text + "Done!\n"


def crafted_obsolete() -> str:
    return (" LIST OF OBSOLETE COORDINATE ENTRIES AND SUCCESSORS\n"
            "OBSLTE    06-NOV-19 8DEL\n"
            "OBSLTE    31-JUL-94 8OLD     9TWO\n")


def crafted_sto() -> str:
    """An hmmsearch result for CRAFTED_QUERY: insertions (lower case and '.'), deletions, a
    non-protein row, a second domain of a chain, a duplicate sequence, a two-letter chain."""
    q = CRAFTED_QUERY
    n = len(q)

    def row(seq_by_column, inserts=None):
        """Match columns (n letters or '-') and {column: insertion} placed before a column."""
        inserts = inserts or {}
        width = {c: len(s) for c, s in INSERT_WIDTH.items()}
        out = []
        for col in range(n):
            if col in width:
                ins = inserts.get(col, "")
                out.append(ins.lower() + "." * (width[col] - len(ins)))
            out.append(seq_by_column[col])
        return "".join(out)

    INSERT_WIDTH = {10: "xxx", 40: "xx"}
    rows = [
        ("9dup_A/1-66", "mol:protein length:66  crafted", row(q, {10: "gg"})),
        ("9two_A/2-24", "mol:protein length:26  crafted",
         row("-" * 40 + q[40:62] + "-" * 4, {})),
        ("9mse_B/3-32", "mol:protein length:32  crafted", row(q[:30] + "-" * (n - 30))),
        ("9mse_A/3-32", "mol:protein length:32  crafted", row(q[:30] + "-" * (n - 30))),
        ("9zna_A/1-20", "mol:na length:20  RNA", row("-" * 20 + "A" * 20 + "-" * (n - 40))),
        ("9rea_C/3-30", "mol:protein length:34  crafted",
         row("-" * 10 + q[10:24] + "-" + q[25:40] + "-" * (n - 40), {40: "w"})),
        ("9two_AB/1-10", "mol:protein length:10  crafted", row("-" * 40 + q[40:50] + "-" * 16)),
    ]
    width = max(len(r[0]) for r in rows) + 2
    lines = ["# STOCKHOLM 1.0", "#=GF ID query", "#=GF AU hmmsearch (HMMER 3.3.2)", ""]
    lines += [f"#=GS {name:<{width}} DE [subseq from] {desc}" for name, desc, _ in rows]
    lines.append("")
    for name, _, seq in rows:
        lines.append(f"{name:<{width}} {seq}")
    lines.append(f"{'#=GC RF':<{width}} " + row("x" * n, {c: "." * 0 for c in INSERT_WIDTH}))
    return "\n".join(lines) + "\n//\n"


# ---- crafted entries for the reader (mmcif_parsing + _get_atom_positions)

def _shift(cif: Cif, start: int, dx: float):
    """Moves atoms [start:] by dx along x."""
    for k in range(start, len(cif.atoms)):
        a = cif.atoms[k]
        cif.atoms[k] = a[:7] + ((a[7][0] + dx, a[7][1], a[7][2]),) + a[8:]


def reader_entries() -> dict[str, str]:
    out = {}
    # Alternate locations: the highest occupancy wins, the first on ties; a located atom after
    # a blank one of the same name; three locations.
    c = Cif("7alt")
    c.entity(1, names("MKTAYI"))
    c.chain("A", 1, "A")
    for k, letter in enumerate("MKTAYI"):
        res = THREE[letter]
        if k in (1, 2, 4):
            occ = {1: (0.4, 0.6), 2: (0.5, 0.5), 4: (0.3, 0.3, 0.4)}[k]
            for alt, o in zip("ABC", occ):
                mark = len(c.atoms)
                c.residue(res, "A", k + 1, "A", k + 1, k, alt=alt, occ=o)
                _shift(c, mark, 0.1 * "ABC".index(alt))
        elif k == 3:
            c.residue(res, "A", k + 1, "A", k + 1, k, occ=0.5)
            c.atom("CB", res, "A", k + 1, "A", k + 1, (9.0, 9.0, 9.0), alt="A", occ=0.7)
        else:
            c.residue(res, "A", k + 1, "A", k + 1, k)
    out["7alt"] = c.text()
    # MSE's selenium as SD; arginines with NH1 and NH2 in either order; a lysine.
    c = Cif("7mse")
    c.entity(1, ["MSE", "ARG", "ARG", "LYS"])
    c.chain("A", 1, "A")
    c.residue("MSE", "A", 1, "A", 1, 0, atoms={"CG": (1, 1, 1), "SE": (2, 2, 2), "CE": (3, 3, 3)})
    for k, (nh1, nh2) in ((1, ((9, 0, 5), (6, 0, 5))), (2, ((6, 0, 8), (9, 0, 8)))):
        c.residue("ARG", "A", k + 1, "A", k + 1, k,
                  atoms={"CG": (5, 0, 1.5 * k), "CD": (5, 0, 1.5 * k + 4), "NE": (5.5, 0, 5.5),
                         "CZ": (6, 0, 6), "NH1": nh1, "NH2": nh2})
    c.residue("LYS", "A", 4, "A", 4, 3, atoms={"NZ": (7, 7, 7)})
    out["7mse"] = c.text()
    # Author numbers with insertion codes; SEQRES residues without atoms at both ends and inside.
    c = Cif("7ins")
    seq = "GAVLIMFWP"
    c.entity(1, names(seq))
    c.chain("A", 1, "A")
    for k, (auth, icode) in enumerate([(9, "?"), (10, "?"), (10, "A"), (10, "B"), (11, "?"),
                                       (12, "?"), (13, "?"), (14, "?"), (15, "?")]):
        if k in (0, 5, 8):
            continue
        c.residue(THREE[seq[k]], "A", k + 1, "A", auth, k, icode=icode)
    out["7ins"] = c.text()
    # A point mutation: SER and CYS both at SEQRES number 3 (hetero), atoms under locations A and
    # B. AlphaFold2 keeps both in the SEQRES, which shifts the positions after it; Biopython
    # selects the residue named last.
    c = Cif("7mut")
    c.entity(1, names("MKAYI"), hetero=[(3, "CYS")])
    c.entity(1, [])  # (no-op: one entity)
    c.entities.pop()
    c.chain("A", 1, "A")
    for k, letter in enumerate("MKAYI"):
        if k == 2:
            c.residue("ALA", "A", 3, "A", 3, k, alt="A", occ=0.5)
            mark = len(c.atoms)
            c.residue("CYS", "A", 3, "A", 3, k, alt="B", occ=0.5, atoms={"SG": (4, 4, 4)})
            _shift(c, mark, 0.2)
        else:
            c.residue(THREE[letter], "A", k + 1, "A", k + 1, k)
    out["7mut"] = c.text()
    # Three NMR models: model 1 is read.
    c = Cif("7mod")
    c.entity(1, names("MKTAYIAK"))
    c.chain("A", 1, "A")
    for model in (1, 2, 3):
        mark = len(c.atoms)
        chain_residues(c, "MKTAYIAK", "A", "A", model=model)
        _shift(c, mark, 10.0 * (model - 1))
    out["7mod"] = c.text()
    # Label and author chains crossed, a ligand and a water in an author chain, a protein entity
    # with no chain, a DNA entity.
    c = Cif("7lbl")
    c.entity(1, names("MKTAY"))
    c.entity(2, names("GGSGG"))
    c.entity(3, names("WWWW"))
    c.entity(4, ["DA", "DT"])
    for r in ("DA", "DT"):
        c.chem[r] = "DNA linking"
    c.chem["HEM"] = "non-polymer"
    c.chain("A", 1, "B")
    c.chain("B", 2, "A")
    c.chain("C", 4, "C")
    c.chain("D", 5, "A")
    chain_residues(c, "MKTAY", "A", "B")
    chain_residues(c, "GGSGG", "B", "A", start_index=10)
    c.atom("N1", "DA", "C", 1, "C", 1, (5, 5, 5), group="ATOM")
    c.atom("FE", "HEM", "D", ".", "A", 201, (1, 2, 3), group="HETATM")
    c.atom("O", "HOH", "D", ".", "A", 301, (3, 2, 1), group="HETATM")
    out["7lbl"] = c.text()
    # SEQRES numbering from 5.
    c = Cif("7num")
    c.entity(1, names("MKTAY"), start=5)
    c.chain("A", 1, "A")
    for k, letter in enumerate("MKTAY"):
        c.residue(THREE[letter], "A", k + 5, "A", k + 1, k)
    out["7num"] = c.text()
    # Modified and unknown residue names, which the two one-letter tables read differently.
    c = Cif("7res")
    res = ["SEP", "PCA", "DAL", "UNK", "A1AAA", "MET", "HYP"]
    c.entity(1, res)
    c.chain("A", 1, "A")
    for k, r in enumerate(res):
        c.residue(r, "A", k + 1, "A", k + 1, k, group="HETATM" if r != "MET" else "ATOM")
    out["7res"] = c.text()
    # A quoted title with a '#', a semicolon text field and comments between the categories.
    c = Cif("7qut")
    c.entity(1, names("MKTAY"))
    c.chain("A", 1, "A")
    chain_residues(c, "MKTAY", "A", "A")
    text = c.text().replace("#\nloop_\n_entity_poly_seq",
                            "_struct.title 'a # b' # comment\n_struct.pdbx_descriptor\n;\n"
                            "first line\n  second 'line'\n;\n# comment\nloop_\n_entity_poly_seq", 1)
    out["7qut"] = text
    # Content AlphaFold2 cannot use: an atom given twice; a HETATM residue split by another; no
    # release date and no _entry.id; an occupancy '?'; a protein chain whose atoms are all in
    # model 2; a residue missing from _chem_comp.
    c = Cif("7dpl")
    c.entity(1, names("MKT"))
    c.chain("A", 1, "A")
    chain_residues(c, "MKT", "A", "A")
    c.atoms.insert(2, c.atoms[1])
    out["7dpl"] = c.text()
    c = Cif("7het")
    c.entity(1, ["MSE", "LYS"])
    c.chain("A", 1, "A")
    c.residue("MSE", "A", 1, "A", 1, 0)
    c.residue("LYS", "A", 2, "A", 2, 1)
    c.atom("SE", "MSE", "A", 1, "A", 1, (1, 1, 1))
    out["7het"] = c.text()
    c = Cif("7nod", dates=(), entry=False)
    c.entity(1, names("MKT"))
    c.chain("A", 1, "A")
    chain_residues(c, "MKT", "A", "A")
    out["7nod"] = c.text()
    c = Cif("7noc")
    c.entity(1, names("MKT"))
    c.chain("A", 1, "A")
    chain_residues(c, "MKT", "A", "A")
    out["7noc"] = c.text().replace(" 1.00 20.00 2 A 1", " ? 20.00 2 A 1", 1)
    c = Cif("7lst")
    c.entity(1, names("MKT"))
    c.entity(2, names("GGG"))
    c.chain("A", 1, "A")
    c.chain("B", 2, "B")
    chain_residues(c, "MKT", "A", "A")
    chain_residues(c, "GGG", "B", "B", model=2)
    out["7lst"] = c.text()
    c = Cif("7chm")
    c.entity(1, names("MKT"))
    c.chain("A", 1, "A")
    chain_residues(c, "MKT", "A", "A")
    out["7chm"] = c.text().replace("LYS 'L-peptide linking'\n", "")
    return out
