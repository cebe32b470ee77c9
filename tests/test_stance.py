import pytest

from narrative_tracker.evaluation.evaluate import evaluate_stance
from narrative_tracker.narratives.stance import classify_stance


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("The West organised the riots to topple a government friendly to Moscow.", "asserts"),
        ("State TV claimed that Western intelligence services had organised the riots.", "reports"),
        ("According to the ministry, foreign-trained militants took part in the attacks.", "reports"),
        ("There is no evidence that foreign militants took part; the claim is a recurring pro-Kremlin narrative.", "refutes"),
        ("CLAIM: NATO organised the protests. VERDICT: False.", "refutes"),
        ("Officials denied the allegations of an Islamist plot.", "refutes"),
        ("The United States and its allies are behind the coup attempt.", "asserts"),  # 'States' is not 'stated'
    ],
)
def test_stance_cues(text, stance):
    result = classify_stance(text)
    assert result.stance == stance
    assert (result.cue is None) == (stance == "asserts")


def test_stance_quality_is_measured_on_the_labelled_set():
    result = evaluate_stance()
    assert result["all"]["pairs"] == sum(result[p]["pairs"] for p in ("tune", "test"))
    assert result["test"]["accuracy"] >= 0.7
    assert result["test"]["asserts"]["precision"] >= 0.8
