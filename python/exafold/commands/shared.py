"""What ``exafold predict`` and ``exafold distill`` share: the argument types, the prediction
settings (each defaulting to the preset's), the residue rule, the memory budget of one
prediction, and the exit status a run with failed items returns."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import exafold
from exafold import inference

# The exit status of a run in which `n` items failed and the others finished: 100 + n, at most
# 125 (25 or more failed). Below 100 are the command's own errors (2); 126 and up are the
# shell's and the signals' (128 + n).
FAILED_ITEMS_BASE = 100
FAILED_ITEMS_MAX = 125


def failed_items_status(failed: int) -> int:
    """The exit status of a run in which `failed` items failed (0 when none did)."""
    return 0 if failed <= 0 else min(FAILED_ITEMS_BASE + failed, FAILED_ITEMS_MAX)


def positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return v


def non_negative(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return v


def seed_arg(text: str) -> int:
    try:
        return inference.check_seed(int(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def model_arg(text: str) -> tuple[str, Path]:
    preset, sep, path = text.partition("=")
    if not sep or not preset or not path:
        raise argparse.ArgumentTypeError(f"expected PRESET=PATH, got {text!r}")
    return preset, Path(path)


def add_model_argument(p: argparse.ArgumentParser, kept: str) -> None:
    p.add_argument("--model", action="append", required=True, metavar="PRESET=PATH", type=model_arg,
                   help=f"parameter set, e.g. model_1_ptm=params/params_model_1_ptm.npz; repeat for several ({kept})")


def add_seed_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=seed_arg, default=0,
                   help="run seed; each structure's seed derives from it and its id (default 0)")


def add_feature_arguments(p: argparse.ArgumentParser) -> None:
    """The MSA sizes and recycling, each defaulting to the preset's (AlphaFold2's model config)."""
    p.add_argument("--max-msa-clusters", type=positive, metavar="N",
                   help="MSA cluster centres per recycling iteration, the query included "
                        "(default: the preset's; 512 for the model_* presets, 508 for model_1 and model_2 "
                        "with --templates, as AlphaFold2)")
    p.add_argument("--max-extra-msa", type=positive, metavar="N",
                   help="extra-MSA rows per recycling iteration (default: the preset's; 5120 for models 1, 3, 4, "
                        "1024 for models 2, 5)")
    p.add_argument("--recycles", type=non_negative, metavar="N",
                   help="recycling iterations after the first pass (default: the preset's; 3 for the model_* presets)")


def add_template_arguments(p: argparse.ArgumentParser, both: str = "") -> None:
    """The template options (exafold.templates); a template preset with templates on samples
    508 cluster centres by default, as AlphaFold2 (exafold._core.run_settings)."""
    from exafold.templates import MODES

    p.add_argument("--templates", nargs="?", const="on", default="off", choices=MODES,
                   help="template presets use the template search result beside each item's alignments "
                        "(pdb70_hits.hhr, pdb_hits.hhr, pdb_hits.sto or hmm_output.sto)" + both)
    p.add_argument("--template-mmcif-dir", type=Path, metavar="DIR|STORE",
                   help="template structures: an mmCIF directory (<id>.cif or <id>.cif.gz) or a template "
                        "store (.h5, exafold.features.build_template_store)")
    p.add_argument("--max-template-date", metavar="YYYY-MM-DD",
                   help="templates released after this date are not used")
    p.add_argument("--obsolete-pdbs", type=Path, metavar="FILE",
                   help="the PDB's obsolete.dat: removed entries skipped, replaced ones read from the replacement")


def add_residues_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--residues", choices=("strict", "unknown"), default="strict",
                   help="strict: only the 20 standard residues; unknown: B J O U X Z become X (default strict)")


def add_msa_mode_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--msa-mode", choices=("alignments", "single_sequence"), default="alignments",
                   help="alignments: from --alignments (or --a3m); single_sequence: the query alone, no "
                        "alignment needed (ColabFold's name; default alignments)")


def settings_of(presets: list[str], args: argparse.Namespace) -> dict[str, inference.Settings]:
    """Each preset's settings with the command line's values (with --templates, 508 cluster
    centres for the template presets). @raises ValueError naming an unknown preset."""
    return {preset: inference.Settings.for_preset(preset, recycles=args.recycles,
                                                  max_msa_clusters=args.max_msa_clusters,
                                                  max_extra_msa=args.max_extra_msa,
                                                  templates=getattr(args, "templates", "off") != "off")
            for preset in presets}


def check_presets(models: list[tuple[str, Path]]) -> None:
    presets = [m[0] for m in models]
    if len(set(presets)) != len(presets):
        raise ValueError(f"each --model preset may be given once, got {', '.join(presets)}")


def warn_labelled_weights(command: str, labels: dict[str, str]) -> None:
    """A warning on standard error for each labelled parameter set (demo weights say so)."""
    for preset, label in labels.items():
        if label:
            print(f"exafold {command}: warning: {preset}: {label}", file=sys.stderr, flush=True)


def add_model_memory_argument(p: argparse.ArgumentParser) -> None:
    """--model-memory, which distill and predict share."""
    p.add_argument("--model-memory", type=model_memory_arg, default="auto", metavar="GIB|auto|none",
                   help="activation memory one prediction may use: each prediction takes the largest chunk "
                        "size the memory model fits in it, and one that cannot fit even chunked fails with "
                        "the reason; auto (default): 80%% of the memory available at start, shared by the "
                        "ranks on this node; none: never chunk. On a GPU the chunk fits the memory free on "
                        "the device instead (none still never chunks)")


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


def _launcher_count(variables: tuple[str, ...], default: int = 1) -> int:
    """The first of these launcher variables that holds a number (`default` when none does)."""
    for var in variables:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return default


def launched_ranks() -> int:
    """The rank count an MPI launcher announced in the environment (1 when none did)."""
    return _launcher_count(("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS", "FLUX_JOB_SIZE"))


def local_ranks() -> int:
    """Ranks an MPI launcher placed on this node (1 when none said)."""
    return _launcher_count(("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE",
                            "FLUX_TASK_LOCAL_COUNT"))


def local_rank() -> int:
    """This process's rank among the ranks an MPI launcher placed on its node (0 when none said)."""
    return _launcher_count(("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "PMI_LOCAL_RANK",
                            "FLUX_TASK_LOCAL_ID"), default=0)


def threads_per_rank(local: int) -> int | None:
    """The engine threads each of `local` ranks on a node takes: the node's cores divided among
    them, unless EXAFOLD_NUM_THREADS says otherwise or the launcher already bound each rank to
    fewer cores than the node has (None: leave the engine's own choice)."""
    if local <= 1 or os.environ.get("EXAFOLD_NUM_THREADS"):
        return None
    mine = len(os.sched_getaffinity(0))
    if mine < (os.cpu_count() or mine):
        return None
    return max(1, mine // local)


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


def chunk_size_for(preset: str, features, budget_bytes: int | None, device: str = "cpu",
                   precision: str = "float32") -> int:
    """The chunk size of one prediction: the largest the memory model fits in the budget (0:
    unchunked fits, or no budget). On a GPU (``cuda:N``) the budget is the memory free on the
    device instead (exafold.memory_model.choose_gpu_chunk); None still never chunks.
    @raises ValueError when not even chunk size 1 fits."""
    from exafold.memory_model import choose_chunk, choose_gpu_chunk

    if budget_bytes is None:
        return 0
    aatype = features["aatype"]
    residues, iterations = aatype.shape[-1], aatype.shape[0] if aatype.ndim == 2 else 1
    clusters, extra = features["msa_feat"].shape[-3], features["extra_msa"].shape[-2]
    templates = features["template_mask"].shape[0] if "template_mask" in features else 0
    try:
        if device.startswith("cuda"):
            return choose_gpu_chunk(preset, residues, clusters, extra, device, precision, iterations=iterations,
                                    templates=templates)
        return choose_chunk(preset, residues, clusters, extra, budget_bytes, iterations=iterations,
                            templates=templates)
    except MemoryError as e:
        where = f"the memory free on {device}" if device.startswith("cuda") else \
            f"--model-memory {budget_bytes / 2**30:.3g} GiB"
        raise ValueError(f"{preset} cannot predict {residues} residues within {where}: {e}") from None


def add_device_arguments(p: argparse.ArgumentParser) -> None:
    """--device and --precision, which distill and predict share."""
    p.add_argument("--device", type=device_arg, default="auto", metavar="cpu|cuda[:N]|auto",
                   help="where the models run: cpu, cuda (this rank's GPU) or cuda:N; auto (default): this "
                        "rank's GPU when there is one, else cpu. A rank takes GPU (local rank mod GPUs)")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="what the models compute in: bfloat16 runs the trunk in bfloat16 with float32 "
                        "statistics, softmax and accumulation, and the structure module and heads in float32 "
                        "(GPU only); auto (default): bfloat16 on a GPU, as AlphaFold2 runs there, float32 on "
                        "the cpu")


def resolve_precision(setting: str, device: str) -> str:
    """--precision for the resolved device. @raises ValueError for bfloat16 on the cpu."""
    if setting == "auto":
        return "bfloat16" if device.startswith("cuda") else "float32"
    if setting == "bfloat16" and not device.startswith("cuda"):
        raise ValueError(f"--precision bfloat16 needs a GPU; {device} computes in float32")
    return setting


def device_arg(text: str) -> str:
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda, cuda:N or auto, got {text!r}")


def resolve_device(setting: str) -> str:
    """--device as the engine names it: auto and cuda pick this rank's GPU, local rank mod the
    GPUs present, so the ranks on a node spread over its GPUs (auto falls back to cpu only when
    there is no GPU). @raises ValueError for a GPU that is not there."""
    gpus = exafold.gpu_count()
    if setting == "cpu" or (setting == "auto" and gpus == 0):
        return "cpu"
    if setting in ("auto", "cuda"):
        if gpus == 0:
            raise ValueError("--device cuda: no GPU is usable here (a build without CUDA, or no device)")
        return f"cuda:{local_rank() % gpus}"
    if int(setting[5:]) >= gpus:
        raise ValueError(f"--device {setting}: {gpus} GPU(s) are usable here")
    return setting


def read_time_model(path: Path):
    """A device time model file (exafold fit-time-model writes them), read by the engine's one
    parser (exafold.DeviceTimeModel.from_json). @raises ValueError naming the file."""
    import exafold

    try:
        text = Path(path).read_text()
    except OSError as e:
        raise OSError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return exafold.DeviceTimeModel.from_json(text)
    except ValueError as e:
        raise ValueError(f"{path}: not a time model from exafold fit-time-model ({e})") from None
