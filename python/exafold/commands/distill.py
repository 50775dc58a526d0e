"""``exafold distill``: predict structures for a set of sequences into a distillation dataset.

Rerunning the same command resumes: finished items (from the journal) are skipped, unfinished
ones redone. Under an MPI launcher (mpiexec, srun, flux run) every rank runs this command and
work is dispensed from rank 0 (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from exafold import stopping
from exafold.commands import shared
from exafold.commands.shared import positive
from exafold.runner.config import RunConfig
from exafold.runner.job import run as run_job
from exafold.runner.outputs import Filter, OutputOptions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distill", help="predict structures for many sequences into HDF5 shards (resumable)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", type=Path, help="query sequences (FASTA)")
    src.add_argument("--manifest", type=Path, help="TSV/CSV with columns id, sequence[, alignments]")
    p.add_argument("--alignments", type=Path, metavar="DIR", help="alignment directory: DIR/<id>/*.a3m|*.sto")
    shared.add_model_argument(p, "the best by mean pLDDT is kept")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    shared.add_seed_argument(p)
    shared.add_feature_arguments(p)
    shared.add_template_arguments(p, both="; both: also without templates, the higher mean pLDDT kept and both recorded")
    shared.add_msa_mode_argument(p)
    p.add_argument("--max-length", type=positive, default=2500, help="longer sequences fail (default 2500)")
    shared.add_residues_argument(p)
    p.add_argument("--shard-size", type=positive, default=1000, help="structures per HDF5 shard")
    p.add_argument("--pae", choices=["float16", "float32", "none"], default="float16", help="PAE storage in shards")
    p.add_argument("--filter-min-plddt", type=float, default=70.0, help="minimum mean pLDDT (default 70)")
    p.add_argument("--filter-min-ptm", type=float, help="minimum pTM (models with a PAE head)")
    p.add_argument("--filter-plddt-level", type=float, default=70.0,
                   help="pLDDT level for --filter-min-fraction (default 70)")
    p.add_argument("--filter-min-fraction", type=float, default=0.0,
                   help="minimum fraction of residues at or above --filter-plddt-level")
    p.add_argument("--scratch", type=Path, metavar="DIR",
                   help="node-local directory to stage alignments and write shards through")
    p.add_argument("--pdb", action="store_true",
                   help="also write DIR/structures/<name>.pdb (<name>: the id made safe for file names)")
    p.add_argument("--mmcif", action="store_true", help="also write DIR/structures/<name>.cif")
    p.add_argument("--resume", action="store_true",
                   help="insist on resuming: fail if DIR holds no journal (a rerun resumes anyway)")
    p.add_argument("--retry-failed", action="store_true", help="predict again the items that failed before")
    p.add_argument("--prefetch-threads", type=positive, default=2, help="feature preparation threads (default 2)")
    p.add_argument("--prefetch-depth", type=positive, default=4, help="prepared items in flight at most (default 4)")
    p.add_argument("--memory-budget", type=float, default=8.0, metavar="GIB",
                   help="bytes of prepared features in flight, in GiB (default 8)")
    shared.add_model_memory_argument(p)
    shared.add_device_arguments(p)
    p.add_argument("--time-model", type=Path, metavar="FILE",
                   help="order work longest first by this fitted model's seconds (exafold fit-time-model) "
                        "instead of FLOPs")
    p.add_argument("--device-peak-tflops", type=float, help="the device's peak, for MFU in the summary")
    p.add_argument("--mpi", choices=["auto", "on", "off"], default="auto",
                   help="auto: use MPI when launched with more than one rank")
    p.add_argument("--progress", choices=["auto", "bar", "log"], default="auto",
                   help="auto: a bar on a terminal, log lines otherwise")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> RunConfig:
    """The run's configuration from the command line, checking that the named files exist."""
    time_model = args.time_model
    for path in ([args.fasta, args.manifest, args.alignments, time_model, args.template_mmcif_dir, args.obsolete_pdbs]
                 + [p for _, p in args.model]):
        if path is not None and not path.exists():
            raise ValueError(f"{path} does not exist")
    if args.resume and not any(args.out.glob("journal-r*.jsonl")):
        raise ValueError(f"--resume: {args.out} holds no journal of a previous run")
    if args.msa_mode == "single_sequence" and args.alignments is not None:
        raise ValueError("--msa-mode single_sequence reads no alignments: leave out --alignments")
    shared.check_presets(args.model)
    config = RunConfig(
        out_dir=args.out,
        fasta=args.fasta,
        manifest=args.manifest,
        alignment_dir=args.alignments,
        # The parameters' identity in the configuration hash: name and size, not a 400 MB hash.
        models=tuple((preset, f"{path.name}:{path.stat().st_size}") for preset, path in args.model),
        seed=args.seed,
        recycles=args.recycles,
        max_msa_clusters=args.max_msa_clusters,
        max_extra_msa=args.max_extra_msa,
        single_sequence=args.msa_mode == "single_sequence",
        max_length=args.max_length,
        residues=args.residues,
        outputs=OutputOptions(shard_size=args.shard_size, pae=args.pae, pdb=args.pdb, mmcif=args.mmcif,
                              filter=Filter(args.filter_min_plddt, args.filter_min_ptm, args.filter_plddt_level,
                                            args.filter_min_fraction)),
        scratch=args.scratch,
        device=(device := shared.resolve_device(args.device)),
        precision=shared.resolve_precision(args.precision, device),
        prefetch_threads=args.prefetch_threads,
        prefetch_depth=args.prefetch_depth,
        memory_budget_bytes=int(args.memory_budget * 2**30),
        device_peak_flops=None if args.device_peak_tflops is None else args.device_peak_tflops * 1e12,
        retry_failed=args.retry_failed,
        time_model=None if time_model is None else shared.read_time_model(time_model).to_json(),
        progress={"auto": None, "bar": True, "log": False}[args.progress],
        templates=args.templates,
        template_structures=args.template_mmcif_dir,
        max_template_date=args.max_template_date,
        obsolete_pdbs=args.obsolete_pdbs,
    )
    config.settings()  # an unknown preset fails here, before any work
    config.template_inputs()  # unusable template settings fail here, before the models load
    return config


def load_engine(config: RunConfig, args: argparse.Namespace, comm):
    """The feature pipeline's prepare() and one predict() per preset (contracts in
    exafold.runner.worker), and each preset's weights label. Parameters are read on rank 0 only
    and broadcast to the others."""
    from exafold import inference
    from exafold.features import build_raw_features
    from exafold.model import Model
    from exafold.runner.mpi import broadcast_params

    def prepare(request):
        raw = build_raw_features(request.sequence, list(request.alignments))
        return inference.build_features(raw, request.seed, request.settings)

    rank0 = comm is None or comm.Get_rank() == 0
    budget = shared.model_memory_bytes(args.model_memory)
    settings = config.settings()
    models, labels = {}, {}
    for preset, path in args.model:
        arrays, labels[preset] = broadcast_params(path if rank0 else None, preset, comm)
        model = Model.from_arrays(arrays, preset, device=config.device, weights_label=labels[preset],
                                  precision=config.precision)
        # A stop asked for by a signal ends the prediction at its next iteration (exafold.stopping).
        models[preset] = lambda features, m=model, p=preset: m(
            features, num_recycle=settings[p].recycles,
            chunk_size=shared.chunk_size_for(p, features, budget, config.device, config.precision),
            on_iteration=lambda r: stopping.check())
    return prepare, models, labels


def run(args: argparse.Namespace) -> int:
    config = build_config(args)
    comm = None
    if args.mpi == "on" or (args.mpi == "auto" and shared.launched_ranks() > 1):
        from exafold.runner.mpi import world

        comm = world()
    threads = shared.threads_per_rank(shared.local_ranks() if comm is not None else 1)
    if threads is not None:
        import exafold

        exafold._core.set_num_threads(threads)
    rank0 = comm is None or comm.Get_rank() == 0
    if rank0:
        from exafold.inference import settings_report

        print(settings_report(config.settings(), [config.seed], args.msa_mode)
              + ("" if threads is None else f"\n  {threads} engine threads per rank"), flush=True)
    prepare, models, labels = load_engine(config, args, comm)
    if rank0:
        shared.warn_labelled_weights("distill", labels)
    config = replace(config, weights_labels=tuple(labels.items()))
    result = run_job(config, prepare, models, comm=comm)
    if result.summary is not None:
        print((config.out_dir / "summary.txt").read_text(), end="")
    if result.stop_signal:
        return 128 + result.stop_signal
    failed = result.summary["counts"]["failed"] if result.summary is not None else 0
    if failed and rank0:
        print(f"exafold distill: {failed} item(s) failed (index.json lists each with its reason)", file=sys.stderr)
    return shared.failed_items_status(failed)
