"""Analyst decisions on narratives (rename, merge, reject, promote), stored in ``narrative_decisions``.

Decisions are applied at once and re-applied after every discovery, so they survive re-clustering.
``promote_to_codebook`` adds a discovered narrative to the codebook file as a named narrative.
"""

from __future__ import annotations

import logging
import re

import duckdb

from narrative_tracker import db, schema, textsafe
from narrative_tracker.narratives.claims import MIN_WORDS, split_sentences
from narrative_tracker.narratives.codebook import codebook_path as configured_codebook
from narrative_tracker.narratives.codebook import load_codebook
from narrative_tracker.narratives.codebook_edit import appended_text, commit_codebook, discard, stage_codebook
from narrative_tracker.narratives.frames import now as _now

DECISIONS = ("rename", "merge", "reject", "promote")


def list_narratives(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """``(narrative_id, origin, status, paragraphs, label, terms, parent_narrative_id)`` for every narrative, codebook
    first; a discovered narrative's parent is the codebook narrative (frame) most of its members carry, or None."""
    return con.execute(db.query("list_narratives")).fetchall()


def record_decision(con: duckdb.DuckDBPyConnection, narrative_id: str, action: str, value: str | None = None, note: str | None = None,
                    before_commit=None) -> None:
    """Store an analyst decision and apply it now; it is re-applied after every later discovery.

    ``before_commit()`` runs inside the transaction, last: if it raises, the decision is not recorded.
    """
    if action not in DECISIONS:
        raise ValueError(f"action must be one of {DECISIONS}")
    if action == "rename":  # a label is shown in charts, reports and terminals: sanitised like every stored text
        value = textsafe.clean_label(value)
        if not value:
            raise ValueError("the new label is empty once control characters are removed: give a label with words")
    note = textsafe.clean(note) if note else note
    known = con.execute("SELECT origin FROM narratives WHERE narrative_id = $n", {"n": narrative_id}).fetchone()
    if known is None:
        raise ValueError(f"no narrative {narrative_id!r} in this database")
    if action == "merge":
        target = con.execute("SELECT count(*) FROM narratives WHERE narrative_id = $n", {"n": value}).fetchone()[0]
        if not target or value == narrative_id:
            raise ValueError(f"merge target {value!r} is not another narrative of this database")
    if action in ("merge", "reject", "promote") and known[0] != "discovered":
        raise ValueError(f"{action} applies to discovered narratives; edit the codebook for {narrative_id!r}")
    with db.transaction(con):
        con.execute(
            "INSERT INTO narrative_decisions VALUES ($n, $a, $v, $t, $note)",
            {"n": narrative_id, "a": action, "v": value, "t": _now(), "note": note},
        )
        apply_decisions(con)
        if before_commit is not None:
            before_commit()


def apply_decisions(con: duckdb.DuckDBPyConnection) -> None:
    """Apply every recorded decision (latest per narrative and action wins) to narratives / assignments."""
    db.run_script(con, "apply_decisions")
    db.run_script(con, "refresh_narrative_sizes")
    schema.refresh_daily_counts(con)


def promote_to_codebook(con: duckdb.DuckDBPyConnection, narrative_id: str, new_id: str, label: str | None,
                        codebook_path: str | None = None, examples: int = 8) -> list[str]:
    """Add a discovered narrative to the codebook and record the decision, both or neither.

    The entry carries its claim label (as the first example, and as the label unless ``label`` is given), a
    description (the claim, its distinctive terms and where it came from) and its representative sentences as
    examples: the most central member sentences (statements of at least four words, no questions, no repeats).
    The codebook (``codebook_path``, else the configured one) is edited through a validated temporary file
    renamed into place (``narrative_tracker.narratives.codebook_edit``); the rename happens inside the decision's
    transaction, so a failure of either leaves both as they were. Comments are kept where the entry can be
    appended as text (see ``appended_text``).
    """
    if not re.match(r"^[a-z][a-z0-9_]{1,63}$", new_id):
        raise ValueError("the codebook id must be lower_snake_case")
    label = textsafe.clean_label(label) or None
    path = configured_codebook(codebook_path)
    book = load_codebook(path)
    if new_id in book.ids:
        raise ValueError(f"{new_id!r} is already in {path}")
    row = con.execute("SELECT claim_label, label, terms FROM narratives WHERE narrative_id = $n AND origin = 'discovered'",
                      {"n": narrative_id}).fetchone()
    texts = [r[0] for r in con.execute(
        "SELECT any_value(p.text) FROM discovered_members m JOIN paragraphs p USING (text_hash) "
        "WHERE m.narrative_id = $n GROUP BY m.text_hash ORDER BY max(m.score) DESC, m.text_hash LIMIT $k",
        {"n": narrative_id, "k": 4 * examples},
    ).fetchall()]
    if row is None or not texts:
        raise ValueError(f"{narrative_id!r} is not a discovered narrative with members in this database")
    claim, shown, terms = row[0] or "", row[1], row[2] or []
    chosen: list[str] = [claim] if claim else []
    for text in texts:
        for sentence in split_sentences(text) or [text]:
            if len(chosen) >= examples:
                break
            if len(sentence.split()) >= MIN_WORDS and not sentence.endswith("?") and sentence not in chosen:
                chosen.append(sentence)
    if len(chosen) < 2:  # short or question-only members: fall back to the whole most central paragraphs
        chosen += [t for t in texts if t not in chosen][: examples - len(chosen)]
    description = (f"{claim} " if claim else "") + (
        f"(Promoted from discovered narrative {narrative_id}; distinctive terms: {', '.join(terms) or 'none'}.)")
    entry = {"id": new_id, "label": label or shown or claim, "description": description, "examples": chosen}
    text, kept = appended_text(path.read_text(encoding="utf-8"), entry)
    if not kept:
        logging.getLogger(__name__).warning("%s: the entry could not be appended as text; the codebook was re-written "
                                            "whole and its comments dropped", path)
    tmp, _ = stage_codebook(path, text)
    try:
        record_decision(con, narrative_id, "promote", new_id, before_commit=lambda: commit_codebook(tmp, path))
    finally:
        discard(tmp)  # already renamed on success
    return chosen
