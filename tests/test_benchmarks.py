"""The benchmark scripts run (on tiny sizes) and measure the real code paths; speed itself is never asserted."""

import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))


def test_daily_view_benchmark_builds_a_consistent_database(tmp_path):
    import daily_view

    from narrative_tracker import db, schema

    built = daily_view.build(tmp_path / "d.duckdb", 20_000, schema.refresh_daily_counts)
    assert (built["rows"], built["paragraphs"], built["articles"]) == (20_000, 16_000, 2_000)
    with db.connection(tmp_path / "d.duckdb", read_only=True) as con:
        assert con.execute("SELECT sum(paragraphs) FROM narrative_daily").fetchone()[0] == con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT paragraph_id, narrative_id FROM paragraph_narratives)").fetchone()[0]
    assert set(daily_view.time_queries(tmp_path / "d.duckdb", repeat=1)) == set(daily_view.QUERIES)


def test_discovery_benchmark_data_has_the_narratives_it_claims():
    import discovery_scale
    import numpy as np

    vectors, texts, truth = discovery_scale.synthetic(3_000, 5)
    assert vectors.shape == (3_000, 384) and len(texts) == 3_000
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert 0.2 < (truth < 0).mean() < 0.4
    same = truth[:-1] == truth[1:]
    pair = (vectors[:-1] * vectors[1:]).sum(axis=1)
    # paragraphs of one narrative are paraphrase-close; background ones are not
    assert pair[same & (truth[:-1] >= 0)].mean() > 0.3 > pair[truth[:-1] < 0].mean()


def test_the_desks_measure_scores_tags_the_way_the_issue_defines_them():
    """NMI against the first tag with outliers as one class; purity = share of a cluster's claims carrying its most
    common tag (any of their tags); outlier share."""
    from narrative_tracker.evaluation.evaluate import tag_agreement

    tags = [["a", "x"], ["b", "a"], ["a"], ["c"], ["c", "d"], ["d"]]
    got = tag_agreement([0, 0, 0, 1, 1, -1], tags)
    assert got["purity"] == 1.0  # 'a' is carried by all three of cluster 0, 'c' by both of cluster 1
    assert got["purity_first_tag"] == round(4 / 5, 3)
    assert got["outlier_share"] == round(1 / 6, 3) and got["clusters"] == 2 and got["items"] == 6
    assert 0 < got["nmi"] < 1


def test_the_discovery_benchmark_runs_the_cli_and_scores_each_claims_most_specific_narrative(tmp_path):
    """benchmarks/discovery_quality.py measures the product as a user runs it: `narratives run --input posts.csv
    --text-column title` in a subprocess (here on the 400-claim fixture), then each claim's discovered narrative,
    else its codebook narrative, else none."""
    import csv

    import discovery_quality
    from conftest import FIXTURES

    corpus = FIXTURES / "euvsdisinfo" / "posts.csv"
    db = tmp_path / "eu.duckdb"
    assert discovery_quality.run_cli(corpus, db, tmp_path / "run.log") > 0
    assert "discovered_narratives" in (tmp_path / "run.log").read_text()
    with open(corpus, newline="", encoding="utf-8") as handle:
        tagged = sum(1 for row in csv.DictReader(handle) if row["keywords"])
    measure = discovery_quality.desk_measure(db, since=None)
    most, found, book = measure["most_specific"], measure["discovered"], measure["codebook"]
    assert most["items"] == found["items"] == book["items"] == tagged
    assert found["clusters"] >= 5 and most["outlier_share"] <= min(found["outlier_share"], book["outlier_share"])
    assert most["clusters"] <= found["clusters"] + book["clusters"]
    rows = discovery_quality.claims(db, since="2021-01-01")
    texts, vectors, model = discovery_quality.claim_vectors(db, rows)
    assert model == "all-MiniLM-L6-v2" and len(texts) == vectors.shape[0] == len(rows) > 0


def test_a_benchmark_without_its_dataset_says_which_option_and_stops_with_status_2(tmp_path):
    """A clone without ../shared: each benchmark names the option, the dataset and the path it tried, in one line,
    before loading any model (exit status 2, nothing written)."""
    import subprocess

    out = tmp_path / "out.json"
    cases = [("embed_speed.py", "--semeval", "SemEval-2025 Task 10", []),
             ("end_to_end.py", "--corpus", "EUvsDisinfo 2015-2021 posts.csv", []),
             ("ui_backfill.py", "--corpus", "EUvsDisinfo 2015-2021 posts.csv", ["--out", str(out)]),
             ("detection.py", "--fnc", "FNC-1", ["--out", str(out)])]
    for script, option, dataset, extra in cases:
        missing = tmp_path / f"no{option}"
        done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), option, str(missing), *extra],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (script, done.stderr)
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"{script}: {option}: {missing} does not exist") and dataset in line, line
        assert f"give its path with {option} PATH" in line and done.stdout == ""
    assert not out.exists()


def test_stage_costs_times_every_stage_on_the_fixture_corpus(tmp_path):
    """The stage-by-stage timing runs the real library calls (real model) on the attributed 400-claim fixture."""
    import json

    import stage_costs

    from conftest import FIXTURES

    out = tmp_path / "stages.json"
    report = stage_costs.main(["--corpus", str(FIXTURES / "euvsdisinfo" / "posts.csv"), "--out", str(out)])
    assert json.loads(out.read_text()) == report
    assert set(report["seconds"]) == {"ingest", "paragraphs", "model_load", "embeddings", "codebook", "detection"}
    assert report["paragraphs"] == 400 and 0 < report["texts_embedded"] <= 400
    assert report["days_with_articles"] <= report["days"]


def test_batch_composition_compares_one_call_with_two_halves(tmp_path):
    """Identical vectors give no difference; the real model on the fixture corpus reports both halves and a
    cosine no lower than bf16 precision allows."""
    import batch_composition
    import numpy as np

    from conftest import FIXTURES

    same = np.eye(3, dtype=np.float32)
    assert batch_composition.compare(same, same) == {"vectors": 3, "differing_share": 0.0, "max_abs_diff": 0.0, "min_cosine": 1.0}
    shifted = same.copy()
    shifted[0, 0] = 0.5
    assert batch_composition.compare(same, shifted)["differing_share"] == round(1 / 3, 4)
    report = batch_composition.main(["--corpus", str(FIXTURES / "euvsdisinfo" / "posts.csv"), "--split-day", "2021-01-25",
                                     "--precisions", "bf16", "--out", str(tmp_path / "b.json")])
    assert all(n > 50 for n in report["halves"]) and report["results"]["bf16"]["min_cosine"] > 0.999


def test_pair_speed_times_the_shipped_pair_model_in_each_precision():
    import pair_speed

    out = pair_speed.pairs_per_second(24)
    assert out["pairs"] == 24 and out["fp32"]["pairs_per_second"] > 0 and out["pair_model"].startswith("pair:")
    if "bf16" in out:
        assert 0.5 <= out["bf16_same_label"] <= 1.0
