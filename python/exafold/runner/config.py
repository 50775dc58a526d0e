"""A distillation run's configuration, and the hash of what decides its structures (which guards
resume: a rerun with other settings is refused instead of mixing two datasets)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import exafold
from exafold.inference import Settings
from exafold.templates import TemplateInputs, open_templates

from .outputs import OutputOptions


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs besides the injected callables. `models` pairs each preset with an
    identity of its parameters (file name and size) for the configuration hash. `recycles`,
    `max_msa_clusters` and `max_extra_msa` replace the presets' own settings when given
    (exafold.inference: each preset's are AlphaFold2's)."""

    out_dir: Path
    models: tuple[tuple[str, str], ...]
    fasta: Path | None = None
    manifest: Path | None = None
    alignment_dir: Path | None = None
    seed: int = 0
    recycles: int | None = None
    max_msa_clusters: int | None = None
    max_extra_msa: int | None = None
    single_sequence: bool = False  # no alignments: features from the query alone
    max_length: int = 2500
    residues: str = "strict"
    outputs: OutputOptions = field(default_factory=OutputOptions)
    scratch: Path | None = None
    # Where the models run (cpu, cuda:N): the prefetch threads stage each item's features for
    # it (exafold.model.stage_features). Left out of the hash, as float32 on another device
    # changes only the rounding.
    device: str = "cpu"
    # What they compute in (float32, or bfloat16 on a GPU): in the hash when not float32, so
    # that a run resumed in another precision is refused instead of mixing the two.
    precision: str = "float32"
    prefetch_threads: int = 2
    prefetch_depth: int = 4  # prepared items in flight at most
    memory_budget_bytes: int = 8 << 30
    device_peak_flops: float | None = None
    retry_failed: bool = False
    progress: bool | None = None  # None: a bar on a terminal, log lines otherwise
    progress_interval: float = 30.0
    plots: bool = True  # histograms.png in the summary (matplotlib)
    chunk_divisor: float = 2.0
    min_chunk: int = 1
    # A fitted exafold.DeviceTimeModel as JSON: order and split work by its predicted seconds
    # instead of FLOPs. Left out of the hash: it changes only the order, not the structures.
    time_model: str | None = None
    # Each preset's weights label (io/weights.h; demo weights say so), repeated in the outputs.
    weights_labels: tuple[tuple[str, str], ...] = ()
    # Templates: "off"; "on" (template presets predict with the hits beside the alignments);
    # "both" (and also without, the higher mean pLDDT kept). The structures: an mmCIF directory
    # or a template store.
    templates: str = "off"
    template_structures: Path | None = None
    max_template_date: str | None = None
    obsolete_pdbs: Path | None = None

    def settings(self) -> dict[str, Settings]:
        """Each preset's settings: its own (with templates on, 508 cluster centres for the
        template presets), with the run's given values."""
        return {preset: Settings.for_preset(preset, recycles=self.recycles, max_msa_clusters=self.max_msa_clusters,
                                            max_extra_msa=self.max_extra_msa, templates=self.templates != "off")
                for preset, _ in self.models}

    def template_inputs(self) -> TemplateInputs | None:
        """The run's template settings with its structures opened, or None with templates off.
        @raises ValueError for settings that cannot be used."""
        return open_templates(self.templates, self.template_structures, [preset for preset, _ in self.models],
                              max_template_date=self.max_template_date, obsolete=self.obsolete_pdbs)

    def canonical(self) -> dict:
        """The settings that change what a structure or its verdict is; their hash guards
        resume. Paths, staging, threads and shard size are left out: they change only how."""
        settings = self.settings()
        return {
            "models": [[preset, identity, settings[preset].as_dict()] for preset, identity in self.models],
            "seed": self.seed,
            "single_sequence": self.single_sequence,
            "max_length": self.max_length,
            "residues": self.residues,
            "pae": self.outputs.pae,
            "filter": asdict(self.outputs.filter),
            **({} if self.precision == "float32" else {"precision": self.precision}),
            # Only with templates on, so that the hash of a run without them stays as it was.
            **({} if self.templates == "off" else {"templates": {
                "mode": self.templates,
                "structures": None if self.template_structures is None else Path(self.template_structures).name,
                "max_template_date": self.max_template_date,
                "obsolete": None if self.obsolete_pdbs is None else Path(self.obsolete_pdbs).name}}),
        }

    def config_hash(self) -> str:
        return exafold.config_hash(json.dumps(self.canonical(), sort_keys=True))

    def weights_label(self) -> str:
        """One text for the labelled weights of the run ("" when none is labelled)."""
        return "; ".join(f"{preset}: {label}" for preset, label in self.weights_labels if label)
