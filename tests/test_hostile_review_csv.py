"""The review CSV an analyst opens in a spreadsheet holds no live formula (issue 27, defect 4): a cell beginning with
=, +, -, @, tab or carriage return is prefixed with a single quote (OWASP, "CSV injection"), and reading the filled
CSV back removes that quote again, so training sees the paragraph as it was."""

import csv

from hostile_cases import FORMULAS, legacy_database

from narrative_tracker import db
from narrative_tracker.narratives.review import export_review, load_review

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def test_no_cell_begins_like_a_formula(tmp_path):
    database = legacy_database(tmp_path)
    out = tmp_path / "review.csv"
    with db.connection(database, read_only=True) as con:
        assert export_review(con, out) == 6
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c.startswith(DANGEROUS)]
    texts = sorted(row[3] for row in rows[1:])
    assert texts == sorted("'" + f + " paragraph text" for f in FORMULAS)
    assert {row[2] for row in rows[1:]} == {"'=1+1 claim"}

    # filled in and read back: the quote is gone, the text is the paragraph's own
    filled = tmp_path / "filled.csv"
    with open(filled, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0])
        for row in rows[1:]:
            writer.writerow(row[:-2] + ["yes", "asserts"])
    claims, read_texts, labels = load_review(filled)
    assert sorted(read_texts) == sorted(f + " paragraph text" for f in FORMULAS)
    assert set(claims) == {"=1+1 claim"} and set(labels) == {"asserts"}
