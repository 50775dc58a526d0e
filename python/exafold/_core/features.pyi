"""
AlphaFold2 input features: FASTA/A3M/Stockholm parsing, raw and processed features (see exafold.features)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['FastaRecord', 'MmcifDirectory', 'Msa', 'ProcessConfig', 'TemplateChain', 'TemplateEntry', 'TemplateHit', 'TemplateHitReport', 'TemplateSearchResult', 'TemplateSource', 'TemplateStore', 'af2_hit_limit', 'build_raw_features', 'build_raw_features_from_msas', 'build_template_store', 'draw_msa_sample', 'featurize_templates', 'find_template_hits', 'iteration_features', 'parse_a3m', 'parse_fasta', 'parse_hhr', 'parse_hmmsearch_sto', 'parse_stockholm', 'process_features', 'process_template_features', 'read_a3m', 'read_fasta', 'read_hhr', 'read_hmmsearch_sto', 'read_msa', 'read_obsolete_pdbs', 'read_stockholm', 'read_template_hits', 'read_template_mmcif', 'structure_seed']
class FastaRecord:
    """
    One FASTA record: description, sequence, line.
    """
    def __init__(self, description: str, sequence: str) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def description(self) -> str:
        """
        The header line after '>'; its first word is the id.
        """
    @property
    def line(self) -> int:
        """
        Line of the header in its file (0 if built).
        """
    @property
    def sequence(self) -> str:
        """
        One-letter residues, upper case.
        """
class Msa:
    """
    One alignment; row 0 is the query.
    """
    def __len__(self) -> int:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def deletion_matrix(self) -> numpy.typing.NDArray[numpy.int32]:
        """
        [rows, width] int32
        """
    @property
    def descriptions(self) -> list[str]:
        """
        Each row's description.
        """
    @property
    def lines(self) -> list[int]:
        """
        The line each row starts on in its file.
        """
    @property
    def msa(self) -> numpy.typing.NDArray[numpy.int32]:
        """
        [rows, width] int32 HHblits ids (0..21)
        """
    @property
    def num_rows(self) -> int:
        """
        Rows, the query included.
        """
    @property
    def sequences(self) -> list[str]:
        """
        Each row over the query's columns (insertions removed).
        """
    @property
    def source(self) -> str:
        """
        The file (or name) it was read from.
        """
    @property
    def width(self) -> int:
        """
        Columns: the query's length.
        """
class ProcessConfig:
    """
    AlphaFold2's inference feature settings.
    """
    def __init__(self, max_clusters: typing.SupportsInt = 512, max_extra: typing.SupportsInt = 1024, num_recycle: typing.SupportsInt = 3, replace_fraction: typing.SupportsFloat = 0.15, uniform_prob: typing.SupportsFloat = 0.1, profile_prob: typing.SupportsFloat = 0.1, same_prob: typing.SupportsFloat = 0.1, fixed_size: bool = False) -> None:
        ...
    @property
    def fixed_size(self) -> bool:
        """
        Pad the MSA dimensions to max_clusters and max_extra.
        """
    @fixed_size.setter
    def fixed_size(self, arg0: bool) -> None:
        ...
    @property
    def max_clusters(self) -> int:
        """
        MSA cluster centres per iteration, the query included.
        """
    @max_clusters.setter
    def max_clusters(self, arg0: typing.SupportsInt) -> None:
        ...
    @property
    def max_extra(self) -> int:
        """
        Extra-MSA rows per iteration.
        """
    @max_extra.setter
    def max_extra(self, arg0: typing.SupportsInt) -> None:
        ...
    @property
    def num_recycle(self) -> int:
        """
        Recycles: num_recycle + 1 feature sets are drawn.
        """
    @num_recycle.setter
    def num_recycle(self, arg0: typing.SupportsInt) -> None:
        ...
    @property
    def profile_prob(self) -> float:
        """
        Probability a replaced position is drawn from the MSA profile.
        """
    @profile_prob.setter
    def profile_prob(self, arg0: typing.SupportsFloat) -> None:
        ...
    @property
    def replace_fraction(self) -> float:
        """
        Fraction of cluster-centre positions the masked-MSA objective replaces.
        """
    @replace_fraction.setter
    def replace_fraction(self, arg0: typing.SupportsFloat) -> None:
        ...
    @property
    def same_prob(self) -> float:
        """
        Probability a replaced position keeps its residue.
        """
    @same_prob.setter
    def same_prob(self, arg0: typing.SupportsFloat) -> None:
        ...
    @property
    def uniform_prob(self) -> float:
        """
        Probability a replaced position becomes a uniformly random residue.
        """
    @uniform_prob.setter
    def uniform_prob(self, arg0: typing.SupportsFloat) -> None:
        ...
class TemplateHit:
    """
    One template search hit, field for field AlphaFold2's parsers.TemplateHit.
    """
    def __init__(self, index: typing.SupportsInt, name: str, aligned_cols: typing.SupportsInt, sum_probs: typing.SupportsFloat | None, query: str, hit_sequence: str, indices_query: collections.abc.Sequence[typing.SupportsInt], indices_hit: collections.abc.Sequence[typing.SupportsInt]) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def aligned_cols(self) -> int:
        """
        Aligned columns.
        """
    @property
    def hit_sequence(self) -> str:
        """
        The hit's aligned residues.
        """
    @property
    def index(self) -> int:
        """
        HHsearch's hit number, or the hmmsearch row.
        """
    @property
    def indices_hit(self) -> list[int]:
        """
        Per column the 0-based hit residue, -1 at a gap.
        """
    @property
    def indices_query(self) -> list[int]:
        """
        Per column the 0-based query residue, -1 at a gap.
        """
    @property
    def line(self) -> int:
        """
        Line where the hit starts in its file (0 if built).
        """
    @property
    def name(self) -> str:
        """
        HHsearch: the '>' line after '>'; hmmsearch: '<pdb id>_<chain>'.
        """
    @property
    def query(self) -> str:
        """
        The query's aligned segment (HHsearch) or the whole query (hmmsearch).
        """
    @property
    def sum_probs(self) -> float | None:
        """
        HHsearch's Sum_probs; None for hmmsearch.
        """
class TemplateChain:
    """
    One protein chain of a template entry.
    """
    def __repr__(self) -> str:
        ...
    def sequence(self, residue_letters: str = 'biopython-1.79') -> str:
        """
        SEQRES as one-letter codes ('biopython-1.79' or 'standard' names; others are X).
        """
    @property
    def atom_error(self) -> str:
        """
        Why the chain's atoms cannot be had, or ''.
        """
    @property
    def atom_error_is_warning(self) -> bool:
        """
        AlphaFold2 reports atom_error as a warning (else an error).
        """
    @property
    def id(self) -> str:
        """
        Author chain id (auth_asym_id).
        """
    @property
    def mask(self) -> numpy.ndarray:
        """
        [residues, 37] float32 atom37 mask.
        """
    @property
    def positions(self) -> numpy.ndarray:
        """
        [residues, 37, 3] float32 atom37 positions (empty when atom_error).
        """
    @property
    def residues(self) -> list[str]:
        """
        Chemical component id of each SEQRES residue.
        """
class TemplateEntry:
    """
    A PDB entry as AlphaFold2's template featuriser uses it.
    """
    def __repr__(self) -> str:
        ...
    def chain(self, id: str) -> TemplateChain:
        """
        The chain, or None.
        """
    @property
    def chains(self) -> list[TemplateChain]:
        """
        Protein chains, chain_to_seqres order.
        """
    @property
    def error(self) -> str:
        """
        Why AlphaFold2 would read no chain from the file, or ''.
        """
    @property
    def id(self) -> str:
        """
        The entry's id (lower-case PDB code).
        """
    @property
    def release_date(self) -> str | None:
        """
        Earliest revision date, YYYY-MM-DD, or None.
        """
class TemplateSource:
    """
    Where the featuriser finds template structures.
    """
    def find(self, id: str) -> TemplateEntry:
        """
        The entry (a TemplateEntry), or None.
        """
    def location(self, id: str) -> str:
        """
        Where the entry is, for messages.
        """
class MmcifDirectory(TemplateSource):
    """
    <dir>/<id>.cif files, parsed on each use.
    """
    def __init__(self, dir: str) -> None:
        ...
    @property
    def dir(self) -> str:
        """
        The directory.
        """
class TemplateStore(TemplateSource):
    """
    A pre-parsed template store (HDF5): every entry of an mmCIF directory, read once.
    """
    def __init__(self, path: str) -> None:
        """
        Opens a store made by build_template_store.
        """
    def __len__(self) -> int:
        """
        Entries in the store.
        """
    @property
    def path(self) -> str:
        """
        The store's file.
        """
class TemplateHitReport:
    """
    What became of one hit.
    """
    def __repr__(self) -> str:
        ...
    @property
    def index(self) -> int:
        """
        The hit's index.
        """
    @property
    def name(self) -> str:
        """
        '<pdb id>_<chain>' of the hit.
        """
    @property
    def realigned(self) -> bool:
        """
        Realigned with kalign to the mmCIF's SEQRES.
        """
    @property
    def reason(self) -> str:
        """
        Why (empty for a plain 'used').
        """
    @property
    def status(self) -> str:
        """
        'used', 'duplicate', 'filtered', 'warning' or 'error'.
        """
    @property
    def template_index(self) -> int:
        """
        The template it gave, or -1.
        """
class TemplateSearchResult:
    """
    Template features with what became of each hit (AlphaFold2's TemplateSearchResult).
    """
    @property
    def errors(self) -> list[str]:
        """
        AlphaFold2's errors.
        """
    @property
    def features(self) -> dict:
        """
        AlphaFold2's raw template features (template_aatype [T,N,22], template_all_atom_positions, template_all_atom_masks, template_sum_probs, template_domain_names, template_sequence).
        """
    @property
    def hits(self) -> list[TemplateHitReport]:
        """
        One report per hit taken, in order.
        """
    @property
    def message(self) -> str:
        """
        Why there is no template, or ''.
        """
    @property
    def num_templates(self) -> int:
        """
        Templates made (T).
        """
    @property
    def warnings(self) -> list[str]:
        """
        AlphaFold2's warnings: hits without usable structure data, and realignments.
        """
def af2_hit_limit(path: str) -> int:
    """
    Rows AlphaFold2 keeps of an alignment file, judged by its name (uniref90 10,000, mgnify 501; 0 = all for BFD and UniRef30/UniClust).
    """
def build_raw_features(query: FastaRecord, alignments: collections.abc.Sequence[str | tuple[str, typing.SupportsInt]], deduplicate: bool = True) -> dict:
    ...
def build_raw_features_from_msas(query: FastaRecord, msas: collections.abc.Sequence[Msa], deduplicate: bool = True) -> dict:
    ...
def build_template_store(mmcif_dir: str, path: str, threads: typing.SupportsInt = 0, deflate_level: typing.SupportsInt = 0) -> int:
    """
    Parses every <id>.cif of mmcif_dir once into an HDF5 store at path (written under a temporary name, renamed when complete); returns the number of entries. threads 0: the engine's pool; deflate_level 1-9 compresses (smaller, slower to read), 0 does not.
    """
def draw_msa_sample(raw: dict, config: ProcessConfig, seed: typing.SupportsInt, iteration: typing.SupportsInt) -> dict:
    """
    Iteration `iteration`'s random choices: order [R], bert [S, L] (-1 or a token), extra [E].
    """
def featurize_templates(query: str, hits: collections.abc.Sequence[TemplateHit], format: str, source: typing.Any, max_template_date: str | None = None, max_hits: typing.SupportsInt = 20, filters: str = 'alphafold', residue_letters: str = 'biopython-1.79', kalign: str = 'kalign', obsolete: str | None = None) -> TemplateSearchResult:
    """
    AlphaFold2's template features from hits ('hhr' or 'sto' format) and a source (an mmCIF directory path, MmcifDirectory or TemplateStore); see exafold.features.template_features.
    """
def find_template_hits(alignment_dir: str) -> tuple[str, str] | None:
    """
    (path, 'hhr' or 'sto') of the template search result beside an item's alignments (pdb70_hits.hhr, pdb_hits.hhr, pdb_hits.sto, hmm_output.sto), or None; ValueError when there are several.
    """
def iteration_features(raw: dict, config: ProcessConfig, order: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], bert: typing.Annotated[numpy.typing.ArrayLike, numpy.int8], extra: typing.Annotated[numpy.typing.ArrayLike, numpy.int32]) -> dict:
    """
    One iteration's features for given random choices (see draw_msa_sample).
    """
def parse_a3m(text: str, name: str = '<text>', max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    A3M text; errors name `name`:line.
    """
def parse_fasta(text: str, name: str = '<text>') -> list[FastaRecord]:
    """
    Every record of FASTA text; errors name `name`:line.
    """
def parse_hhr(text: str, name: str = '<text>') -> list[TemplateHit]:
    """
    As read_hhr, from text.
    """
def parse_hmmsearch_sto(text: str, query: str, name: str = '<text>') -> list[TemplateHit]:
    """
    As read_hmmsearch_sto, from text.
    """
def parse_stockholm(text: str, name: str = '<text>', max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    Stockholm text; errors name `name`:line.
    """
def process_features(raw: dict, config: ProcessConfig, seed: typing.SupportsInt) -> dict:
    """
    All num_recycle + 1 iterations' features, stacked on a leading axis.
    """
def process_template_features(raw: dict, max_templates: typing.SupportsInt = 4, pad_to_max_templates: bool = False, dtype: str = 'float32') -> dict:
    """
    The processed template features the model takes (see exafold.features).
    """
def read_a3m(path: str, max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    An A3M file; arguments as read_msa.
    """
def read_fasta(path: str) -> list[FastaRecord]:
    """
    Every record of a FASTA file; ValueError names file:line on bad input.
    """
def read_hhr(path: str) -> list[TemplateHit]:
    """
    Every hit of an HHsearch result file (parsers.parse_hhr); ValueError names file:line.
    """
def read_hmmsearch_sto(path: str, query: str) -> list[TemplateHit]:
    """
    Every protein hit of an hmmsearch Stockholm alignment against pdb_seqres, as AlphaFold2 >= 2.3 reads pdb_hits.sto; ValueError names file:line.
    """
def read_msa(path: str, max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    An A3M or Stockholm file (by suffix): the first max_rows rows (0: all); when query is given, the first row must be it. ValueError names file:line.
    """
def read_obsolete_pdbs(path: str) -> dict[str, str]:
    """
    obsolete.dat as {obsolete id: replacement id, or '' when removed} (lower case).
    """
def read_stockholm(path: str, max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    A Stockholm file; arguments as read_msa.
    """
def read_template_hits(path: str, query: str) -> list[TemplateHit]:
    """
    A .hhr or .sto hits file, by its suffix.
    """
def read_template_mmcif(path: str, id: str) -> TemplateEntry:
    """
    A template mmCIF file as AlphaFold2's mmcif_parsing and _get_atom_positions read it. Unusable content gives an entry with `error` set; OSError when it cannot be read.
    """
def structure_seed(id: str, run_seed: typing.SupportsInt) -> int:
    """
    A structure's 64-bit feature seed from its id and the run's seed (Note [Feature randomness]).
    """
