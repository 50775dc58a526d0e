"""PDB/mmCIF writers read back by gemmi and Biotite; HDF5 shards read by exafold and h5py."""

import re
from pathlib import Path

import biotite.structure.io.pdb as bpdb
import biotite.structure.io.pdbx as bpdbx
import gemmi
import h5py
import numpy as np
import pytest

import exafold

DATA = Path(__file__).resolve().parents[1] / "data"
REFERENCE = DATA / "6KWC_1_model_1_ptm_unrelaxed.pdb"
ATOM37 = [
    "N", "CA", "C", "CB", "O", "CG", "CG1", "CG2", "OG", "OG1", "SG", "CD", "CD1", "CD2", "ND1",
    "ND2", "OD1", "OD2", "SD", "CE", "CE1", "CE2", "CE3", "NE", "NE1", "NE2", "OE1", "OE2", "CH2",
    "NH1", "NH2", "OH", "CZ", "CZ2", "CZ3", "NZ", "OXT",
]  # fmt: skip
RESTYPES3 = [
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET",
    "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK",
]  # fmt: skip


def reference_arrays():
    """OpenFold's 6KWC prediction as atom37 arrays, read by gemmi (not by exafold)."""
    chain = gemmi.read_structure(str(REFERENCE))[0]["A"]
    n = len(chain)
    aatype = np.zeros(n, np.uint8)
    resi = np.zeros(n, np.int32)
    pos = np.zeros((n, 37, 3), np.float32)
    mask = np.zeros((n, 37), np.uint8)
    plddt = np.zeros(n, np.float32)
    for i, res in enumerate(chain):
        aatype[i] = RESTYPES3.index(res.name)
        resi[i] = res.seqid.num
        plddt[i] = res[0].b_iso
        for atom in res:
            a = ATOM37.index(atom.name)
            pos[i, a] = (atom.pos.x, atom.pos.y, atom.pos.z)
            mask[i, a] = 1
    return aatype, resi, pos, mask, plddt


def atoms_of(arrays):
    """(residue name, residue number, atom name, xyz, B) per present atom, in atom37 order."""
    aatype, resi, pos, mask, plddt = arrays
    out = []
    for i in range(len(aatype)):
        for a in np.nonzero(mask[i])[0]:
            out.append((RESTYPES3[aatype[i]], int(resi[i]), ATOM37[a], pos[i, a], float(plddt[i])))
    return out


def check_atoms(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[:3] == w[:3]
        # Files hold 3 decimals for coordinates and 2 for B: half a unit of the last place, plus
        # float32 representation error of the input.
        np.testing.assert_allclose(g[3], w[3], atol=5e-4 + 1e-5)
        assert g[4] == pytest.approx(w[4], abs=5e-3 + 1e-5)


def gemmi_atoms(st):
    return [
        (r.name, r.seqid.num, a.name, np.array([a.pos.x, a.pos.y, a.pos.z]), a.b_iso)
        for r in st[0]["A"]
        for a in r
    ]


def biotite_atoms(arr):
    return [
        (arr.res_name[k], int(arr.res_id[k]), arr.atom_name[k], arr.coord[k], float(arr.b_factor[k]))
        for k in range(arr.array_length())
    ]


@pytest.fixture(scope="module")
def ref():
    return reference_arrays()


def test_pdb_read_back_by_gemmi_and_biotite(ref, tmp_path):
    text = exafold.make_pdb_string(*ref)
    assert all(len(line) == 80 for line in text.splitlines())
    path = tmp_path / "6kwc.pdb"
    path.write_text(text)
    want = atoms_of(ref)
    check_atoms(gemmi_atoms(gemmi.read_structure(str(path))), want)
    arr = bpdb.PDBFile.read(str(path)).get_structure(model=1, extra_fields=["b_factor"])
    check_atoms(biotite_atoms(arr), want)
    assert set(arr.chain_id) == {"A"} and set(arr.element) <= {"C", "N", "O", "S"}


def test_mmcif_read_back_by_gemmi_and_biotite(ref, tmp_path):
    path = tmp_path / "6kwc.cif"
    path.write_text(exafold.make_mmcif_string(*ref, name="6KWC_1"))
    want = atoms_of(ref)
    st = gemmi.read_structure(str(path))
    check_atoms(gemmi_atoms(st), want)
    doc = gemmi.cif.read(str(path))
    block = doc.sole_block()
    local = block.find_values("_ma_qa_metric_local.metric_value")
    np.testing.assert_allclose([float(x) for x in local], ref[4], atol=5e-3 + 1e-5)
    glob = float(block.find_value("_ma_qa_metric_global.metric_value"))
    assert glob == pytest.approx(float(np.mean(ref[4].astype(np.float64))), abs=5e-3)
    seq = [RESTYPES3[a] for a in ref[0]]
    assert list(block.find_values("_entity_poly_seq.mon_id")) == seq
    arr = bpdbx.get_structure(bpdbx.CIFFile.read(str(path)), model=1, extra_fields=["b_factor"])
    check_atoms(biotite_atoms(arr), want)


def test_writers_reject_bad_input(ref):
    aatype, resi, pos, mask, plddt = ref
    with pytest.raises(ValueError, match="plddt"):
        exafold.make_pdb_string(aatype, resi, pos, mask, plddt[:-1])
    with pytest.raises(ValueError, match="chain_id"):
        exafold.make_mmcif_string(aatype, resi, pos, mask, plddt, chain_id="AB")


def test_shard_round_trip_and_layout(ref, tmp_path):
    aatype, resi, pos, mask, plddt = ref
    n = len(aatype)
    rng = np.random.default_rng(0)
    pae = rng.uniform(0, 31.75, (n, n)).astype(np.float32)
    seq = "".join("ARNDCQEGHILKMFPSTWYVX"[a] for a in aatype)
    path = tmp_path / "shard-000.h5"
    with exafold.ShardWriter(str(path), pae="float16") as w:
        assert w.append("6KWC_1", seq, aatype, resi, pos, mask, plddt, model="model_1_ptm", seed=7,
                        runtime_seconds=12.5, flops=3.2e14, ptm=0.91, pae=pae) == 0
        assert w.append("short", seq[:10], aatype[:10], resi[:10], pos[:10], mask[:10], plddt[:10],
                        model="model_1", seed=8, runtime_seconds=1.0, flops=1e12) == 1
        assert not path.exists() and Path(str(path) + ".tmp").exists()
    assert path.exists() and not Path(str(path) + ".tmp").exists()

    s = exafold.read_shard(str(path))
    assert s["index"] == {"6KWC_1": 0, "short": 1}
    np.testing.assert_array_equal(s["residue_offsets"], [0, n, n + 10])
    np.testing.assert_array_equal(s["atom_positions"][:n], pos)
    np.testing.assert_array_equal(s["atom_mask"][n:], mask[:10])
    np.testing.assert_array_equal(s["plddt"][:n], plddt)
    assert s["mean_plddt"][0] == np.float32(plddt.astype(np.float64).mean())
    assert s["ptm"][0] == np.float32(0.91) and np.isnan(s["ptm"][1])
    np.testing.assert_array_equal(s["pae_offsets"], [0, n * n, n * n])
    # numpy's float16 rounding is the independent reference for the stored half floats.
    np.testing.assert_array_equal(s["pae"], pae.astype(np.float16).astype(np.float32).ravel())

    with h5py.File(path, "r") as f:
        assert f.attrs["layout_version"] == 2
        assert f.attrs["exafold_version"] == exafold.__version__
        assert f["pae"].dtype == np.float16
        assert f["atom_positions"].shape == (n + 10, 37, 3) and f["atom_positions"].dtype == np.float32
        assert f["aatype"].dtype == np.uint8 and f["residue_offsets"].dtype == np.int64
        assert [x.decode() for x in f["id"][:]] == ["6KWC_1", "short"]
        assert f["sequence"][0].decode() == seq
        np.testing.assert_array_equal(f["pae"][: n * n].reshape(n, n), pae.astype(np.float16))


def test_unfinished_shard_is_discarded(ref, tmp_path):
    path = tmp_path / "shard.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with exafold.ShardWriter(str(path), pae="none") as w:
            w.append("x", "G", ref[0][:1], ref[1][:1], ref[2][:1], ref[3][:1], ref[4][:1],
                     model="m", seed=0, runtime_seconds=0.0, flops=0.0)
            raise RuntimeError("boom")
    del w
    assert not path.exists() and not Path(str(path) + ".tmp").exists()
    with pytest.raises(OSError):
        exafold.read_shard(str(path))


def test_read_shard_names_every_column_as_the_file_and_the_docs_do(ref, tmp_path):
    """One naming: read_shard's keys are the shard's dataset and attribute names, which are the
    ones docs/formats.md lists (plus `index`, the id -> row map read_shard adds)."""
    aatype, resi, pos, mask, plddt = ref
    seq = "".join("ARNDCQEGHILKMFPSTWYVX"[a] for a in aatype)
    path = tmp_path / "named.h5"
    with exafold.ShardWriter(str(path), pae="float32") as w:
        w.append("a", seq, aatype, resi, pos, mask, plddt, model="model_1_ptm", seed=2**64 - 1,
                 runtime_seconds=1.0, flops=1.0, ptm=0.5, pae=np.zeros((len(seq), len(seq)), np.float32))
    s = exafold.read_shard(str(path))
    with h5py.File(path, "r") as f:
        in_file = set(f.keys()) | set(f.attrs.keys())
    docs = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()
    shard_section = docs.split("## HDF5 shards")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", shard_section, re.M))
    assert set(s) - {"index"} == in_file == documented
    assert s["id"] == ["a"] and s["sequence"] == [seq] and s["model"] == ["model_1_ptm"]
    assert int(s["seed"][0]) == 2**64 - 1
