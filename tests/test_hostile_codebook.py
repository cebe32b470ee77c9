"""A codebook is validated by a schema before anything uses it (issue 27, defect 10): types and ranges (no NaN or
infinity, no string split into characters), YAML alias bombs refused before they expand, and keyword patterns that
backtrack catastrophically refused at load or stopped by a time limit when they run. Every mistake is a
``CodebookError`` naming the place; a hostile codebook runs in a child process with a memory and time limit, so a
regression fails the test instead of the machine."""

import subprocess
import sys
import textwrap
import time

import pytest
from conftest import REPO

from narrative_tracker.narratives.codebook import CodebookError, load_codebook

ENTRY = "narratives:\n  - id: ok\n    examples: [One claim.]\n"


@pytest.mark.parametrize(("extra", "message"), [
    ("    keywords: isis\n", "keywords"),  # a string, once split into the patterns i, s, i, s
    ("    keywords: [isis, 3]\n", "keywords"),
    ("    threshold: .nan\n", "threshold"),
    ("    threshold: .inf\n", "threshold"),
    ("    threshold: '0.5'\n", "threshold"),
    ("    threshold: true\n", "threshold"),
    ("    threshold: 7\n", "threshold"),
    ("    calibration: [.nan, 1]\n", "calibration"),
    ("    calibration: [1, 2, 3]\n", "calibration"),
    ("    label: [a, list]\n", "label"),
    ("    keyword: [typo]\n", "keyword"),
    ("    keywords: ['" + "a" * 2000 + "']\n", "keywords"),
])
def test_a_bad_narrative_field_is_refused(tmp_path, extra, message):
    path = tmp_path / "cb.yaml"
    path.write_text(ENTRY + extra)
    with pytest.raises(CodebookError, match=message) as info:
        load_codebook(path)
    assert "narratives[0]" in str(info.value)


@pytest.mark.parametrize(("detection", "message"), [
    ("default_threshold: .nan", "default_threshold"),
    ("default_threshold: '0.4'", "default_threshold"),
    ("top_k: 0", "top_k"),
    ("top_k: 1.5", "top_k"),
    ("keyword_bonus: -.inf", "keyword_bonus"),
    ("context_weight: 2", "context_weight"),
    ("operating_point: 5", "operating_point"),
])
def test_a_bad_detection_setting_is_refused(tmp_path, detection, message):
    path = tmp_path / "cb.yaml"
    path.write_text(f"detection: {{{detection}}}\n" + ENTRY)
    with pytest.raises(CodebookError, match=message):
        load_codebook(path)


def test_examples_must_be_a_list_of_statements(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("narratives:\n  - id: ok\n    examples: One claim written as a string.\n")
    with pytest.raises(CodebookError, match="examples"):
        load_codebook(path)


def test_text_fields_are_sanitised(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text('narratives:\n  - id: ok\n    label: "Red\\e[31m label\\0"\n    description: "a\\x01b"\n'
                    '    examples: ["One\\x1b[2J claim."]\n')
    narrative = load_codebook(path).narratives[0]
    assert (narrative.label, narrative.description, narrative.examples) == ("Red[31m label", "ab", ("One[2J claim.",))


def _child(code, tmp_path, timeout=60, memory_mb=1500):
    """Run ``code`` in a child with an address-space limit; ``(returncode, stderr, seconds)``."""
    script = "import resource\nresource.setrlimit(resource.RLIMIT_AS, ({0}, {0}))\n".format(memory_mb * 2**20) + textwrap.dedent(code)
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stderr, time.perf_counter() - began


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\nnarratives:\n  - id: ok\n    description: *a9\n    examples: [One claim.]\n")
    status, err, seconds = _child(f"""
        from narrative_tracker.narratives.codebook import CodebookError, load_codebook
        try:
            load_codebook({str(bomb)!r})
        except CodebookError as exc:
            assert "alias" in str(exc), exc
            raise SystemExit(3)
        """, tmp_path)
    assert status == 3, err[-2000:]
    assert seconds < 30


def test_a_catastrophic_keyword_is_refused_at_load(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text(ENTRY + "    keywords: ['(a|aa)+$']\n")
    status, err, _ = _child(f"""
        from narrative_tracker.narratives.codebook import CodebookError, load_codebook
        try:
            load_codebook({str(path)!r})
        except CodebookError as exc:
            assert "too long" in str(exc), exc
            raise SystemExit(3)
        """, tmp_path)
    assert status == 3, err[-2000:]


def test_nested_quantifiers_run_in_linear_time(tmp_path):
    """The audit's (a+)+$ hung Python's re; the regex engine matches it without backtracking, so it loads and runs."""
    path = tmp_path / "cb.yaml"
    path.write_text(ENTRY + "    keywords: ['(a+)+$']\n")
    status, err, seconds = _child(f"""
        from narrative_tracker.narratives.codebook import load_codebook
        narrative = load_codebook({str(path)!r}).narratives[0]
        assert narrative.keyword_matches(["a" * 5000 + "!", "aaa"]) == [False, True]
        """, tmp_path)
    assert status == 0, err[-2000:]
    assert seconds < 30


def test_a_slow_keyword_that_passes_the_load_check_is_stopped_when_it_runs(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text(ENTRY + "    keywords: ['q(b|bb)+$', 'plain']\n")  # slow only on 'q' followed by many b
    status, err, seconds = _child(f"""
        from narrative_tracker.narratives.codebook import load_codebook
        narrative = load_codebook({str(path)!r}).narratives[0]
        texts = ["q" + "b" * 60 + "!"] * 200 + ["a plain text", "qbb"]
        result = narrative.keyword_matches(texts)
        assert not any(result[:200])  # timed out: no match
        assert result[-2] is True  # the other pattern still runs on every text
        assert result[-1] is False  # the slow one was skipped for the rest of the call (and a warning logged)
        """, tmp_path)
    assert status == 0, err[-2000:]
    assert seconds < 30
