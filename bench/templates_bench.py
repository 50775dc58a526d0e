"""Template featurisation per item: exafold (from the mmCIF directory, and from a pre-parsed
HDF5 store) against the AlphaFold2 reference featuriser, in the same run.

    .venv/bin/python bench/templates_bench.py [--rounds 3] [--reps 5] [--record bench/RESULTS.md]

An item is one query with its HHsearch result: parse the hits, then make AlphaFold2's raw
template features (up to 20 templates, each hit's mmCIF read and parsed, its chain found or
realigned, its atoms mapped). Input: the real short73 case of tests/data (10 hits, 8 mmCIF
files, 1hf9 missing; 7 templates). exafold also makes the processed features the model takes
(pseudo-beta and the template torsion angles, which AlphaFold2 computes inside its network);
that time is shown apart and not in the ratio. The two engines alternate: each round times
`--reps` items of the reference (its own process, tests/python/refenv_features.py, caches
cleared per item), then `--reps` of each exafold path; medians over all rounds.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from exafold import features as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
import refenv_features  # noqa: E402
import template_fixtures as T  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from bench_machine import append_entry  # noqa: E402

HITS = T.SHORT73 / "pdb70_hits.hhr"


def time_exafold(source, reps):
    raw, processed, count = [], [], 0
    for _ in range(reps):
        t0 = time.perf_counter()
        result = F.template_features(T.SHORT73_QUERY, str(HITS), source)
        t1 = time.perf_counter()
        F.process_template_features(result)
        t2 = time.perf_counter()
        raw.append(t1 - t0)
        processed.append(t2 - t1)
        count = result.num_templates
    return raw, processed, count


def time_reference(mmcif_dir, reps):
    proc = subprocess.run([str(refenv_features.reference_python()),
                           str(ROOT / "bench" / "templates_ref_bench.py"), "--query",
                           T.SHORT73_QUERY, "--hhr", str(HITS), "--mmcif-dir", str(mmcif_dir),
                           "--reps", str(reps)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"})
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["seconds"], out["templates"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--record", help="append the results to this RESULTS.md")
    args = p.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        mmcifs = T.short73_mmcif_dir(tmp)  # plain .cif files, which the reference needs
        t0 = time.perf_counter()
        F.build_template_store(str(mmcifs), str(tmp / "store.h5"))
        build_s = time.perf_counter() - t0
        store = F.TemplateStore(str(tmp / "store.h5"))
        directory = F.MmcifDirectory(str(mmcifs))
        time_exafold(directory, 1)  # warm-up: page cache, first-call allocations
        ref, dir_raw, dir_proc, store_raw, store_proc = [], [], [], [], []
        counts = set()
        for _ in range(args.rounds):
            r, n = time_reference(mmcifs, args.reps)
            ref += r
            counts.add(n)
            a, b, n = time_exafold(directory, args.reps)
            dir_raw += a
            dir_proc += b
            counts.add(n)
            a, b, n = time_exafold(store, args.reps)
            store_raw += a
            store_proc += b
            counts.add(n)
    assert len(counts) == 1, f"the engines made different numbers of templates: {counts}"
    ref_s = statistics.median(ref)
    header = (f"{'path':<34} {'raw ms':>9} {'processed ms':>13} {'items/s':>8} {'ratio':>7}")
    lines = [header, "-" * len(header)]
    for name, raw, proc in (("reference (mmCIF directory)", ref, None),
                            ("exafold, mmCIF directory", dir_raw, dir_proc),
                            ("exafold, HDF5 template store", store_raw, store_proc)):
        raw_s = statistics.median(raw)
        proc_text = f"{statistics.median(proc) * 1e3:>13.2f}" if proc else f"{'-':>13}"
        lines.append(f"{name:<34} {raw_s * 1e3:>9.2f} {proc_text} {1 / raw_s:>8.2f} "
                     f"{ref_s / raw_s:>6.1f}x")
    print("\n".join(lines))
    if args.record:
        threads = os.environ.get("EXAFOLD_NUM_THREADS", str(len(os.sched_getaffinity(0))))
        notes = (f"short73 (tests/data): 10 HHsearch hits, 8 mmCIF files (1hf9 missing), "
                 f"{counts.pop()} templates. raw = parse the .hhr + AlphaFold2's raw template "
                 f"features; processed = exafold's pseudo-beta and template torsion features "
                 f"(computed inside the network by AlphaFold2, so not in the ratio). ratio = "
                 f"reference raw time / exafold raw time. Medians of {args.rounds} alternating "
                 f"rounds of {args.reps} items per path. Reference: alphafold-colabfold "
                 f"{_reference_version()} (Biopython 1.88), its mmCIF caches cleared per item. "
                 f"exafold threads: {threads} (featurisation itself is single-threaded). Store "
                 f"build (8 files, once): {build_s * 1e3:.0f} ms. Load average "
                 f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after (the machine is "
                 f"shared; the engines alternated under it).")
        append_entry(args.record, "Template featurisation per item: exafold vs AlphaFold2 reference",
                     " ".join([_relative(sys.executable)] + sys.argv), "\n".join(lines), notes)


def _relative(path):
    p = pathlib.Path(path)
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name


def _reference_version():
    req = (ROOT / "tests" / "reference" / "requirements-features.txt").read_text()
    return next(l.split("==")[1] for l in req.splitlines() if l.startswith("alphafold-colabfold"))


if __name__ == "__main__":
    main()
