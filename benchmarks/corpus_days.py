"""A dated CSV corpus split by day, for the night-by-night benchmarks (replay_nights.py, soak.py)."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path


class DailyCorpus:
    """Rows of a CSV with a ``date`` column, grouped by that date."""

    def __init__(self, path: str | Path) -> None:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            self.header = list(reader.fieldnames or [])
            self.by_day: dict[str, list[dict]] = defaultdict(list)
            for row in reader:
                self.by_day[row["date"]].append(row)

    def write_day(self, folder: Path, day: dt.date, skip_empty: bool = False) -> Path | None:
        """Write that day's rows to ``folder/<day>.csv`` (header only on a day without rows, unless ``skip_empty``)."""
        rows = self.by_day.get(day.isoformat(), [])
        if skip_empty and not rows:
            return None
        path = folder / f"{day}.csv"
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=self.header)
            writer.writeheader()
            writer.writerows(rows)
        return path
