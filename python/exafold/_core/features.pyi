"""
AlphaFold2 input features: FASTA/A3M/Stockholm parsing, raw and processed features (see exafold.features)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['FastaRecord', 'Msa', 'ProcessConfig', 'af2_hit_limit', 'build_raw_features', 'build_raw_features_from_msas', 'draw_msa_sample', 'is_query_row', 'iteration_features', 'normalize_sequence', 'parse_a3m', 'parse_fasta', 'parse_stockholm', 'process_features', 'processed_feature_bytes', 'read_a3m', 'read_a3m_queries', 'read_fasta', 'read_msa', 'read_stockholm', 'scan_fasta', 'scan_fasta_text', 'structure_seed']
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
    def id(self) -> str:
        """
        The description's first word (split as str.split() splits).
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
def af2_hit_limit(path: str) -> int:
    """
    Rows AlphaFold2 keeps of an alignment file, judged by its name (uniref90 10,000, mgnify 501; 0 = all for BFD and UniRef30/UniClust).
    """
def build_raw_features(query: FastaRecord, alignments: collections.abc.Sequence[str | tuple[str, typing.SupportsInt]], deduplicate: bool = True) -> dict:
    ...
def build_raw_features_from_msas(query: FastaRecord, msas: collections.abc.Sequence[Msa], deduplicate: bool = True) -> dict:
    ...
def draw_msa_sample(raw: dict, config: ProcessConfig, seed: typing.SupportsInt, iteration: typing.SupportsInt) -> dict:
    """
    Iteration `iteration`'s random choices: order [R], bert [S, L] (-1 or a token), extra [E].
    """
def is_query_row(residues: str, query: str) -> bool:
    """
    Whether an alignment row is the query (equal letters, and any two of B J O U X Z).
    """
def iteration_features(raw: dict, config: ProcessConfig, order: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], bert: typing.Annotated[numpy.typing.ArrayLike, numpy.int8], extra: typing.Annotated[numpy.typing.ArrayLike, numpy.int32]) -> dict:
    """
    One iteration's features for given random choices (see draw_msa_sample).
    """
def normalize_sequence(sequence: str, residues: str = 'strict') -> str:
    """
    The query a prediction runs on: whitespace removed, upper-cased, a terminal '*' dropped; residues='strict' allows the 20 standard residues, 'unknown' also B J O U X Z (as X). ValueError names the first refused residue and its position, and says a complex ('A...:B...') is a multimer, which is not supported.
    """
def parse_a3m(text: str, name: str = '<text>', max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    A3M text; errors name `name`:line.
    """
def parse_fasta(text: str, name: str = '<text>') -> list[FastaRecord]:
    """
    Every record of FASTA text; errors name `name`:line.
    """
def parse_stockholm(text: str, name: str = '<text>', max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    Stockholm text; errors name `name`:line.
    """
def process_features(raw: dict, config: ProcessConfig, seed: typing.SupportsInt) -> dict:
    """
    All num_recycle + 1 iterations' features, stacked on a leading axis.
    """
def processed_feature_bytes(residues: typing.SupportsInt, clusters: typing.SupportsInt, extra: typing.SupportsInt, iterations: typing.SupportsInt) -> int:
    """
    Bytes process_features returns for these sizes (per iteration: cluster rows, extra rows).
    """
def read_a3m(path: str, max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    An A3M file; arguments as read_msa.
    """
def read_a3m_queries(path: str, max_rows: typing.SupportsInt = 0) -> list[Msa]:
    """
    Every alignment of an A3M file holding one per query, each ended by a NUL byte (as colabfold_search writes them); one alignment for a file without NUL bytes.
    """
def read_fasta(path: str) -> list[FastaRecord]:
    """
    Every record of a FASTA file; ValueError names file:line on bad input.
    """
def read_msa(path: str, max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    An A3M or Stockholm file (by suffix): the first max_rows rows (0: all); when query is given, the first row must be it. ValueError names file:line.
    """
def read_stockholm(path: str, max_rows: typing.SupportsInt = 0, query: str = '') -> Msa:
    """
    A Stockholm file; arguments as read_msa.
    """
def scan_fasta(path: str) -> list:
    """
    Every record of a FASTA file as (record, problem, problem_line): a bad record is kept with its reason (problem empty when usable) and the reading goes on; ValueError names file:line only when the whole file is unusable.
    """
def scan_fasta_text(text: str, name: str = '<text>') -> list:
    """
    As scan_fasta, from text; `name` stands for the file.
    """
def structure_seed(id: str, run_seed: typing.SupportsInt) -> int:
    """
    A structure's 64-bit feature seed from its id and the run's seed (Note [Feature randomness]).
    """
