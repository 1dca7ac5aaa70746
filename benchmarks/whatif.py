"""How fast the dashboard's what-if panel answers (not a test).

A question = R paired replications of the baseline with one lever moved (10,000 households,
20 years, 5 replications by default), run on the app's warm worker processes against the
cached baseline.

By default the answer is timed as ``tests/test_dashboards_browser.py::test_whatif_click_to_charts``
times it, with the same code (``tests/whatif_timing.py``): ``quartier dashboard`` in a process
of its own, headless Chromium, the social-housing lever moved one step per question, from the
click on *Berechnen* to both answer charts drawn; the first question, which also waits for the
baseline's runs, is left out. Prints each answer, the median and its split: the model runs (as
the server measured them) and the rest (polling, comparison, figures, drawing), and whether the
median meets the 2.0 s budget (the browser test checks the answer, not its time).

``--cpu`` measures the CPU time of one question's runs in one process, with and without the
start populations the workers keep (``sim.model.startcache``).

``--server`` times the server's part alone, without a browser: the app's own callbacks through
its WSGI interface, as the page calls them (the *Berechnen* request, then the progress poll
every 200 ms, each held up to 150 ms for the answer, until the response carries both figures);
there ``--lever social|mvz|ticket`` chooses the lever.

    python benchmarks/whatif.py [--repeats 5] [--workers N] [--results DIR]
    python benchmarks/whatif.py --cpu [--repeats 5]
    python benchmarks/whatif.py --server [--households 10000] [--years 20] [--replications 5]
                                [--repeats 7] [--workers N] [--lever social|mvz|ticket]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 2.0
"""The what-if budget: click on *Berechnen* to both charts drawn, median of the questions after
the first (10,000 households, 20 years, 5 replications), on an otherwise idle 2-core machine."""
sys.path.insert(0, str(ROOT))


def question(lever: str, k: int, grid) -> dict:
    """The k-th question's control values (a different value each time); MVZ cells are drawn
    from the what-if city's ``grid``."""
    if lever == "mvz":
        cell = grid.iloc[(k * 997) % len(grid)]
        return {"mvz-cell": [int(cell["col"]), int(cell["row"])]}
    if lever == "ticket":
        return {"ticket-price": 29.0 + 5.0 * (k % 5)}
    return {"social-share": round(0.10 + 0.05 * (k % 5), 2)}


def callback(app, client, output: str, values: dict) -> dict:
    """POST the callback request whose outputs include ``output`` (``id.property``), with the
    inputs and states from ``values``, as the browser does; returns the response's props."""
    def outputs(key: str) -> list[dict]:
        parts = key.strip(".").split("...") if key.startswith("..") else [key]
        return [{"id": p.rpartition(".")[0], "property": p.rpartition(".")[2]} for p in parts]

    key = next(k for k in app.callback_map
               if output in [f"{o['id']}.{o['property'].split('@')[0]}" for o in outputs(k)])
    spec = app.callback_map[key]
    outs = outputs(key)
    body = {"output": key, "outputs": outs if len(outs) > 1 else outs[0],
            "inputs": [{**i, "value": values.get(i["id"])} for i in spec["inputs"]],
            "state": [{**s, "value": values.get(s["id"])} for s in spec["state"]],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]
                               if i["id"] in values]}
    response = client.post("/_dash-update-component", json=body)
    if response.status_code == 204:  # no update
        return {}
    if response.status_code != 200:
        raise SystemExit(f"callback {output} answered HTTP {response.status_code}")
    return json.loads(response.get_data(as_text=True))["response"]


def small_results(folder: Path, scenario: str) -> Path:
    """A small result folder for the app to open (the what-if runs do not depend on it)."""
    import sim
    from sim.experiments.results import write_run

    base = sim.load_scenario(scenario).with_values({"city.households": 500, "years": 2})
    write_run(sim.build_model(base, seed=1).run(2), folder)
    return folder


def comparison_results(folder: Path) -> Path:
    """The browser test's result folder (``tests/dashboard_helpers.compare_folder``): the
    baseline and the 30 % quota, 600 households, 4 years, 3 paired replications."""
    import sim

    def small(name: str) -> sim.Scenario:
        return sim.load_scenario(ROOT / "scenarios" / f"{name}.toml").with_values(
            {"city.households": 600, "years": 4})

    sim.compare(small("baseline"), [small("rent_mix_quota_30")], out=folder, replications=3,
                workers=1)
    return folder


def report(totals: list[float], runs: list[float], what: str) -> None:
    rest = [a - b for a, b in zip(totals, runs, strict=True)]
    print("answer times s: " + " ".join(f"{x:.2f}" for x in totals))
    print(f"median {statistics.median(totals):.2f} s (min {min(totals):.2f}, max "
          f"{max(totals):.2f}) {what}; of which model runs {statistics.median(runs):.2f} s, "
          f"the rest {statistics.median(rest):.2f} s (medians); load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")


def browser(args) -> None:
    """Click to charts in headless Chromium (the browser test's path and code)."""
    from tests.whatif_timing import chromium, dashboard, missing_browser, time_questions

    if missing_browser():
        raise SystemExit(f"needs {' and '.join(missing_browser())} (apt-get install chromium "
                         "chromium-driver), or --server for the server's part alone")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.results) if args.results else comparison_results(Path(tmp) / "cmp")
        driver = chromium(Path(tmp) / "profile")
        try:
            with dashboard(folder, [], workers=args.workers) as url:
                print(f"what-if in the browser: 10,000 households, 20 years, 5 replications, "
                      f"{workers_label(args.workers, 5)}; {args.repeats} questions after the "
                      "first")
                answers = time_questions(driver, url, args.repeats + 1)[1:]
        finally:
            driver.quit()
    totals = [a.seconds for a in answers]
    report(totals, [a.runs for a in answers], "from the click on Berechnen to both charts drawn")
    median = statistics.median(totals)
    print(f"budget {BUDGET_S} s (median, idle 2-core machine): "
          f"{'met' if median <= BUDGET_S else 'missed'} ({median:.2f} s) at load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def workers_label(workers: int | None, replications: int) -> str:
    from dashboards.whatif import worker_processes

    n = workers or worker_processes(replications, os.cpu_count() or 1)
    return f"{n} workers" + (" (the default)" if workers is None else "")


def server(args) -> None:
    """The server's part alone: the page's callbacks through the app's WSGI interface."""
    t0 = time.perf_counter()
    from dashboards.app import POLL_MS, create_app
    from dashboards.data import load_results
    from dashboards.whatif import WhatIfEngine

    poll_s = POLL_MS / 1000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.results) if args.results else small_results(
            Path(tmp) / "run", args.scenario)
        results = load_results(folder)
        engine = WhatIfEngine.from_results(results, households=args.households,
                                           years=args.years, replications=args.replications,
                                           workers=args.workers)
        if not engine.available:
            raise SystemExit(f"what-if not available: {engine.reason}")
        engine.start()
        app = create_app(folder, results=results, engine=engine)
        client = app.server.test_client()
        started = time.perf_counter()
        while not engine.baseline_ready():
            time.sleep(0.01)
        ready = time.perf_counter()
        print(f"what-if (server): {args.households:,} households, {args.years} years, "
              f"{args.replications} replications, {engine.workers} workers, lever {args.lever}")
        print(f"start-up: imports, app and pool {started - t0:.2f} s, baseline runs "
              f"{ready - started:.2f} s")
        defaults = {"metric": app.layout["metric"].value, "quartier": "city",
                    "social-share": engine.base.levers.rent_mixing.social_share_target
                    if engine.base.levers.rent_mixing else 0.0,
                    "ticket-price": app.layout["ticket-price"].value}
        totals, runs = [], []
        try:
            for k in range(args.repeats):
                values = {**defaults, **question(args.lever, k, engine.city_grid())}
                t = time.perf_counter()
                answer = callback(app, client, "whatif-job.data",
                                  {**values, "whatif-run": k + 1})
                job = answer.get("whatif-job", {}).get("data")
                if job is None:
                    raise SystemExit(f"no run started: {answer}")
                enabled = time.perf_counter()  # the page's poll starts now, every POLL_MS
                tick = 1
                while True:
                    # the next tick of the page's interval (one still answering is dropped)
                    tick = max(tick, int((time.perf_counter() - enabled) / poll_s) + 1)
                    time.sleep(max(0.0, enabled + tick * poll_s - time.perf_counter()))
                    props = callback(app, client, "whatif-series.figure",
                                     {**values, "whatif-poll": tick, "whatif-job": job})
                    if "whatif-series" in props and "whatif-whiskers" in props:
                        break
                    status = props.get("whatif-status", {}).get("children", "")
                    if status.startswith(("Fehler", "Error")):
                        raise SystemExit(f"what-if failed: {status}")
                totals.append(time.perf_counter() - t)
                item = engine.job(job)
                runs.append(item.finished - item.started)
        finally:
            engine.shutdown(wait=True)
    report(totals, runs, "from the Berechnen request to the figures' JSON")


def cpu(args) -> None:
    """CPU time of one question's runs in this process, with and without the start-population
    cache of the what-if workers (rounds alternate; medians)."""
    import sim
    from dashboards.whatif import WhatIf, whatif_scenario
    from sim.experiments.runner import keep_start_populations, run_in_memory
    from sim.model import startcache

    base = sim.load_scenario(args.scenario).with_values(
        {"city.households": args.households, "years": args.years,
         "outcomes.cell_snapshots": False})
    run_in_memory(base.model_dump(), 1, 1)  # compiled kernels loaded
    seeds = range(1, args.replications + 1)
    times: dict[str, list[float]] = {"without": [], "with": []}
    for k in range(args.repeats):
        payload = whatif_scenario(base, WhatIf(social_share=0.1 + 0.05 * (k % 5))).model_dump()
        for mode in times:
            startcache.disable()
            if mode == "with":  # kept from the baseline's runs, as on the workers
                keep_start_populations(args.replications + 1)
                for seed in seeds:
                    sim.build_model(base, seed=seed)
            t = time.process_time()
            for seed in seeds:
                run_in_memory(payload, seed, args.years)
            times[mode].append(time.process_time() - t)
    startcache.disable()
    for mode, values in times.items():
        print(f"CPU s of {args.replications} runs {mode} kept start populations: "
              f"median {statistics.median(values):.2f} ({' '.join(f'{v:.2f}' for v in values)})")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="store_true",
                        help="time the server's part alone, without a browser")
    parser.add_argument("--cpu", action="store_true",
                        help="CPU time of one question's runs with and without kept start "
                        "populations (one process)")
    parser.add_argument("--households", type=int, default=10_000, help="(--server)")
    parser.add_argument("--years", type=int, default=20, help="(--server)")
    parser.add_argument("--replications", type=int, default=5, help="(--server)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="questions timed (default 5; the browser's first is extra)")
    parser.add_argument("--workers", type=int, default=None,
                        help="what-if worker processes (default: the dashboard's, as many as "
                        "share the cores evenly: 3 for 5 replications on 2 cores)")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--results", default=None,
                        help="result folder the app opens (default: the browser test's "
                        "comparison, or a small run of --scenario with --server)")
    parser.add_argument("--lever", choices=("social", "mvz", "ticket"), default="social",
                        help="(--server) the lever each question moves (default: the "
                        "social-housing share)")
    args = parser.parse_args()
    if args.cpu:
        cpu(args)
    elif args.server:
        server(args)
    else:
        browser(args)


if __name__ == "__main__":
    main()
