"""Which input paths the ingest stage reads, and reading one of them safely.

Every path found under the inputs is *accounted for*: it is read (and becomes articles and/or quarantine
records), or it is listed as skipped with a reason (hidden files and folders, READMEs and licences, links to
folders). Nothing is dropped silently; ``narrative_tracker.ingest.files`` writes the outcome of every path to
``input_files``.

Reading is guarded (``read_input``): a path whose real location is outside its input root (a symbolic link
pointing elsewhere on the machine, or a link in a parent folder), anything that is not a regular file (FIFO,
socket, character or block device) and a file over the size cap are quarantined with a reason and **never
opened**. The check is made on the resolved path, and repeated on the opened file descriptor (``O_NOFOLLOW``,
``O_NONBLOCK``, same device and inode) so that a path swapped between the check and the read is refused
too. At most ``max_bytes + 1`` bytes are ever read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_MB = 50.0

# Files never treated as articles when walking a folder (listed as skipped, with this reason).
SKIP_NAMES = {"readme.md", "readme.txt", "readme", "readme.rst", "license", "license.txt", "license.md",
              "licence", "licence.txt", "copying", ".gitkeep"}


@dataclass(frozen=True)
class InputPath:
    """One path found under the inputs. ``skip`` is the reason it is not read (``None``: read it)."""

    path: Path
    root: Path  # the resolved input root it must stay inside
    skip: str | None = None


@dataclass(frozen=True)
class Refused:
    """A path that was not read, and why (becomes a whole-file quarantine record)."""

    reason: str
    detail: str


def max_file_bytes(megabytes: float | None = None) -> int:
    """The size cap in bytes (``megabytes`` or the default of 50 MB)."""
    mb = DEFAULT_MAX_FILE_MB if megabytes is None else float(megabytes)
    if mb <= 0:
        raise ValueError(f"the file size cap must be positive, got {mb} MB")
    return int(mb * 1024 * 1024)


def walk_inputs(paths: Iterable[str | os.PathLike], root: str | os.PathLike | None = None) -> Iterator[InputPath]:
    """Every path under the given files and folders, each once, in sorted order.

    A folder is its own input root; a file given by name has its folder as root, unless ``root`` is given
    (the inbox sensor passes the inbox). A path that does not exist raises ``FileNotFoundError`` (a typo
    should fail loudly, not ingest nothing). Folders are walked without following links to folders.
    """
    seen: set[str] = set()
    fixed_root = Path(root).resolve() if root is not None else None

    def once(entry: InputPath) -> Iterator[InputPath]:
        key = os.path.abspath(entry.path)
        if key not in seen:
            seen.add(key)
            yield entry

    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(path):
            raise FileNotFoundError(f"input path does not exist: {path}")
        if not path.is_dir():
            yield from once(InputPath(path, fixed_root or Path(os.path.abspath(path)).parent.resolve()))
            continue
        top = fixed_root or path.resolve()
        for folder, dirnames, filenames in os.walk(path, followlinks=False):
            here = Path(folder)
            keep = []
            for name in sorted(dirnames):
                child = here / name
                if child.is_symlink():
                    yield from once(InputPath(child, top, "link to a folder (not followed)"))
                elif name.startswith("."):
                    yield from once(InputPath(child, top, "hidden folder"))
                else:
                    keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                child = here / name
                if name.startswith("."):
                    yield from once(InputPath(child, top, "hidden file"))
                elif name.lower() in SKIP_NAMES:
                    yield from once(InputPath(child, top, "readme or licence file"))
                else:
                    yield from once(InputPath(child, top))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _inside(path: str, root: Path) -> bool:
    return os.path.commonpath([path, str(root)]) == str(root)


def check_input(entry: InputPath, max_bytes: int) -> tuple[str, os.stat_result] | Refused:
    """``(real path, stat)`` when ``entry`` may be read, else why not. Opens nothing."""
    try:
        is_link = os.path.islink(entry.path)
        real = os.path.realpath(entry.path, strict=True)
    except (OSError, RuntimeError) as exc:
        if os.path.islink(entry.path):
            return Refused("unreadable file", f"broken symbolic link: {exc}")
        return Refused("unreadable file", f"{type(exc).__name__}: {exc}")
    if not _inside(real, entry.root):
        what = "a symbolic link" if is_link else "a path through a linked folder"
        return Refused("outside input root", f"{what} resolving to {real}, outside the input folder {entry.root}; not read")
    try:
        st = os.stat(real)
    except OSError as exc:
        return Refused("unreadable file", f"{type(exc).__name__}: {exc}")
    if not stat.S_ISREG(st.st_mode):
        return Refused("special file", f"{_kind(st.st_mode)}, not a regular file; not read")
    if st.st_size > max_bytes:
        return Refused("file over size cap", f"{st.st_size:,} bytes, over the cap of {max_bytes:,} bytes "
                                             "(NARRATIVES_MAX_FILE_MB); not read")
    return real, st


def read_input(entry: InputPath, max_bytes: int) -> bytes | Refused:
    """The bytes of ``entry``, or why it was not read (see the module docstring)."""
    checked = check_input(entry, max_bytes)
    if isinstance(checked, Refused):
        return checked
    real, st = checked
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        return Refused("unreadable file", f"{type(exc).__name__}: {exc}")
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(opened.st_mode):
            return Refused("unreadable file", "the file changed between the check and the read; not read")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return Refused("unreadable file", f"{type(exc).__name__}: {exc}")
    finally:
        os.close(fd)
    if total > max_bytes:
        return Refused("file over size cap", f"grew past the cap of {max_bytes:,} bytes while being read; not kept")
    return b"".join(chunks)
