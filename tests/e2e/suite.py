#!/usr/bin/env python3
"""Pixie in its real window, driven through tauri-driver + WebKitWebDriver, with the redirect
delivered by the desktop (`gio open` → x-scheme-handler → single-instance forwarding).

Prints one line per scenario and a final `N passed, N failed` line. Run it through run.sh,
which provides the display, the session bus and tauri-driver."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.wait import WebDriverWait

from person import deliver, login

APP = os.environ["PIXIE_APP"]
OUT = os.environ["PIXIE_E2E_DIR"]
DRIVER_URL = os.environ.get("TAURI_DRIVER_URL", "http://127.0.0.1:4444")
EVENT_LOG = os.environ["PIXIE_EVENT_LOG"]
TIMEOUT = 30

NOT_IN_PROGRESS = "no sign-in is in progress"


def plan(**p):
    with open(os.path.join(OUT, "plan.json"), "w") as f:
        json.dump(p, f)


def auth_urls():
    try:
        with open(os.path.join(OUT, "auth-urls.txt")) as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


class Window:
    """One launch of the app under WebDriver."""

    def __init__(self, args=()):
        opts = ArgOptions()
        opts.set_capability("browserName", "wry")
        opts.set_capability("tauri:options", {"application": APP, "args": list(args)})
        self.d = webdriver.Remote(DRIVER_URL, options=opts)
        self.wait_until(lambda: self.phase() != "loading", "the window renders")
        # Pixie registers dev.pixie.app with the desktop in the background at start-up.
        self.wait_until(scheme_registered, "the dev.pixie.app handler is registered")

    def close(self):
        try:
            self.d.quit()
        except Exception:
            pass

    def el(self, testid):
        return self.d.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def text(self, testid):
        return self.el(testid).text.strip()

    def visible(self, testid):
        try:
            return self.el(testid).is_displayed()
        except Exception:
            return False

    def phase(self):
        return self.el("status").get_attribute("data-phase")

    def click(self, testid):
        self.el(testid).click()

    def wait_until(self, cond, what, timeout=TIMEOUT):
        try:
            WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda _d: cond())
        except Exception:
            raise AssertionError(
                f"timed out waiting until {what} (phase={self.safe_phase()}, notice={self.safe_notice()!r})"
            ) from None

    def wait_phase(self, phase, timeout=TIMEOUT):
        self.wait_until(lambda: self.phase() == phase, f"phase is {phase}", timeout)

    def wait_notice(self, fragment):
        self.wait_until(
            lambda: self.visible("notice") and fragment in self.text("notice"),
            f"a notice saying '{fragment}'",
        )

    def safe_phase(self):
        try:
            return self.phase()
        except Exception:
            return "?"

    def safe_notice(self):
        try:
            return self.text("notice") if self.visible("notice") else None
        except Exception:
            return None

    def no_secrets_in_page(self):
        html = self.d.page_source
        for word in ("access_token", "refresh_token", "id_token", "code_verifier", "eyJ"):
            assert word not in html, f"the page contains {word}"


def scheme_registered():
    out = subprocess.run(
        ["xdg-mime", "query", "default", "x-scheme-handler/dev.pixie.app"],
        capture_output=True, text=True,
    ).stdout.strip()
    return out.endswith("-handler.desktop")


def begin_sign_in(w):
    before = len(auth_urls())
    w.click("sign-in")
    w.wait_until(lambda: len(auth_urls()) > before, "Pixie opened the browser")
    return auth_urls()[-1]


def scenario_sign_in(w):
    """Click Sign in → waiting → redirect delivered by the OS → profile with a loaded picture."""
    plan(action="allow", delay=2)
    w.wait_phase("signed_out")
    begin_sign_in(w)
    w.wait_phase("authorizing", timeout=5)
    assert w.visible("cancel"), "Cancel is offered while waiting"
    assert "browser" in w.text("status").lower()
    w.wait_phase("signed_in")
    assert w.text("profile-name") == "Ada Lovelace", w.text("profile-name")
    assert w.text("profile-email") == "ada.lovelace@example.com", w.text("profile-email")
    w.wait_until(
        lambda: w.d.execute_script(
            "const i = document.querySelector('[data-testid=profile-picture]');"
            "return i.complete && i.naturalWidth > 0 && !i.hidden;"
        ),
        "the picture has loaded",
    )
    assert w.visible("sign-out")
    w.no_secrets_in_page()
    time.sleep(0.3)  # let the picture paint before the screenshot
    shot = os.path.join(OUT, "signed-in.png")
    w.d.save_screenshot(shot)
    subprocess.run(["import", "-window", "root", os.path.join(OUT, "signed-in-desktop.png")], check=False)
    print(f"# screenshot of the signed-in window: {shot}")
    w.click("sign-out")
    w.wait_phase("signed_out")


def scenario_deny(w):
    """Deny at the provider → plain-words message; Try again works."""
    plan(action="deny")
    begin_sign_in(w)
    w.wait_phase("failed")
    message = w.text("error")
    assert "cancelled at the provider" in message, message
    assert w.el("error-code").get_attribute("textContent") == "access_denied"
    plan(action="allow")
    w.click("try-again")
    w.wait_phase("signed_in")
    assert w.text("profile-name") == "Ada Lovelace"


def scenario_cancel(w):
    """Cancel while waiting → signed out; the late redirect is ignored with a notice."""
    plan(action="hold")
    url = begin_sign_in(w)
    w.wait_phase("authorizing")
    w.click("cancel")
    w.wait_phase("signed_out")
    # The person finishes in the browser anyway.
    deliver(login(url))
    w.wait_notice("you cancelled")
    assert w.phase() == "signed_out"
    assert not w.visible("error")


def scenario_forged(w):
    """A forged redirect while a sign-in is pending → notice; the genuine one still signs in."""
    plan(action="hold")
    url = begin_sign_in(w)
    w.wait_phase("authorizing")
    deliver("dev.pixie.app:/oauth/callback?code=forged-code&state=forged-state")
    w.wait_notice("does not belong to this sign-in")
    assert w.phase() == "authorizing"
    redirect = login(url, name="Grace Hopper")
    started = time.perf_counter()
    deliver(redirect)
    w.wait_until(lambda: w.phase() == "signed_in", "signed in", TIMEOUT)
    elapsed = (time.perf_counter() - started) * 1000
    assert w.text("profile-name") == "Grace Hopper"
    print(f"# gio open of the redirect -> profile shown: {elapsed:.0f} ms (WebDriver polling adds up to 100 ms)")


def scenario_twice(w):
    """The same redirect delivered twice → signed in once, the second ignored."""
    plan(action="allow", deliveries=2)
    begin_sign_in(w)
    w.wait_phase("signed_in")
    w.wait_notice("already used")
    assert w.phase() == "signed_in"
    assert w.text("profile-name") == "Ada Lovelace"


def read_events():
    try:
        with open(EVENT_LOG) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def scenario_cold_start_by_gio():
    """The app is not running; `gio open` of a redirect starts it; it says the link belongs
    to no sign-in in progress, and keeps running."""
    Window().close()  # a first run registers the scheme, as `cargo run` would
    time.sleep(0.5)
    open(EVENT_LOG, "w").close()
    link = "dev.pixie.app:/oauth/callback?code=stale-code&state=stale-state"
    deliver(link)
    deadline = time.time() + TIMEOUT
    seen = None
    while time.time() < deadline and seen is None:
        for view in read_events():
            notice = view.get("notice") or {}
            if NOT_IN_PROGRESS in notice.get("text", ""):
                seen = view
        time.sleep(0.2)
    pids = subprocess.run(["pgrep", "-f", f"^{APP} dev.pixie.app:"], capture_output=True, text=True).stdout.split()
    try:
        assert seen is not None, "the started app never said the link belongs to no sign-in"
        assert seen["phase"] == "signed_out", seen
        time.sleep(1)
        alive = subprocess.run(["pgrep", "-f", f"^{APP} dev.pixie.app:"], capture_output=True, text=True).stdout.split()
        assert alive, "the app started by the link exited or crashed"
    finally:
        for pid in pids:
            os.kill(int(pid), signal.SIGTERM)
        time.sleep(1)


def scenario_cold_start_window():
    """Launched with a link as its argument (what the desktop file's Exec does): the window
    shows the notice and the Sign in button."""
    w = Window(args=["dev.pixie.app:/oauth/callback?code=stale-code&state=stale-state"])
    try:
        w.wait_notice(NOT_IN_PROGRESS)
        assert w.phase() == "signed_out"
        assert w.visible("sign-in")
    finally:
        w.close()


def windowed(fn):
    def run():
        w = Window()
        try:
            fn(w)
        finally:
            w.close()
            time.sleep(0.5)  # let the D-Bus name go before the next launch

    run.__doc__ = fn.__doc__
    return run


SCENARIOS = [
    ("sign in through the browser and the OS deep link", windowed(scenario_sign_in)),
    ("deny at the provider, then try again", windowed(scenario_deny)),
    ("cancel while waiting; the late redirect is ignored", windowed(scenario_cancel)),
    ("a forged redirect is ignored; the genuine one signs in", windowed(scenario_forged)),
    ("cold start by gio open of a stale redirect", scenario_cold_start_by_gio),
    ("cold start window shows the stale-link notice", scenario_cold_start_window),
    ("the same redirect delivered twice signs in once", windowed(scenario_twice)),
]


def main():
    only = sys.argv[1:]
    passed = failed = 0
    for name, run in SCENARIOS:
        if only and not any(o in name for o in only):
            continue
        started = time.time()
        try:
            run()
            passed += 1
            print(f"ok   {name} ({time.time() - started:.1f}s)", flush=True)
        except Exception as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
            traceback.print_exc(file=sys.stderr)
    print(f"e2e: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
