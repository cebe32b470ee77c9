"""A non-editable install works: build the wheel, install it into a fresh virtual environment, run the sample.

The wheel must carry everything the pipeline reads at run time (``sql/``, the bundled codebook, the labelled
paragraphs, the stance model) because an installed package has no checkout beside it. The fresh environment gets
the third-party dependencies from the running environment's site-packages through a ``.pth`` line (installing
torch and the rest again would take minutes and the network); that line does not process the running
environment's own ``.pth`` files, so the editable install of this checkout is not visible there — the test checks
that the code it ran came from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", "*.duckdb", "*.duckdb.wal", "*.publishing",
                                 ".dagster_home", "build", "*.egg-info", ".pytest_cache", "lake", "report*.html")


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{cmd[:4]} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src") / "narrative-tracker"
    shutil.copytree(REPO, src, ignore=IGNORED)  # build outside the checkout: no build/ or egg-info left in it
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)])
    (built,) = out.glob("narrative_tracker-*.whl")
    return built


def test_the_wheel_carries_the_sql_the_codebook_the_labelled_set_and_the_stance_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (REPO / "sql" / "schema").glob("*.sql"):
        assert f"narrative_tracker/sql/schema/{schema.name}" in names
    for q in (REPO / "sql" / "queries").glob("*.sql"):
        assert f"narrative_tracker/sql/queries/{q.name}" in names
    assert "narrative_tracker/codebook/narratives.yaml" in names
    assert "narrative_tracker/labelled/paragraphs.csv" in names
    assert "narrative_tracker/narratives/stance_artifact/stance_model.npz" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "narratives = pipelines.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.slow
def test_a_wheel_install_runs_the_sample_corpus_end_to_end(wheel, tmp_path):
    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)])
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # the wheel first, then the dependencies of the running environment (its .pth files are not processed)
    (site / "deps.pth").write_text(f"{target}\n{sysconfig.get_paths()['purelib']}\n")

    work = tmp_path / "work"  # neither the checkout nor the wheel: the run writes only here
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NARRATIVES_", "DAGSTER_HOME", "PYTHONPATH"))}
    origin = _run([str(python), "-c", "import narrative_tracker.db as d, pipelines.cli as c; print(d.sql_dir()); print(c.__file__)"],
                  cwd=work, env=env).stdout.split()
    assert all(Path(p).is_relative_to(target) for p in origin), origin

    done = _run([str(python), "-m", "pipelines.cli", "run", "--input", str(REPO / "data" / "sample"), "--db", "sample.duckdb"],
                cwd=work, env=env, timeout=900)
    assert "Traceback" not in done.stderr
    with duckdb.connect(str(work / "sample.duckdb"), read_only=True) as con:
        articles, paragraphs, embedded = con.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs),"
            " (SELECT count(*) FROM paragraph_embeddings)").fetchone()
        codebook_hits = con.execute(
            "SELECT count(DISTINCT narrative_id) FROM paragraph_narratives pn JOIN narratives n USING (narrative_id)"
            " WHERE n.origin = 'codebook'").fetchone()[0]
    sample_files = [p for p in (REPO / "data" / "sample").rglob("*") if p.is_file()]
    assert articles >= len(sample_files) // 2 and paragraphs > articles
    assert embedded == paragraphs
    assert codebook_hits == 3  # the three bundled narratives are found in the sample, read from the packaged codebook

    summary = _run([str(python), "-m", "pipelines.cli", "summary", "--db", "sample.duckdb"], cwd=work, env=env)
    assert f"{articles} articles" in summary.stdout, summary.stdout
