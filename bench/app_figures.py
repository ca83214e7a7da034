#!/usr/bin/env python3
"""The app's own figures, measured through the real window (run by bench/run.sh through
tests/e2e/run.sh, which provides the display, session bus, keyring and sandbox):
cold start → interactive, restore → profile drawn, OS deep link → profile drawn, memory,
size. Each is the median of RUNS runs, with min and max. Prints a Markdown table; then
Pixie beside an empty Tauri window with the same Tauri, plugins and profile (bench/floor.py),
measured in this same run, with the hand-back above as Pixie's row of that path."""

import os
import re
import signal
import statistics
import subprocess
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
REFRESHED = re.compile(r"session refreshed ms=(\d+)")
ACCOUNTS = 5


def driver_log():
    path = suite.driver().log_path
    with open(path, errors="replace") as f:
        return re.sub(r"\x1b\[[0-9;]*m", "", f.read())


def last_ready():
    found = READY.findall(driver_log())
    return (int(found[-1][0]), found[-1][1]) if found else (None, None)


def restore_launch(accounts):
    """One launch with `accounts` saved accounts (cache + keyring, as the app left them):
    (ms until the window was ready, ms until every account's session was read back from the
    keyring, refreshed at its provider and its profile redrawn), both on the app's clock from
    `run()`; None for a mark that was not reached."""
    start = len(driver_log())
    w = Window()
    try:
        w.wait_phase("signed_in")
        # Every account's `session refreshed` line (the app logs one per account restored).
        deadline = time.time() + suite.TIMEOUT
        done = []
        while time.time() < deadline:
            done = [int(m) for m in REFRESHED.findall(driver_log()[start:])]
            if len(done) >= accounts:
                break
            time.sleep(0.05)
        found = READY.findall(driver_log()[start:])
        ready = int(found[0][0]) if found and found[0][1] == "SignedIn" else None
        if accounts > 1:
            listed = len(w.d.find_elements(suite.By.CSS_SELECTOR, "[data-testid=account-list] button"))
            assert listed == accounts, f"{listed} of {accounts} accounts drawn"
        refreshed = max(done) if len(done) >= accounts else None
        # Drawn with every restored session: the later of the first paint and the last
        # account's redraw after its refresh.
        all_restored = max(ready, refreshed) if ready is not None and refreshed is not None else None
    finally:
        w.close()
        wait_app_gone()
    return ready, refreshed, all_restored


def single_instance_owned():
    """Whether a Pixie still holds its single-instance name on the run's session bus."""
    r = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
                        "--object-path", "/org/freedesktop/DBus", "--method",
                        "org.freedesktop.DBus.NameHasOwner", "dev.pixie.app.SingleInstance"],
                       capture_output=True, text=True, timeout=10)
    return "true" in r.stdout


def wait_app_gone(grace=5, timeout=15):
    """Until this run's app has exited and its D-Bus name is free: a launch while the last
    one still holds it would forward to it (single-instance) and exit. An app still there
    after `grace` seconds is ended by its PID."""
    started = time.time()
    ended = False
    while time.time() - started < timeout:
        left = [p for p in app_pids()[0] if floor.alive(p)]
        if not left and not single_instance_owned():
            return
        if left and not ended and time.time() - started > grace:
            for pid in left:
                os.kill(pid, signal.SIGTERM)
            ended = True
        time.sleep(0.05)
    raise AssertionError("the last Pixie did not exit")


# Installed in the page before the link is delivered: the moment the status line turns
# `signed_in` (the view with the profile applied to the DOM), and the next animation frame
# after it (the frame that draws it), on the page's clock (epoch ms, the same wall clock as
# time.time() here). WebDriver only reads the marks afterwards, so its polling adds nothing.
WATCH_SIGNED_IN = """
window.__pixieDrawn = null;
const seen = () => {
  const el = document.querySelector('[data-testid=status]');
  return el && el.getAttribute('data-phase') === 'signed_in';
};
const watch = new MutationObserver(() => {
  if (!seen()) return;
  watch.disconnect();
  const dom = performance.timeOrigin + performance.now();
  requestAnimationFrame(() => {
    window.__pixieDrawn = {dom, frame: performance.timeOrigin + performance.now()};
  });
});
watch.observe(document.body, {attributes: true, childList: true, subtree: true});
"""


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
            wait_app_gone()
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
        wait_app_gone()
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
            wait_app_gone()

    # Issue 19: launch → every one of 5 restored accounts drawn, against launch → 1. The
    # accounts are made the way a person makes them (the window's Add another account, the
    # demo provider's sign-in), so the cache and the keyring entries are the app's own.
    one_ready, one_refreshed, one_done, five_ready, five_refreshed, five_done = [], [], [], [], [], []
    reset_session()
    w = Window()
    try:
        plan(action="allow", name="Bench Person 1")
        begin_sign_in(w)
        w.wait_phase("signed_in")
    finally:
        w.close()
        wait_app_gone()
    for _ in range(RUNS):
        time.sleep(0.5)
        ready, refreshed, done = restore_launch(1)
        one_ready += [ready] if ready is not None else []
        one_refreshed += [refreshed] if refreshed is not None else []
        one_done += [done] if done is not None else []
    wait_app_gone()
    w = Window()
    try:
        w.wait_phase("signed_in")
        for i in range(2, ACCOUNTS + 1):
            # Add another account: only the demo provider is configured, so there is no
            # picker to choose from.
            w.click("add-account")
            w.wait_until(lambda: w.visible("sign-in") and w.visible("add-back"),
                         "the sign-in panel for another account")
            plan(action="allow", name=f"Bench Person {i}")
            begin_sign_in(w)
            w.wait_until(lambda: w.phase() == "signed_in" and len(w.d.find_elements(
                suite.By.CSS_SELECTOR, "[data-testid=account-list] button")) == i, f"{i} accounts listed")
        w.wait_until(lambda: len(w.d.find_elements(suite.By.CSS_SELECTOR, "[data-testid=account-list] button"))
                     == ACCOUNTS, f"{ACCOUNTS} accounts listed")
    finally:
        w.close()
        wait_app_gone()
    for _ in range(RUNS):
        time.sleep(0.5)
        ready, refreshed, done = restore_launch(ACCOUNTS)
        five_ready += [ready] if ready is not None else []
        five_refreshed += [refreshed] if refreshed is not None else []
        five_done += [done] if done is not None else []

    # The OS deep link → the profile drawn, in one running app.
    link_polled = []
    reset_session()
    w = Window()
    try:
        for _ in range(RUNS):
            plan(action="hold")
            url = begin_sign_in(w)
            w.wait_phase("authorizing")
            redirect = login(url)
            w.d.execute_script(WATCH_SIGNED_IN)
            started_wall = time.time()
            started = time.perf_counter()
            deliver(redirect)
            from selenium.webdriver.support.wait import WebDriverWait
            WebDriverWait(w.d, 30, poll_frequency=0.01).until(lambda _d: w.phase() == "signed_in")
            link_polled.append((time.perf_counter() - started) * 1000)
            drawn = w.d.execute_script("return window.__pixieDrawn")
            if drawn:
                link.append(drawn["frame"] - started_wall * 1000)
            w.click("sign-out")
            w.wait_phase("signed_out")
    finally:
        w.close()
        wait_app_gone()

    size = os.stat(suite.APP).st_size / (1024 * 1024)
    root = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    shown = os.path.relpath(suite.APP, root) if suite.APP.startswith(root + os.sep) else suite.APP
    print(f"Binary: `{shown}`, {RUNS} runs each.")
    print()
    print("| figure | median | min | max |")
    print("| --- | --- | --- | --- |")
    print(row("cold start → window ready with Sign in (the app's clock from `run()` → first `subscribe` call)", cold, "ms"))
    print(row("launch with a saved session → profile ready for the window", restore, "ms"))
    print(row("`gio open` of the redirect → profile drawn (observed in the page: the frame after the status turns signed in)", link, "ms"))
    print(row("`gio open` of the redirect → profile shown (WebDriver polling every 10 ms; includes its round trips)", link_polled, "ms"))
    print(row("idle RSS, app process", idle_app, "MiB"))
    print(row("idle RSS, app + WebKit processes", idle_all, "MiB"))
    print(row("RSS after a sign-in, app process", signed_app, "MiB"))
    print(row("RSS after a sign-in, app + WebKit processes", signed_all, "MiB"))
    print(f"| release binary size | {size:.1f} MiB | | |")
    print()
    print(f"### {ACCOUNTS} restored accounts against 1 (issue 19; the app's clock from `run()`)")
    print()
    print(f"| figure | 1 account median (min–max) | {ACCOUNTS} accounts median (min–max) | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| launch → window ready with the cached accounts drawn | {floor.cell(one_ready, 'ms')} | "
          f"{floor.cell(five_ready, 'ms')} | {floor.ratio(five_ready, one_ready, 'ms')} |")
    print(f"| launch → the last account's session read back from the keyring, refreshed at the provider and its profile redrawn | "
          f"{floor.cell(one_refreshed, 'ms')} | {floor.cell(five_refreshed, 'ms')} | "
          f"{floor.ratio(five_refreshed, one_refreshed, 'ms')} |")
    print(f"| launch → every account restored and drawn (the later of the two above) | "
          f"{floor.cell(one_done, 'ms')} | {floor.cell(five_done, 'ms')} | {floor.ratio(five_done, one_done, 'ms')} |")
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
