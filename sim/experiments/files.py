"""Writing result files so that nothing already written is lost or half-written.

- A file is written to a temporary name beside it, then renamed: it is complete or absent
  (:func:`write_atomic`).
- A folder of results is filled under a temporary name beside it, then put in place of the old
  one with one rename: a reader sees the old results or the new ones, never a mix
  (:func:`replace_folder`).
- Temporary names carry their writer (host and process id), so a tidy-up removes only
  leftovers of processes that are gone (:func:`stale_temporary`), never another live
  command's files.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError
from sim.version import __version__

if TYPE_CHECKING:
    import pandas as pd

TMP_SUFFIX = ".tmp"


def code_version() -> str:
    """Package version, plus the git commit when run from a checkout."""
    version = __version__
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                capture_output=True, text=True, timeout=5, check=False,
            ).stdout.strip()
            if commit:
                version = f"{version}+g{commit}"
        except (OSError, subprocess.SubprocessError):
            pass
    return version


# -- who wrote a temporary file -------------------------------------------------------------


def host_tag() -> str:
    """A short, file-name-safe tag of this machine."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def owner_tag() -> str:
    """``h<host>p<pid>``: the writer of a temporary file (this process)."""
    return f"h{host_tag()}p{os.getpid()}"


def temporary_name(name: str) -> str:
    """A hidden temporary name for ``name`` that names its writer:
    ``.<name>.<owner>-<random>.tmp``."""
    return f".{name}.{owner_tag()}-{secrets.token_hex(4)}{TMP_SUFFIX}"


def _owner_of(path: Path) -> tuple[str, int] | None:
    """(host tag, pid) of a temporary file's writer, or None for a name of another form."""
    name = path.name
    if not (name.startswith(".") and name.endswith(TMP_SUFFIX)):
        return None
    tag = name[: -len(TMP_SUFFIX)].rsplit(".", 1)[-1].split("-", 1)[0]
    if not (tag.startswith("h") and "p" in tag):
        return None
    host, _, pid = tag[1:].partition("p")
    return (host, int(pid)) if pid.isdigit() else None


def process_alive(pid: int) -> bool:
    """Whether a process of this machine with ``pid`` runs."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has ended but not yet been reaped (Linux ``/proc``): a killed worker whose
    parent is gone can stay a zombie for a while, and it writes nothing any more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def stale_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file or folder whose writer is gone: a process of this
    machine that no longer runs (or this process itself). Names without a writer (older
    versions) count as stale; those of other machines never do."""
    owner = _owner_of(path)
    if owner is None:
        return path.name.startswith(".") and path.name.endswith(TMP_SUFFIX)
    host, pid = owner
    if host != host_tag():
        return False
    return pid == os.getpid() or not process_alive(pid)


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the stale temporary files and folders in ``folder`` (see
    :func:`stale_temporary`)."""
    for path in folder.glob(f".*{TMP_SUFFIX}"):
        if stale_temporary(path):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


# -- checking where to write -----------------------------------------------------------------


def check_output_folder(folder: Path, source: str = "--out") -> None:
    """An output folder that exists must be a folder, and one that does not must be
    creatable.

    Raises:
        InputError: naming ``source`` (the option) and what is wrong.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(source, None, f"{folder} exists and is not a folder")
    parent = folder if folder.exists() else next((p for p in folder.parents if p.exists()),
                                                 Path("."))
    if not parent.is_dir():
        raise InputError(source, None, f"cannot create a folder under {parent}")


# -- writing ------------------------------------------------------------------------------------


def umask() -> int:
    """The process's file mode creation mask (022 on most systems)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def share_like_new_file(path: str | Path) -> None:
    """Give a finished temporary file the mode a new file gets (0644 under umask 022) before it
    is renamed into place: writers that make private temporary files (mode 0600) would
    otherwise leave results that colleagues sharing the folder cannot read."""
    os.chmod(path, 0o666 & ~umask())


def write_atomic(path: str | Path, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``
    atomically: the file is either complete or absent, never half-written, and has the mode
    the umask gives."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / temporary_name(path.name)
    try:
        write(str(tmp))
        share_like_new_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to ``path`` as Parquet via a temporary file and an atomic rename."""
    return write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_json_atomic(data: Any, path: str | Path) -> Path:
    """Write ``data`` as JSON via a temporary file and an atomic rename."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.write("\n")

    return write_atomic(path, write)


def replace_folder(target: str | Path, fill: Callable[[Path], Any]) -> Path:
    """Fill a new folder with ``fill(folder)`` and put it in place of ``target`` as one unit.

    The new folder is made beside ``target`` under a temporary name; only when ``fill`` has
    returned does it take ``target``'s place: by an atomic exchange of the two folders where the
    system offers one (Linux ``renameat2``), else by two renames. If ``fill`` fails, the
    temporary folder is removed and ``target`` is untouched.

    Returns:
        ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / temporary_name(target.name)
    os.mkdir(tmp)  # the mode the umask gives, as for any folder the user makes
    try:
        fill(tmp)
        if not target.exists():
            os.rename(tmp, target)
            return target
        if not _exchange(tmp, target):
            old = target.parent / temporary_name(target.name)
            os.rename(target, old)
            os.rename(tmp, target)
            tmp = old
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # now the old folder
    return target


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system lacks it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not on this file system
        return False
    raise OSError(errno, os.strerror(errno), str(b))
