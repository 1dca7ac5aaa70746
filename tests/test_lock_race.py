"""The results-store lock excludes: of many processes that take ``DIR/.lock`` at the same
instant, exactly one holds it, with a fresh folder and with a stale lock left by a dead
command."""

from __future__ import annotations

import json
import multiprocessing as mp
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.experiments.lock import LOCK
from sim.experiments.lock import take_lock as _take_lock

TRIALS = 200
CONTENDERS = 6


def _contend(folders: list[str], barrier, results) -> None:
    """Try each folder's lock at the same instant as the other contenders; report success.
    The process stays alive to the end, so a lock it took stays live for the others."""
    for trial, folder in enumerate(folders):
        barrier.wait()
        try:
            token = _take_lock(Path(folder) / LOCK)
        except InputError:
            token = None
        results.put((trial, token))
        barrier.wait()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _holders(tmp_path: Path, stale: bool) -> list[int]:
    folders = []
    dead = _dead_pid()
    for trial in range(TRIALS):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        if stale:
            (folder / LOCK).write_text(json.dumps(
                {"pid": dead, "host": socket.gethostname(), "token": "stale"}))
        folders.append(str(folder))
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(CONTENDERS), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(folders, barrier, results))
             for _ in range(CONTENDERS)]
    for proc in procs:
        proc.start()
    winners = [0] * TRIALS
    tokens: list[set[str]] = [set() for _ in range(TRIALS)]
    for _ in range(TRIALS * CONTENDERS):
        trial, token = results.get(timeout=120)
        if token is not None:
            winners[trial] += 1
            tokens[trial].add(token)
    for proc in procs:
        proc.join(timeout=30)
    for trial, folder in enumerate(folders):
        recorded = json.loads((Path(folder) / LOCK).read_text())["token"]
        assert tokens[trial] == {recorded}, f"trial {trial}: the lock is not the winner's"
    return winners


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "stale"])
def test_exactly_one_of_many_simultaneous_commands_holds_the_lock(tmp_path, stale):
    winners = _holders(tmp_path, stale)
    assert winners.count(1) == TRIALS, (
        f"{sum(w != 1 for w in winners)} of {TRIALS} trials without exactly one holder: "
        f"{[w for w in winners if w != 1][:10]}")


def test_a_lock_that_is_a_folder_is_one_clear_error(tmp_path):
    (tmp_path / LOCK).mkdir()
    with pytest.raises(InputError, match=r"\.lock: is not a lock file"):
        _take_lock(tmp_path / LOCK)
