"""How soon the worker processes of a killed command end (not a test).

Starts ``quartier sweep --workers 2`` on a small sweep, waits until a run is stored, kills the
command alone with SIGKILL (as an out-of-memory killer or ``kill -9`` would) and measures how
long its workers live on. Linux only (reads /proc).

    python benchmarks/worker_exit.py [--trials 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.experiments.store import stored_run_ids  # noqa: E402
from tests.process_helpers import alive, descendants  # noqa: E402

SWEEP = f"""base = "{(ROOT / 'scenarios' / 'baseline.toml').as_posix()}"
years = 8
replications = 2
[parameters]
"parameters.migration.in_migration_rate" = [0.03, 0.04, 0.05, 0.06, 0.07, 0.08]
"city.households" = [3000]
"""


def trial(folder: Path) -> tuple[int, float]:
    """(workers, seconds from the kill until the last of them ended)."""
    sweep = folder / "sweep.toml"
    sweep.write_text(SWEEP, encoding="utf-8")
    out = folder / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(sweep), "--out",
                             str(out), "--workers", "2", "--quiet"], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    while not (len(descendants(proc.pid)) >= 2 and stored_run_ids(out)):
        if proc.poll() is not None:
            raise RuntimeError("the sweep ended before it could be killed")
        time.sleep(0.02)
    workers = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t0 = time.monotonic()
    while alive(workers) and time.monotonic() - t0 < 60:
        time.sleep(0.01)
    return len(workers), time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    for k in range(args.trials):
        with tempfile.TemporaryDirectory() as tmp:
            n, seconds = trial(Path(tmp))
        print(f"trial {k + 1}: {n} worker processes ended {seconds:.2f} s after the kill",
              flush=True)


if __name__ == "__main__":
    main()
