"""AlphaFold2 on exafold's C++ engine: official parameter files in, structures and confidence out."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Callable, Mapping, Sequence, Union

import numpy as np

from exafold import _core

if TYPE_CHECKING:
    from exafold.features import FastaRecord, Msa
    from exafold.inference import Settings
    from exafold.prediction import Prediction
    from exafold.templates import TemplateInputs

# Names the model reads; a leading axis of size R on them means "one set per recycling iteration".
FEATURE_NAMES = (
    "aatype",
    "residue_index",
    "seq_mask",
    "target_feat",
    "msa_feat",
    "msa_mask",
    "extra_msa",
    "extra_msa_mask",
    "extra_has_deletion",
    "extra_deletion_value",
    "residx_atom37_to_atom14",
    "atom37_atom_exists",
    "atom14_atom_exists",
)


# The template features (optional) and their rank without an iteration axis: T templates of N
# residues. template_angle_feat and template_angle_mask are the torsion-angle features of the
# template rows (exafold.features builds them with the other processed template features).
TEMPLATE_FEATURE_RANKS = {
    "template_aatype": 2,
    "template_all_atom_positions": 4,
    "template_all_atom_masks": 3,
    "template_mask": 1,
    "template_angle_feat": 3,
    "template_angle_mask": 2,
}


def _templates(features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The template features to hand over: none when template_mask marks no template (absent, or
    all padding: a fully masked set changes no real output), else all of them, each once.
    Templates are the same in every recycling iteration; a leading iteration axis must repeat
    them."""
    given = [k for k in TEMPLATE_FEATURE_RANKS if k in features]
    if not given:
        return {}
    if "template_mask" not in features:
        raise ValueError(f"template features ({', '.join(given)}) without template_mask")
    if not np.asarray(features["template_mask"]).any():
        return {}
    missing = [k for k in TEMPLATE_FEATURE_RANKS if k not in features]
    if missing:
        raise ValueError(f"template features are missing {', '.join(missing)}")
    out = {}
    for name, rank in TEMPLATE_FEATURE_RANKS.items():
        a = np.asarray(features[name])
        if a.ndim == rank + 1:
            if not (a == a[:1]).all():
                raise ValueError(f"{name} differs between recycling iterations; templates are the "
                                 "same in every iteration")
            a = a[0]
        out[name] = np.ascontiguousarray(a)
    return out


def _contiguous(features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    missing = [k for k in FEATURE_NAMES if k not in features]
    if missing:
        raise ValueError(f"features are missing {', '.join(missing)}")
    return {**{k: np.ascontiguousarray(features[k]) for k in FEATURE_NAMES}, **_templates(features)}


class Model:
    """An AlphaFold2 parameter set loaded for inference on a device (``cpu`` by default).

    ``Model.load(path, preset)`` reads an official ``params_model_*.npz`` file (validated name by
    name and shape by shape against the preset) in float32, or float64 for exact checks, and
    places it on ``device`` (``cpu``; ``strict``, the test backend whose memory only its own ops
    may touch; ``cuda:N``) once, with the projections the model fuses. Calling
    the model on processed features returns a dict of numpy arrays: ``final_atom_positions``
    [N, 37, 3] (Angstrom), ``final_atom_mask``, ``plddt`` [N], ``mean_plddt``, the logits of every
    head, the representations, and for ``_ptm`` presets ``predicted_aligned_error`` and ``ptm``.
    The C++ engine releases the GIL while it works. ``weights_label`` is the label the parameter
    file carries ("" for official files; demo weights say what they are), and every output made
    with the model repeats it.
    """

    def __init__(self, core: _core.Model, preset: str, device: str = "cpu",
                 overrides: Mapping[str, int] | None = None, weights_label: str = "", weights: str = "",
                 precision: str | None = None):
        self._core = core
        self.preset = preset
        self.device = device
        # The compute dtype: None computes in the parameters' own; "bfloat16" (cuda) runs the
        # trunk in bfloat16 with float32 statistics, softmax and accumulation, and the structure
        # module and heads in float32, as AlphaFold2 does on accelerators.
        self.precision = precision
        self.overrides = dict(overrides or {})
        self.weights_label = weights_label
        self.weights = weights  # the parameter file's name, for the outputs
        # Placed now, so that a prediction's memory is its activations alone.
        core.prepare(device, precision)

    @classmethod
    def load(
        cls,
        path: str,
        preset: str,
        dtype: str = "float32",
        overrides: Mapping[str, int] | None = None,
        device: str = "cpu",
        precision: str | None = None,
    ) -> "Model":
        """Loads ``path`` for ``preset`` (``model_1`` ... ``model_5_ptm``, or ``reduced[_ptm]``).

        The file is read as ``read_weights`` reads it: every array's CRC-32 and size verified,
        every name and shape checked against the preset. ``dtype`` is "float32" or "float64" (or
        the numpy type). ``overrides`` replaces named sizes of the preset (for example
        ``evoformer_blocks``) for parameter files of non-standard depth or width; the file is
        validated against the result. ``device`` is where predictions run, ``precision`` what
        they compute in (None: ``dtype``; "bfloat16" on cuda: the trunk in bfloat16).
        """
        path = os.fspath(path)
        dtype = _dtype_name(dtype)
        items = sorted((overrides or {}).items())
        return cls(_core.Model.load(path, preset, dtype, items), preset, device, overrides,
                   _core.weights_label(path), os.path.basename(path), precision)

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        preset: str,
        dtype: str = "float32",
        overrides: Mapping[str, int] | None = None,
        device: str = "cpu",
        weights_label: str = "",
        weights: str = "",
        precision: str | None = None,
    ) -> "Model":
        """A model from parameter arrays already in memory (for example broadcast from MPI rank
        0), validated exactly as a file would be; ``weights_label`` is the file's label
        (``exafold._core.weights_label(path)``). The arrays are used in place when they already
        have ``dtype`` and are contiguous. ``device`` and ``precision`` as for ``load``."""
        dtype = _dtype_name(dtype)
        arrs = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in arrays.items()}
        items = sorted((overrides or {}).items())
        return cls(_core.Model.from_arrays(arrs, preset, dtype, items), preset, device, overrides, weights_label,
                   weights, precision)

    @property
    def config(self) -> dict:
        """The preset's dimensions and defaults."""
        return self._core.config

    @property
    def dtype(self) -> str:
        """Precision the parameters were loaded in (float32 or float64)."""
        return self._core.dtype

    @property
    def num_parameters(self) -> int:
        """Number of parameter values (93,237,338 for model_1_ptm)."""
        return self._core.num_parameters

    def settings(self, recycles: int | None = None, max_msa_clusters: int | None = None,
                 max_extra_msa: int | None = None, *, templates: bool = False) -> "Settings":
        """What a prediction with this model runs with: the preset's recycles and MSA depths
        (exafold.inference.Settings; with ``templates`` a template preset samples 508 cluster
        centres), each given value replacing its default."""
        from exafold.inference import Settings

        return Settings.for_preset(self.preset, recycles=recycles, max_msa_clusters=max_msa_clusters,
                                   max_extra_msa=max_extra_msa, overrides=self.overrides, templates=templates)

    def __call__(
        self,
        features: Mapping[str, np.ndarray],
        num_recycle: int | None = None,
        chunk_size: int = 0,
        on_iteration: Callable[[int], None] | None = None,
        length_buckets: bool | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs ``num_recycle + 1`` iterations (the preset's default when None).

        Features may carry a leading iteration axis (AlphaFold2 resamples the MSA per
        iteration); iteration r uses set r, the last set when there are fewer. Templates are
        optional: ``template_aatype`` [T, N], ``template_all_atom_positions`` [T, N, 37, 3],
        ``template_all_atom_masks`` [T, N, 37], ``template_mask`` [T], ``template_angle_feat``
        [T, N, 57] and ``template_angle_mask`` [T, N] (the torsion-angle features of the
        template rows), the same in every iteration (a leading iteration axis must repeat
        them). The template presets (model_1, model_2 and their _ptm) use them; the others
        ignore them, as AlphaFold2's do. Without templates, or when ``template_mask`` marks
        none, the prediction is zero-template inference.
        ``chunk_size`` > 0 bounds the memory of attention and triangle operations; a run that
        runs out of memory is run again with the chunk halved, down to 1, and one that does not
        fit even then raises MemoryError with the sizes, the chunks tried and what was free.
        ``on_iteration(r)`` is called as iteration r finishes; Ctrl-C stops the run there.
        ``length_buckets`` pads the features to the length's bucket and crops every output back
        (the engine's rule: C++ model/length_buckets.h); None: on for cuda devices, where one
        bucket shares compiled work and cached memory, off on the cpu, where padding only costs
        time. The outputs agree with the unpadded run's to rounding.
        Runs on the model's device; the outputs come back to the host.
        """
        return self._core.run(_contiguous(features), num_recycle, chunk_size, on_iteration,
                              self.device, length_buckets, self.precision)

    def stage(self, features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The features placed ahead of a call where this model's device reads them at full
        speed (stage_features)."""
        return stage_features(features, self.device)

    def predict(
        self,
        sequence: "str | FastaRecord",
        msa: "Sequence[Alignment] | Alignment" = (),
        *,
        id: str | None = None,
        seed: int = 0,
        recycles: int | None = None,
        max_msa_clusters: int | None = None,
        max_extra_msa: int | None = None,
        residues: str = "strict",
        chunk_size: int = 0,
        length_buckets: bool | None = None,
        progress: bool | None = None,
        templates: "TemplateInputs | None" = None,
        template_hits: str | os.PathLike | None = None,
    ) -> "Prediction":
        """Predicts the structure of one sequence from its alignments.

        ``msa``: a directory of alignment files (``*.a3m``, ``*.sto``, merged in AlphaFold2's
        order: UniRef90, BFD/UniClust, MGnify, as ``exafold distill --alignments`` does), or a
        list of alignment files (each starts with the query) in the order to merge them,
        ``(path, max_rows)`` pairs, or ``Msa`` objects; empty runs single-sequence.
        The sequence follows the residue rules of ``exafold predict`` and ``exafold distill``
        (``exafold.inference.normalize_sequence``): upper-cased, and ``residues="unknown"``
        accepts B J O U X Z as X. ``recycles``, ``max_msa_clusters`` and ``max_extra_msa``
        default to the preset's values (``model.settings()``; with templates the template
        presets sample 4 clusters fewer, 508, as AlphaFold2 does). The features' random draws
        come from ``structure_seed(id, seed)``, and the prediction takes the path the commands
        take (exafold.inference), so the same id, seed and settings give the same structure
        everywhere. ``progress`` shows a bar (features, then each iteration) after a line with
        the settings; None shows them only on a terminal. ``length_buckets``: as for calling
        the model.
        ``templates`` (``exafold.templates.TemplateInputs``: the template structures, date limit
        and obsolete entries) gives a template preset its templates, from the hits file
        ``template_hits`` or, when None, the search result beside the alignments in the ``msa``
        directory. The prediction records the templates used (``Prediction.templates``) and
        the hits left out with their reasons (``Prediction.template_notes``); an item with no
        usable template is predicted without, and its notes say so.
        """
        import sys

        from tqdm import tqdm

        from exafold import inference
        from exafold.features import FastaRecord, build_raw_features
        from exafold.prediction import Prediction

        if isinstance(sequence, FastaRecord):
            id = id or sequence.id or "query"
            sequence = sequence.sequence
        id = id or "query"
        sequence = inference.normalize_sequence(sequence, residues)
        structure = inference.structure_seed(id, inference.check_seed(seed))
        found = None
        if templates is not None and self.config["templates"]:
            if template_hits is not None:
                found = templates.for_item(sequence, template_hits)
            elif isinstance(msa, (str, os.PathLike)) and os.path.isdir(msa):
                found = templates.beside(sequence, msa)
            else:
                raise ValueError("templates need template_hits, or msa as the directory that holds them")
        settings = self.settings(recycles, max_msa_clusters, max_extra_msa, templates=found is not None)
        alignments = _alignments(msa)
        show = sys.stderr.isatty() if progress is None else progress
        if show:
            print(f"{id}: {self.preset}, {settings.describe()}, seed {seed}", file=sys.stderr)
        bar = tqdm(total=settings.recycles + 2, desc=id, unit="step", disable=not show)
        with bar:
            bar.set_postfix_str("features")
            t0 = time.perf_counter()
            raw = build_raw_features(sequence, alignments)
            feats = inference.build_features(raw, structure, [settings])[settings]
            bar.update()
            bar.set_postfix_str(f"iteration 1/{settings.recycles + 1}")

            def advance(r: int) -> None:
                bar.update()
                if r + 1 <= settings.recycles:
                    bar.set_postfix_str(f"iteration {r + 2}/{settings.recycles + 1}")

            t1 = time.perf_counter()
            best = inference.run_models(
                id, len(sequence), {self.preset: lambda f: self(f, num_recycle=settings.recycles,
                                                                chunk_size=chunk_size, on_iteration=advance,
                                                                length_buckets=length_buckets)},
                {self.preset: settings}, lambda run_seed, s: feats, [seed], keep_outputs=True,
                templates=found, template_mode="off" if found is None else "on")[0]
        return Prediction.from_candidate(best, id, sequence, weights=self.weights, weights_label=self.weights_label,
                                         feature_seconds=t1 - t0, item_templates=found)

    def run_iteration(
        self,
        features: Mapping[str, np.ndarray],
        prev: Mapping[str, np.ndarray] | None = None,
        chunk_size: int = 0,
    ) -> dict[str, np.ndarray]:
        """One iteration with the given recycled inputs (``prev_msa_first_row``, ``prev_pair``,
        ``prev_pos``; zeros when None). The result's ``prev_*`` entries feed the next one.
        Features (templates included) as for calling the model."""
        p = None if prev is None else {k: np.ascontiguousarray(v) for k, v in prev.items()}
        return self._core.run_iteration(_contiguous(features), p, chunk_size, self.device, self.precision)


Alignment = Union[str, os.PathLike, "tuple[str, int]", "Msa"]


def _alignments(msa: "Sequence[Alignment] | Alignment") -> list:
    """predict()'s ``msa`` as the list build_raw_features takes."""
    if isinstance(msa, (str, os.PathLike)) and os.path.isdir(msa):
        from exafold.features import alignment_files

        found = alignment_files(msa)
        if not found:
            raise ValueError(f"no alignment files (*.a3m, *.sto) in {msa}")
        return found
    return [msa] if isinstance(msa, (str, os.PathLike, _core.features.Msa)) else list(msa)


def _dtype_name(dtype: object) -> str:
    """float32 or float64 from a name or a numpy type. @raises ValueError naming the argument."""
    try:
        name = None if dtype is None else np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64 (a name or the numpy type), got {dtype!r}")
    return name


def stage_features(features: Mapping[str, np.ndarray], device: str) -> dict[str, np.ndarray]:
    """``features`` placed ahead of a prediction where ``device`` reads them at full speed (the
    engine's rule, Note [Staging] in C++ tensor/tensor.h): on a GPU, copies in managed memory
    already moved to it (pinned host memory on a GPU without concurrent managed access); on the
    cpu, the same arrays. The result is still a dict of numpy arrays, called like any features:
    the per-iteration names the model reads are staged, the rest (templates, which the host
    still reads) stay as given. Reading staged values on the host moves their pages back, so
    read only their shapes. ``exafold distill``'s prefetch threads stage each item, so that its
    upload overlaps the prediction before. @raises MemoryError when the device has no room."""
    names = [k for k in FEATURE_NAMES if k in features]
    staged = _core.stage_features({k: np.ascontiguousarray(features[k]) for k in names}, device)
    return {**features, **staged}


def read_weights(
    path: str | os.PathLike,
    preset: str | None = None,
    dtype: str = "float32",
    overrides: Mapping[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """The arrays of a parameter file by name, read by the engine's one weights reader (the one
    ``Model.load`` uses): the archive's structure and every array's size and CRC-32 verified, and
    with ``preset``, every name and shape checked against it. Corrupt, truncated or mislabelled
    files raise ``ValueError`` naming the file, the array and what is wrong; a layout that is
    another preset's names that preset. ``Model.from_arrays`` takes the result, as every MPI rank
    of ``exafold distill`` does after rank 0 has read and broadcast it."""
    return _core.read_weights(os.fspath(path), preset, _dtype_name(dtype), sorted((overrides or {}).items()))


def presets() -> list[str]:
    """Every preset name Model.load accepts."""
    return list(_core.model_presets())


def param_spec(preset: str, overrides: Mapping[str, int] | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """The official npz layout of ``preset``: every parameter name and shape."""
    return [(n, tuple(s)) for n, s in _core.param_spec(preset, sorted((overrides or {}).items()))]


def model_features(
    raw: Mapping[str, np.ndarray],
    seed: int,
    *,
    num_recycle: int,
    max_clusters: int,
    max_extra: int,
) -> dict[str, np.ndarray]:
    """The model's inputs for every recycling iteration (leading axis num_recycle + 1): the
    feature pipeline's processed features plus the structure module's atom maps. The sizes have
    no defaults here: a prediction takes them from its preset (``Model.settings()``)."""
    from exafold.features import process_features

    feats = process_features(raw, seed, num_recycle=num_recycle, max_clusters=max_clusters, max_extra=max_extra)
    aatype = np.asarray(feats["aatype"])
    first = aatype[0] if aatype.ndim == 2 else aatype
    for name, value in _core.atom_maps(np.ascontiguousarray(first)).items():
        # A copy, not a broadcast view: with one iteration the view counts as contiguous, so it
        # would reach the engine read-only, which the engine refuses.
        feats[name] = np.broadcast_to(value, aatype.shape + value.shape[1:]).copy() if aatype.ndim == 2 else value
    return feats
