#!/usr/bin/env python3
"""The app's own figures, measured through the real window (run by bench/run.sh through
tests/e2e/run.sh, which provides the display, session bus, keyring and sandbox):
cold start → interactive, restore → profile drawn, OS deep link → profile drawn, memory,
size. Each is the median of RUNS runs, with min and max. Prints a Markdown table; then
Pixie beside an empty Tauri window with the same Tauri, plugins and profile (bench/floor.py),
measured in this same run, with the hand-back above as Pixie's row of that path."""

import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import sandbox  # noqa: E402
import suite  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import floor  # noqa: E402
from suite import Window, begin_sign_in, deliver, login, plan, reset_session  # noqa: E402

RUNS = int(os.environ.get("PIXIE_BENCH_RUNS", "5"))
READY = re.compile(r"window ready ms=(\d+) phase=(\w+)")


def driver_log():
    path = suite.driver().log_path
    with open(path, errors="replace") as f:
        return re.sub(r"\x1b\[[0-9;]*m", "", f.read())


def last_ready():
    found = READY.findall(driver_log())
    return (int(found[-1][0]), found[-1][1]) if found else (None, None)


def app_pids():
    """The app process and its children (WebKit's web and network processes)."""
    # Only this run's processes (started in its sandbox): a process elsewhere with the same
    # command line, the person's own Pixie or the runner's bystander, is not measured.
    pids = [p for p in sandbox.marked(suite.SANDBOX) if sandbox.argv_of(p)[:1] == [suite.APP]]
    family = set(pids)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in pids:
                family.add(int(pid))
    return pids, family


def rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def sample_rss(app_series, all_series):
    """Note the RSS of the app process, and of it with its WebKit children."""
    app, family = app_pids()
    app_series.append(rss_mib(app))
    all_series.append(rss_mib(family))


def row(name, values, unit):
    if not values:
        return f"| {name} | - | - | - |"
    fmt = (lambda v: f"{v:.0f} {unit}") if unit == "ms" else (lambda v: f"{v:.1f} {unit}")
    return f"| {name} | {fmt(statistics.median(values))} | {fmt(min(values))} | {fmt(max(values))} |"


def main():
    cold, restore, link, idle_app, idle_all, signed_app, signed_all = [], [], [], [], [], [], []
    for _ in range(RUNS):
        reset_session()
        w = Window()
        try:
            ms, phase = last_ready()
            if phase == "SignedOut":
                cold.append(ms)
            time.sleep(2)
            sample_rss(idle_app, idle_all)
        finally:
            w.close()
        time.sleep(0.5)

    # A saved session: sign in once, then measure launches that restore it.
    w = Window()
    try:
        plan(action="allow")
        begin_sign_in(w)
        w.wait_phase("signed_in")
        time.sleep(1)
        sample_rss(signed_app, signed_all)
    finally:
        w.close()
    for _ in range(RUNS):
        time.sleep(0.5)
        w = Window()
        try:
            w.wait_phase("signed_in")
            ms, phase = last_ready()
            if phase == "SignedIn":
                restore.append(ms)
            time.sleep(1)
            sample_rss(signed_app, signed_all)
        finally:
            w.close()

    # The OS deep link → the profile drawn, in one running app.
    reset_session()
    w = Window()
    try:
        for _ in range(RUNS):
            plan(action="hold")
            url = begin_sign_in(w)
            w.wait_phase("authorizing")
            redirect = login(url)
            started = time.perf_counter()
            deliver(redirect)
            from selenium.webdriver.support.wait import WebDriverWait
            WebDriverWait(w.d, 30, poll_frequency=0.01).until(lambda _d: w.phase() == "signed_in")
            link.append((time.perf_counter() - started) * 1000)
            w.click("sign-out")
            w.wait_phase("signed_out")
    finally:
        w.close()

    size = os.stat(suite.APP).st_size / (1024 * 1024)
    root = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    shown = os.path.relpath(suite.APP, root) if suite.APP.startswith(root + os.sep) else suite.APP
    print(f"Binary: `{shown}`, {RUNS} runs each.")
    print()
    print("| figure | median | min | max |")
    print("| --- | --- | --- | --- |")
    print(row("cold start → window ready with Sign in (the app's clock from `run()` → first `subscribe` call)", cold, "ms"))
    print(row("launch with a saved session → profile ready for the window", restore, "ms"))
    print(row("`gio open` of the redirect → profile shown (WebDriver-observed)", link, "ms"))
    print(row("idle RSS, app process", idle_app, "MiB"))
    print(row("idle RSS, app + WebKit processes", idle_all, "MiB"))
    print(row("RSS after a sign-in, app process", signed_app, "MiB"))
    print(row("RSS after a sign-in, app + WebKit processes", signed_all, "MiB"))
    print(f"| release binary size | {size:.1f} MiB | | |")
    for d in suite.DRIVERS.values():
        d.stop()
    suite.DRIVERS.clear()

    # The same machine a moment later, without WebDriver: Pixie and the floor in turn.
    print()
    print("## The app, beside an empty Tauri window (the floor)")
    print()
    print(floor.compare(RUNS, suite.OUT, handback=link))
    return 0


if __name__ == "__main__":
    sys.exit(main())
