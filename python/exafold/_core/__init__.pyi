"""
exafold's C++ engine (private: use the exafold package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
from . import _modules
from . import features
__all__: list[str] = ['DeviceTimeModel', 'JournalWriter', 'MigratableMemory', 'Model', 'ShardWriter', 'Tensor', 'accessible', 'atom_map_bytes', 'atom_maps', 'bfloat16_to_float32', 'choose_chunk', 'choose_gpu_chunk', 'config_hash', 'dispenser_chunks', 'empty', 'empty_cache', 'features', 'float32_to_bfloat16', 'flop_breakdown', 'flop_polynomial', 'from_numpy', 'gpu_count', 'has_memory', 'info', 'item_flops', 'item_seconds', 'lddt_ca', 'make_mmcif_string', 'make_pdb_string', 'memory_stats', 'migrate', 'migrate_stats', 'model_presets', 'param_spec', 'predict_peak_bytes', 'prediction_flops', 'preset_config', 'preset_flop_polynomial', 'read_journal', 'read_shard', 'read_weights', 'reset_migrate_stats', 'reset_peak_memory', 'run_settings', 'set_memory_limit', 'set_num_threads', 'simulate', 'stage_features', 'synthetic_lengths', 'weights_label']
class Tensor:
    """
    An n-dimensional array in exafold memory: shape, byte
    strides, dtype, device and memory kind. Views share memory; there is no math here.
    """
    def __array__(self, dtype: typing.Any = None, copy: typing.Any = None) -> numpy.ndarray:
        ...
    def __repr__(self) -> str:
        ...
    def broadcast_to(self, shape: collections.abc.Sequence[typing.SupportsInt]) -> Tensor:
        """
        A view repeating size-1 dimensions (stride 0) to shape.
        """
    def clone(self) -> Tensor:
        """
        A dense copy in new memory of the same device and kind.
        """
    def contiguous(self) -> Tensor:
        """
        This tensor when it is contiguous, else a dense copy on the same device.
        """
    def is_contiguous(self) -> bool:
        """
        Whether the elements are dense, row-major.
        """
    def numel(self) -> int:
        """
        Number of elements.
        """
    def numpy(self) -> numpy.ndarray:
        """
        A numpy array sharing this tensor's memory (host tensors only).
        """
    def permute(self, order: collections.abc.Sequence[typing.SupportsInt]) -> Tensor:
        """
        A view with the dimensions reordered.
        """
    def reshape(self, shape: collections.abc.Sequence[typing.SupportsInt]) -> Tensor:
        """
        A view with a new shape (contiguous tensors).
        """
    def select(self, dim: typing.SupportsInt, index: typing.SupportsInt) -> Tensor:
        """
        A view of one index along dim, which is dropped.
        """
    def slice(self, dim: typing.SupportsInt, start: typing.SupportsInt, stop: typing.SupportsInt, step: typing.SupportsInt = 1) -> Tensor:
        """
        A view of [start, stop) with step along dim.
        """
    def transpose(self, a: typing.SupportsInt, b: typing.SupportsInt) -> Tensor:
        """
        A view with dimensions a and b swapped.
        """
    def unsqueeze(self, dim: typing.SupportsInt) -> Tensor:
        """
        A view with a new dimension of size 1 at dim.
        """
    @property
    def data_ptr(self) -> int:
        """
        Address of the first element.
        """
    @property
    def device(self) -> str:
        """
        Home device of the memory, e.g. cpu or cuda:0.
        """
    @property
    def dtype(self) -> str:
        """
        Element type name, e.g. float32 or bfloat16.
        """
    @property
    def memory_kind(self) -> str:
        """
        host, pinned, device or unified.
        """
    @property
    def nbytes(self) -> int:
        """
        Bytes the elements occupy.
        """
    @property
    def ndim(self) -> int:
        """
        Number of dimensions.
        """
    @property
    def shape(self) -> tuple:
        """
        Sizes per dimension.
        """
    @property
    def strides(self) -> tuple:
        """
        Byte strides per dimension.
        """
class MigratableMemory:
    """
    A scope (with-statement) in which host allocations that name no memory kind come from unified memory when a GPU exists, so they migrate without copies.
    """
    @staticmethod
    def active() -> bool:
        """
        Whether a MigratableMemory scope is open on this thread.
        """
    def __enter__(self) -> MigratableMemory:
        ...
    def __exit__(self, *args) -> None:
        ...
    def __init__(self) -> None:
        ...
class DeviceTimeModel:
    """
    Seconds per prediction on one device: flop_seconds * FLOPs + pair_seconds * S^2 + overhead_seconds, fitted to timed runs.
    """
    @staticmethod
    def fit(device: str, residues: collections.abc.Sequence[typing.SupportsInt], flops: collections.abc.Sequence[typing.SupportsFloat], seconds: collections.abc.Sequence[typing.SupportsFloat]) -> DeviceTimeModel:
        """
        Least-squares fit (non-negative coefficients) to finished runs' lengths, FLOPs and seconds.
        """
    @staticmethod
    def from_json(text: str) -> DeviceTimeModel:
        """
        A model from to_json's text; ValueError on malformed text.
        """
    def __init__(self, device: str, flop_seconds: typing.SupportsFloat, pair_seconds: typing.SupportsFloat = 0.0, overhead_seconds: typing.SupportsFloat = 0.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def seconds(self, residues: typing.SupportsInt, flops: typing.SupportsFloat) -> float:
        """
        Predicted seconds of one prediction of `residues` residues costing `flops`.
        """
    def to_json(self) -> str:
        """
        The model as one JSON object.
        """
    @property
    def device(self) -> str:
        """
        Name of the device the model describes.
        """
    @device.setter
    def device(self, arg0: str) -> None:
        ...
    @property
    def flop_seconds(self) -> float:
        """
        Seconds per FLOP.
        """
    @flop_seconds.setter
    def flop_seconds(self, arg0: typing.SupportsFloat) -> None:
        ...
    @property
    def overhead_seconds(self) -> float:
        """
        Fixed seconds per prediction.
        """
    @overhead_seconds.setter
    def overhead_seconds(self, arg0: typing.SupportsFloat) -> None:
        ...
    @property
    def pair_seconds(self) -> float:
        """
        Seconds per residue pair (memory-bound pair work).
        """
    @pair_seconds.setter
    def pair_seconds(self, arg0: typing.SupportsFloat) -> None:
        ...
class JournalWriter:
    """
    The job journal: append-only, one fsynced JSON record per line (docs/formats.md). Opening an existing journal resumes it; a different config hash is refused.
    """
    def __init__(self, path: str, config_hash: str) -> None:
        ...
    def done(self, id: str, shard: str, offset: typing.SupportsInt, model: str, seed: typing.SupportsInt, seconds: typing.SupportsFloat) -> None:
        """
        Records that `id` is durable in `shard` at row `offset`.
        """
    def failed(self, id: str, reason: str) -> None:
        """
        Records that `id` cannot be predicted, and why.
        """
    def finished_ids(self) -> set[str]:
        """
        Ids the journal held as done or failed when it was opened.
        """
    def started(self, id: str) -> None:
        """
        Records that `id` began.
        """
    def warning(self, id: str, reason: str) -> None:
        """
        Records what `id` goes on without (a template hit skipped, ...), and why; the item is not finished by it.
        """
class ShardWriter:
    """
    Writes one HDF5 shard (docs/formats.md) as <path>.tmp; finish() makes it durable under <path>. A context manager: a clean exit finishes, an exception discards.
    """
    def __enter__(self) -> ShardWriter:
        ...
    def __exit__(self, arg0: typing.Any, arg1: typing.Any, arg2: typing.Any) -> None:
        ...
    def __init__(self, path: str, pae: str = 'float16', chunk_residues: typing.SupportsInt = 8192, deflate_level: typing.SupportsInt = 1, weights_label: str = '') -> None:
        ...
    def __len__(self) -> int:
        ...
    def append(self, id: str, sequence: str, aatype: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], residue_index: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], atom_positions: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], atom_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], plddt: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], *, model: str, seed: typing.SupportsInt, runtime_seconds: typing.SupportsFloat, flops: typing.SupportsFloat, ptm: typing.SupportsFloat | None = None, pae: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None = None, templates: collections.abc.Sequence[str] = [], template_sum_probs: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None = None) -> int:
        """
        Appends one structure (atom37 arrays, pLDDT, optional pTM and PAE [S, S], the templates used and their sum_probs); returns its row.
        """
    def finish(self) -> None:
        """
        Writes the attributes, fsyncs and renames the file to its final name.
        """
class Model:
    """
    An AlphaFold2 parameter set loaded for inference (use exafold.Model).
    """
    @staticmethod
    def from_arrays(arrays: dict, preset: str, dtype: str = 'float32', overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]] = []) -> Model:
        """
        A model from parameter arrays by name, validated as a file would be.
        """
    @staticmethod
    def load(path: str, preset: str, dtype: str = 'float32', overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]] = []) -> Model:
        """
        Reads an official params_model_*.npz file, verified (CRC-32, sizes) and validated against the preset.
        """
    def prepare(self, device: str = 'cpu', dtype: str | None = None) -> None:
        """
        Places the parameters (in `dtype`'s placement, None: the parameters' own) and the projections the model fuses on `device` now, so that the first prediction's memory holds its activations only.
        """
    def run(self, features: dict, num_recycle: typing.SupportsInt | None = None, chunk_size: typing.SupportsInt = 0, on_iteration: typing.Any = None, device: str = 'cpu', length_buckets: bool | None = None, dtype: str | None = None) -> dict:
        """
        num_recycle + 1 iterations on processed features, on `device` (cpu, strict, cuda:N), computing in `dtype` (None: the parameters'; bfloat16 on cuda: the trunk in bfloat16, model/params.h); returns the last iteration's outputs, on the host. on_iteration(i) is called after iteration i finishes. length_buckets: pad to the length's bucket and crop the outputs back (model/length_buckets.h); None: on for cuda devices, off elsewhere.
        """
    def run_iteration(self, features: dict, prev: dict | None = None, chunk_size: typing.SupportsInt = 0, device: str = 'cpu', dtype: str | None = None) -> dict:
        """
        One iteration given the recycled inputs (zeros when prev is None), on `device`, in `dtype` (None: the parameters').
        """
    @property
    def config(self) -> dict:
        """
        The preset's dimensions and defaults.
        """
    @property
    def dtype(self) -> str:
        """
        Precision of the parameters.
        """
    @property
    def num_parameters(self) -> int:
        """
        Number of parameter values.
        """
def _enable_test_device() -> None:
    ...
def accessible(kind: str, home: str, target: str) -> bool:
    """
    Whether `target` reads `kind` memory living on `home` at full speed, so that migrate elides the copy (Note [Migratable memory]).
    """
def atom_map_bytes(residues: typing.SupportsInt) -> int:
    """
    Bytes of the structure module's atom maps for `residues` residues.
    """
def atom_maps(aatype: numpy.ndarray) -> dict:
    """
    The structure module's atom maps for residue types aatype [N].
    """
def bfloat16_to_float32(arg0: typing.Annotated[numpy.typing.ArrayLike, numpy.uint16]) -> numpy.typing.NDArray[numpy.float32]:
    """
    Expands bfloat16 raw bits (uint16) to float32 exactly.
    """
def choose_chunk(preset: str, overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]], residues: typing.SupportsInt, clusters: typing.SupportsInt, extra_rows: typing.SupportsInt, budget_bytes: typing.SupportsInt, dtype: str, iterations: typing.SupportsInt, threads: typing.SupportsInt, templates: typing.SupportsInt = 0) -> int:
    """
    The largest chunk size (0 = unchunked) whose predicted peak fits the budget
    """
def choose_gpu_chunk(preset: str, overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]], residues: typing.SupportsInt, clusters: typing.SupportsInt, extra_rows: typing.SupportsInt, dtype: str, iterations: typing.SupportsInt, templates: typing.SupportsInt, device: str) -> int:
    """
    The chunk a prediction on the GPU `device` starts with: the largest whose reserved peak fits the device's free memory and cache, less its reserve (model/memory_fit.h)
    """
def config_hash(canonical_config: str) -> str:
    """
    FNV-1a 64 of a run's canonical configuration text, as 16 hex digits.
    """
def dispenser_chunks(sorted_costs: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], workers: typing.SupportsInt, chunk_divisor: typing.SupportsFloat = 2.0, min_chunk: typing.SupportsInt = 1) -> numpy.typing.NDArray[numpy.int64]:
    """
    Boundaries [0, b1, ..., n] of the dispenser's chunks over costs sorted largest first (Note [Dispenser chunks]): the policy the simulator replays and MPI runs hand out.
    """
def empty(shape: collections.abc.Sequence[typing.SupportsInt], dtype: str = 'float32', device: str = 'cpu', kind: str | None = None) -> Tensor:
    """
    An uninitialised tensor from the caching allocator of (device, kind); without a kind, the device's default (unified inside MigratableMemory when a GPU exists).
    """
def empty_cache(device: str | None = None, kind: str | None = None) -> None:
    """
    Returns cached, unused blocks to the system: of one allocator, or of all when neither device nor kind is given.
    """
def float32_to_bfloat16(arg0: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> numpy.typing.NDArray[numpy.uint16]:
    """
    Rounds float32 values to bfloat16 (nearest even), returned as uint16 raw bits.
    """
def flop_breakdown(*, msa_clusters: typing.SupportsInt = 512, extra_msa_rows: typing.SupportsInt = 5120, templates: typing.SupportsInt = 4, passes: typing.SupportsInt = 4, ptm: bool = True) -> dict:
    """
    per-module (c3, c2, c1, c0), summed over passes
    """
def flop_polynomial(*, msa_clusters: typing.SupportsInt = 512, extra_msa_rows: typing.SupportsInt = 5120, templates: typing.SupportsInt = 4, passes: typing.SupportsInt = 4, ptm: bool = True) -> tuple:
    """
    FLOPs of one AlphaFold2 prediction as (c3, c2, c1, c0) of a cubic in the length S
    """
def from_numpy(array: numpy.ndarray, dtype: str | None = None) -> Tensor:
    """
    Wraps a numpy array as a Tensor sharing its memory (the tensor keeps the array alive).
    """
def gpu_count() -> int:
    """
    GPUs this process can use (0 without a CUDA build or device).
    """
def has_memory(device: str, kind: str) -> bool:
    """
    Whether this build and machine can allocate `kind` memory on `device`.
    """
def info() -> dict:
    """
    The build and the machine: version, build type, compiler, sanitizers, CUDA, threads, the CPU, BLAS (library, version, kernel and a warning when the kernel is below the CPU), GPUs with their capabilities, the memory kinds each device has, and `machine`, the one-line summary benchmark records carry.
    """
def item_flops(lengths: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], *, preset: str | None = None, msa_clusters: typing.SupportsInt = 512, extra_msa_rows: typing.SupportsInt = 5120, templates: typing.SupportsInt | None = None, passes: typing.SupportsInt = 4, ptm: bool = True) -> numpy.typing.NDArray[numpy.float64]:
    """
    prediction_flops of each length, as a float64 array.
    """
def item_seconds(lengths: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], time_model: DeviceTimeModel, *, preset: str | None = None, msa_clusters: typing.SupportsInt = 512, extra_msa_rows: typing.SupportsInt = 5120, templates: typing.SupportsInt | None = None, passes: typing.SupportsInt = 4, ptm: bool = True) -> numpy.typing.NDArray[numpy.float64]:
    """
    Predicted seconds of each length under a DeviceTimeModel and the cost model's FLOPs (with `preset`, that preset's sizes).
    """
def lddt_ca(model: typing.Any, reference: typing.Any, model_mask: typing.Any = None, reference_mask: typing.Any = None, *, inclusion_radius: typing.SupportsFloat = 15.0, thresholds: collections.abc.Sequence[typing.SupportsFloat] = [0.5, 1.0, 2.0, 4.0]) -> dict:
    """
    lDDT-Cα of a model against a reference (Mariani et al. 2013), in float64.
    
    model, reference: [n, 3] Cα coordinates (Å) on the same residue indices; no superposition.
    model_mask, reference_mask: [n], nonzero where the Cα exists (default: all). Residue i is scored
    over the other reference residues j with reference distance < inclusion_radius; a pair is
    preserved at threshold t when |d_model - d_ref| < t, and a pair whose model Cα is missing is not.
    
    Returns a dict: global (over all pairs, 0-1), mean_per_residue, total_pairs (ordered pairs),
    per_residue ([n] float64, NaN where a residue has no pair or is absent from the reference) and
    pairs ([n] int64, the pairs each residue was scored over). NaN scores when nothing is scored.
    """
def make_mmcif_string(aatype: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], residue_index: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], atom_positions: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], atom_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], plddt: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], *, chain_id: str = 'A', name: str = 'exafold', entity_poly: bool = True, modelcif: bool = True, title: str = '', model_name: str = '', details: str = '', ptm: typing.SupportsFloat | None = None) -> str:
    """
    mmCIF text of one chain that ModelCIF readers accept: the model (title, model name, details such as the weights), pLDDT per residue and mean and pTM as quality metrics
    """
def make_pdb_string(aatype: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], residue_index: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], atom_positions: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], atom_mask: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], plddt: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], *, chain_id: str = 'A', model_record: bool = True, model_number: typing.SupportsInt = 1, ter_record: bool = True, end_record: bool = True, remarks: collections.abc.Sequence[str] = []) -> str:
    """
    PDB text of one chain in AlphaFold2's layout (pLDDT in the B-factor column), `remarks` first as REMARK 250 records
    """
def memory_stats(device: str = 'cpu', kind: str = 'host') -> dict:
    """
    Statistics of the caching allocator for (device, kind): bytes allocated, reserved and their peaks, allocation counts, cache hits, splits and merges.
    """
def migrate(tensor: Tensor, device: str) -> Tensor:
    """
    The tensor usable on `device`: the same memory when `device` can already reach it, else a copy there.
    """
def migrate_stats() -> dict:
    """
    Counters of migrate() and stage(): copies, elided, bytes_moved, prefetches, staged and bytes_staged since the last reset.
    """
def model_presets() -> list[str]:
    """
    Every preset name Model.load accepts.
    """
def param_spec(preset: str, overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]] = []) -> list[tuple[str, list[int]]]:
    """
    Every parameter name and shape the preset defines, in the official npz layout.
    """
def predict_peak_bytes(preset: str, overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]], residues: typing.SupportsInt, clusters: typing.SupportsInt, extra_rows: typing.SupportsInt, chunk_size: typing.SupportsInt, dtype: str, iterations: typing.SupportsInt, threads: typing.SupportsInt, templates: typing.SupportsInt = 0) -> int:
    """
    Predicted peak allocator bytes of a prediction above what was live before it
    """
def prediction_flops(residues: typing.SupportsInt, *, preset: str | None = None, msa_clusters: typing.SupportsInt = 512, extra_msa_rows: typing.SupportsInt = 5120, templates: typing.SupportsInt | None = None, passes: typing.SupportsInt = 4, ptm: bool = True) -> float:
    """
    Analytic FLOPs of one prediction of `residues` residues (multiply-adds count 2); with `preset`, that preset's sizes as exafold runs it (templates only where it embeds them).
    """
def preset_config(preset: str) -> dict:
    """
    A preset's sizes as Model.config gives them (templates, max_msa_clusters, sampled_msa_clusters, ...).
    """
def preset_flop_polynomial(preset: str, *, msa_clusters: typing.SupportsInt = 512, extra_msa_rows: typing.SupportsInt = 5120, passes: typing.SupportsInt = 4, templates: typing.SupportsInt = 0) -> tuple:
    """
    flop_polynomial for a model preset's own sizes as exafold runs it: `templates` only where the preset embeds them, their embedding once per prediction
    """
def read_journal(path: str) -> dict:
    """
    A journal's records: config_hash, started, done and failed records, torn_tail (a torn last line was ignored) and finished_ids.
    """
def read_shard(path: str) -> dict:
    """
    A shard as a dict keyed by its dataset and attribute names (docs/formats.md): numpy arrays (per-residue columns concatenated, residue_offsets delimiting structures; template_offsets the templates), the string columns (id, sequence, model, template_name) as lists, and index: id -> row
    """
def read_weights(path: str, preset: str | None = None, dtype: str = 'float32', overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]] = []) -> dict:
    """
    The arrays of a parameter file by name, every member's CRC-32 and size verified and, with a preset, every name and shape checked against it (what Model.load reads).
    """
def reset_migrate_stats() -> None:
    """
    Sets migrate()'s counters to zero.
    """
def reset_peak_memory(device: str = 'cpu', kind: str = 'host') -> None:
    """
    Starts the peak counters of (device, kind) again from the current use.
    """
def run_settings(preset: str, *, recycles: typing.SupportsInt | None = None, max_msa_clusters: typing.SupportsInt | None = None, max_extra_msa: typing.SupportsInt | None = None, overrides: collections.abc.Sequence[tuple[str, typing.SupportsInt]] = [], templates: bool = False) -> dict:
    """
    The settings a prediction with `preset` runs with (recycles, max_msa_clusters, max_extra_msa): the preset's, each given value replacing its default. With `templates` (the run gives templates) a template preset samples 508 cluster centres, as AlphaFold2.
    """
def set_memory_limit(bytes: typing.SupportsInt, device: str = 'cpu', kind: str = 'host') -> None:
    """
    Caps the bytes (device, kind) may reserve; beyond it allocation raises MemoryError with the numbers. 0 removes the cap.
    """
def set_num_threads(threads: typing.SupportsInt) -> None:
    """
    Sets the engine's thread count (call before any work: the pool is replaced).
    """
def simulate(item_seconds: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], workers: typing.SupportsInt, policy: str = 'dispenser', min_chunk: typing.SupportsInt = 1, chunk_divisor: typing.SupportsFloat = 2.0, dispatch_latency_s: typing.SupportsFloat = 0.0) -> dict:
    """
    Simulates running items of the given seconds on `workers` under a policy (dispenser, lpt or round_robin); returns makespan_s, total_work_s, efficiency, tail idle times, requests and per-worker busy_s.
    """
def stage_features(features: dict, device: str) -> dict:
    """
    The arrays of `features` staged for `device` (Note [Staging]): still numpy arrays, in managed memory already on the GPU, or pinned memory, or the same arrays where `device` reads them at full speed. The prefetch pipeline calls this on its threads, so that the upload overlaps the prediction before.
    """
def synthetic_lengths(name: str, count: typing.SupportsInt, max_length: typing.SupportsInt = 2500, seed: typing.SupportsInt = 0) -> numpy.typing.NDArray[numpy.int32]:
    """
    `count` protein lengths drawn from a named distribution (e.g. uniprot), capped at max_length, as an int32 array; deterministic for a seed.
    """
def weights_label(path: str) -> str:
    """
    The label a parameter file carries (demo weights say what they are), or '' when none.
    """
