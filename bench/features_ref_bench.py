"""Times the AlphaFold2 reference's feature pipeline (run with the reference's python).

    python features_ref_bench.py --fasta Q.fasta --msa a.a3m --msa b.sto:501 --reps 3 \
        --max-clusters 512 --max-extra 5120 --num-recycle 3

Per structure: read and parse the alignments (hit limits as the reference's DataPipeline
applies them), make_sequence_features + make_msa_features, then np_example_to_features with
templates off. One untimed warm-up call compiles the reference's jitted clustering. Prints JSON:
seconds of each timed repetition for the raw and processed stages.
"""
import argparse
import json
import os
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

from alphafold.data import parsers, pipeline  # noqa: E402
from alphafold.model import config as af_config  # noqa: E402
from alphafold.model import features as af_features  # noqa: E402


def read_alignment(spec):
    path, _, limit = spec.partition(":")
    limit = int(limit) if limit else 0
    if path.endswith(".sto"):
        if limit:
            return parsers.parse_stockholm(parsers.truncate_stockholm_msa(path, limit))
        with open(path) as f:
            return parsers.parse_stockholm(f.read())
    with open(path) as f:
        msa = parsers.parse_a3m(f.read())
    return msa.truncate(limit) if limit else msa


def raw_features(args):
    with open(args.fasta) as f:
        seqs, descs = parsers.parse_fasta(f.read())
    msas = [read_alignment(s) for s in args.msa]
    return {**pipeline.make_sequence_features(seqs[0], descs[0], len(seqs[0])),
            **pipeline.make_msa_features(msas)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fasta", required=True)
    p.add_argument("--msa", action="append", default=[])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--max-clusters", type=int, default=512)
    p.add_argument("--max-extra", type=int, default=5120)
    p.add_argument("--num-recycle", type=int, default=3)
    args = p.parse_args()
    cfg = af_config.model_config("model_1")
    cfg.data.common.use_templates = False
    cfg.data.common.reduce_msa_clusters_by_max_templates = False
    cfg.data.common.num_recycle = cfg.model.num_recycle = args.num_recycle
    cfg.data.common.max_extra_msa = args.max_extra
    cfg.data.eval.max_msa_clusters = args.max_clusters

    af_features.np_example_to_features(raw_features(args), cfg, random_seed=0)  # warm-up
    raw_s, processed_s = [], []
    for rep in range(args.reps):
        t0 = time.perf_counter()
        feats = raw_features(args)
        t1 = time.perf_counter()
        af_features.np_example_to_features(feats, cfg, random_seed=rep + 1)
        t2 = time.perf_counter()
        raw_s.append(t1 - t0)
        processed_s.append(t2 - t1)
    print(json.dumps({"raw_s": raw_s, "processed_s": processed_s,
                      "rows": int(feats["msa"].shape[0])}))


if __name__ == "__main__":
    main()
