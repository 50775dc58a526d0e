"""``exafold predict``: structures for a handful of sequences, each model's written with its scores,
as colabfold_batch and run_alphafold.py write them.

No shards, journal or resumption (that is ``exafold distill``). Each query runs through the one
prediction path (exafold.inference: the presets' settings, every model with every seed, ranked
by mean pLDDT) and gets a directory ``OUT/<name>/`` (``<name>``: its id made safe for file names;
``OUT/ids.json`` maps names to ids) holding, for each structure ranked r, model M, seed s:
``<name>_unrelaxed_rank_<r>_<M>_seed_<s>.pdb|.cif`` (pLDDT in the B-factor column), the scores
``<name>_scores_rank_<r>_<M>_seed_<s>.json``, for models with a PAE head the PAE matrix in the
AlphaFold Database's layout ``<name>_predicted_aligned_error_rank_<r>_<M>_seed_<s>.json``, and
``<name>_ranking.json`` and ``<name>_timings.json``. An item's directory appears complete or not
at all.

Queries come from a FASTA file with alignments from ``--alignments DIR`` or ``--a3m FILE``, from
A3M files alone (ColabFold's: each file, or each NUL-separated part, is a query), or with
``--msa-mode single_sequence`` from the FASTA alone. With ``--keep-going`` (the default) a bad
item fails alone with its reason and the exit status is 100 + the number that failed. Before
each model runs, the memory model picks the chunk size that fits ``--model-memory``, or the item
fails with the numbers. A signal stops after the item being written (exafold.stopping).

With ``--templates`` (exafold.templates) a template preset predicts with the template search
result beside the query's alignments, as the candidate ``<preset>+templates`` (its files end
``..._<preset>+templates_seed_<s>``; the scores and the structure's remarks name the templates
used); ``--templates both`` also predicts without them. Hits left out are printed with their
reasons.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

import exafold
from exafold import inference, stopping
from exafold.commands import shared
from exafold.commands.shared import positive
from exafold.files import write_atomic
from exafold.prediction import Prediction
from exafold.runner import inputs
from exafold.templates import ItemTemplates, open_templates

FORMATS = ("pdb", "mmcif")
_SUFFIX = {"pdb": ".pdb", "mmcif": ".cif"}
PARTIAL = ".partial"  # an item's directory while it is being written


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict a few structures and write every model's with its scores")
    p.add_argument("--fasta", type=Path,
                   help="query sequences (FASTA); without it the queries are the --a3m files' first rows")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--alignments", type=Path, metavar="DIR",
                     help="alignment directory: DIR/<id>/*.a3m|*.sto, or DIR/<id>.a3m as colabfold_search writes")
    src.add_argument("--a3m", type=Path, action="append", metavar="FILE|DIR",
                     help="A3M file (ColabFold's too, with NUL-separated queries) or a directory of them; "
                          "repeat for several. With --fasta each query takes the alignments that start with it")
    shared.add_msa_mode_argument(p)
    shared.add_model_argument(p, "every model's structure is written, ranked by mean pLDDT")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    shared.add_seed_argument(p)
    p.add_argument("--num-seeds", type=positive, default=1, metavar="N",
                   help="run each model with the seeds SEED ... SEED + N - 1 (default 1)")
    shared.add_feature_arguments(p)
    shared.add_template_arguments(p, both="; both: also without templates, every prediction written")
    shared.add_residues_argument(p)
    p.add_argument("--max-length", type=positive, default=2500, help="longer sequences fail (default 2500)")
    shared.add_model_memory_argument(p)
    shared.add_device_arguments(p)
    p.add_argument("--format", type=_formats, default=("pdb",), help="pdb, mmcif or pdb,mmcif (default pdb)")
    p.add_argument("--keep-going", action=argparse.BooleanOptionalAction, default=True,
                   help="a bad item fails alone and the others finish; the exit status is 100 + the number "
                        "that failed (default); --no-keep-going stops at the first")
    p.set_defaults(func=run)


def _formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in names if f not in FORMATS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"formats are pdb and mmcif, got {text!r}")
    return names


@dataclass
class Query:
    """One item and where its alignments come from: paths (read by the feature pipeline) or
    alignments already parsed (A3M parts), or an error that fails it."""

    item: inputs.Item
    alignments: list = field(default_factory=list)
    error: str | None = None


class Failures:
    """Items that failed, each printed with its reason as it fails; with keep_going False the
    first one stops the command (ValueError)."""

    def __init__(self, keep_going: bool) -> None:
        self.keep_going = keep_going
        self.reasons: dict[str, str] = {}

    def add(self, what: str, reason: str) -> None:
        if not self.keep_going:
            raise ValueError(f"{what}: {reason}")
        self.reasons[what] = reason
        tqdm.write(f"exafold predict: failed: {what}: {reason}", file=sys.stderr)


def _a3m_files(paths: list[Path]) -> list[Path]:
    """--a3m's files, a directory standing for its *.a3m files (sorted by name)."""
    out = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() == ".a3m")
            if not found:
                raise ValueError(f"{p}: no *.a3m files")
            out += found
        else:
            out.append(p)
    return out


def _a3m_parts(files: list[Path], unreadable=None) -> list[tuple[Path, int, int, object]]:
    """Every alignment of the A3M files, (file, part, parts in the file, Msa), read by the
    engine's A3M parser (NUL-separated parts: colabfold_search's MMseqs2 databases). A file that
    cannot be read raises ValueError, or with `unreadable(file, reason)` is reported there."""
    from exafold._core.features import af2_hit_limit, read_a3m_queries

    out = []
    for f in files:
        try:
            # Each alignment keeps the rows AlphaFold2 keeps of its database (by the file's name).
            parts = read_a3m_queries(str(f), max_rows=af2_hit_limit(str(f)))
        except (OSError, ValueError) as e:
            if unreadable is None:
                raise ValueError(str(e)) from None
            unreadable(f, str(e))
            continue
        out += [(f, k, len(parts), msa) for k, msa in enumerate(parts)]
    return out


def queries_from_a3m(files: list[Path], max_length: int, residues: str, failures: Failures) -> list[Query]:
    """colabfold_batch's way: each A3M file is a query named by its stem (a file of several
    NUL-separated alignments gives <stem>_<k> for its k-th), the query its first row."""
    v = inputs.Validator(max_length, residues)
    alignments = {}
    for f, k, n, msa in _a3m_parts(files, lambda f, reason: failures.add(str(f), reason)):
        rid = f.stem if n == 1 else f"{f.stem}_{k}"
        alignments[rid] = msa
        v.add(rid, msa.sequences[0].replace("-", ""), f"{f}" if n == 1 else f"{f} (alignment {k})")
    for r in v.rejected:
        failures.add(r.source if r.id is None else f"{r.source} ({r.id})", r.reason)
    return [Query(item, [alignments[item.id]]) for item in v.items]


def queries_from_fasta(args: argparse.Namespace, failures: Failures) -> list[Query]:
    found = inputs.read_fasta(args.fasta, max_length=args.max_length, residues=args.residues)
    for r in found.rejected:
        failures.add(r.source if r.id is None else f"{r.source} ({r.id})", r.reason)
    queries = [Query(item) for item in found.items]
    if args.msa_mode == "single_sequence":
        return queries
    if args.a3m:
        parts = _a3m_parts(_a3m_files(args.a3m))
        for q in queries:
            q.alignments = [msa for _, _, _, msa in parts
                            if exafold._core.features.is_query_row(msa.sequences[0], q.item.sequence)]
            if not q.alignments:
                files = ", ".join(dict.fromkeys(str(f) for f, _, _, _ in parts))
                q.error = f"no --a3m alignment starts with this query (none of the first rows of {files})"
        return queries
    for q in queries:
        try:
            q.alignments = inputs.find_alignments(q.item, args.alignments)
            for p in q.alignments:
                inputs.check_alignment(p, q.item.sequence)
        except ValueError as e:
            q.error = str(e)
    return queries


def template_dir(q: Query, args: argparse.Namespace) -> Path:
    """Where the query's template search result lies: beside its alignments (DIR/<id>/, or the
    --a3m directory, or the directory of the first --a3m file)."""
    if args.a3m:
        return args.a3m[0] if args.a3m[0].is_dir() else args.a3m[0].parent
    return inputs.template_dir(q.item, args.alignments)


def read_queries(args: argparse.Namespace, failures: Failures) -> list[Query]:
    """The items to predict, each with its alignments; checked before the (slow) models load,
    so a typo fails at once."""
    if args.msa_mode == "single_sequence" and (args.alignments or args.a3m):
        raise ValueError("--msa-mode single_sequence reads no alignments: leave out --alignments and --a3m")
    if args.fasta is None:
        if not args.a3m:
            raise ValueError("give --fasta, or --a3m files whose first rows are the queries")
        return queries_from_a3m(_a3m_files(args.a3m), args.max_length, args.residues, failures)
    if args.msa_mode == "alignments" and not (args.alignments or args.a3m):
        raise ValueError("give --alignments DIR or --a3m FILE, or --msa-mode single_sequence to predict "
                         "from the sequence alone")
    queries = queries_from_fasta(args, failures)
    for q in queries:
        if q.error is not None:
            failures.add(f"{q.item.source} ({q.item.id})", q.error)
    return [q for q in queries if q.error is None]


def write_item(q: Query, predictions: list[Prediction], ranked: list[inference.Candidate], timings: dict,
               out_dir: Path, formats: tuple[str, ...]) -> Path:
    """Writes the item's directory through OUT/<name>.partial, renamed once complete (an
    earlier run's directory of the same name is replaced); returns the directory."""
    name = q.item.name
    final, partial = out_dir / name, out_dir / (name + PARTIAL)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        order = []
        for rank, (c, p) in enumerate(zip(ranked, predictions), 1):
            tail = f"rank_{rank:03d}_{c.name}"  # what every file of the structure ends with
            order.append(f"{name}_unrelaxed_{tail}")
            for fmt in formats:
                path = partial / f"{name}_unrelaxed_{tail}{_SUFFIX[fmt]}"
                p.to_pdb(path) if fmt == "pdb" else p.to_mmcif(path, name=name)
            write_atomic(partial / f"{name}_scores_{tail}.json", json.dumps({**p.scores(), "rank": rank}) + "\n")
            if p.pae is not None:
                write_atomic(partial / f"{name}_predicted_aligned_error_{tail}.json",
                             json.dumps(p.pae_json(), separators=(",", ":")) + "\n")
        ranking = {
            "id": q.item.id, "order": order,
            "plddts": {o: c.mean_plddt for o, c in zip(order, ranked)},
            "ptm": {o: c.ptm for o, c in zip(order, ranked)},
            "ranking_confidence": {o: c.ranking_confidence for o, c in zip(order, ranked)},
            "ranked_by": "mean pLDDT (AlphaFold2's ranking confidence of monomer models)",
        }
        write_atomic(partial / f"{name}_ranking.json", json.dumps(ranking, indent=1) + "\n")
        write_atomic(partial / f"{name}_timings.json", json.dumps(timings, indent=1) + "\n")
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def record_name(out_dir: Path, q: Query) -> None:
    """OUT/ids.json: each output directory's name with the id and record it comes from (kept
    over reruns into the same directory)."""
    names = {q.item.name: {"id": q.item.id, "source": q.item.source}}
    path = out_dir / "ids.json"
    try:
        names = {**json.loads(path.read_text()), **names}
    except (OSError, ValueError):
        pass
    write_atomic(path, json.dumps(names, indent=1, sort_keys=True) + "\n")


def predict_query(q: Query, models: dict[str, exafold.Model], settings: dict[str, inference.Settings],
                  seeds: list[int], budget: int | None, templates: ItemTemplates | None = None,
                  template_mode: str = "off") -> tuple[list[inference.Candidate], dict]:
    """Every model with every seed on one query (a template preset with the query's
    ``templates``, and with --templates both also without), ranked; and the timings. @raises
    ValueError / RuntimeError naming the reason; stopping.Stopped when a signal asked for a
    stop."""
    from exafold.features import build_raw_features

    t0 = time.perf_counter()
    raw = build_raw_features(q.item.sequence, [a if not isinstance(a, Path) else str(a) for a in q.alignments])
    timings = {"features": time.perf_counter() - t0}
    built: dict[tuple[int, inference.Settings], dict] = {}
    build_seconds: dict[tuple[int, inference.Settings], float] = {}

    def features(run_seed: int, s: inference.Settings):
        # Built once per seed and settings: models that share their settings share the features,
        # and a seed's go once the next seed starts (run_models goes seed by seed).
        for key in [k for k in built if k[0] != run_seed]:
            del built[key]
        if (run_seed, s) not in built:
            t = time.perf_counter()
            built[(run_seed, s)] = inference.build_features(raw, inference.structure_seed(q.item.id, run_seed), [s])[s]
            build_seconds[(run_seed, s)] = time.perf_counter() - t
        return built[(run_seed, s)]

    def runner(preset: str, model: exafold.Model):
        def predict(feats):
            chunk = shared.chunk_size_for(preset, feats, budget, model.device, model.precision)
            if chunk:
                fit = (f"the memory free on {model.device}" if model.device.startswith("cuda")
                       else f"--model-memory {budget / 2**30:.3g} GiB")
                tqdm.write(f"{q.item.id}: {preset} runs in chunks of {chunk} to fit {fit}")
            return model(feats, num_recycle=settings[preset].recycles, chunk_size=chunk,
                         on_iteration=lambda r: stopping.check())
        return predict

    ranked = inference.run_models(q.item.id, len(q.item.sequence),
                                  {p: runner(p, m) for p, m in models.items()}, settings, features, seeds,
                                  templates=templates, template_mode=template_mode)
    for c in sorted(ranked, key=lambda c: (c.run_seed, list(models).index(c.preset))):
        # The first model that needed a set of features is charged for building it.
        timings[f"process_features_{c.name}"] = build_seconds.pop((c.run_seed, c.settings), 0.0)
        timings[f"predict_{c.name}"] = c.seconds
    return ranked, timings


def run(args: argparse.Namespace) -> int:
    for path in [args.fasta, args.alignments, *(args.a3m or []), *(p for _, p in args.model),
                 args.template_mmcif_dir, args.obsolete_pdbs]:
        if path is not None and not path.exists():
            raise ValueError(f"{path} does not exist")
    shared.check_presets(args.model)
    presets = [m[0] for m in args.model]
    settings = shared.settings_of(presets, args)
    templates = open_templates(args.templates, args.template_mmcif_dir, presets,
                               max_template_date=args.max_template_date, obsolete=args.obsolete_pdbs)
    failures = Failures(args.keep_going)
    queries = read_queries(args, failures)
    seeds = [args.seed + k for k in range(args.num_seeds)]
    inference.check_seed(seeds[-1], "--seed + --num-seeds - 1")
    budget = shared.model_memory_bytes(args.model_memory)
    print(inference.settings_report(settings, seeds, args.msa_mode), flush=True)
    device = shared.resolve_device(args.device)
    precision = shared.resolve_precision(args.precision, device)
    models = {preset: exafold.Model.load(str(path), preset, device=device, precision=precision)
              for preset, path in args.model}
    shared.warn_labelled_weights("predict", {p: m.weights_label for p, m in models.items()})
    written = 0
    sweep_partials(args.out)
    if queries:
        tqdm.write(f"{'id':<20} {'length':>6} {'rank':>4} {'model':<14} {'seed':>4} {'pLDDT':>6} {'pTM':>6} "
                   f"{'seconds':>8}")
    # The bar shows on a terminal only; the table goes to stdout either way.
    with stopping.graceful(finishing="the item being written is finished first"):
        for q in tqdm(queries, desc="predict", unit="item", disable=None, leave=False):
            try:
                found = None if templates is None else templates.beside(q.item.sequence, template_dir(q, args))
                for note in () if found is None else found.notes:
                    tqdm.write(f"{q.item.id}: {note}")
                ranked, timings = predict_query(q, models, settings, seeds, budget, found, args.templates)
            except stopping.Stopped:
                break
            except inference.PredictionError as e:
                failures.add(f"{q.item.source} ({q.item.id})", str(e))
                continue
            except (ValueError, OSError) as e:  # the alignments or template hits, read by the feature pipeline
                failures.add(f"{q.item.source} ({q.item.id})", inference.failure_reason(e))
                continue
            predictions = [Prediction.from_candidate(c, q.item.id, q.item.sequence,
                                                     weights=models[c.preset].weights,
                                                     weights_label=models[c.preset].weights_label,
                                                     item_templates=found)
                           for c in ranked]
            write_item(q, predictions, ranked, timings, args.out, args.format)
            record_name(args.out, q)
            written += 1
            for rank, (c, p) in enumerate(zip(ranked, predictions), 1):
                ptm = math.nan if p.ptm is None else p.ptm
                used = f"  templates {' '.join(name for name, _ in p.templates)}" if p.templates else ""
                tqdm.write(f"{q.item.id:<20} {len(p):>6} {rank:>4} {c.model:<14} {p.run_seed:>4} "
                           f"{p.mean_plddt:>6.2f} {ptm:>6.3f} {p.seconds:>8.2f}{used}")
            if stopping.requested() is not None:
                break
        stopped = stopping.requested()
    if stopped:
        return 128 + stopped
    n = len(failures.reasons)
    print(f"exafold predict: {written} item(s) written to {args.out}"
          + (f", {n} failed (listed above)" if n else ""), file=sys.stderr if n else sys.stdout)
    return shared.failed_items_status(n)


def sweep_partials(out_dir: Path) -> None:
    """Removes the item directories a killed earlier run left half-written (OUT/<name>.partial);
    nothing else in OUT is touched."""
    if not out_dir.is_dir():
        return
    for p in out_dir.glob("*" + PARTIAL):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
