"""Codebook edits go through a validated temporary file renamed into place; a failed edit changes nothing."""

import os

import pytest
import yaml
from conftest import run_stages

from narrative_tracker.narratives.codebook import CodebookError, load_codebook
from narrative_tracker.narratives.codebook_edit import appended_text, staged_codebook, write_codebook
from narrative_tracker.narratives.decisions import promote_to_codebook
from narrative_tracker.narratives.discovery_store import discover_narratives
from narrative_tracker.settings import load_settings

PYYAML_BOOK = {  # as `codebook import-semeval` writes it: PyYAML puts "- id:" at column 0
    "version": 1,
    "detection": {"default_threshold": 0.5, "top_k": 1},
    "narratives": [
        {"id": "first_one", "label": "First", "examples": ["The first claim, in words of its own."]},
        {"id": "second_one", "label": "Second", "examples": ["A second claim.", "And another way to say it."]},
    ],
}
HAND_WRITTEN = """# Our codebook — comments must survive an edit.
detection: {default_threshold: 0.6, top_k: 1}
narratives:
  - id: foreign_hand   # the main one
    label: Foreign hand
    examples: ["The West organised it."]
  - id: csto_justification
    label: CSTO justified
    examples:
      - The CSTO deployment was right.
# trailing comment
"""


class Identity:
    def fit_transform(self, vectors):
        return vectors


@pytest.fixture
def discovered(con, tmp_path, topic_embedder, tiny_codebook):
    """A database with discovered narratives (fuel and football paragraphs nobody's codebook claims)."""
    from narrative_tracker.narratives.discover import HdbscanClusterer

    root = tmp_path / "in"
    root.mkdir()
    for i, text in enumerate(["Fuel prices doubled in the north overnight.", "Fuel queues grew at every station in town.",
                              "Drivers say fuel ran out by noon.", "Football results from the weekend were announced.",
                              "The football league final drew crowds.", "A football coach resigned after the loss."]):
        (root / f"{i}.txt").write_text(f"Jan {5 + i}, 2022\n\nHeadline {i}\n\n{text}\n")
    run_stages(con, [root], topic_embedder, tiny_codebook)
    discover_narratives(con, topic_embedder.name, reducer=Identity(), clusterer=HdbscanClusterer(min_cluster_size=2, min_samples=1))
    ids = [r[0] for r in con.execute("SELECT narrative_id FROM narratives WHERE origin = 'discovered' ORDER BY 1").fetchall()]
    assert len(ids) == 2
    return con, ids


def _decisions(con):
    return con.execute("SELECT narrative_id, action, value FROM narrative_decisions").fetchall()


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_promote_into_a_pyyaml_written_codebook(discovered, tmp_path):
    con, (nid, _) = discovered
    path = tmp_path / "semeval.yaml"
    path.write_text(yaml.safe_dump(PYYAML_BOOK, sort_keys=False, allow_unicode=True))
    assert "\n- id: first_one" in path.read_text()
    texts = promote_to_codebook(con, nid, "promoted_one", "Promoted", str(path))
    raw = yaml.safe_load(path.read_text())
    assert [n["id"] for n in raw["narratives"]] == ["first_one", "second_one", "promoted_one"]
    assert raw["narratives"][1] == PYYAML_BOOK["narratives"][1]  # the previous entry did not swallow the new one
    assert raw["narratives"][2]["examples"] == texts and len(texts) == 3
    assert load_codebook(path).narrative("promoted_one").label == "Promoted"
    assert _decisions(con) == [(nid, "promote", "promoted_one")]
    assert _leftovers(tmp_path) == []


def test_promote_keeps_comments_and_honours_the_configured_codebook(discovered, tmp_path, monkeypatch):
    con, (nid, _) = discovered
    path = tmp_path / "configured.yaml"
    path.write_text(HAND_WRITTEN)
    monkeypatch.setenv("NARRATIVES_CODEBOOK", str(path))
    configured = load_settings().codebook  # what every CLI command passes when --codebook is not given
    promote_to_codebook(con, nid, "fuel_prices", "Fuel prices", configured)
    text = path.read_text()
    assert text.startswith(HAND_WRITTEN) and "  - id: fuel_prices" in text
    assert load_codebook(configured).ids == ["foreign_hand", "csto_justification", "fuel_prices"]


def test_an_entry_that_cannot_be_appended_as_text_rewrites_the_file(tmp_path):
    text = "narratives:\n  - id: a_b\n    examples: [one claim]\ndetection: {top_k: 1}\n"
    new, kept = appended_text(text, {"id": "c_d", "examples": ["another claim"]})
    assert not kept
    path = tmp_path / "cb.yaml"
    with staged_codebook(path, new) as book:
        assert book.ids == ["a_b", "c_d"] and book.params.top_k == 1
    assert load_codebook(path).ids == ["a_b", "c_d"]


def test_a_failed_rename_leaves_codebook_and_decisions_untouched(discovered, tmp_path, monkeypatch):
    con, (nid, _) = discovered
    path = tmp_path / "semeval.yaml"
    path.write_text(yaml.safe_dump(PYYAML_BOOK, sort_keys=False))
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        promote_to_codebook(con, nid, "promoted_one", "Promoted", str(path))
    assert path.read_bytes() == before and _leftovers(tmp_path) == []
    assert _decisions(con) == []
    assert con.execute("SELECT coalesce(status, 'active') FROM narratives WHERE narrative_id = $n", {"n": nid}).fetchone()[0] == "active"


def test_an_invalid_edit_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text(HAND_WRITTEN)
    with pytest.raises(CodebookError, match="unchanged.*duplicate id 'foreign_hand'"):
        with staged_codebook(path, appended_text(HAND_WRITTEN, {"id": "foreign_hand", "examples": ["x"]})[0]):
            pass
    with pytest.raises(CodebookError, match="unchanged.*at least one"):
        write_codebook(path, {"narratives": [{"id": "no_examples", "examples": []}]})
    assert path.read_text() == HAND_WRITTEN and _leftovers(tmp_path) == []
