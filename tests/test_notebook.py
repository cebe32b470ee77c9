"""The notebook runs top to bottom against a real database (so it never rots)."""


import nbformat
from conftest import REPO, SAMPLE, load_cascades, run_stages
from nbclient import NotebookClient


def test_explore_notebook_executes(tmp_path, monkeypatch, topic_embedder, tiny_codebook):
    from narrative_tracker import db
    from narrative_tracker.network.influence import update_influence
    from narrative_tracker.network.simulate import simulate
    from narrative_tracker.network.syndication import update_copies

    path = tmp_path / "nb.duckdb"
    with db.connection(path) as con:
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "empty.txt").write_bytes(b"")
        run_stages(con, [SAMPLE, tmp_path / "bad"], topic_embedder, tiny_codebook)
        load_cascades(con, simulate(seed=7, nodes=20, leaders=2, cascades=120))  # a network to show
        update_copies(con)
        update_influence(con)
    db.publish(path)
    monkeypatch.setenv("NARRATIVES_DB", str(path))
    notebook = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = " ".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "foreign_hand" in text and "empty file" in text
    assert sum("vega" in str(o.get("data", {}).get("text/html", "")) for o in outputs) >= 2  # both charts rendered
    assert "independent_outlets" in text and "amplifier" in text and "X = o" in " ".join(str(o.get("text", "")) for o in outputs)
