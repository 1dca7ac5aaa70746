"""How fast the dashboard's what-if panel answers (not a test).

A question = R paired replications of the baseline with one lever moved (10,000 households,
20 years, 5 replications by default), run on the app's warm worker pool against the cached
baseline. The answer is timed through the dashboard's own server path, as a browser drives
it: the *Berechnen* callback request, then the progress poll every 200 ms (the page's
interval) until the poll's response carries both answer figures (the serialised JSON the
browser draws). Prints the start-up cost (pool, compiled kernels, baseline runs) and, per
question, the total and its split: the runs (as the page's status says) and the rest (polling,
comparison, figures, JSON). The browser test ``test_whatif_click_to_charts`` measures the same
path from the click to the drawn charts.

    python benchmarks/whatif.py [--households 10000] [--years 20] [--replications 5]
                                [--repeats 7] [--workers 2] [--lever social|mvz|ticket]
                                [--results DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLL_S = 0.2  # the page's dcc.Interval "whatif-poll"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--results", default=None,
                        help="result folder the app opens (default: a small run of --scenario)")
    parser.add_argument("--lever", choices=("social", "mvz", "ticket"), default="social",
                        help="the lever each question moves (default: the social-housing share)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from dashboards.app import create_app
    from dashboards.data import load_results
    from dashboards.whatif import WhatIfEngine

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
        print(f"what-if: {args.households:,} households, {args.years} years, "
              f"{args.replications} replications, {args.workers} workers, lever {args.lever}")
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
                while True:
                    time.sleep(POLL_S)
                    props = callback(app, client, "whatif-series.figure",
                                     {**values, "whatif-poll": 1, "whatif-job": job})
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
    rest = [a - b for a, b in zip(totals, runs, strict=True)]
    print("answer times s: " + " ".join(f"{x:.2f}" for x in totals))
    print(f"median {statistics.median(totals):.2f} s (min {min(totals):.2f}, max "
          f"{max(totals):.2f}) from the Berechnen request to the figures' JSON; of which runs "
          f"{statistics.median(runs):.2f} s, polling, comparison and figures "
          f"{statistics.median(rest):.2f} s (medians); load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
