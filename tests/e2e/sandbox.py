#!/usr/bin/env python3
"""A private desktop for one test run, and the end of everything the run started.

    sandbox.py -- COMMAND [ARG...]

Creates a folder under $TMPDIR (or /tmp) with the run's own XDG data, config, cache and
runtime folders (the runtime one 0700: the session bus, the keyring's sockets and the
portals' mounts live there), a TMPDIR, a Downloads folder and a D-Bus config whose bus
listens inside it. Runs COMMAND with those in its environment, plus PIXIE_E2E_SANDBOX
naming the folder and PIXIE_E2E_DBUS_CONFIG naming the bus config.

When COMMAND ends, this process ends what the run left behind, and nothing else: its own
descendants (it is a child subreaper, so daemons that detach from their parent — a keyring,
a portal activated by the bus — are reparented to it), and processes of this user carrying
this run's PIXIE_E2E_SANDBOX in their environment. Each is stopped by its PID (SIGTERM, then
SIGKILL after a grace period), never by a name. Then FUSE mounts under the folder (the
document portal's) are unmounted and the folder removed. Cleanup reports what it could not
do on stderr and never changes the exit status: that is COMMAND's.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36
MARKER = "PIXIE_E2E_SANDBOX"
GRACE_SECONDS = 5.0


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _stat(pid):
    """(ppid, state) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # comm is in parentheses and may hold spaces or parentheses itself.
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root=None):
    """Live (not zombie) descendants of `root` (default: this process)."""
    root = os.getpid() if root is None else root
    children = {}
    states = {}
    for pid in _pids():
        st = _stat(pid)
        if st:
            children.setdefault(st[0], []).append(pid)
            states[pid] = st[1]
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            if states.get(child) != "Z":
                found.append(child)
    return found


def argv_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
    except OSError:
        return []


def comm_of(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def carries_marker(pid, sandbox):
    """Whether a process was started inside this run's sandbox (its environment names it)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return f"{MARKER}={sandbox}".encode() in env


def marked(sandbox):
    """This user's live processes started inside the sandbox `sandbox`."""
    me, uid = os.getpid(), os.getuid()
    found = []
    for pid in _pids():
        if pid == me:
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
        except OSError:
            continue
        st = _stat(pid)
        if st and st[1] != "Z" and carries_marker(pid, sandbox):
            found.append(pid)
    return found


def _reap():
    """Collect exited children (orphans reparented to this subreaper among them)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def stop(pids, grace=GRACE_SECONDS):
    """SIGTERM each PID, wait up to `grace` seconds, SIGKILL what is left. Returns the PIDs
    that had to be killed."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + grace
    alive = list(pids)
    while alive and time.time() < deadline:
        _reap()
        alive = [p for p in alive if (_stat(p) or (0, "Z"))[1] != "Z"]
        if alive:
            time.sleep(0.1)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _reap()
    return alive


def sweep(sandbox):
    """End every process this run left, by PID; a few rounds, since a process may start
    another as it stops."""
    for _ in range(5):
        pids = sorted(set(descendants()) | set(marked(sandbox)))
        if not pids:
            return
        names = ", ".join(f"{p} {comm_of(p)}" for p in pids)
        print(f"# cleanup: stopping what the run left: {names}", file=sys.stderr)
        stop(pids)
    left = sorted(set(descendants()) | set(marked(sandbox)))
    if left:
        print(f"# cleanup: still running after SIGKILL: {left}", file=sys.stderr)


def mounts_under(folder):
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].encode().decode("unicode_escape")
                if point == folder or point.startswith(folder + "/"):
                    found.append(point)
    except OSError:
        pass
    return sorted(found, key=len, reverse=True)  # innermost first


def unmount(point):
    for cmd in (["fusermount3", "-u", "-z", point], ["fusermount", "-u", "-z", point],
                ["umount", "-l", point]):
        if shutil.which(cmd[0]):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode == 0:
                return True
    return False


def remove(sandbox):
    for point in mounts_under(sandbox):
        if not unmount(point):
            print(f"# cleanup: could not unmount {point}", file=sys.stderr)
    problems = []
    shutil.rmtree(sandbox, onerror=lambda _f, path, exc: problems.append(f"{path}: {exc[1]}"))
    for p in problems[:5]:
        print(f"# cleanup: could not remove {p}", file=sys.stderr)


DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={runtime}</listen>
  <auth>EXTERNAL</auth>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def create():
    sandbox = os.path.realpath(tempfile.mkdtemp(prefix="pixie-e2e."))
    dirs = {
        "XDG_DATA_HOME": "data",
        "XDG_CONFIG_HOME": "config",
        "XDG_CACHE_HOME": "cache",
        "XDG_RUNTIME_DIR": "runtime",
        "TMPDIR": "tmp",
    }
    env = {}
    for var, name in dirs.items():
        path = os.path.join(sandbox, name)
        os.mkdir(path, 0o700)
        env[var] = path
    os.mkdir(os.path.join(env["XDG_DATA_HOME"], "applications"))
    downloads = os.path.join(sandbox, "downloads")
    os.mkdir(downloads)
    with open(os.path.join(env["XDG_CONFIG_HOME"], "user-dirs.dirs"), "w") as f:
        f.write(f'XDG_DOWNLOAD_DIR="{downloads}"\n')
    config = os.path.join(sandbox, "session-bus.conf")
    with open(config, "w") as f:
        f.write(DBUS_CONFIG.format(runtime=env["XDG_RUNTIME_DIR"]))
    env[MARKER] = sandbox
    env["PIXIE_E2E_DBUS_CONFIG"] = config
    return sandbox, env


def main(argv):
    if len(argv) < 2 or argv[0] != "--":
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    become_subreaper()
    x11 = os.path.isdir("/tmp/.X11-unix")
    sandbox, extra = create()
    env = dict(os.environ, **extra)
    # The person's own session must not leak in: the run has its own bus and keyring.
    for var in ("DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK",
                "WAYLAND_DISPLAY", "DISPLAY"):
        env.pop(var, None)
    status = 1
    child = None
    # Ctrl-C reaches the whole foreground group, COMMAND included; this process waits for
    # it and cleans up. A SIGTERM sent to this process alone is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child and child.terminate())
    try:
        child = subprocess.Popen(argv[1:], env=env)
        while True:
            try:
                status = child.wait()
                break
            except InterruptedError:
                continue
        if status < 0:  # killed by a signal
            status = 128 - status
    except OSError as e:
        print(f"sandbox: cannot run {argv[1]}: {e}", file=sys.stderr)
        status = 127
    finally:
        try:
            sweep(sandbox)
            remove(sandbox)
            # Xvfb makes /tmp/.X11-unix; leave it as it was found.
            if not x11:
                try:
                    os.rmdir("/tmp/.X11-unix")
                except OSError:
                    pass
        except Exception as e:  # cleanup never decides the verdict
            print(f"# cleanup: {e}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
