"""Schelling mode against Mesa's own Schelling example: time per agent-step and peak memory.

For each grid size both models are built with the same parameters (Mesa's defaults: density
0.8, minority share 0.5, tolerance/homophily 0.4, radius 1, bounded grid) and stepped the same
number of times from a fresh model each repeat (the build is timed apart). An agent-step is one
household activated in one step, so the time per agent-step is the stepping time divided by
households x steps. Both count the same work per step: Mesa's ``step()`` activates the agents in
random order, re-evaluates all of them and runs its DataCollector; ours moves the unhappy
households in random order and computes its outcome metrics. Early steps have more movers than
later ones, so both run the same steps from the same kind of start; neither may converge inside
the window (the table says if one did).

Mesa is ``mesa.examples.basic.schelling.model.Schelling`` as shipped. Ours is
``sim.model.schelling.SchellingModel`` with ``happiness_check="start_of_step"`` (Mesa's rule, the
default) and, for information, the fully sequential ``"on_turn"`` variant. numba compilation is
excluded from the timings (a 20 x 20 model is run first) and reported on its own: once with an
empty numba cache in a child process (a first run on a new machine) and once as the first call
in this process (normally a cache load). Peak memory is measured in a separate, untimed run with
``tracemalloc`` (Python and numpy allocations during build and steps, not the interpreter).

    python benchmarks/schelling.py                 # 100x100 (10 steps) and 400x400 (5 steps)
    python benchmarks/schelling.py --quick         # smoke run: 30x30 and 100x100, 3 steps
    python benchmarks/schelling.py --curve         # the classic curve: segregation vs tolerance
    python benchmarks/schelling.py --curve --plot curve.html
    python benchmarks/schelling.py --curve --mesa  # ... and Mesa's example at the same points

Not a timed test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 100
GOAL_SIZES = (100, 400)
DEFAULT_STEPS = {100: 10, 400: 5}
MESA_DEFAULTS = {"density": 0.8, "minority_share": 0.5, "tolerance": 0.4, "radius": 1}


# -- the two models ------------------------------------------------------------------------------


def build_ours(size: int, seed: int, happiness_check: str = "start_of_step"):
    from sim.model.schelling import SchellingModel, SchellingSettings

    settings = SchellingSettings(width=size, height=size, torus=False,
                                 happiness_check=happiness_check, **MESA_DEFAULTS)
    return SchellingModel(settings, seed=seed)


def build_mesa(size: int, seed: int):
    from mesa.examples.basic.schelling.model import Schelling

    return Schelling(width=size, height=size, density=MESA_DEFAULTS["density"],
                     minority_pc=MESA_DEFAULTS["minority_share"],
                     homophily=MESA_DEFAULTS["tolerance"], radius=MESA_DEFAULTS["radius"],
                     seed=seed)


def agents_of(model) -> int:
    return model.n_households if hasattr(model, "n_households") else len(model.agents)


def converged(model) -> bool:
    return not model.running


def time_run(build, size: int, steps: int, seed: int) -> dict:
    """Build a fresh model (timed apart), step it ``steps`` times; seconds per agent-step."""
    gc.collect()
    t0 = time.perf_counter()
    model = build(size, seed)
    build_s = time.perf_counter() - t0
    n = agents_of(model)
    stopped_early = False
    t0 = time.perf_counter()
    for k in range(steps):
        model.step()
        stopped_early |= converged(model) and k < steps - 1
    run_s = time.perf_counter() - t0
    del model
    return {"agents": n, "build_s": build_s, "run_s": run_s,
            "us_per_agent_step": run_s / (n * steps) * 1e6, "stopped_early": stopped_early}


def peak_memory(build, size: int, steps: int, seed: int) -> tuple[float, int]:
    """Peak bytes traced during build + steps (untimed), and the number of agents."""
    gc.collect()
    tracemalloc.start()
    model = build(size, seed)
    for _ in range(steps):
        model.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = agents_of(model)
    del model
    gc.collect()
    return peak, n


# -- numba compilation ---------------------------------------------------------------------------

_COMPILE_CHILD = """
import time
t0 = time.perf_counter()
import sim.model.schelling as s
t1 = time.perf_counter()
for check in ("start_of_step", "on_turn"):
    s.SchellingModel(s.SchellingSettings(width=20, height=20, happiness_check=check),
                     seed=1).run(3)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def compile_seconds_cold() -> tuple[float, float]:
    """Import time and first-run time in a child process with an empty numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", _COMPILE_CHILD], check=True, env=env,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    import_s, first_s = map(float, out.stdout.split())
    return import_s, first_s


def warm_up() -> float:
    """First run in this process (numba cache load, or compile): seconds."""
    t0 = time.perf_counter()
    for check in ("start_of_step", "on_turn"):
        build_ours(20, 1, check).run(3)
    return time.perf_counter() - t0


# -- throughput table ----------------------------------------------------------------------------


def machine() -> str:
    import mesa
    import numba
    import numpy as np

    return (f"machine: {os.cpu_count()} cpus, {platform.machine()}, "
            f"python {platform.python_version()}, numpy {np.__version__}, "
            f"numba {numba.__version__}, mesa {mesa.__version__}")


def throughput(sizes: list[int], steps_for: dict[int, int], repeats: int, mesa_repeats: int,
               memory: bool) -> list[dict]:
    import_s, cold_s = compile_seconds_cold()
    warm_s = warm_up()
    print(f"numba: compile with an empty cache {cold_s:.2f} s (import {import_s:.2f} s); "
          f"first run in this process (cached) {warm_s:.2f} s; neither is in the timings")
    print()
    print("| grid | households | steps | Mesa µs/agent-step | ours µs/agent-step "
          "| speed-up | ours on_turn µs/agent-step | speed-up | Mesa build s | ours build s "
          "| Mesa peak MiB (B/agent) | ours peak MiB (B/agent) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for size in sizes:
        steps = steps_for[size]
        seeds_ours = range(1, repeats + 1)
        seeds_mesa = range(1, mesa_repeats + 1)
        ours = [time_run(build_ours, size, steps, seed) for seed in seeds_ours]
        turn = [time_run(lambda sz, sd: build_ours(sz, sd, "on_turn"), size, steps, seed)
                for seed in seeds_ours]
        mesa = [time_run(build_mesa, size, steps, seed) for seed in seeds_mesa]
        row = {
            "size": size, "steps": steps,
            "agents": statistics.median(r["agents"] for r in ours),
            "mesa_us": statistics.median(r["us_per_agent_step"] for r in mesa),
            "ours_us": statistics.median(r["us_per_agent_step"] for r in ours),
            "turn_us": statistics.median(r["us_per_agent_step"] for r in turn),
            "mesa_build_s": statistics.median(r["build_s"] for r in mesa),
            "ours_build_s": statistics.median(r["build_s"] for r in ours),
            "stopped_early": any(r["stopped_early"] for r in ours + turn + mesa),
        }
        if memory:
            mesa_peak, mesa_n = peak_memory(build_mesa, size, steps, 1)
            ours_peak, ours_n = peak_memory(build_ours, size, steps, 1)
            row["mesa_mem"] = f"{mesa_peak / 2**20:.1f} ({mesa_peak / mesa_n:,.0f})"
            row["ours_mem"] = f"{ours_peak / 2**20:.2f} ({ours_peak / ours_n:,.0f})"
        else:
            row["mesa_mem"] = row["ours_mem"] = "-"
        rows.append(row)
        flag = " (a model converged inside the window)" if row["stopped_early"] else ""
        print(f"| {size}x{size}{flag} | {row['agents']:,.0f} | {steps} | {row['mesa_us']:.2f} "
              f"| {row['ours_us']:.4f} | {row['mesa_us'] / row['ours_us']:,.0f}x "
              f"| {row['turn_us']:.4f} | {row['mesa_us'] / row['turn_us']:,.0f}x "
              f"| {row['mesa_build_s']:.2f} | {row['ours_build_s']:.3f} "
              f"| {row['mesa_mem']} | {row['ours_mem']} |", flush=True)
    print()
    print(f"repeats: ours {repeats} (fresh model, seeds 1..{repeats}), Mesa {mesa_repeats}; "
          "medians. Memory: tracemalloc peak over build + the same steps, one untimed run.")
    parts = [f"{r['size']}x{r['size']}: {r['mesa_us'] / r['ours_us']:,.0f}x "
             f"({'met' if r['mesa_us'] / r['ours_us'] >= GOAL_RATIO else 'NOT met'})"
             for r in rows if r["size"] in GOAL_SIZES]
    print(f"summary (goal: >= {GOAL_RATIO}x faster per agent-step than Mesa at 100x100 and "
          f"400x400, Mesa's rules): " + ("; ".join(parts) or "no goal size run"))
    return rows


# -- the classic curve ---------------------------------------------------------------------------


def mesa_final(size: int, density: float, tolerance: float, seed: int, max_steps: int) -> dict:
    """Run Mesa's example until nobody is unhappy or ``max_steps``; our metrics of its grid."""
    import numpy as np
    from mesa.examples.basic.schelling.model import Schelling

    from sim.model.schelling import grid_metrics

    model = Schelling(width=size, height=size, density=density, minority_pc=0.5,
                      homophily=tolerance, radius=1, seed=seed)
    steps = 0
    while model.running and steps < max_steps:
        model.step()
        steps += 1
    grid = np.full((size, size), -1, dtype=np.int8)  # Mesa's coordinates are (x, y)
    for agent in model.agents:
        grid[agent.cell.coordinate] = agent.type
    return {**grid_metrics(grid.T, tolerance=tolerance), "steps": steps}


def curve(size: int, density: float, tolerances: list[float], seeds: list[int], max_steps: int,
          happiness_check: str, with_mesa: bool = False):
    """Final segregation against tolerance: one row per tolerance, means over the seeds.

    With ``with_mesa``, Mesa's example is run with the same parameters and seeds (its own
    random numbers) and the means of its final share of similar neighbours and D are added.
    """
    import numpy as np
    import pandas as pd

    from sim.model.schelling import SchellingModel, SchellingSettings

    rows = []
    for tolerance in tolerances:
        runs = []
        mesa_runs = [mesa_final(size, density, tolerance, seed, max_steps) for seed in seeds
                     ] if with_mesa else []
        for seed in seeds:
            settings = SchellingSettings(width=size, height=size, density=density,
                                         tolerance=tolerance, happiness_check=happiness_check)
            model = SchellingModel(settings, seed=seed).run(max_steps)
            wide = model.outcomes().pivot(index="year", columns="metric", values="value")
            runs.append({
                "initial_share_similar": wide["share_similar_neighbours"].iloc[0],
                "share_similar": wide["share_similar_neighbours"].iloc[-1],
                "dissimilarity": wide["dissimilarity_group_blocks"].iloc[-1],
                "initial_dissimilarity": wide["dissimilarity_group_blocks"].iloc[0],
                "share_unhappy": wide["share_unhappy"].iloc[-1],
                "steps": model.steps,
                "converged": model.converged_step is not None,
            })
        runs = pd.DataFrame(runs)
        rows.append({
            "tolerance": tolerance,
            "initial_share_similar": runs["initial_share_similar"].mean(),
            "share_similar": runs["share_similar"].mean(),
            "share_similar_sd": runs["share_similar"].std(ddof=1) if len(runs) > 1 else np.nan,
            "initial_dissimilarity": runs["initial_dissimilarity"].mean(),
            "dissimilarity": runs["dissimilarity"].mean(),
            "share_unhappy": runs["share_unhappy"].mean(),
            "steps": runs["steps"].mean(),
            "converged": int(runs["converged"].sum()),
            "runs": len(runs),
        })
        if with_mesa:
            rows[-1]["mesa_share_similar"] = np.mean(
                [r["share_similar_neighbours"] for r in mesa_runs])
            rows[-1]["mesa_dissimilarity"] = np.mean(
                [r["dissimilarity_group_blocks"] for r in mesa_runs])
            rows[-1]["mesa_steps"] = np.mean([r["steps"] for r in mesa_runs])
    return pd.DataFrame(rows)


def print_curve(table, size: int, density: float, max_steps: int, happiness_check: str) -> None:
    n = int(table["runs"].iloc[0])
    print(f"Schelling mode, {size}x{size} bounded grid, density {density}, two equal groups, "
          f"radius 1, happiness_check={happiness_check}; mean over {n} seeds after up to "
          f"{max_steps} steps (stops when nobody is unhappy)")
    print()
    mesa = "mesa_share_similar" in table
    print("| tolerance | share of similar neighbours: start | end (sd) | D over 10x10 blocks: "
          "start | end | share unhappy at end | steps | converged |"
          + (" Mesa: share similar at end | Mesa: D at end | Mesa: steps |" if mesa else ""))
    print("|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if mesa else ""))
    for r in table.itertuples():
        print(f"| {r.tolerance:.3g} | {r.initial_share_similar:.3f} "
              f"| {r.share_similar:.3f} ({r.share_similar_sd:.3f}) "
              f"| {r.initial_dissimilarity:.3f} | {r.dissimilarity:.3f} "
              f"| {r.share_unhappy:.3f} | {r.steps:.1f} | {r.converged}/{r.runs} |"
              + (f" {r.mesa_share_similar:.3f} | {r.mesa_dissimilarity:.3f} "
                 f"| {r.mesa_steps:.1f} |" if mesa else ""))


def plot_curve(table, path: str) -> None:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=table["tolerance"], y=table["share_similar"], mode="lines+markers",
                    name="share of similar neighbours (end)")
    fig.add_scatter(x=table["tolerance"], y=table["dissimilarity"], mode="lines+markers",
                    name="dissimilarity D over 10x10 blocks (end)")
    fig.add_scatter(x=table["tolerance"], y=table["initial_share_similar"], mode="lines",
                    line={"dash": "dot"}, name="share of similar neighbours (random start)")
    fig.update_layout(title="Schelling mode: segregation against the tolerance threshold",
                      xaxis_title="tolerance (minimum share of similar neighbours)",
                      yaxis_title="value", yaxis_range=[0, 1.02], template="plotly_white")
    fig.write_html(path, include_plotlyjs=True)
    print(f"\nwrote {path}")


# -- command line --------------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100,400", help="grid side lengths, comma-separated")
    p.add_argument("--steps", type=int, default=None,
                   help="steps per run for every size (default: 10 at 100x100, 5 at 400x400)")
    p.add_argument("--repeats", type=int, default=5, help="runs of our model per size")
    p.add_argument("--mesa-repeats", type=int, default=3, help="runs of Mesa's model per size")
    p.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 30x30 and 100x100, 3 steps, 2 + 1 repeats (or a small curve)")
    p.add_argument("--curve", action="store_true",
                   help="instead of timing: final segregation against tolerance")
    p.add_argument("--curve-size", type=int, default=100, help="grid side for --curve")
    p.add_argument("--curve-density", type=float, default=0.8, help="density for --curve")
    p.add_argument("--curve-seeds", type=int, default=5, help="seeds per tolerance for --curve")
    p.add_argument("--curve-steps", type=int, default=100, help="most steps per run for --curve")
    p.add_argument("--happiness-check", default="start_of_step",
                   choices=["start_of_step", "on_turn"], help="rule variant for --curve")
    p.add_argument("--mesa", action="store_true",
                   help="with --curve: also run Mesa's example at every point (slow)")
    p.add_argument("--plot", metavar="FILE.html", help="with --curve: write a Plotly figure")
    a = p.parse_args()

    print(machine())
    print()
    if a.curve:
        if a.quick:
            a.curve_size, a.curve_seeds = 50, 2
            tolerances = [0.2, 0.4, 0.6]
        else:
            tolerances = [round(0.1 * k, 1) for k in range(0, 10)]
        table = curve(a.curve_size, a.curve_density, tolerances, list(range(1, a.curve_seeds + 1)),
                      a.curve_steps, a.happiness_check, with_mesa=a.mesa)
        print_curve(table, a.curve_size, a.curve_density, a.curve_steps, a.happiness_check)
        if a.plot:
            plot_curve(table, a.plot)
        return

    if a.quick:
        a.sizes, a.repeats, a.mesa_repeats = "30,100", 2, 1
        a.steps = a.steps or 3
    sizes = [int(s) for s in a.sizes.split(",")]
    steps_for = {s: a.steps or DEFAULT_STEPS.get(s, 5) for s in sizes}
    throughput(sizes, steps_for, a.repeats, a.mesa_repeats, memory=not a.no_memory)


if __name__ == "__main__":
    main()
