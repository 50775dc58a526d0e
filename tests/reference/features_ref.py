"""AlphaFold2's own features for given inputs, written to an npz (run with the reference's python).

    python features_ref.py raw --fasta Q.fasta --msa a.sto:10000 --msa b.a3m [--dedup] --out raw.npz
    python features_ref.py processed --raw raw.npz --seed 7 --num-recycle 3 \
        --max-clusters 512 --max-extra 1024 --out processed.npz

raw: the DataPipeline path of alphafold-colabfold for precomputed alignments: parse_fasta,
truncate_stockholm_msa (the hit limit, when given) + parse_stockholm, parse_a3m,
make_sequence_features, make_msa_features. The fork has make_msa_features' de-duplication
commented out; --dedup restores DeepMind's three lines (skip a sequence already seen) by
filtering the parsed alignments before the call.

processed: features.np_example_to_features (templates off, fixed size as in the reference), with
every random draw recorded: per iteration r the row order (order_r), the masked-MSA choice
(bert_r: the token written, -1 where unmasked) and the extra-MSA crop (extra_r). Features are
saved as feat_<name> with the leading iteration axis. --exact-atan evaluates the pipeline's float32
arctan in float64 and rounds once (numpy's own float32 arctan is a SIMD routine chosen per CPU,
SVML on AVX-512 machines, and differs from the correctly rounded value in the last bit for about
a third of inputs); everything else is untouched.
"""
import argparse
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
from alphafold.data import parsers, pipeline  # noqa: E402
from alphafold.model import config as af_config  # noqa: E402
from alphafold.model import features as af_features  # noqa: E402
from alphafold.model.tf import np_backend  # noqa: E402


def read_alignment(spec):
    path, _, limit = spec.partition(":")
    limit = int(limit) if limit else 0
    if path.endswith(".sto"):
        if limit:
            text = parsers.truncate_stockholm_msa(path, limit)
        else:
            with open(path) as f:
                text = f.read()
        return parsers.parse_stockholm(text)
    with open(path) as f:
        msa = parsers.parse_a3m(f.read())
    return msa.truncate(limit) if limit else msa


def deduplicate(msas):
    seen = set()
    out = []
    for msa in msas:
        keep = [i for i, s in enumerate(msa.sequences) if not (s in seen or seen.add(s))]
        out.append(parsers.Msa(sequences=[msa.sequences[i] for i in keep],
                               deletion_matrix=[msa.deletion_matrix[i] for i in keep],
                               descriptions=[msa.descriptions[i] for i in keep]))
    return out


def raw(args):
    with open(args.fasta) as f:
        seqs, descs = parsers.parse_fasta(f.read())
    msas = [read_alignment(s) for s in args.msa]
    if args.dedup:
        msas = deduplicate(msas)
    feats = {**pipeline.make_sequence_features(seqs[0], descs[0], len(seqs[0])),
             **pipeline.make_msa_features(msas)}
    del feats["msa_species_identifiers"]
    # Object arrays of bytes become fixed-width bytes so the npz loads without pickle.
    for k in ("domain_name", "sequence"):
        feats[k] = np.array(list(feats[k]), dtype=np.bytes_)
    np.savez(args.out, **feats)


class Recorder:
    """Wraps the reference's random ops and keeps what each call returned, in call order."""

    def __init__(self):
        self.events = []
        shuffle, uniform, categorical = (np_backend.random_shuffle, np_backend.random.uniform,
                                         np_backend.random.categorical)

        def rec_shuffle(*a, **k):
            out = shuffle(*a, **k)
            self.events.append(("shuffle", np.array(out)))
            return out

        def rec_uniform(*a, **k):
            out = uniform(*a, **k)
            if np.ndim(out) == 2:  # the masked-MSA positions; other uniforms are not used
                self.events.append(("uniform", np.array(out)))
            return out

        def rec_categorical(*a, **k):
            out = categorical(*a, **k)
            self.events.append(("categorical", np.array(out)))
            return out

        np_backend.random_shuffle = rec_shuffle
        np_backend.random.uniform = rec_uniform
        np_backend.random.categorical = rec_categorical


def processed(args):
    example = dict(np.load(args.raw))
    for k in ("domain_name", "sequence"):
        example[k] = example[k].astype(object)
    cfg = af_config.model_config("model_1")
    cfg.data.common.use_templates = False
    cfg.data.common.reduce_msa_clusters_by_max_templates = False
    cfg.data.common.num_recycle = args.num_recycle
    cfg.model.num_recycle = args.num_recycle
    cfg.data.common.max_extra_msa = args.max_extra
    cfg.data.eval.max_msa_clusters = args.max_clusters
    if args.exact_atan:
        np_backend.atan = lambda x: np.arctan(np.asarray(x, np.float64)).astype(np.asarray(x).dtype)
    rec = Recorder()
    feats = af_features.np_example_to_features(example, cfg, random_seed=args.seed)

    iterations = args.num_recycle + 1
    num_rows, num_res = example["msa"].shape
    S = min(args.max_clusters, num_rows)
    per_iteration = 4 if args.max_extra else 3
    # With several iterations the pipeline first builds iteration 0 outside map_fn (for its
    # output signature) and then all iterations inside; the last ones are those returned.
    events = rec.events[-iterations * per_iteration:]
    out = {f"feat_{k}": v for k, v in feats.items()}
    for r in range(iterations):
        group = events[r * per_iteration:(r + 1) * per_iteration]
        kinds = [e[0] for e in group]
        expected = ["shuffle", "uniform", "categorical", "shuffle"][:per_iteration]
        if kinds != expected:
            sys.exit(f"unexpected random-op sequence {kinds} in iteration {r}")
        out[f"order_{r}"] = np.concatenate([[0], group[0][1]]).astype(np.int32)
        mask = group[1][1] < cfg.data.eval.masked_msa_replace_fraction
        tokens = group[2][1].reshape(S, num_res)
        out[f"bert_{r}"] = np.where(mask, tokens, -1).astype(np.int8)
        extra = group[3][1][:args.max_extra] if args.max_extra else np.zeros(0)
        out[f"extra_{r}"] = np.asarray(extra, dtype=np.int32)
    np.savez(args.out, **out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("raw")
    r.add_argument("--fasta", required=True)
    r.add_argument("--msa", action="append", default=[], help="path[:hit limit], in order")
    r.add_argument("--dedup", action="store_true")
    r.add_argument("--out", required=True)
    q = sub.add_parser("processed")
    q.add_argument("--raw", required=True)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--num-recycle", type=int, default=3)
    q.add_argument("--max-clusters", type=int, default=512)
    q.add_argument("--max-extra", type=int, default=1024)
    q.add_argument("--exact-atan", action="store_true")
    q.add_argument("--out", required=True)
    args = p.parse_args()
    raw(args) if args.mode == "raw" else processed(args)


if __name__ == "__main__":
    main()
