"""Times the AlphaFold2 reference's template featuriser (run with the feature reference's python).

    python templates_ref_bench.py --query SEQ --hhr pdb70_hits.hhr --mmcif-dir DIR --reps 5

Per item: parsers.parse_hhr on the file's text, then HhsearchHitFeaturizer.get_templates (max 20
hits, kalign from PATH), the path of alphafold-colabfold's DataPipeline for a precomputed
template search. Its module-level caches of file texts and parsed mmCIF files (16 entries each)
are cleared before every repetition, so each item reads its templates as a new item would; the
files themselves stay in the operating system's page cache, as they do for exafold. A missing
mmCIF file skips its hit (the reference would abort the item; exafold skips it too). Prints JSON:
the seconds of each repetition and the number of templates made.
"""
import argparse
import json
import os
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

from alphafold.data import mmcif_parsing, parsers, templates  # noqa: E402

_process = templates._process_single_hit


def _skip_missing(**kwargs):
    try:
        return _process(**kwargs)
    except FileNotFoundError as e:
        return templates.SingleHitResult(features=None, error=None, warning=str(e))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--query", required=True)
    p.add_argument("--hhr", required=True)
    p.add_argument("--mmcif-dir", required=True)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    templates._process_single_hit = _skip_missing
    featurizer = templates.HhsearchHitFeaturizer(
        mmcif_dir=args.mmcif_dir, max_template_date="2100-01-01", max_hits=20,
        kalign_binary_path="kalign", release_dates_path=None, obsolete_pdbs_path=None)
    seconds, count = [], 0
    for _ in range(args.reps):
        templates._read_file.cache_clear()
        mmcif_parsing.parse.cache_clear()
        t0 = time.perf_counter()
        with open(args.hhr) as f:
            hits = parsers.parse_hhr(f.read())
        result = featurizer.get_templates(args.query, hits)
        seconds.append(time.perf_counter() - t0)
        count = len(result.features["template_domain_names"])
    print(json.dumps({"seconds": seconds, "templates": count}))


if __name__ == "__main__":
    main()
