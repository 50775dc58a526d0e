"""exafold.features from Python: parsing real and broken files, raw and processed features."""
import os
import pathlib

import numpy as np
import pytest

from exafold import features as F

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("EXAFOLD_SHARED_DATA", ROOT.parent / "shared" / "data"))
needs_shared = pytest.mark.skipif(not (SHARED / "6kwc" / "6kwc.fasta").exists(),
                                  reason="../shared/data not found")


@needs_shared
def test_real_alignments():
    query = F.read_fasta(str(SHARED / "6kwc" / "6kwc.fasta"))
    assert len(query) == 1 and len(query[0].sequence) == 191
    a3m = F.read_a3m(str(SHARED / "6kwc" / "bfd_uniref_hits.a3m"), query=query[0].sequence)
    assert (a3m.num_rows, a3m.width) == (1428, 191)
    assert a3m.msa.dtype == np.int32 and a3m.msa.shape == (1428, 191)
    assert a3m.deletion_matrix.shape == (1428, 191) and a3m.deletion_matrix.sum() > 0
    assert a3m.sequences[0] == query[0].sequence
    sto = F.read_msa(str(SHARED / "6kwc" / "mgnify_hits.sto"), max_rows=501)
    assert len(sto) == 501 and sto.descriptions[1] == "MGYP000510094044/36-224"
    assert (sto.msa[0] == a3m.msa[0]).all()
    for name in ("uniref90_hits.sto", "mgnify_hits.sto"):
        m = F.read_stockholm(str(SHARED / "short73" / "alignments" / name))
        assert m.width == 73 and m.descriptions[0] == "query"


BAD = [
    ("empty.a3m", b"", 1, "empty file"),
    ("empty.sto", b"\n\n", 2, "empty file"),
    ("empty.fasta", b"", 1, "empty file"),
    ("query_missing.a3m", b">other\nACDF\n>x\nACDE\n", 1, "query missing"),
    ("query_missing.sto", b"# STOCKHOLM 1.0\nother ACDF\n//\n", 2, "query missing"),
    ("width.a3m", b">q\nACDE\n>x\nACD\n>y\nACDE\n", 3, "row 'x' has 3 query columns"),
    ("width.sto", b"# STOCKHOLM 1.0\nq ACDE\nx ACDEA\n//\n", 3, "row 'x' has 5 alignment columns"),
    ("garbage.a3m", bytes(range(256)) * 4, 1, "binary data"),
    ("garbage.sto", b"\x7fELF\x02\x01\x01\x00\x00\x00", 1, "not a Stockholm file"),
    ("garbage.fasta", b">q\nAC\x00\x01DE\n", 2, "unexpected byte 0x00 at column 3"),
    ("truncated.a3m", b">q\nACDE\n>x\nACDE\n>y\n", 5, "no sequence (truncated file?)"),
    ("truncated.sto", b"# STOCKHOLM 1.0\nq ACDE\nx AC", 3, "truncated file"),
    ("header.a3m", b">q\nACDE\n>caf\xe9\nACDE\n", 3, "header is not valid UTF-8"),
    ("header.fasta", b">\xff\xfeq\nACDE\n", 1, "header is not valid UTF-8"),
    ("name.sto", b"# STOCKHOLM 1.0\nq ACDE\nx\xc0\xaf ACDE\n//\n", 3, "not valid UTF-8"),
]


@pytest.mark.parametrize("name,content,line,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_line_and_reason(tmp_path, name, content, line, reason):
    path = tmp_path / name
    path.write_bytes(content)
    read = F.read_fasta if name.endswith(".fasta") else F.read_msa
    kwargs = {"query": "ACDE"} if name.startswith("query_missing") else {}
    with pytest.raises(ValueError) as err:
        read(str(path), **kwargs)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert reason in message, message


def test_unreadable_file_is_oserror(tmp_path):
    with pytest.raises(OSError):
        F.read_msa(str(tmp_path / "missing.a3m"))


def test_raw_and_processed_features(tmp_path):
    a3m = tmp_path / "bfd_uniref_hits.a3m"
    a3m.write_text(">q\nACDEFGHIK\n>a\nACDEFGHIR\n>b\nAC-EFkkGHIK\n>c\nACDEFGHIR\n>d\nGCDEFGHIK\n")
    sto = tmp_path / "mgnify_hits.sto"
    sto.write_text("# STOCKHOLM 1.0\nq ACDEF-GHIK\nz ACDEFwGHLK\n//\n")
    query = F.FastaRecord("q desc", "ACDEFGHIK")
    raw = F.build_raw_features(query, [str(a3m), (str(sto), 0)])
    assert raw["msa"].shape == (5, 9)  # q, a, b, d, z; c repeats a
    assert raw["deletion_matrix_int"][2, 5] == 2 and raw["deletion_matrix_int"][4, 5] == 1
    assert raw["domain_name"][0] == b"q desc"
    same = F.build_raw_features(query, [F.read_a3m(str(a3m)), F.read_stockholm(str(sto))])
    assert all((same[k] == raw[k]).all() for k in raw)
    assert F.build_raw_features(query, [str(a3m), str(sto)], deduplicate=False)["msa"].shape[0] == 7

    seed = F.structure_seed("q", 0)
    p = F.process_features(raw, seed, num_recycle=2, max_clusters=3, max_extra=4)
    assert p["msa_feat"].shape == (3, 3, 9, 49) and p["msa_feat"].dtype == np.float32
    assert p["extra_msa"].shape == (3, 2, 9) and p["extra_msa"].dtype == np.int32
    assert p["target_feat"].shape == (3, 9, 22)
    again = F.process_features(raw, seed, num_recycle=2, max_clusters=3, max_extra=4)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    fixed = F.process_features(raw, seed, num_recycle=2, max_clusters=8, max_extra=16,
                               fixed_size=True)
    assert fixed["msa_feat"].shape == (3, 8, 9, 49) and fixed["extra_msa"].shape == (3, 16, 9)
    with pytest.raises(ValueError, match="max_clusters"):
        F.process_features(raw, seed, max_clusters=0)


def test_read_fasta_gives_upper_case_without_the_stop_for_every_caller(tmp_path):
    """One rule in the engine's reader: read_fasta, then Model.predict, just works."""
    import exafold
    from exafold.demo import demo_params_path

    (tmp_path / "q.fasta").write_text(">q1 lower case with a stop\nmkvla\ntghew*\n")
    (tmp_path / "q.a3m").write_text(">q1\nMKVLATGHEW\n>hit\nMKVLA-GHEW\n")
    record = F.read_fasta(str(tmp_path / "q.fasta"))[0]
    assert record.sequence == "MKVLATGHEW"
    model = exafold.Model.load(demo_params_path("reduced_ptm"), "reduced_ptm")
    p = model.predict(record, str(tmp_path / "q.a3m"), recycles=0, progress=False)
    assert len(p) == 10 and p.id == "q1"


def test_an_alignment_keeping_non_standard_letters_matches_a_query_written_with_x(tmp_path):
    (tmp_path / "q.a3m").write_text(">q\nMKUVLOA\n>hit\nMKCVLKA\n")
    raw = F.build_raw_features("MKXVLXA", [str(tmp_path / "q.a3m")])
    assert raw["msa"].shape == (2, 7)
    with pytest.raises(ValueError, match="query missing"):
        F.build_raw_features("MKXVLXC", [str(tmp_path / "q.a3m")])
