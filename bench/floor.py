#!/usr/bin/env python3
"""Pixie beside the floor: an empty Tauri window (bench/floor) with Pixie's Tauri version,
plugins and release profile. Both apps are measured by the same code in the same run,
launch after launch in turn, each launch with a fresh HOME and XDG data, config, cache and
state folders (inside the run's sandbox; the session bus and keyring are the run's own).

Run by bench/app_figures.py (inside tests/e2e/run.sh: Xvfb, its own D-Bus session, the
sandbox); `python3 bench/floor.py` there measures the launches alone.

The marks, the same for both apps:
- ready: the page's deferred script has run and its first command reached the app (Pixie's
  `subscribe`, logged as `window ready`; the floor's `ready`, logged in the same words). The
  bench times from just before it starts the process to the moment that line reaches it on
  the app's stderr (a pipe read by a thread): process start → page ready.
- idle memory: PSS (/proc/PID/smaps_rollup) of the app process, and of it with all its
  descendants (WebKitWebProcess, WebKitNetworkProcess), IDLE_SECONDS after ready.
- `gio open` → link in the running app: from just before `gio open LINK` until the running
  app logs `a sign-in redirect arrived`. The desktop starts a second process for the link,
  which forwards it over D-Bus (single-instance) and exits.
- second instance: the program the desktop starts for a link (Pixie's `pixie-open`, the
  floor's own binary) started with a link while the app runs, until it has forwarded and
  exited.

Pixie's own `startup step=NAME ms=N` lines (milliseconds since its `run()`) are collected from
its stderr when it writes them.

The floor never registers itself as a link handler: the bench writes a handler for its
scheme into each launch's fresh XDG folders, and nowhere else."""

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

IDLE_SECONDS = 3.0
TIMEOUT = 30.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")
READY = re.compile(r"window ready")
ARRIVED = re.compile(r"a sign-in redirect arrived")
STEP = re.compile(r"startup step=\"?([\w.-]+)\"? ms=(\d+)")

FLOOR_SCHEME = "dev.pixie.floor"
FLOOR_HANDLER = "pixie-floor-bench.desktop"
PIXIE_SCHEME = "dev.pixie.app"


class App:
    """One of the two apps: its binary, its scheme, a link for it, and how to prepare a
    launch's folders so `gio open` of its scheme reaches it."""

    def __init__(self, name, binary, scheme, link, registers_itself, handler=None):
        self.name = name
        self.binary = binary
        # The program the desktop starts for a link (Pixie's forwarder, pixie-open).
        self.handler = handler or binary
        self.scheme = scheme
        self.link = link
        self.registers_itself = registers_itself


def pixie_app(binary):
    # No sign-in is in progress: Pixie notes the link, says so in the window, and goes on.
    forwarder = os.path.join(os.path.dirname(binary), "pixie-open")
    return App("pixie", binary, PIXIE_SCHEME,
               f"{PIXIE_SCHEME}:/oauth/callback/demo?code=bench&state=bench", True,
               forwarder if os.access(forwarder, os.X_OK) else binary)


def floor_app(binary):
    return App("floor", binary, FLOOR_SCHEME, f"{FLOOR_SCHEME}:/bench?run=1", False)


def fresh_env(base, app, run):
    """A launch's environment: fresh HOME and XDG folders under `base` (inside the run's
    sandbox); the run's runtime folder, bus and display stay."""
    root = os.path.join(base, f"{app.name}-{run}")
    env = dict(os.environ)
    for var, name in (("HOME", "home"), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                      ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        path = os.path.join(root, name)
        os.makedirs(path, mode=0o700)
        env[var] = path
    os.makedirs(os.path.join(env["XDG_DATA_HOME"], "applications"))
    # What the real-window suite sets for Pixie's scenarios is not part of a plain launch.
    for var in ("PIXIE_EVENT_LOG", "PIXIE_BROWSER", "PIXIE_CONFIG", "PIXIE_ISSUER"):
        env.pop(var, None)
    env["NO_COLOR"] = "1"
    if not app.registers_itself:
        write_handler(env, app)
    return root, env


def write_handler(env, app):
    """The floor's link handler, in this launch's XDG folders only."""
    exe = app.binary if " " not in app.binary else f'"{app.binary}"'
    with open(os.path.join(env["XDG_DATA_HOME"], "applications", FLOOR_HANDLER), "w") as f:
        f.write("[Desktop Entry]\nType=Application\nName=Pixie floor (bench)\nNoDisplay=true\n"
                f"Exec={exe} %u\nMimeType=x-scheme-handler/{app.scheme};\n")
    with open(os.path.join(env["XDG_CONFIG_HOME"], "mimeapps.list"), "w") as f:
        f.write(f"[Default Applications]\nx-scheme-handler/{app.scheme}={FLOOR_HANDLER}\n")


def handler_of(env, scheme):
    return subprocess.run(["xdg-mime", "query", "default", f"x-scheme-handler/{scheme}"],
                          env=env, capture_output=True, text=True).stdout.strip()


class Launch:
    """One started app with its stderr read line by line, each line timed on arrival."""

    def __init__(self, app, env, cwd, log_path):
        self.app = app
        self.lines = []  # (perf_counter seconds, text)
        self.cond = threading.Condition()
        self.log = open(log_path, "w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([app.binary], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            now = time.perf_counter()
            text = ANSI.sub("", raw.decode(errors="replace")).rstrip("\n")
            self.log.write(text + "\n")
            with self.cond:
                self.lines.append((now, text))
                self.cond.notify_all()

    def mark(self):
        """Where the lines seen so far end (for waiting on a later line)."""
        with self.cond:
            return len(self.lines)

    def wait_line(self, pattern, after=0, timeout=TIMEOUT):
        """The time a line matching `pattern` arrived (at index `after` or later)."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                for t, text in self.lines[after:]:
                    if pattern.search(text):
                        return t, text
                left = deadline - time.perf_counter()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"{self.app.name}: no line matching {pattern.pattern!r} "
                                         f"(exit status {self.proc.poll()}; see {self.log.name})")
                self.cond.wait(min(left, 0.05))

    def steps(self):
        with self.cond:
            return [(m.group(1), int(m.group(2))) for _, text in self.lines
                    for m in [STEP.search(text)] if m]

    def stop(self):
        """End the app and what it started, by PID: SIGTERM, then SIGKILL after a grace."""
        family = descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        # WebKit's processes leave when their UI process is gone; any that lingers is ended.
        deadline = time.time() + 3
        while time.time() < deadline and any(alive(p) for p in family):
            time.sleep(0.05)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = [p for p in family if alive(p)]
            for pid in left:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            if left:
                time.sleep(1)
        self.reader.join(timeout=5)
        self.log.close()


def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), fields[0]
    except (OSError, ValueError, IndexError):
        return None


def alive(pid):
    st = _stat(pid)
    return st is not None and st[1] != "Z"


def descendants(root):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st and st[1] != "Z":
                children.setdefault(st[0], []).append(int(name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def pss_mib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def program(pid):
    """The program a process runs (its argv[0]'s last part; /proc's comm is cut at 15)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return "?"
    return os.path.basename(argv0) or "?"


def measure_once(app, base, run, logs):
    """One launch of `app`: ready, idle memory, the link through `gio open`, and a second
    instance forwarding a link. Returns a dict of figures (ms, MiB) and its start-up steps."""
    root, env = fresh_env(base, app, run)
    launch = Launch(app, env, env["HOME"], os.path.join(logs, f"{app.name}-{run}.log"))
    got = {}
    try:
        t, text = launch.wait_line(READY)
        got["ready"] = (t - launch.started) * 1000
        # The app's own clock starts in main(): the rest is exec, linking and what runs first.
        in_app = re.search(r"ms=(\d+)", text)
        if in_app:
            got["before_main"] = got["ready"] - int(in_app.group(1))
        if app.name == "pixie" and "phase=SignedOut" not in text:
            raise AssertionError(f"pixie was not signed out at start: {text}")
        ready_at = t
        # Pixie registers its scheme after its first paint; the floor's was written before.
        deadline = time.perf_counter() + TIMEOUT
        while handler_of(env, app.scheme) == "":
            if time.perf_counter() > deadline:
                raise AssertionError(f"{app.name}: no handler for {app.scheme}: registered")
            time.sleep(0.05)
        time.sleep(max(0.0, ready_at + IDLE_SECONDS - time.perf_counter()))
        family = descendants(launch.proc.pid)
        got["pss_app"] = pss_mib(launch.proc.pid)
        got["pss_all"] = got["pss_app"] + sum(pss_mib(p) for p in family)
        got["processes"] = sorted(program(p) for p in family)

        at = launch.mark()
        started = time.perf_counter()
        subprocess.run(["gio", "open", app.link], env=env, check=True, timeout=TIMEOUT)
        t, _ = launch.wait_line(ARRIVED, after=at)
        got["gio"] = (t - started) * 1000

        at = launch.mark()
        started = time.perf_counter()
        second = subprocess.run([app.handler, app.link], env=env, cwd=env["HOME"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=TIMEOUT)
        got["second"] = (time.perf_counter() - started) * 1000
        if second.returncode != 0:
            raise AssertionError(f"{app.name}: the second instance exited {second.returncode}")
        launch.wait_line(ARRIVED, after=at)  # it was forwarded, not opened on its own
        got["steps"] = launch.steps()
    finally:
        launch.stop()
        shutil.rmtree(root, ignore_errors=True)
    return got


def measure(apps, runs, logs):
    """`runs` launches of each app, in turn (the order flips each run, so a drift in the
    machine's load touches both alike). Returns {app name: {figure: [values]}}."""
    base = tempfile.mkdtemp(prefix="launches.", dir=os.environ.get("PIXIE_E2E_SANDBOX"))
    series = {a.name: {} for a in apps}
    try:
        for run in range(runs):
            for app in (apps if run % 2 == 0 else list(reversed(apps))):
                got = measure_once(app, base, run, logs)
                for key, value in got.items():
                    series[app.name].setdefault(key, []).append(value)
                time.sleep(0.5)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return series


def spread(values):
    """(max − min) / median, as a fraction."""
    m = statistics.median(values)
    return (max(values) - min(values)) / m if m else 0.0


def cell(values, unit):
    if not values:
        return "-"
    fmt = (lambda v: f"{v:.0f}") if unit == "ms" else (lambda v: f"{v:.1f}")
    return f"{fmt(statistics.median(values))} {unit} ({fmt(min(values))}–{fmt(max(values))})"


def ratio(p, f, unit):
    if not p or not f:
        return "-"
    mp, mf = statistics.median(p), statistics.median(f)
    text = f"{mp / mf:.2f}×" if mf else "-"
    if unit == "MiB":
        text += f" ({mp - mf:+.1f} MiB)"
    return text


# The targets of issue 21, judged on the medians of the run: (text, test(pixie, floor)).
TARGETS = {
    "ready": ("≤ 1.1×", lambda p, f: p <= 1.1 * f),
    "pss_all": ("≤ floor + 20 MiB", lambda p, f: p <= f + 20),
    "handback": ("≤ 50 ms", lambda p, _: p <= 50),
    "size": ("≤ 1.3×", lambda p, f: p <= 1.3 * f),
}


def judged(key, p, f):
    """The target cell and the held? cell of a figure (empty for a figure without one)."""
    if key not in TARGETS or p is None:
        return "", ""
    text, test = TARGETS[key]
    return text, ("yes" if test(p, f) else "no")


def table(series, runs, sizes, handback=None):
    """The Markdown table: figure | target | Pixie | floor | ratio | held?, then how noisy it
    was and Pixie's start-up steps."""
    p, f = series["pixie"], series["floor"]
    rows = [
        ("cold start: process start → page ready (its first command reached the app)", "ready", "ms",
         "cold start"),
        ("idle PSS, app process", "pss_app", "MiB", "PSS of the app"),
        ("idle PSS, app + WebKit processes", "pss_all", "MiB", "PSS with WebKit"),
        ("`gio open` of a link → the running app has it", "gio", "ms", "gio open → link"),
        ("second instance (the link handler: Pixie's `pixie-open`, the floor itself): start → link forwarded → exit",
         "second", "ms", "second instance"),
    ]
    out = ["| figure | target | Pixie median (min–max) | floor median (min–max) | ratio | held? |",
           "| --- | --- | --- | --- | --- | --- |"]
    noise = []
    median = lambda v: statistics.median(v) if v else None
    for name, key, unit, short in rows:
        target, held = judged(key, median(p.get(key)), median(f.get(key)))
        out.append(f"| {name} | {target} | {cell(p.get(key), unit)} | {cell(f.get(key), unit)} | "
                   f"{ratio(p.get(key), f.get(key), unit)} | {held} |")
        for who, s in (("Pixie", p), ("floor", f)):
            if s.get(key):
                noise.append((spread(s[key]), f"{short}, {who}"))
    if handback:
        target, held = judged("handback", median(handback), None)
        out.append(f"| hand-back: `gio open` of the redirect → profile drawn (observed in the page; "
                   f"the floor has no sign-in) | {target} | {cell(handback, 'ms')} | - | - | {held} |")
        noise.append((spread(handback), "hand-back, Pixie"))
    ps, fs = sizes
    target, held = judged("size", ps, fs)
    out.append(f"| release binary size (same profile) | {target} | {ps:.1f} MiB | {fs:.1f} MiB | "
               f"{ps / fs:.2f}× | {held} |")
    out.append("")
    noise.sort()
    if noise:
        worst = noise[-1]
        middle = statistics.median(v for v, _ in noise)
        out.append(f"{runs} launches of each app, taking turns. How noisy: the spread (max − min, as "
                   f"a share of the median) of each figure was {middle:.0%} at the median, "
                   f"{noise[0][0]:.0%} at least ({noise[0][1]}) and {worst[0]:.0%} at most ({worst[1]}).")
    procs = {a: sorted(set(tuple(x) for x in s.get("processes", []))) for a, s in series.items()}
    out.append("Processes counted beside the app: " + "; ".join(
        f"{a}: {', '.join(' + '.join(x) for x in ps) or 'none'}" for a, ps in procs.items()) + ".")
    if p.get("before_main") and f.get("before_main"):
        out.append("Of the cold start, process start → the app's own clock (exec, dynamic linking, "
                   f"Pixie's link check before `run()`): Pixie {cell(p['before_main'], 'ms')}, "
                   f"floor {cell(f['before_main'], 'ms')}.")
    steps = step_table(p.get("steps", []))
    if steps:
        out += ["", "Pixie's start-up steps (its `startup step=… ms=…` lines, ms since its `run()`):",
                "", *steps]
    return "\n".join(out)


def step_table(runs):
    order, values = [], {}
    for steps in runs:
        for name, ms in steps:
            if name not in values:
                order.append(name)
                values[name] = []
            values[name].append(ms)
    if not order:
        return []
    out = ["| step | median (min–max) |", "| --- | --- |"]
    out += [f"| {name} | {cell(values[name], 'ms')} |" for name in order]
    return out


def binaries():
    root = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    pixie = os.environ.get("PIXIE_APP", os.path.join(root, "target", "release", "pixie"))
    floor = os.environ.get("PIXIE_FLOOR_APP", os.path.join(root, "target", "release", "pixie-floor"))
    return pixie_app(pixie), floor_app(floor)


def compare(runs, logs, handback=None):
    pixie, floor = binaries()
    series = measure([pixie, floor], runs, logs)
    sizes = (os.stat(pixie.binary).st_size / 2**20, os.stat(floor.binary).st_size / 2**20)
    return table(series, runs, sizes, handback)


if __name__ == "__main__":
    out = os.environ.get("PIXIE_E2E_DIR") or tempfile.mkdtemp(prefix="pixie-floor-logs.")
    print(compare(int(os.environ.get("PIXIE_BENCH_RUNS", "5")), out))
    sys.exit(0)
