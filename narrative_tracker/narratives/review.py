"""The review loop: export the assignments the models are least sure about as a CSV an analyst fills in, and
read the filled CSV back as labelled (claim, paragraph, stance) pairs for ``narratives train-stance --review``.

Columns of the CSV: ``paragraph_id, narrative_id, claim, text, detection_confidence, stance, stance_confidence,
correct_narrative, correct_stance``. The analyst fills the last two: ``correct_narrative`` = ``yes`` / ``no``
(``no``: the paragraph does not carry the narrative -> trained as ``unrelated``), ``correct_stance`` =
``asserts`` / ``reports`` / ``refutes`` (empty: the predicted stance was right when ``correct_narrative`` is
``yes``). Rows left entirely empty are skipped.

**Formula injection** (OWASP "CSV injection"): a paragraph, a label or an id comes from input files or analysts, and a
spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a formula. Every such
cell is written with a single quote in front (``'=HYPERLINK(...)``), which spreadsheets show as text; ``load_review``
removes that one quote again, so the text read back is the paragraph's own.
"""

from __future__ import annotations

import csv
import io
import os

from narrative_tracker import db
from narrative_tracker.outfiles import check_output, write_atomic
from narrative_tracker.narratives.stance_model import STANCES3

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell):
    """A CSV cell no spreadsheet runs: a string beginning like a formula gets a leading ``'`` (so does one already
    beginning with ``'`` and a formula character, so that ``restore`` is exact). Numbers are left as they are."""
    if isinstance(cell, str) and (cell.startswith(FORMULA_STARTS) or (cell[:1] == "'" and cell[1:2] in FORMULA_STARTS and cell[1:2])):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The text ``neutralise`` was given."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] and cell[1:2] in FORMULA_STARTS else cell


COLUMNS = ("paragraph_id", "narrative_id", "claim", "text", "detection_confidence", "stance", "stance_confidence",
           "correct_narrative", "correct_stance")


def export_review(con, out: str | os.PathLike, limit: int = 50, database: str | os.PathLike | None = None) -> int:
    """Write the ``limit`` least-certain codebook assignments (detection or stance confidence nearest 0.5) to ``out``,
    atomically; ``out`` is checked first (never ``database``'s files, a link or a folder: ``outfiles.check_output``)."""
    path = check_output(out, database)
    rows = con.execute(db.query("review_candidates"), {"limit": limit}).fetchall()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row] + ["", ""])
    write_atomic(path, buffer.getvalue())
    return len(rows)


def load_review(path: str | os.PathLike) -> tuple[list[str], list[str], list[str]]:
    """``(claims, texts, labels)`` from a filled review CSV; a bad value is an error naming the line."""
    claims, texts, labels = [], [], []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"claim", "text", "stance", "correct_narrative", "correct_stance"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not a review CSV (missing columns: {', '.join(sorted(missing))})")
        for n, row in enumerate(reader, start=2):
            verdict = (row.get("correct_narrative") or "").strip().lower()
            stance = (row.get("correct_stance") or "").strip().lower()
            if not verdict and not stance:
                continue
            if verdict not in ("", "yes", "no"):
                raise ValueError(f"{path}:{n}: correct_narrative must be yes or no, not {verdict!r}")
            if stance and stance not in STANCES3:
                raise ValueError(f"{path}:{n}: correct_stance must be one of {', '.join(STANCES3)}, not {stance!r}")
            label = "unrelated" if verdict == "no" else (stance or restore(row["stance"] or ""))
            if label not in (*STANCES3, "unrelated"):
                raise ValueError(f"{path}:{n}: no stance to learn")
            claims.append(restore(row["claim"]))
            texts.append(restore(row["text"]))
            labels.append(label)
    return claims, texts, labels


def load_reviews(paths) -> tuple[list[str], list[str], list[str]]:
    """``(claims, texts, labels)`` of several filled review CSVs, in order."""
    claims, texts, labels = [], [], []
    for path in paths:
        c, t, lab = load_review(path)
        claims += c
        texts += t
        labels += lab
    return claims, texts, labels
