"""``exafold predict``: structures for a handful of sequences, written straight to PDB/mmCIF.

No shards, journal or resumption (that is ``exafold distill``): features are built, every model
is run, the best by mean pLDDT is kept and written to DIR/<id>.pdb and/or DIR/<id>.cif with the
per-residue pLDDT in the B-factor column, and one line per structure is printed. Before each
model runs, the memory model picks the chunk size that fits ``--model-memory``, or the item is
refused with the numbers. A signal stops after the structure being written (exafold.stopping).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from tqdm import tqdm

import exafold
from exafold import stopping
from exafold.commands.distill import (
    _model_arg,
    _positive,
    add_feature_arguments,
    add_model_memory_argument,
    add_template_arguments,
    chunk_size_for,
    model_memory_bytes,
    msa_clusters_for,
)
from exafold.prediction import Prediction
from exafold.runner import inputs
from exafold.runner.job import RunConfig
from exafold.templates import TemplateInputs
from exafold.templates import variants as template_variants

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
    add_template_arguments(p, both="; both: also without templates, the higher mean pLDDT kept")
    p.add_argument("--max-length", type=_positive, default=2500, help="longer sequences are refused (default 2500)")
    add_model_memory_argument(p)
    p.add_argument("--format", type=_formats, default=("pdb",), help="pdb, mmcif or pdb,mmcif (default pdb)")
    p.set_defaults(func=run)


def _formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in names if f not in FORMATS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"formats are pdb and mmcif, got {text!r}")
    return names


def read_items(fasta: Path, max_length: int) -> list[inputs.Item]:
    """The FASTA's records; any bad record (one longer than max_length too) is an error naming its
    file and line."""
    found = inputs.read_fasta(fasta, max_length=max_length)
    if found.rejected:
        r = found.rejected[0]
        raise ValueError(f"{r.source}: {r.reason}")
    return found.items


def alignments_for(item: inputs.Item, args: argparse.Namespace) -> list[Path]:
    """The item's alignment files (--a3m files, or DIR/<id>/), each starting with its query."""
    paths = list(args.a3m) if args.a3m else inputs.find_alignments(item, args.alignments)
    for p in paths:
        inputs.check_alignment(p, item.sequence)
    return paths


def template_dir(item: inputs.Item, args: argparse.Namespace) -> Path:
    """Where the item's template search result lies: beside its alignments (DIR/<id>/, or the
    directory of the --a3m files)."""
    return args.a3m[0].parent if args.a3m else inputs.template_dir(item, args.alignments)


def predict_one(item: inputs.Item, models: dict[str, exafold.Model], args: argparse.Namespace,
                budget: int | None, templates: TemplateInputs | None = None) -> Prediction:
    """Every model on one item (a template preset with the item's templates, and with
    --templates both also without), each with the chunk size the memory model fits in `budget`
    (refused with the numbers when none does, before it runs); returns the best prediction by
    mean pLDDT (its ``seconds`` exclude feature building). @raises stopping.Stopped when a signal
    asked for a stop (at the running model's next iteration)."""
    from exafold.features import build_raw_features
    from exafold.model import model_features

    try:
        raw = build_raw_features(item.sequence, [str(p) for p in alignments_for(item, args)])
        found = None if templates is None else templates.beside(item.sequence, template_dir(item, args))
    except ValueError as e:
        raise ValueError(f"{item.source} ({item.id}): {e}") from None
    for note in () if found is None else found.notes:
        tqdm.write(f"{item.id}: {note}")
    seed = inputs.structure_seed(item.id, args.seed)
    feats = model_features(raw, seed, num_recycle=args.recycles,
                           max_clusters=msa_clusters_for(list(models), args.max_msa_clusters),
                           max_extra=args.max_extra_msa)
    best = None
    for preset, model in models.items():
        for used, variant in template_variants(feats, found, preset, args.templates):
            try:
                chunk = chunk_size_for(preset, variant, budget)
            except ValueError as e:
                raise ValueError(f"{item.source} ({item.id}): {e}") from None
            if chunk:
                tqdm.write(f"{item.id}: {preset} runs in chunks of {chunk} to fit --model-memory "
                           f"{budget / 2**30:.3g} GiB")
            t0 = time.perf_counter()
            out = model(variant, num_recycle=args.recycles, chunk_size=chunk,
                        on_iteration=lambda r: stopping.check())
            p = Prediction.from_outputs(out, item.sequence, id=item.id, preset=preset, seed=seed,
                                        seconds=time.perf_counter() - t0)
            if used is not None:
                p.templates, p.template_notes = used.used, used.notes
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
    for path in [args.fasta, args.alignments, *(args.a3m or []), *(p for _, p in args.model),
                 args.template_mmcif_dir, args.obsolete_pdbs]:
        if path is not None and not path.exists():
            raise ValueError(f"{path} does not exist")
    templates = RunConfig(args.out, tuple((preset, "") for preset, _ in args.model), templates=args.templates,
                          template_structures=args.template_mmcif_dir, max_template_date=args.max_template_date,
                          obsolete_pdbs=args.obsolete_pdbs).template_inputs()
    items = read_items(args.fasta, args.max_length)
    if args.a3m and len(items) > 1:
        raise ValueError(f"{args.fasta}: --a3m serves a single query, the file holds {len(items)}; "
                         "use --alignments DIR")
    # Inputs are checked before the (slow) model loads, so a typo fails at once.
    for item in items:
        try:
            alignments_for(item, args)
        except ValueError as e:
            raise ValueError(f"{item.source} ({item.id}): {e}") from None
    budget = model_memory_bytes(args.model_memory)
    models = {preset: exafold.Model.load(str(path), preset) for preset, path in args.model}
    args.out.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(items, args.out, args.format)
    tqdm.write(f"{'id':<20} {'length':>6} {'model':<14} {'pLDDT':>6} {'pTM':>6} {'seconds':>8}")
    # The bar shows on a terminal only; the table goes to stdout either way.
    with stopping.graceful(finishing="the structure files being written are finished first"):
        for item in tqdm(items, desc="predict", unit="structure", disable=None, leave=False):
            try:
                p = predict_one(item, models, args, budget, templates)
            except stopping.Stopped:
                break
            write_structure(p, args.out, args.format)
            ptm = math.nan if p.ptm is None else p.ptm
            used = f"  templates {' '.join(name for name, _ in p.templates)}" if p.templates else ""
            tqdm.write(f"{item.id:<20} {len(p):>6} {p.preset:<14} {p.mean_plddt:>6.2f} {ptm:>6.3f} "
                       f"{p.seconds:>8.2f}{used}")
            if stopping.requested() is not None:
                break
        stopped = stopping.requested()
    return 128 + stopped if stopped else 0


def sweep_temporaries(items: list[inputs.Item], out_dir: Path, formats: tuple[str, ...]) -> None:
    """Removes the temporaries a killed earlier run left for these structures (exafold.files
    writes DIR/<id>.pdb through DIR/<id>.pdb.tmp); nothing else in DIR is touched."""
    for item in items:
        for fmt in formats:
            (out_dir / f"{item.id}{_SUFFIX[fmt]}.tmp").unlink(missing_ok=True)
