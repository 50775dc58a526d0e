"""Parity of exafold's features with the AlphaFold2 reference (PyPI alphafold-colabfold).

Raw features: identical element for element on the real alignments of ../shared/data and on
generated edge cases, with de-duplication off (as the ColabFold fork runs) and on (DeepMind's
AlphaFold2, whose three de-duplication lines the reference script restores).

Processed features: the reference's pipeline runs with its own seeded draws, which its script
records (row order, masked positions and replacements, extra-MSA crop); exafold's transforms
get the same choices and must reproduce every feature of every iteration exactly, against the
reference run with a correctly rounded float32 arctan (--exact-atan). Against the stock
reference, whose numpy float32 arctan is a per-CPU SIMD routine, the three arctan-derived
features (msa_feat channels 24 and 48, extra_deletion_value) may differ by 2 units in the last
place at most (numpy's 1-ulp arctan error, scaled by 2/pi and rounded again).
The draws themselves are exafold's own generator: their statistics are checked here too.
"""
import os
import pathlib

import numpy as np
import pytest

import refenv_features as ref
from exafold import features as F

pytestmark = pytest.mark.reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("EXAFOLD_SHARED_DATA", ROOT.parent / "shared" / "data"))
needs_shared = pytest.mark.skipif(not (SHARED / "6kwc" / "6kwc.fasta").exists(),
                                  reason="../shared/data not found")


# ---- inputs

def edge_case_files(directory: pathlib.Path):
    """A query with every non-standard letter, an A3M with insertions at the start, middle and
    end, gaps, exact and deletion-only duplicates and copies of the query, and a two-block
    Stockholm file with insert columns, markup lines and a row shared with the A3M."""
    rng = np.random.default_rng(4)
    aa = np.array(list("ACDEFGHIKLMNPQRSTVWYBZUOJX"))
    query = "MKBZUOJXWYACDEFGHIKLMNPQRSTV"
    n = len(query)
    rows = [query]
    for i in range(40):
        row = list(query)
        for j in range(n):
            u = rng.random()
            if u < 0.25:
                row[j] = str(rng.choice(aa))
            elif u < 0.35:
                row[j] = "-"
        text = ""
        for j, c in enumerate(row):
            if rng.random() < 0.08:
                text += "".join(rng.choice(list("acdefghiklmnpqrstvwy"), rng.integers(1, 4)))
            text += c
        if i % 7 == 3:
            text = "kq" + text + "ee"
        rows.append(text)
    rows += [rows[5], rows[5].replace("k", "").replace("q", ""), query, "-" * n]
    a3m = directory / "bfd_uniref_hits.a3m"
    a3m.write_text("".join(f">row{i} some description\n{r}\n" for i, r in enumerate(rows)))

    inserts = {0: 2, 5: 1, 13: 3, n: 2}  # insert columns before query column k
    def sto_row(residues, fill):
        out = ""
        for k in range(n + 1):
            out += "".join(fill() for _ in range(inserts.get(k, 0)))
            if k < n:
                out += residues[k]
        return out
    names, aligned = ["query"], [sto_row(query, lambda: "-")]
    for i in range(12):
        res = "".join(str(rng.choice(aa)) if rng.random() < 0.3 else c for c in query)
        names.append(f"hit{i}/1-{n}")
        aligned.append(sto_row(res, lambda: str(rng.choice(list("ACDEFG-")))))
    names.append("copy/1-9")
    aligned.append(sto_row(rows[1].translate(str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")),
                           lambda: "-"))
    width = len(aligned[0])
    cut = width // 2
    lines = ["# STOCKHOLM 1.0", "#=GF ID query-i1"]
    lines += [f"#=GS {nm} DE [subseq from] description {i}" for i, nm in enumerate(names[1:])]
    for lo, hi in ((0, cut), (cut, width)):
        lines.append("")
        for nm, al in zip(names, aligned):
            lines.append(f"{nm:<20} {al[lo:hi]}")
            if nm.startswith("hit1"):
                lines.append(f"#=GR {nm:<15} PP {'*' * (hi - lo)}")
        lines.append(f"#=GC RF{' ' * 14}{'x' * (hi - lo)}")
    lines.append("//")
    sto = directory / "mgnify_hits.sto"
    sto.write_text("\n".join(lines) + "\n")
    fasta = directory / "edge.fasta"
    fasta.write_text(f">edge case query\n{query[:10]}\n{query[10:]}\n")
    return fasta, [(a3m, 0), (sto, 9)]


def case_inputs(name, directory):
    """(fasta, [(path, hit limit)]) in AlphaFold2's order: uniref90, BFD, MGnify."""
    if name == "6kwc":
        d = SHARED / "6kwc"
        return d / "6kwc.fasta", [(d / "bfd_uniref_hits.a3m", 0), (d / "mgnify_hits.sto", 501)]
    if name == "short73":
        d = SHARED / "short73" / "alignments"
        a3m = d / "bfd_uniclust_hits.a3m"
        first = F.read_a3m(str(a3m), max_rows=1)
        fasta = directory / "short73.fasta"
        fasta.write_text(f">{first.descriptions[0]}\n{first.sequences[0]}\n")
        return fasta, [(d / "uniref90_hits.sto", 10000), (a3m, 0), (d / "mgnify_hits.sto", 501)]
    if name == "edge":
        return edge_case_files(directory)
    raise KeyError(name)


def reference_raw(fasta, msas, dedup, out):
    args = ["raw", "--fasta", str(fasta), "--out", str(out)]
    for path, limit in msas:
        args += ["--msa", f"{path}:{limit}" if limit else str(path)]
    if dedup:
        args.append("--dedup")
    ref.run(*args)
    return dict(np.load(out))


def exafold_raw(fasta, msas, dedup):
    query = F.read_fasta(str(fasta))[0]
    return F.build_raw_features(query, [(str(p), limit) for p, limit in msas], deduplicate=dedup)


RAW_CASES = [(c, d) for c in ("6kwc", "short73", "edge") for d in (False, True)]


@pytest.mark.parametrize("case,dedup", RAW_CASES, ids=[f"{c}-{'dedup' if d else 'all'}"
                                                       for c, d in RAW_CASES])
def test_raw_features_identical(tmp_path, case, dedup):
    if case != "edge" and not (SHARED / "6kwc").exists():
        pytest.skip("../shared/data not found")
    fasta, msas = case_inputs(case, tmp_path)
    want = reference_raw(fasta, msas, dedup, tmp_path / "ref.npz")
    got = exafold_raw(fasta, msas, dedup)
    assert set(got) == set(want)
    for key, w in want.items():
        g = got[key]
        if key in ("domain_name", "sequence"):
            assert list(g) == list(w), key
            continue
        assert g.dtype == w.dtype == np.int32, key
        assert g.shape == w.shape, (key, g.shape, w.shape)
        assert np.array_equal(g, w), (key, np.argwhere(g != w)[:5])
    if case == "edge":
        # The generated case exercises what it is meant to.
        assert (want["deletion_matrix_int"] > 0).any()
        assert (want["msa"] == 21).any()
        assert dedup == (want["msa"].shape[0] < 1 + 44 + 9)


# ---- processed features

ATAN_FEATURES = {"extra_deletion_value"}
ATAN_CHANNELS = [24, 48]


def ulp_distance(a, b):
    ia = a.view(np.int32).astype(np.int64)
    ib = b.view(np.int32).astype(np.int64)
    return np.abs(ia - ib)


PROCESSED_CASES = [
    # case, dedup, seed, num_recycle, max_clusters, max_extra
    ("6kwc", False, 3, 3, 512, 1024),
    ("short73", True, 11, 1, 64, 200),
    ("edge", True, 5, 2, 3, 2),
    ("edge", False, 0, 0, 60, 0),
]


@pytest.fixture(scope="module", params=PROCESSED_CASES,
                ids=[f"{c[0]}-s{c[2]}-r{c[3]}-c{c[4]}-e{c[5]}" for c in PROCESSED_CASES])
def processed_case(request, tmp_path_factory):
    case, dedup, seed, num_recycle, max_clusters, max_extra = request.param
    if case != "edge" and not (SHARED / "6kwc").exists():
        pytest.skip("../shared/data not found")
    d = tmp_path_factory.mktemp(case)
    fasta, msas = case_inputs(case, d)
    raw = reference_raw(fasta, msas, dedup, d / "raw.npz")
    runs = {}
    for mode in ("stock", "exact"):
        out = d / f"processed_{mode}.npz"
        args = ["processed", "--raw", str(d / "raw.npz"), "--seed", str(seed),
                "--num-recycle", str(num_recycle), "--max-clusters", str(max_clusters),
                "--max-extra", str(max_extra), "--out", str(out)]
        ref.run(*args, *(["--exact-atan"] if mode == "exact" else []))
        runs[mode] = dict(np.load(out))
    config = F.ProcessConfig(max_clusters=max_clusters, max_extra=max_extra,
                             num_recycle=num_recycle, fixed_size=True)
    ours = []
    for r in range(num_recycle + 1):
        e = runs["exact"]
        ours.append(F.iteration_features(raw, config, e[f"order_{r}"], e[f"bert_{r}"],
                                         e[f"extra_{r}"]))
    return raw, runs, ours, request.param


def test_processed_features_identical_given_the_reference_draws(processed_case):
    raw, runs, ours, (_, _, _, num_recycle, _, max_extra) = processed_case
    exact = runs["exact"]
    for r, got in enumerate(ours):
        for key, g in got.items():
            ref_key = f"feat_{key}"
            if ref_key not in exact:
                # With max_extra 0 the reference drops the extra-MSA features; exafold keeps
                # them with no rows.
                assert max_extra == 0 and key.startswith("extra_") and g.shape[0] == 0, key
                continue
            w = exact[ref_key][r]
            assert g.dtype == w.dtype, key
            assert g.shape == w.shape, (key, g.shape, w.shape)
            assert np.array_equal(g, w), (r, key, np.argwhere(g != w)[:5])
    # The stock reference: the same except the last bits of arctan-derived values.
    stock = runs["stock"]
    for r, got in enumerate(ours):
        for key, g in got.items():
            if f"feat_{key}" not in stock:
                continue
            w = stock[f"feat_{key}"][r]
            if key == "msa_feat":
                other = [c for c in range(49) if c not in ATAN_CHANNELS]
                assert np.array_equal(g[..., other], w[..., other])
                assert ulp_distance(g[..., ATAN_CHANNELS], w[..., ATAN_CHANNELS]).max() <= 2
            elif key in ATAN_FEATURES:
                assert ulp_distance(g, w).max() <= 2
            else:
                assert np.array_equal(g, w), (r, key)
    assert len(ours) == num_recycle + 1


def test_reference_draws_are_recorded_faithfully(processed_case):
    """The recorded choices explain the reference's own outputs (so the test above compares
    like with like): true_msa is the ordered rows, bert_mask the masked positions."""
    raw, runs, _, (_, _, _, num_recycle, max_clusters, _) = processed_case
    e = runs["exact"]
    msa = np.array([0, 4, 3, 6, 13, 7, 8, 9, 11, 10, 12, 2, 14, 5, 1, 15, 16, 19, 17, 18, 20,
                    21])[raw["msa"]]
    S = min(max_clusters, msa.shape[0])
    for r in range(num_recycle + 1):
        order = e[f"order_{r}"]
        assert order[0] == 0 and sorted(order) == list(range(msa.shape[0]))
        assert np.array_equal(e["feat_true_msa"][r][:S], msa[order[:S]])
        assert np.array_equal(e["feat_bert_mask"][r][:S], (e[f"bert_{r}"] >= 0).astype(np.float32))


def test_exafold_draws_match_the_reference_statistics(processed_case):
    """exafold's own generator against the reference's: masked fraction, mask-token share,
    the query always first, the extra rows a subset of the rows not sampled."""
    raw, runs, _, (case, _, seed, num_recycle, max_clusters, max_extra) = processed_case
    config = F.ProcessConfig(max_clusters=max_clusters, max_extra=max_extra,
                             num_recycle=num_recycle)
    R = raw["msa"].shape[0]
    S = min(max_clusters, R)
    ours, theirs = [], []
    for r in range(num_recycle + 1):
        s = F.draw_msa_sample(raw, config, F.structure_seed(case, seed), r)
        assert s["order"][0] == 0 and sorted(s["order"]) == list(range(R))
        assert len(set(s["extra"])) == len(s["extra"]) == min(max_extra, R - S)
        assert all(0 <= x < R - S for x in s["extra"])
        ours.append(s["bert"].ravel())
        theirs.append(runs["exact"][f"bert_{r}"].ravel())
    ours, theirs = np.concatenate(ours), np.concatenate(theirs)
    n = ours.size
    if n < 2000:
        return  # too few positions for a statistical statement
    bound = 5 * np.sqrt(0.15 * 0.85 / n)
    assert abs((ours >= 0).mean() - 0.15) < bound
    assert abs((theirs >= 0).mean() - 0.15) < bound
    m = (ours >= 0).sum()
    assert abs((ours == 22).sum() / m - 0.7) < 5 * np.sqrt(0.21 / m)
