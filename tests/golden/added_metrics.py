"""Proof that regenerated golden files only add rows.

    python -m tests.golden.added_metrics [REV] [--new-parameter]


For every golden table, the version stored at git revision ``REV`` (default ``HEAD``) is
compared with the file in the working tree, restricted to the old file's metrics: the rows
must be the same rows in the same order with bit-identical values (``NaN`` equal to
``NaN``), and the working tree's other rows may only belong to metrics the old file did not
have. Prints one line per file and the added metrics; exits with status 1 on any difference.

``--new-parameter``: a new scenario field (with a default that leaves the model as it was)
changes every scenario's content hash and so the ``run_id`` column; the run ids are then
only checked to map one to one onto the old ones, the same mapping in every table, every other
column as above.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd

from tests.golden import DATA, ROOT


def old_table(rev: str, name: str) -> pd.DataFrame | None:
    path = (DATA / name).relative_to(ROOT).as_posix()
    shown = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True)
    return pd.read_parquet(io.BytesIO(shown.stdout)) if shown.returncode == 0 else None


def same(old: pd.DataFrame, new: pd.DataFrame, new_run_ids: bool = False,
         mapping: dict[str, dict[str, str]] | None = None) -> str | None:
    """None if ``new`` restricted to the old metrics equals ``old`` bit for bit, else why
    (``new_run_ids``: the run ids need only correspond one to one, within this table and,
    through ``mapping`` shared between the tables, across all of them)."""
    if "metric" in old.columns:
        metrics = set(old["metric"].astype(str))
        new = new[new["metric"].astype(str).isin(metrics)]
    if new_run_ids and "run_id" in old.columns and len(old) == len(new):
        pairs = pd.DataFrame({"old": old["run_id"].astype(str).to_numpy(),
                              "new": new["run_id"].astype(str).to_numpy()}).drop_duplicates()
        if pairs["old"].duplicated().any() or pairs["new"].duplicated().any():
            return "run_id: not one to one"
        if mapping is not None:
            forward, backward = mapping.setdefault("old", {}), mapping.setdefault("new", {})
            for o, n in zip(pairs["old"], pairs["new"], strict=True):
                if forward.setdefault(o, n) != n or backward.setdefault(n, o) != o:
                    return f"run_id: {o} maps to another run id than in an earlier table"
        old, new = old.drop(columns="run_id"), new.drop(columns="run_id")
    if list(old.columns) != list(new.columns):
        return f"columns {list(old.columns)} != {list(new.columns)}"
    if len(old) != len(new):
        return f"{len(old)} rows != {len(new)} rows"
    for column in old.columns:
        a, b = old[column], new[column]
        if a.dtype != b.dtype:
            return f"{column}: dtype {a.dtype} != {b.dtype}"
        if a.dtype.kind == "f":
            x, y = a.to_numpy(), b.to_numpy()
            if not np.array_equal(x.view(np.int64), y.view(np.int64)):
                return f"{column}: values differ"
        elif not a.astype(str).reset_index(drop=True).equals(b.astype(str).reset_index(drop=True)):
            return f"{column}: values differ"
    return None


def main(rev: str = "HEAD", new_run_ids: bool = False) -> int:
    failed = 0
    added: set[str] = set()
    mapping: dict[str, dict[str, str]] = {}
    for path in sorted(DATA.glob("*.parquet")):
        old = old_table(rev, path.name)
        if old is None:
            print(f"{path.name}: new file")
            continue
        new = pd.read_parquet(path)
        why = same(old, new, new_run_ids, mapping)
        if "metric" in old.columns:
            added |= set(new["metric"].astype(str)) - set(old["metric"].astype(str))
        print(f"{path.name}: {'identical on the old rows' if why is None else why}")
        failed += why is not None
    print(f"added metrics: {', '.join(sorted(added)) or 'none'}")
    print("every stored row bit-identical" if not failed else f"{failed} file(s) differ")
    return 1 if failed else 0


if __name__ == "__main__":
    flags = {"--new-parameter"}
    args = [a for a in sys.argv[1:] if a not in flags]
    sys.exit(main(*args[:1], new_run_ids="--new-parameter" in sys.argv[1:]))
