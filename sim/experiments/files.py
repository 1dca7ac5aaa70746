"""Writing result files so that a file is either complete or absent, and the code version
stamped into them."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from sim.version import __version__


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


def write_atomic(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it to ``path``
    atomically: the file is either complete or absent, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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
