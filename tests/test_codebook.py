import pytest

from narrative_tracker.narratives.codebook import CodebookError, load_codebook


def test_bundled_codebook_has_the_three_narratives():
    book = load_codebook()
    assert book.ids == ["foreign_hand", "isis_infiltration", "csto_justification"]
    for narrative in book.narratives:
        assert len(narrative.examples) >= 5 and narrative.description and narrative.label
        assert 0 < book.threshold(narrative.id) < 1


def test_fingerprint_changes_with_content(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("narratives:\n  - id: a_b\n    examples: [one claim]\n")
    first = load_codebook(path).fingerprint
    path.write_text("narratives:\n  - id: a_b\n    examples: [another claim]\n")
    assert load_codebook(path).fingerprint != first


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("narratives:\n  - id: Bad Id\n    examples: [x]\n", "lower_snake_case"),
        ("narratives:\n  - id: ok\n    examples: []\n", "at least one"),
        ("narratives:\n  - id: ok\n    examples: [x]\n  - id: ok\n    examples: [y]\n", "duplicate"),
        ("narratives:\n  - id: ok\n    examples: [x]\n    keywords: ['(unclosed']\n", "regular expression"),
        ("detection:\n  nonsense: 1\nnarratives:\n  - id: ok\n    examples: [x]\n", "unknown detection"),
        ("just a string", "mapping"),
        ("narratives:\n  - id: ok\n    examples: [x]\n    since: next tuesday\n", "since"),
    ],
)
def test_invalid_codebooks_are_explained(tmp_path, text, message):
    path = tmp_path / "cb.yaml"
    path.write_text(text)
    with pytest.raises(CodebookError, match=message):
        load_codebook(path)
