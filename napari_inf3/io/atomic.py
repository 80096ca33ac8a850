"""Every file napari-inf3 writes goes through here: a temporary file in the same folder, flushed and
fsynced, then ``os.replace``\\ d over the target. A failure part-way (disk full, file too large,
permission denied) leaves the old file byte for byte and no temporary file behind.

- :func:`atomic_path` — a context manager yielding a temporary path for writers that want a file
  name (tifffile, numpy, matplotlib, spectral); on success the file is fsynced and moved into place.
- :func:`atomic_write_text` / :func:`atomic_write_bytes` — the common one-shot cases.
- :func:`atomic_group` — several files that belong together (ENVI's data file and header): all are
  written to temporaries first, then moved into place data first, header last.
- :func:`save_figure` — a matplotlib figure, the format taken from the target's suffix.

Temporary files are named ``.<name>.<host>-<pid>-<random>.tmp`` beside the target. A process killed
mid-write (SIGKILL, power loss) cannot remove its own; the next write to the same name removes those
whose process (on this machine) is gone. The new file gets the old file's permissions, or the usual
ones (``0666`` less the umask) when there was none.

Errors from the operating system become :class:`WriteError` (a :class:`~napari_inf3.data.cube.CubeError`,
so the CLI and the docks report it like any bad input, and an :class:`OSError`, so code that catches
those still does), naming the path and the reason in words; ``errno`` keeps the operating system's code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import stat
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..data.cube import CubeError

__all__ = ["WriteError", "atomic_path", "atomic_group", "atomic_write_text", "atomic_write_bytes", "save_figure",
           "figure_target", "describe_os_error"]

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
    errno.EIO: "an input/output error (the disk or the network file system failed)",
}


class WriteError(CubeError, OSError):
    """A file could not be written; the old file (if any) is unchanged and nothing was left behind.

    A :class:`~napari_inf3.data.cube.CubeError` (the message starts with the path) and an :class:`OSError`
    (``errno`` is the operating system's code, ``filename`` the path)."""

    def __init__(self, message: str, path: str | Path | None = None, errno_: int | None = None):
        CubeError.__init__(self, message, path)
        self._message = message
        self.errno = errno_
        self.strerror = message
        self.filename = self.path

    def __str__(self) -> str:  # the CubeError message ("<path>: <what>"), not OSError's "[Errno n] ..."
        return BaseException.__str__(self)

    def __reduce__(self):  # pickles (multiprocessing, logging) with its path and code
        return (type(self), (self._message, self.path, self.errno))


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


#: this machine in temporary names (4 hex digits), so a folder shared over the network is swept only
#: of the temporaries of this machine's dead processes
_HOST = f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFF:04x}"
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<host>[0-9a-f]{4})-(?P<pid>\d+)-[0-9a-f]+\.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: another user's process
        return True
    return True


def _sweep_stale(target: Path) -> None:
    """Remove the temporaries a killed writer of ``target`` (on this machine) left behind."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return
    prefix = f".{target.name}.{_HOST}-"
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if not entry.name.startswith(prefix):
                continue
            m = _TEMP.fullmatch(entry.name)
            if (m and m["name"] == target.name and m["host"] == _HOST and int(m["pid"]) != os.getpid()
                    and not _alive(int(m["pid"]))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _new_temp(target: Path) -> Path:
    """An empty new file beside ``target``: created with mode 0666 (the umask applies), or with the
    mode of the file it will replace."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise WriteError(f"cannot write here: {describe_os_error(exc)}", target, exc.errno) from None
        os.close(fd)
        try:
            st = os.stat(target)
            if stat.S_ISREG(st.st_mode):
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
        except OSError:
            pass
        return tmp
    raise WriteError("cannot write here: no free temporary name", target, errno.EEXIST)


def _short_write_cause(tmp: Path) -> int | None:
    """The likely errno of a short write that a library reported without one (numpy's ``tofile``:
    "N requested and M written"; tifffile the same): the size limit (``RLIMIT_FSIZE``) reached, or
    no free space left."""
    try:
        size = os.stat(tmp).st_size
    except OSError:
        return None
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if soft != resource.RLIM_INFINITY and size >= soft - 65536:
            return errno.EFBIG
    except (ImportError, OSError, ValueError):
        pass
    try:
        st = os.statvfs(tmp.parent)
        if st.f_bavail * st.f_frsize < (1 << 20):
            return errno.ENOSPC
    except (AttributeError, OSError):
        pass
    return None


def _remove(paths) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            os.unlink(p)


@contextlib.contextmanager
def atomic_group(targets: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary paths for ``targets`` (same folders); on success each is fsynced and replaces its
    target **in the order given** (put a header last), on any failure all temporaries are removed
    and every target is left as it was. Yields the temporary paths in the same order.

    Targets that are symbolic links are written through (the file they point to is replaced)."""
    dests = [Path(t) for t in targets]
    dests = [t.resolve() if t.is_symlink() else t for t in dests]
    temps: list[Path] = []
    replaced = 0
    try:
        for t in dests:
            _sweep_stale(t)
            temps.append(_new_temp(t))
        yield temps
        for tmp in temps:
            _fsync_file(tmp)
        for tmp, t in zip(temps, dests, strict=True):
            os.replace(tmp, t)
            replaced += 1
        for folder in {t.parent for t in dests}:
            _fsync_dir(folder)
    except BaseException as exc:
        if isinstance(exc, WriteError) or not isinstance(exc, OSError):
            _remove(temps[replaced:])
            raise
        names = {str(tmp): t for tmp, t in zip(temps, dests, strict=False)}  # a failure may come before every temp
        where = names.get(str(getattr(exc, "filename", None)), names.get(str(getattr(exc, "filename2", None))))
        code = exc.errno
        if code is None:  # a short write reported without errno: find out why before the evidence goes
            code = next((c for tmp in temps[replaced:] if (c := _short_write_cause(tmp))), None)
        _remove(temps[replaced:])
        where = where or (dests[replaced] if replaced < len(dests) else dests[0])
        if replaced:
            state = f"{', '.join(t.name for t in dests[:replaced])} already replaced, the rest unchanged"
        else:
            state = "the old file is unchanged" if where.exists() else "nothing was left behind"
        reason = _REASONS[code] if code in _REASONS else describe_os_error(exc)
        raise WriteError(f"could not be written: {reason}; {state}", where, code) from exc


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


def figure_target(fname, fmt: str | None = None) -> tuple[Path, str]:
    """``(path, format)`` as matplotlib's ``savefig(fname, format=fmt)`` would write them: the format
    from ``fmt`` or the suffix; a name without a suffix gets matplotlib's default format and its suffix."""
    path = Path(os.fspath(fname))
    fmt = fmt or path.suffix[1:].lower()
    if not fmt:
        from matplotlib import rcParams

        fmt = rcParams["savefig.format"]
        path = path.with_name(f"{path.name}.{fmt}")
    return path, fmt


def save_figure(fig, path: str | Path, **savefig_kwargs) -> Path:
    """``fig.savefig(path)`` atomically, the format as :func:`figure_target` says. Returns the path written."""
    from matplotlib.figure import Figure

    path, fmt = figure_target(path, savefig_kwargs.pop("format", None))
    with atomic_path(path) as tmp:
        Figure.savefig(fig, tmp, format=fmt, **savefig_kwargs)
    return path
