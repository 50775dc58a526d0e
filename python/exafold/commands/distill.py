"""``exafold distill``: predict structures for a set of sequences into a distillation dataset.

Rerunning the same command resumes: finished items (from the journal) are skipped, unfinished
ones redone. Under an MPI launcher (mpiexec, srun, flux run) every rank runs this command and
work is dispensed from rank 0 (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import exafold
from exafold import stopping
from exafold.commands.fit_time_model import load_time_model
from exafold.runner import inputs
from exafold.runner.job import RunConfig
from exafold.runner.job import run as run_job
from exafold.runner.outputs import Filter, OutputOptions
from exafold.templates import MODES as TEMPLATE_MODES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distill", help="predict structures for many sequences into HDF5 shards (resumable)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", type=Path, help="query sequences (FASTA)")
    src.add_argument("--manifest", type=Path, help="TSV/CSV with columns id, sequence[, alignments]")
    p.add_argument("--alignments", type=Path, metavar="DIR", help="alignment directory: DIR/<id>/*.a3m|*.sto")
    p.add_argument("--model", action="append", required=True, metavar="PRESET=PATH", type=_model_arg,
                   help="parameter set, e.g. model_1_ptm=params/params_model_1_ptm.npz; repeat for several "
                        "(the best by mean pLDDT is kept)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--seed", type=int, default=0, help="run seed; each structure's seed derives from it and its id")
    add_feature_arguments(p)
    add_template_arguments(p, both="; both: also without templates, the higher mean pLDDT kept and both recorded")
    p.add_argument("--max-length", type=_positive, default=2500, help="longer sequences fail (default 2500)")
    p.add_argument("--residues", choices=inputs.RESIDUE_POLICIES, default="strict",
                   help="strict: only the 20 standard residues; unknown: B J O U X Z become X")
    p.add_argument("--shard-size", type=_positive, default=1000, help="structures per HDF5 shard")
    p.add_argument("--pae", choices=["float16", "float32", "none"], default="float16", help="PAE storage in shards")
    p.add_argument("--filter-min-plddt", type=float, default=70.0, help="minimum mean pLDDT (default 70)")
    p.add_argument("--filter-min-ptm", type=float, help="minimum pTM (models with a PAE head)")
    p.add_argument("--filter-plddt-level", type=float, default=70.0,
                   help="pLDDT level for --filter-min-fraction (default 70)")
    p.add_argument("--filter-min-fraction", type=float, default=0.0,
                   help="minimum fraction of residues at or above --filter-plddt-level")
    p.add_argument("--scratch", type=Path, metavar="DIR",
                   help="node-local directory to stage alignments and write shards through")
    p.add_argument("--pdb", action="store_true", help="also write DIR/structures/<id>.pdb")
    p.add_argument("--mmcif", action="store_true", help="also write DIR/structures/<id>.cif")
    p.add_argument("--resume", action="store_true",
                   help="insist on resuming: fail if DIR holds no journal (a rerun resumes anyway)")
    p.add_argument("--retry-failed", action="store_true", help="predict again the items that failed before")
    p.add_argument("--prefetch-threads", type=_positive, default=2, help="feature preparation threads (default 2)")
    p.add_argument("--prefetch-depth", type=_positive, default=4, help="prepared items in flight at most (default 4)")
    p.add_argument("--memory-budget", type=float, default=8.0, metavar="GIB",
                   help="bytes of prepared features in flight, in GiB (default 8)")
    add_model_memory_argument(p)
    p.add_argument("--time-model", type=Path, metavar="FILE",
                   help="order work longest first by this fitted model's seconds (exafold fit-time-model) "
                        "instead of FLOPs")
    p.add_argument("--device-peak-tflops", type=float, help="the device's peak, for MFU in the summary")
    p.add_argument("--mpi", choices=["auto", "on", "off"], default="auto",
                   help="auto: use MPI when launched with more than one rank")
    p.add_argument("--progress", choices=["auto", "bar", "log"], default="auto",
                   help="auto: a bar on a terminal, log lines otherwise")
    p.set_defaults(func=run)


def add_feature_arguments(p: argparse.ArgumentParser) -> None:
    """The MSA sizes and recycling that distill and predict share."""
    p.add_argument("--max-msa-clusters", type=_positive,
                   help="MSA cluster centres per recycling iteration, the query included (default 512, "
                        "508 with a template preset, as AlphaFold2)")
    p.add_argument("--max-extra-msa", type=_positive, default=1024,
                   help="extra-MSA rows per recycling iteration (default 1024)")
    p.add_argument("--recycles", type=_non_negative, default=3,
                   help="recycling iterations after the first pass (default 3)")


def add_template_arguments(p: argparse.ArgumentParser, both: str = "") -> None:
    """The template options that distill and predict share."""
    p.add_argument("--templates", nargs="?", const="on", default="off", choices=TEMPLATE_MODES,
                   help="template presets use the template search result beside each item's alignments "
                        "(pdb70_hits.hhr, pdb_hits.hhr, pdb_hits.sto or hmm_output.sto)" + both)
    p.add_argument("--template-mmcif-dir", type=Path, metavar="DIR|STORE",
                   help="template structures: an mmCIF directory (<id>.cif or <id>.cif.gz) or a template "
                        "store (.h5, exafold.features.build_template_store)")
    p.add_argument("--max-template-date", metavar="YYYY-MM-DD",
                   help="templates released after this date are not used")
    p.add_argument("--obsolete-pdbs", type=Path, metavar="FILE",
                   help="the PDB's obsolete.dat: removed entries skipped, replaced ones read from the replacement")


def msa_clusters_for(presets: list[str], given: int | None) -> int:
    """--max-msa-clusters, or the presets' own count: 512, less the 4 template rows for the
    template presets (AlphaFold2's reduce_msa_clusters_by_max_templates). One feature set
    serves every preset of a run, so a run that mixes them samples the smaller count."""
    if given is not None:
        return given
    known = [exafold._core.preset_config(p)["sampled_msa_clusters"] for p in presets if p in exafold.presets()]
    return min(known, default=512)


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return v


def _non_negative(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return v


def add_model_memory_argument(p: argparse.ArgumentParser) -> None:
    """--model-memory, which distill and predict share."""
    p.add_argument("--model-memory", type=model_memory_arg, default="auto", metavar="GIB|auto|none",
                   help="activation memory one prediction may use: each prediction takes the largest chunk "
                        "size the memory model fits in it, and one that cannot fit even chunked fails with "
                        "the reason; auto (default): 80%% of the memory available at start, shared by the "
                        "ranks on this node; none: never chunk")


def model_memory_arg(text: str) -> float | str | None:
    if text in ("auto", "none"):
        return None if text == "none" else text
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected GiB > 0, auto or none, got {text!r}")
    return v


def _model_arg(text: str) -> tuple[str, Path]:
    preset, sep, path = text.partition("=")
    if not sep or not preset or not path:
        raise argparse.ArgumentTypeError(f"expected PRESET=PATH, got {text!r}")
    return preset, Path(path)


def _launcher_count(variables: tuple[str, ...]) -> int:
    """The first of these launcher variables that holds a count (1 when none does)."""
    for var in variables:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 1


def launched_ranks() -> int:
    """The rank count an MPI launcher announced in the environment (1 when none did)."""
    return _launcher_count(("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS", "FLUX_JOB_SIZE"))


def local_ranks() -> int:
    """Ranks an MPI launcher placed on this node (1 when none said)."""
    return _launcher_count(("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE",
                            "FLUX_TASK_LOCAL_COUNT"))


def available_memory_bytes() -> int:
    """MemAvailable from /proc/meminfo: what this node can give without swapping."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise OSError("/proc/meminfo has no MemAvailable line")


def model_memory_bytes(setting: float | str | None) -> int | None:
    """--model-memory in bytes; None: never chunk."""
    if setting is None:
        return None
    if setting == "auto":
        return int(0.8 * available_memory_bytes() / local_ranks())
    return int(setting * 2**30)


def chunk_size_for(preset: str, features, budget_bytes: int | None) -> int:
    """The chunk size of one prediction: the largest the memory model fits in the budget (0:
    unchunked fits, or no budget). @raises ValueError when not even chunk size 1 fits."""
    from exafold.memory_model import choose_chunk

    if budget_bytes is None:
        return 0
    aatype = features["aatype"]
    residues, iterations = aatype.shape[-1], aatype.shape[0] if aatype.ndim == 2 else 1
    clusters, extra = features["msa_feat"].shape[-3], features["extra_msa"].shape[-2]
    templates = features["template_mask"].shape[0] if "template_mask" in features else 0
    try:
        return choose_chunk(preset, residues, clusters, extra, budget_bytes, iterations=iterations,
                            templates=templates)
    except MemoryError as e:
        raise ValueError(f"{preset} cannot predict {residues} residues within --model-memory "
                         f"{budget_bytes / 2**30:.3g} GiB: {e}") from None


def build_config(args: argparse.Namespace) -> RunConfig:
    """The run's configuration from the command line, checking that the named files exist."""
    time_model = args.time_model
    for path in ([args.fasta, args.manifest, args.alignments, time_model, args.template_mmcif_dir, args.obsolete_pdbs]
                 + [p for _, p in args.model]):
        if path is not None and not path.exists():
            raise ValueError(f"{path} does not exist")
    if args.resume and not any(args.out.glob("journal-r*.jsonl")):
        raise ValueError(f"--resume: {args.out} holds no journal of a previous run")
    presets = [m[0] for m in args.model]
    if len(set(presets)) != len(presets):
        raise ValueError(f"each --model preset may be given once, got {', '.join(presets)}")
    config = RunConfig(
        out_dir=args.out,
        fasta=args.fasta,
        manifest=args.manifest,
        alignment_dir=args.alignments,
        # The parameters' identity in the configuration hash: name and size, not a 400 MB hash.
        models=tuple((preset, f"{path.name}:{path.stat().st_size}") for preset, path in args.model),
        seed=args.seed,
        max_msa_clusters=msa_clusters_for(presets, args.max_msa_clusters),
        max_extra_msa=args.max_extra_msa,
        recycles=args.recycles,
        max_length=args.max_length,
        residues=args.residues,
        outputs=OutputOptions(shard_size=args.shard_size, pae=args.pae, pdb=args.pdb, mmcif=args.mmcif,
                              filter=Filter(args.filter_min_plddt, args.filter_min_ptm, args.filter_plddt_level,
                                            args.filter_min_fraction)),
        scratch=args.scratch,
        prefetch_threads=args.prefetch_threads,
        prefetch_depth=args.prefetch_depth,
        memory_budget_bytes=int(args.memory_budget * 2**30),
        device_peak_flops=None if args.device_peak_tflops is None else args.device_peak_tflops * 1e12,
        retry_failed=args.retry_failed,
        time_model=None if time_model is None else load_time_model(time_model).to_json(),
        progress={"auto": None, "bar": True, "log": False}[args.progress],
        templates=args.templates,
        template_structures=args.template_mmcif_dir,
        max_template_date=args.max_template_date,
        obsolete_pdbs=args.obsolete_pdbs,
    )
    config.template_inputs()  # unusable template settings fail here, before the models load
    return config


def load_engine(config: RunConfig, args: argparse.Namespace, comm):
    """The feature pipeline's prepare() and one predict() per preset (contracts in
    exafold.runner.worker). Parameters are read on rank 0 only and broadcast to the others."""
    from exafold.features import build_raw_features
    from exafold.model import Model, model_features
    from exafold.runner.mpi import broadcast_params

    def prepare(request):
        raw = build_raw_features(request.sequence, list(request.alignments))
        return model_features(raw, request.seed, num_recycle=config.recycles,
                              max_clusters=config.max_msa_clusters, max_extra=config.max_extra_msa)

    rank0 = comm is None or comm.Get_rank() == 0
    budget = model_memory_bytes(args.model_memory)
    models = {}
    for preset, path in args.model:
        model = Model.from_arrays(broadcast_params(path if rank0 else None, preset, comm), preset)
        # A stop asked for by a signal ends the prediction at its next iteration (exafold.stopping).
        models[preset] = lambda features, m=model, p=preset: m(
            features, num_recycle=config.recycles, chunk_size=chunk_size_for(p, features, budget),
            on_iteration=lambda r: stopping.check())
    return prepare, models


def run(args: argparse.Namespace) -> int:
    config = build_config(args)
    comm = None
    if args.mpi == "on" or (args.mpi == "auto" and launched_ranks() > 1):
        from exafold.runner.mpi import world

        comm = world()
    prepare, models = load_engine(config, args, comm)
    result = run_job(config, prepare, models, comm=comm)
    if result.summary is not None:
        print((config.out_dir / "summary.txt").read_text(), end="")
    return 128 + result.stop_signal if result.stop_signal else 0
