"""The learning code does not depend on the evaluation code: no import path leads from ``narrative_tracker.narratives``
to ``narrative_tracker.evaluation`` (evaluation measures the narratives code, so the reverse edge exists and an
edge this way would make a cycle). Imports inside functions count too. Loaders of labelled material that both use
live in ``narrative_tracker/material.py``."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "narrative_tracker"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved), at any depth of the file."""
    out = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path, name) if m in files} for name, path in files.items()}


def _reachable(graph: dict[str, set[str]], start: str) -> dict[str, str]:
    """Modules reachable from ``start``, each with the module that imported it first (to print a path)."""
    seen, todo = {start: ""}, [start]
    while todo:
        current = todo.pop()
        for nxt in sorted(graph.get(current, ())):
            if nxt not in seen:
                seen[nxt] = current
                todo.append(nxt)
    return seen


def _path(seen: dict[str, str], end: str) -> list[str]:
    chain = [end]
    while seen[chain[-1]]:
        chain.append(seen[chain[-1]])
    return chain[::-1]


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "narrative_tracker.material" in graph["narrative_tracker.narratives.heads"]  # imported inside functions
    assert "narrative_tracker.narratives.detect" in graph["narrative_tracker.evaluation.evaluate"]


def test_no_import_path_from_narratives_to_evaluation():
    graph = import_graph()
    offending = []
    for module in sorted(m for m in graph if m.startswith("narrative_tracker.narratives")):
        seen = _reachable(graph, module)
        offending += [" -> ".join(_path(seen, m)) for m in seen if m.startswith("narrative_tracker.evaluation")]
    assert not offending, "learning code imports evaluation code:\n" + "\n".join(offending[:10])


def test_material_loaders_import_neither_side():
    seen = _reachable(import_graph(), "narrative_tracker.material")
    assert not [m for m in seen if m.startswith(("narrative_tracker.evaluation", "narrative_tracker.narratives"))]
