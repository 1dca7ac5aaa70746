"""Simulated file-system faults for commands run in a subprocess: every write under one folder
fails with a chosen errno (a full disk, a read-only file system, no permission), whatever user
the tests run as (root ignores ``chmod``).

Usage: ``python tests/fault_helpers.py ERRNO FOLDER quartier-arguments...``.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import runpy
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install(code: int, folder: str) -> None:
    """Make writes, folder creation and renames under ``folder`` fail with ``code``."""
    folder = os.path.abspath(folder)

    def inside(path) -> bool:
        try:
            path = os.path.abspath(os.fsdecode(path))
        except TypeError:
            return False
        return path == folder or path.startswith(folder + os.sep)

    def refuse(path):
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    def guard_path(original):
        def guarded(path, *args, **kwargs):
            if inside(path):
                refuse(path)
            return original(path, *args, **kwargs)
        return guarded

    def guard_two(original):
        def guarded(src, dst, *args, **kwargs):
            if inside(dst):
                refuse(dst)
            return original(src, dst, *args, **kwargs)
        return guarded

    real_open = builtins.open
    real_os_open = os.open

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") \
                and inside(file):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS and inside(path):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = open_
    os.open = os_open
    os.mkdir = guard_path(os.mkdir)
    os.replace = guard_two(os.replace)
    os.rename = guard_two(os.rename)
    os.link = guard_two(os.link)
    import pyarrow.parquet as pq

    real_write_table = pq.write_table

    def write_table(table, where, *args, **kwargs):
        if isinstance(where, (str, os.PathLike)) and inside(where):
            refuse(where)
        return real_write_table(table, where, *args, **kwargs)

    pq.write_table = write_table


if __name__ == "__main__":
    code_name, target, *argv = sys.argv[1:]
    install(getattr(errno, code_name), target)
    sys.argv = ["quartier", *argv]
    runpy.run_module("sim.cli", run_name="__main__")
