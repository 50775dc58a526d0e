"""``exafold predict``: structures for a handful of sequences, written straight to PDB/mmCIF.

No shards, journal or resumption (that is ``exafold distill``): features are built, every model
is run, the best by mean pLDDT is kept and written to DIR/<id>.pdb and/or DIR/<id>.cif with the
per-residue pLDDT in the B-factor column, and one line per structure is printed.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from tqdm import tqdm

import exafold
from exafold.commands.distill import _model_arg, add_feature_arguments
from exafold.prediction import Prediction
from exafold.runner import inputs

FORMATS = ("pdb", "mmcif")
_SUFFIX = {"pdb": ".pdb", "mmcif": ".cif"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict a few structures and write them as PDB/mmCIF files")
    p.add_argument("--fasta", type=Path, required=True, help="query sequences (FASTA)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--alignments", type=Path, metavar="DIR", help="alignment directory: DIR/<id>/*.a3m|*.sto")
    src.add_argument("--a3m", type=Path, action="append", metavar="FILE",
                     help="alignment file for the (single) query; repeat for several")
    p.add_argument("--model", action="append", required=True, metavar="PRESET=PATH", type=_model_arg,
                   help="parameter set, e.g. model_1_ptm=params/params_model_1_ptm.npz; repeat for several "
                        "(the best by mean pLDDT is kept)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--seed", type=int, default=0, help="run seed; each structure's seed derives from it and its id")
    add_feature_arguments(p)
    p.add_argument("--format", type=_formats, default=("pdb",), help="pdb, mmcif or pdb,mmcif (default pdb)")
    p.set_defaults(func=run)


def _formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in names if f not in FORMATS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"formats are pdb and mmcif, got {text!r}")
    return names


def read_items(fasta: Path) -> list[inputs.Item]:
    """The FASTA's records; any bad record is an error naming its file and line."""
    found = inputs.read_fasta(fasta, max_length=10**9)
    if found.rejected:
        r = found.rejected[0]
        raise ValueError(f"{r.source}: {r.reason}")
    return found.items


def alignments_for(item: inputs.Item, args: argparse.Namespace) -> list[Path]:
    """The item's checked alignment files (--a3m files, or DIR/<id>/)."""
    paths = list(args.a3m) if args.a3m else inputs.find_alignments(item, args.alignments)
    for p in paths:
        inputs.check_alignment(p)
    return paths


def predict_one(item: inputs.Item, models: dict[str, exafold.Model], args: argparse.Namespace) -> Prediction:
    """Every model on one item; returns the best prediction by mean pLDDT (its ``seconds``
    exclude feature building)."""
    from exafold.features import build_raw_features
    from exafold.model import model_features

    try:
        raw = build_raw_features(item.sequence, [str(p) for p in alignments_for(item, args)])
    except ValueError as e:
        raise ValueError(f"{item.source} ({item.id}): {e}") from None
    seed = inputs.structure_seed(item.id, args.seed)
    feats = model_features(raw, seed, num_recycle=args.recycles, max_clusters=args.max_msa_clusters,
                           max_extra=args.max_extra_msa)
    best = None
    for preset, model in models.items():
        t0 = time.perf_counter()
        out = model(feats, num_recycle=args.recycles)
        p = Prediction.from_outputs(out, item.sequence, id=item.id, preset=preset, seed=seed,
                                    seconds=time.perf_counter() - t0)
        if best is None or p.mean_plddt > best.mean_plddt:
            best = p
    return best


def write_structure(p: Prediction, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Writes the structure in each format, pLDDT in the B-factor column; returns the paths."""
    written = []
    for fmt in formats:
        path = out_dir / f"{p.id}{_SUFFIX[fmt]}"
        p.to_pdb(path) if fmt == "pdb" else p.to_mmcif(path)
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    for path in [args.fasta, args.alignments, *(args.a3m or []), *(p for _, p in args.model)]:
        if path is not None and not path.exists():
            raise ValueError(f"{path} does not exist")
    items = read_items(args.fasta)
    if args.a3m and len(items) > 1:
        raise ValueError(f"{args.fasta}: --a3m serves a single query, the file holds {len(items)}; "
                         "use --alignments DIR")
    # Inputs are checked before the (slow) model loads, so a typo fails at once.
    for item in items:
        try:
            alignments_for(item, args)
        except ValueError as e:
            raise ValueError(f"{item.source} ({item.id}): {e}") from None
    models = {preset: exafold.Model.load(str(path), preset) for preset, path in args.model}
    args.out.mkdir(parents=True, exist_ok=True)
    tqdm.write(f"{'id':<20} {'length':>6} {'model':<14} {'pLDDT':>6} {'pTM':>6} {'seconds':>8}")
    # The bar shows on a terminal only; the table goes to stdout either way.
    for item in tqdm(items, desc="predict", unit="structure", disable=None, leave=False):
        p = predict_one(item, models, args)
        write_structure(p, args.out, args.format)
        ptm = math.nan if p.ptm is None else p.ptm
        tqdm.write(f"{item.id:<20} {len(p):>6} {p.preset:<14} {p.mean_plddt:>6.2f} {ptm:>6.3f} "
                   f"{p.seconds:>8.2f}")
    return 0
