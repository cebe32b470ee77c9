"""The public datasets the benchmarks measure on: one command-line option each, one clear error when missing.

Every benchmark that reads an external dataset declares its option with ``add_option(parser, DATASET)`` (the
default is the dataset's place in ``../shared``, where CI keeps it) and checks it with ``require(DATASET, value)``
right after parsing, before any model is loaded. A path that does not exist stops the script with exit status 2
and one line naming the option, the dataset, where it comes from, and the path tried. A fresh clone has no
``../shared``: the benchmarks then say what to download and which option takes it, instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


@dataclass(frozen=True)
class Dataset:
    option: str  # the command-line option that takes its path
    what: str  # the dataset and where it comes from
    default: Path  # where the project's shared folder keeps it


EUVSDISINFO = Dataset(
    "--corpus",
    "the EUvsDisinfo 2015-2021 posts.csv (cases of the EU East StratCom Task Force; GitHub cknabs/EUvsDisinfo, "
    "data/posts.csv)",
    SHARED / "corpus" / "euvsdisinfo-2015-2021" / "posts.csv",
)
SEMEVAL = Dataset(
    "--semeval",
    "the SemEval-2025 Task 10 English training folder (documents/ and labels.tsv of subtask 2, the organisers' data)",
    SHARED / "benchmarks" / "semeval2025-task10-en",
)
FNC1 = Dataset(
    "--fnc",
    "the FNC-1 stance folder (bodies.csv and stances.csv of the Fake News Challenge stage 1, GitHub "
    "FakeNewsChallenge/fnc-1)",
    SHARED / "benchmarks" / "fnc1-stance",
)


def add_option(parser: argparse.ArgumentParser, dataset: Dataset, default: str | None = None) -> None:
    """Declare ``dataset.option`` (default: its shared location, or ``default``; '' for an optional part)."""
    default = str(dataset.default) if default is None else default
    parser.add_argument(dataset.option, default=default, metavar="PATH",
                        help=f"{dataset.what} (default: {default or 'left out'})")


def require(dataset: Dataset, value: str | Path, skip_hint: str = "") -> Path:
    """``value`` as a Path if it exists; otherwise print one line to stderr and exit with status 2."""
    path = Path(value)
    if not path.exists():
        script = Path(sys.argv[0]).name or "benchmark"
        print(f"{script}: {dataset.option}: {path} does not exist. This benchmark needs {dataset.what}; "
              f"give its path with {dataset.option} PATH{skip_hint}.", file=sys.stderr)
        raise SystemExit(2)
    return path
