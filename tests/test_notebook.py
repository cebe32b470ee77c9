"""The notebook runs top to bottom against a real database (so it never rots)."""


import nbformat
from conftest import REPO, SAMPLE, run_stages
from nbclient import NotebookClient


def test_explore_notebook_executes(tmp_path, monkeypatch, topic_embedder, tiny_codebook):
    from narrative_tracker import db

    path = tmp_path / "nb.duckdb"
    with db.connection(path) as con:
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "empty.txt").write_bytes(b"")
        run_stages(con, [SAMPLE, tmp_path / "bad"], topic_embedder, tiny_codebook)
    db.publish(path)
    monkeypatch.setenv("NARRATIVES_DB", str(path))
    notebook = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = " ".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "foreign_hand" in text and "empty file" in text
    assert any("vega" in str(o.get("data", {}).get("text/html", "")) for o in outputs)  # the chart rendered
