"""Writing codebook files safely (``narrative promote``, ``codebook import-semeval``).

Every edit is written to a temporary file next to the codebook, flushed to disk, **validated by loading it**
(``load_codebook``), and only then atomically renamed over the codebook (``os.replace``). A failed edit
leaves the codebook byte for byte as it was; a reader never sees half a file.

Appending a narrative keeps the file's comments: the entry is appended as text, indented like the file's
own ``narratives:`` items (a codebook written by PyYAML puts ``- id:`` at column 0, a hand-written one often
at column 2). The appended text is accepted only when it reads back as exactly the old codebook plus the new
entry; otherwise (``narratives`` not the last block, flow style, ...) the whole codebook is re-written with
PyYAML, which drops its comments — the caller is told which happened.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from narrative_tracker.narratives.codebook import Codebook, CodebookError, load_codebook


def _dump(value) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=110)


def appended_text(text: str, entry: dict) -> tuple[str, bool]:
    """``(new text, comments kept)``: the codebook ``text`` with ``entry`` added to its ``narratives``."""
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict) or not isinstance(raw.get("narratives"), list):
        raise CodebookError("the codebook has no 'narratives' list to append to")
    wanted = dict(raw, narratives=[*raw["narratives"], entry])
    root = yaml.compose(text)
    node = next((v for k, v in root.value if k.value == "narratives"), None)  # checked as a mapping above
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        dash = node.start_mark.column
        block = "\n".join((" " * dash + line) if line else line for line in _dump([entry]).splitlines())
        candidate = text.rstrip("\n") + "\n" + block + "\n"
        try:
            if yaml.safe_load(candidate) == wanted:
                return candidate, True
        except yaml.YAMLError:
            pass
    return _dump(wanted), False


def stage_codebook(path: str | os.PathLike, text: str) -> tuple[str, Codebook]:
    """Write ``text`` to a temporary file beside ``path``, flush it and validate it by loading it.

    Returns ``(temporary path, codebook)``; ``commit_codebook`` puts it in place. On an invalid text the
    temporary file is removed and ``CodebookError`` says why; ``path`` is untouched either way.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        try:
            book = load_codebook(tmp)
        except CodebookError as exc:
            raise CodebookError(f"the edited codebook would not be valid, {path} is unchanged: {exc}") from exc
    except BaseException:
        discard(tmp)
        raise
    return tmp, book


def commit_codebook(tmp: str, path: str | os.PathLike) -> None:
    """Atomically replace ``path`` with the staged file ``tmp`` (and make the rename durable)."""
    path = Path(path)
    try:
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def discard(tmp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


@contextlib.contextmanager
def staged_codebook(path: str | os.PathLike, text: str) -> Iterator[Codebook]:
    """``stage_codebook`` as a block: the codebook is replaced when the block ends without an error (a caller
    can record its decision inside it, and a failure there leaves the codebook untouched)."""
    tmp, book = stage_codebook(path, text)
    try:
        yield book
    except BaseException:
        discard(tmp)
        raise
    commit_codebook(tmp, path)


def write_codebook(path: str | os.PathLike, value: dict) -> Codebook:
    """Write a whole codebook (e.g. an imported taxonomy) safely; returns it as loaded."""
    with staged_codebook(path, _dump(value)) as book:
        pass
    return Codebook(book.narratives, book.params, str(path))
