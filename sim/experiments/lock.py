"""The lock of an experiment folder: ``DIR/.lock`` names the one command that works in the
folder (its process id, host and a random token its workers check before they store a run).

Taking it is atomic (:func:`take_lock`): of many commands that try at the same instant exactly
one gets it; a lock left by a command that died is taken over, one of another machine never.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import socket
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.experiments.files import process_alive, temporary_name

LOCK = ".lock"


def utc_now() -> str:
    """The current time, UTC, to the second (ISO 8601)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def take_lock(path: Path) -> str:
    """Take the folder's lock; returns its token (the lock names the command that holds it:
    its process, host and a random token its workers check before they store a run).

    The lock appears whole or not at all: it is written under a temporary name and then
    hard-linked to ``.lock``, which fails if ``.lock`` exists (atomic, so of many commands that
    try at the same instant exactly one gets it, and nobody ever reads a half-written lock). A
    lock whose process is gone is removed only under :func:`_takeover_guard`, and only if it is
    still the very lock found stale, so that a takeover never removes a lock just taken by
    another command.
    """
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started_utc": utc_now(),
          "token": secrets.token_hex(8)}
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise InputError(str(path), None, "is not a lock file (a folder or another kind of "
                         f"file); remove it if no command works in {path.parent}")
    tmp = path.parent / temporary_name(LOCK.lstrip("."))
    tmp.write_text(json.dumps(me), encoding="utf-8")
    try:
        for _ in range(5):
            if _link_lock(tmp, path):
                return me["token"]
            raw = _read_bytes(path)
            holder = _parse_holder(raw)
            if holder.get("host") == me["host"] and process_alive(_pid(holder)):
                raise InputError("--out", None, f"{path.parent} is in use by process "
                                 f"{holder['pid']} (remove {path} if that is wrong)")
            if holder.get("host") not in (None, me["host"]):
                raise InputError("--out", None, f"{path.parent} is in use by a command on "
                                 f"{holder['host']} (remove {path} if that is wrong)")
            if raw is not None:
                _remove_if_unchanged(path, raw)  # left by a command that died
    finally:
        tmp.unlink(missing_ok=True)
    raise InputError("--out", None, f"cannot lock {path.parent}: other commands keep taking it")


def _link_lock(tmp: Path, path: Path) -> bool:
    """Put the complete lock ``tmp`` in place as ``path`` unless ``path`` exists."""
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
    # a file system without hard links: create exclusively and write (not atomic for readers)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(tmp.read_bytes())
    return True


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise InputError(str(path), None, "is a folder, not a lock file; remove it if no "
                         f"command works in {path.parent}") from None


def _parse_holder(raw: bytes | None) -> dict[str, Any]:
    try:
        holder = json.loads(raw.decode("utf-8")) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _pid(holder: dict[str, Any]) -> int:
    try:
        return int(holder.get("pid", -1))
    except (TypeError, ValueError):
        return -1


@contextmanager
def _takeover_guard(path: Path):
    """An exclusive ``flock`` on ``.lock.takeover`` beside the lock, held while a stale lock
    is checked and removed, so that two takeovers never overlap."""
    import fcntl

    fd = os.open(path.with_name(path.name + ".takeover"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _remove_if_unchanged(path: Path, raw: bytes) -> None:
    """Remove the stale lock ``path`` if it still holds ``raw`` (not a lock taken since)."""
    with _takeover_guard(path):
        if _read_bytes(path) == raw:
            path.unlink(missing_ok=True)


def lock_holder(root: str | Path) -> dict[str, Any]:
    """The lock of an experiment folder as recorded (pid, host, token), or {} if none."""
    try:
        holder = json.loads((Path(root) / LOCK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


class LockLost(RuntimeError):
    """The command that started a run no longer holds its folder: the run is not stored."""


def check_lock(root: str | Path, token: str) -> None:
    """Raise :class:`LockLost` unless the command with ``token`` still holds the folder's lock
    and still runs: workers call this before they store a run, so that they never write into a
    folder another command has taken over, nor go on after their command has died."""
    holder = lock_holder(root)
    if holder.get("token") != token:
        raise LockLost(f"{root}: another command has taken over this folder (its .lock was "
                       "removed or replaced); this run was not stored, run the command again")
    if holder.get("host") == socket.gethostname() and not process_alive(_pid(holder)):
        raise LockLost(f"{root}: the command that started this run has ended; not stored")
