"""Every file napari-inf3 writes goes through here: a temporary file in the same folder, flushed and
fsynced, then ``os.replace``\\ d over the target. A failure part-way (disk full, file too large,
permission denied, a kill) leaves the old file byte for byte and no temporary file behind.

- :func:`atomic_path` — a context manager yielding a temporary path for writers that want a file
  name (tifffile, numpy, matplotlib, spectral); on success the file is fsynced and moved into place.
- :func:`atomic_write_text` / :func:`atomic_write_bytes` — the common one-shot cases.
- :func:`atomic_group` — several files that belong together (ENVI's data file and header): all are
  written to temporaries first, then moved into place data first, header last.

Errors from the operating system become :class:`WriteError` (a :class:`~napari_inf3.cube.CubeError`,
so the CLI and the docks report it like any bad input), naming the path and the reason in words;
``errno`` keeps the operating system's code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..cube import CubeError

__all__ = ["WriteError", "atomic_path", "atomic_group", "atomic_write_text", "atomic_write_bytes", "describe_os_error"]

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is larger than this system allows",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the folder is on a read-only file system",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
}


class WriteError(CubeError):
    """A file could not be written; the old file (if any) is unchanged and nothing was left behind."""

    def __init__(self, message: str, path: str | Path | None = None, errno_: int | None = None):
        CubeError.__init__(self, message, path)
        self.errno = errno_


def describe_os_error(exc: BaseException) -> str:
    """A plain-words reason for an OS error (``'the disk is full'``), else its own text."""
    code = getattr(exc, "errno", None)
    if code in _REASONS:
        return _REASONS[code]
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened (or synced)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_temp(target: Path) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise WriteError(f"cannot write here: {describe_os_error(exc)}", target, exc.errno) from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the output is an ordinary file
    return Path(tmp)


@contextlib.contextmanager
def atomic_group(targets: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary paths for ``targets`` (same folders); on success each is fsynced and replaces its
    target **in the order given** (put a header last), on any failure all temporaries are removed
    and every target is left as it was. Yields the temporary paths in the same order."""
    targets = [Path(t) for t in targets]
    temps: list[Path] = []
    try:
        for t in targets:
            temps.append(_new_temp(t))
        yield temps
        for tmp in temps:
            _fsync_file(tmp)
        for tmp, t in zip(temps, targets):
            os.replace(tmp, t)
        for folder in {t.parent for t in targets}:
            _fsync_dir(folder)
    except WriteError:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    except OSError as exc:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        where = next((t for t, tmp in zip(targets, temps) if str(tmp) in str(exc)), targets[0])
        raise WriteError(f"could not be written: {describe_os_error(exc)}; the old file is unchanged",
                         where, exc.errno) from exc
    except BaseException:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; moved over ``target`` on success."""
    with atomic_group([target]) as (tmp,):
        yield tmp


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns ``path``."""
    return atomic_write_bytes(path, text.encode(encoding))
