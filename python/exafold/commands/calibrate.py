"""``exafold calibrate``: does pLDDT predict the lDDT-Cα a prediction scores against experiment?

Every prediction (shard rows, or PDB/mmCIF files with pLDDT in the B-factor column) is matched to
an experimental mmCIF by the PDB id its name starts with, aligned to the chosen chain, and scored;
the report bins residues by pLDDT, fits lDDT-Cα = a·pLDDT + b over structures and residues, and
sets AlphaFold2's published fit beside it (docs/calibration.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from exafold import calibration


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="compare pLDDT with lDDT-Cα against experimental structures",
        description="Scores predictions against experimental mmCIF structures with lDDT-Cα and reports how "
                    "well pLDDT predicts it: mean lDDT-Cα per pLDDT bin, least-squares fits over structures "
                    "and residues with Pearson r, and AlphaFold2's published fit. A prediction named "
                    "<pdbid>_<chain> (e.g. 2Q2K_A, 6KWC_1) is matched to <pdbid>.cif, .cif.gz or .mmcif in "
                    "the reference directory; the chain is the one the suffix names (author or label "
                    "chain id), else the protein chain whose sequence aligns best. Predictions without a "
                    "usable reference are listed with the reason and skipped.")
    p.add_argument("--predictions", type=Path, required=True, metavar="PATH",
                   help="an HDF5 shard, a directory of shards (exafold distill's output) or of PDB/mmCIF "
                        "files, exafold predict's output (each query's rank 1 structure), or one PDB/mmCIF "
                        "file (pLDDT in the B-factor column); an id counts once")
    p.add_argument("--references", type=Path, required=True, metavar="DIR",
                   help="directory of experimental structures, <pdbid>.cif / .cif.gz / .mmcif (any case)")
    p.add_argument("--out", type=Path, default=Path("calibration"), metavar="DIR",
                   help="where calibration.json, structures.csv and calibration.png go (default ./calibration)")
    p.add_argument("--min-identity", type=_fraction, default=calibration.DEFAULT_MIN_IDENTITY, metavar="F",
                   help="skip a prediction when less than this fraction of its aligned residues are identical "
                        f"to the reference's (default {calibration.DEFAULT_MIN_IDENTITY})")
    p.set_defaults(func=run)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    references = calibration.References(args.references)
    # A bar on a terminal only: over a whole dataset, reading and aligning take a while.
    predictions = tqdm(calibration.read_predictions(args.predictions), desc="calibrate", unit="structure",
                       disable=None, leave=False)
    report = calibration.calibrate(predictions, references,
                                   min_identity=args.min_identity, predictions_name=str(args.predictions))
    summary = report.summary()
    print(calibration.format_table(summary))
    if not report.scored:
        raise ValueError("no prediction could be scored against a reference")
    paths = calibration.write_outputs(report, summary, args.out)
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    return 0
