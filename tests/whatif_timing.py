"""The what-if answer timed in a real browser, from the click on *Berechnen* to both answer
charts drawn: shared by ``tests/test_dashboards_browser.py::test_whatif_click_to_charts`` and
``benchmarks/whatif.py``, so that both measure the same path.

Headless Chromium (Debian's chromium and chromium-driver) driven by Selenium; the dashboard is
``quartier dashboard`` in a process of its own, as a user starts it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = os.environ.get("QUARTIER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("QUARTIER_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def missing_browser() -> list[str]:
    """The browser programs that are not installed."""
    return [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]


def chromium(profile: Path, width: int = 1300, height: int = 1900):
    """A headless Chromium (Selenium driver) with its own profile folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    # a call to the driver waits at most 240 s (default 120 s, below the 180 s that an
    # answer's script may take)
    driver.command_executor.client_config.timeout = 240
    return driver


def wait_for(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def traces(driver, selector: str = ".js-plotly-plot") -> list[int]:
    """Number of traces of each rendered Plotly figure matching ``selector``."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(e => (e.data || []).length)", selector)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard(results: Path, options: list[str], workers: int | None = None) -> Iterator[str]:
    """``quartier dashboard RESULTS`` on a free port (``workers`` what-if processes, default
    the dashboard's own); yields its URL; stops it (and checks that its log is quiet: waitress,
    no line per request).

    Its output is read as it comes (a full pipe would block the dashboard), and it runs in a
    session of its own: at the end a stop signal, then the whole group is killed, so no worker
    process it started can keep the pipe open and stall the tests."""
    import signal
    import threading

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "dashboard", str(results), "--port", str(port),
         *options, *(["--workers", str(workers)] if workers else [])], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"

    def up():
        if proc.poll() is not None:
            reader.join(timeout=10)
            raise AssertionError(f"dashboard exited: {''.join(lines)}")
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    try:
        wait_for(up, 90, "the dashboard to start")
        yield url
    finally:
        try:
            proc.terminate()
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        finally:  # what the dashboard started and left behind (also after a test's timeout)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        reader.join(timeout=20)
        log = "".join(lines)
        assert not reader.is_alive(), f"the dashboard's output stayed open: {log[-2000:]}"
        assert "development server" not in log and "POST /_dash" not in log, log[-2000:]


# Clicks Berechnen and waits, frame by frame, until both answer charts show the new answer
# (the figures carry the answer's id in layout.meta.job, and the model runs' time as the
# server measured it in layout.meta.runs_s); then one more frame, which shows what was drawn.
# Returns [seconds, job id, runs_s] or [null, the status line, null] after 170 s.
CLICK_TO_CHARTS = """
    const done = arguments[arguments.length - 1];
    const meta = id => {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        return gd && gd._fullLayout && gd._fullLayout.meta ? gd._fullLayout.meta : {};
    };
    const job = id => meta(id).job || null;
    const before = job('whatif-series');
    const t0 = performance.now();
    document.getElementById('whatif-run').click();
    const check = () => {
        const a = job('whatif-series'), b = job('whatif-whiskers');
        if (a && a === b && a !== before) {
            requestAnimationFrame(() => done([(performance.now() - t0) / 1000, a,
                                              meta('whatif-series').runs_s]));
        } else if (performance.now() - t0 > 170000) {
            done([null, document.getElementById('whatif-status').innerText, null]);
        } else {
            requestAnimationFrame(check);
        }
    };
    requestAnimationFrame(check);
"""


@dataclass
class Answer:
    """One question, timed: click to charts (browser), and the model runs' part (server)."""

    seconds: float
    runs: float
    status: str


def time_questions(driver, url: str, questions: int) -> list[Answer]:
    """Open the dashboard, then ``questions`` times: move the social-housing lever one step and
    time the answer from the click to both charts drawn. The first question also waits for the
    baseline's runs (callers leave it out of medians)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url)
    wait_for(lambda: traces(driver, "#whatif-series .js-plotly-plot")[:1] == [0], 60,
             "the empty what-if charts")
    empty = driver.execute_script(
        "return document.querySelector('#whatif-series .js-plotly-plot')"
        ".layout.annotations[0].text")
    if "Berechnen" not in empty and "Run" not in empty:  # the empty state says what to do
        raise AssertionError(f"the empty what-if chart says {empty!r}")
    thumb = driver.find_element(By.CSS_SELECTOR, "#social-share [role=slider]")
    driver.set_script_timeout(180)
    out = []
    for _ in range(questions):
        thumb.send_keys(Keys.ARROW_RIGHT)  # a new share of social housing each time
        time.sleep(0.3)  # the slider's value reaches the page's state
        seconds, job, runs = driver.execute_async_script(CLICK_TO_CHARTS)
        if seconds is None:
            raise AssertionError(f"no answer: {job}")
        status = driver.find_element(By.ID, "whatif-status").text
        if not status.startswith(("Fertig", "Done")):
            raise AssertionError(status)
        if runs is None:  # (a dashboard that does not say it in the figures: the status)
            runs = float(status.split("Modellläufe ")[1].split(" s")[0].replace(",", "."))
        out.append(Answer(float(seconds), float(runs), status))
    return out
