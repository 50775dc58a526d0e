"""Runner inputs: FASTA and manifest records, validation reasons, alignment discovery and checks,
structure seeds."""

from pathlib import Path

import pytest
from exafold.runner.inputs import (
    InputError,
    Item,
    check_alignment,
    find_alignments,
    normalize_sequence,
    read_fasta,
    read_manifest,
    structure_seed,
)


def test_fasta_records_multiline_lowercase_and_stop(tmp_path):
    f = tmp_path / "q.fasta"
    f.write_text(">A1 first protein\nmkv\nLLA*\n\n>B2\nGG G\n")
    got = read_fasta(f, max_length=100)
    assert [(i.id, i.sequence) for i in got.items] == [("A1", "MKVLLA"), ("B2", "GGG")]
    assert got.items[0].source == f"{f}:1" and got.items[1].source == f"{f}:5"
    assert got.rejected == []


def test_bad_records_fail_only_themselves(tmp_path):
    f = tmp_path / "q.fasta"
    f.write_bytes(b">ok1\nMKV\n>bad_residue\nMK1V\n>too_long\n" + b"A" * 11 + b"\n>ok1\nMMM\n"
                  b">\nMKV\n>has/slash\nMKV\n>empty\n>garbage\nMK\xffV\n>ok2\nACD\n")
    got = read_fasta(f, max_length=10)
    assert [i.id for i in got.items] == ["ok1", "ok2"]
    reasons = {(r.id, r.source.rsplit(":", 1)[1]): r.reason for r in got.rejected}
    assert reasons[("bad_residue", "3")] == "residue '1' at position 3 is not allowed"
    assert reasons[("too_long", "5")] == "length 11 exceeds the maximum 10"
    assert reasons[(None, "7")] == f"duplicate id 'ok1' (first at {f}:1)"
    assert reasons[(None, "9")].startswith("invalid id ''")
    assert reasons[(None, "11")].startswith("invalid id 'has/slash'")
    assert reasons[("empty", "13")] == "empty sequence"
    assert reasons[("garbage", "14")] == "residue '\\xff' at position 3 is not allowed"


def test_line_endings_and_stray_bytes(tmp_path):
    f = tmp_path / "q.fasta"
    f.write_bytes(b">a\r\nMK\r\nV\r\n>b\rGG\r>c\nM\x85K\n")
    got = read_fasta(f, max_length=10)
    assert [(i.id, i.sequence) for i in got.items] == [("a", "MKV"), ("b", "GG")]
    assert [(r.id, r.source, r.reason) for r in got.rejected] == [
        ("c", f"{f}:6", "residue '\\x85' at position 2 is not allowed")]


def test_residue_policy():
    assert normalize_sequence("mkbz", "unknown") == "MKXX"
    with pytest.raises(ValueError, match=r"residue 'B' at position 3 is not allowed \(allowed with --residues unknown\)"):
        normalize_sequence("mkbz", "strict")
    with pytest.raises(ValueError, match="residue '-'"):
        normalize_sequence("MK-V", "unknown")
    with pytest.raises(ValueError, match="residue policy"):
        normalize_sequence("MKV", "lenient")


def test_unusable_files_raise_naming_the_file(tmp_path):
    with pytest.raises(InputError, match="cannot read .*missing.fasta"):
        read_fasta(tmp_path / "missing.fasta", max_length=10)
    f = tmp_path / "notfasta.txt"
    f.write_text("\nid,sequence\n")
    with pytest.raises(InputError, match=r"notfasta.txt:2: not a FASTA file"):
        read_fasta(f, max_length=10)
    f.write_text("")
    with pytest.raises(InputError, match="no FASTA records"):
        read_fasta(f, max_length=10)


def test_manifest_tsv_and_csv(tmp_path):
    (tmp_path / "m").mkdir()
    tsv = tmp_path / "m" / "jobs.tsv"
    tsv.write_text("id\tsequence\talignments\nP1\tMKV\ta/x.a3m; /abs/y.sto\nP2\tGGG\t\n\nP3\tMK\n")
    got = read_manifest(tsv, max_length=10)
    assert [(i.id, i.sequence) for i in got.items] == [("P1", "MKV"), ("P2", "GGG")]
    assert got.items[0].listed_alignments == (tmp_path / "m" / "a/x.a3m", Path("/abs/y.sto"))
    assert [(r.source, r.reason) for r in got.rejected] == [(f"{tsv}:5", "expected 3 fields, got 2")]
    csv = tmp_path / "jobs.csv"
    csv.write_text("Sequence,ID\nMKV,Q1\n")
    assert [(i.id, i.sequence) for i in read_manifest(csv, max_length=10).items] == [("Q1", "MKV")]


def test_manifest_errors(tmp_path):
    bad = tmp_path / "jobs.csv"
    bad.write_text("name,sequence\nP1,MKV\n")
    with pytest.raises(InputError, match=r"jobs.csv:1: .*missing id"):
        read_manifest(bad, max_length=10)
    with pytest.raises(InputError, match="must end in .tsv, .tab or .csv"):
        read_manifest(tmp_path / "jobs.txt", max_length=10)


def test_find_alignments(tmp_path):
    d = tmp_path / "msas" / "P1"
    d.mkdir(parents=True)
    names = ("mgnify_hits.sto", "bfd_uniclust_hits.a3m", "uniref90_hits.sto", "custom.a3m", "notes.txt")
    for name in names:
        (d / name).write_text("x")
    listed = tmp_path / "extra.a3m"
    item = Item("P1", "MKV", "m:2", (listed,))
    # AlphaFold2's merge order (uniref90, BFD, MGnify), after what the manifest lists.
    assert find_alignments(item, tmp_path / "msas") == [
        listed, d / "uniref90_hits.sto", d / "bfd_uniclust_hits.a3m", d / "mgnify_hits.sto", d / "custom.a3m"]
    with pytest.raises(ValueError, match=r"no alignment files \(\*.a3m, \*.sto\) for P2 in .*msas/P2/"):
        find_alignments(Item("P2", "MKV", "m:3"), tmp_path / "msas")
    with pytest.raises(ValueError, match="P2: its record lists none and no alignment directory was given"):
        find_alignments(Item("P2", "MKV", "m:3"), None)


@pytest.mark.parametrize("name,content,message", [
    ("a.a3m", b">q\nMKV\n", None),
    ("a.sto", b"# STOCKHOLM 1.0\nq MKV\n//\n", None),
    # ColabFold's A3M: a '#lengths cardinalities' line first, '>101' for the query.
    ("colabfold.a3m", b"#3\t1\n>101\nMKV\n>hit\nMK-\n", None),
    ("missing.a3m", None, "cannot open .*missing.a3m: No such file"),
    ("empty.a3m", b"", r"empty.a3m:1: empty file"),
    ("bin.a3m", b">q\n\x00\x01\x02", r"bin.a3m:2: unexpected byte 0x00"),
    ("bad.a3m", b"MKV\n", r"bad.a3m:1: expected a '>' header line"),
    ("bad.sto", b"q MKV\n//\n", r"bad.sto:1: not a Stockholm file"),
    ("cut.sto", b"# STOCKHOLM 1.0\nq MKV\nh1 MK", r"cut.sto:3: truncated file"),
    ("other.a3m", b">q\nMKA\n", r"other.a3m:1: query missing: .* differs from the query at residue 3"),
])
def test_check_alignment_is_the_engines_parser(tmp_path, name, content, message):
    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    if message is None:
        check_alignment(p, "MKV")
    else:
        with pytest.raises(ValueError, match=message):
            check_alignment(p, "MKV")


def test_structure_seed_matches_the_feature_pipeline():
    # Values of the C++ structure_seed (cpp/src/features/rng.cpp), computed by that code.
    assert structure_seed("6KWC_1", 0) == 5748726555382552039
    assert structure_seed("sp|P69905|HBA_HUMAN", 42) == 16958858922874903411
    assert structure_seed("", 2**64 - 1) == 14703628883582893237
