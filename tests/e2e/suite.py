#!/usr/bin/env python3
"""Pixie in its real window, driven through tauri-driver + WebKitWebDriver, with the redirect
delivered by the desktop (`gio open` → x-scheme-handler → single-instance forwarding).

Prints one line per scenario and a final `N passed, N failed` line. Run it through run.sh,
which provides the display, the session bus and tauri-driver."""

import base64
import hashlib
import json
import re
import os
import shutil
import signal
import socket
import stat
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.wait import WebDriverWait

import sandbox
from person import deliver, login

APP = os.environ["PIXIE_APP"]
OUT = os.environ["PIXIE_E2E_DIR"]
SANDBOX = os.environ["PIXIE_E2E_SANDBOX"]
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


def flow_steps(w):
    """The last sign-in's redacted flow record, as the app exports it (its JSON event log)."""
    text = w.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        window.__TAURI__.core.invoke('flow_export', {format: 'json'}).then(done, (e) => done('error: ' + e));
    """)
    return json.loads(text)


def request_params(w, url):
    """What the authorization request asked: its URL's query, or, when it was pushed
    (RFC 9126, the URL holding only client_id and request_uri), the pushed parameters as the
    flow record shows them (state and nonce shortened there)."""
    query = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(url).query).items()}
    if "request_uri" not in query:
        return query
    pushed = [s for s in flow_steps(w) if "pushed authorization request" in s["label"]]
    assert pushed, "a request_uri in the URL but no push in the flow record"
    return {p["name"]: p["value"] for p in pushed[-1]["params"]}


def request_query(url):
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(url).query).items()}


def last_redirect():
    with open(os.path.join(OUT, "last-redirect.txt")) as f:
        return f.read().strip()


class Driver:
    """A tauri-driver (with WebKitWebDriver) on its own port, with its own environment: the
    app it launches inherits it (that is how the no-D-Bus run loses the session bus)."""

    def __init__(self, port, native_port, env, kind):
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = os.path.join(OUT, f"tauri-driver-{kind}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["tauri-driver", "--port", str(port), "--native-port", str(native_port),
             "--native-driver", shutil.which("WebKitWebDriver")],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tauri-driver exited (see {self.log_path})")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("tauri-driver did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


DRIVERS = {}


def free_port():
    """A port nobody listens on, so two runs on one machine never talk to each other's driver."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def driver(kind="desktop"):
    if kind not in DRIVERS:
        env = dict(os.environ)
        if kind == "no-dbus":
            env.pop("DBUS_SESSION_BUS_ADDRESS", None)
            env.pop("GNOME_KEYRING_CONTROL", None)
        if kind == "hostile":
            env["PIXIE_ISSUER"] = faulty_idp()
            env["PIXIE_CLIENT_ID"] = "pixie-custom"
        if kind == "interop":
            env["PIXIE_CONFIG"] = interop_config()
        if kind == "bad-config":
            env["PIXIE_CONFIG"] = bad_config()
        if kind == "no-browser":
            env["PIXIE_BROWSER"] = "/nonexistent/pixie-no-such-browser"
        if kind == "norefresh":
            env["PIXIE_CONFIG"] = norefresh_config()
        if kind == "dark":
            # WebKitGTK reports `prefers-color-scheme: dark` under a dark GTK theme.
            env["GTK_THEME"] = "Adwaita:dark"
        DRIVERS[kind] = Driver(free_port(), free_port(), env, kind)
    return DRIVERS[kind]


class Window:
    """One launch of the app under WebDriver."""

    def __init__(self, args=(), kind="desktop", registered=True):
        opts = ArgOptions()
        opts.set_capability("browserName", "wry")
        opts.set_capability("tauri:options", {"application": APP, "args": list(args)})
        for attempt in range(3):
            try:
                self.d = webdriver.Remote(driver(kind).url, options=opts)
                break
            except Exception as e:  # the driver may still be starting its native half
                if attempt == 2:
                    raise
                print(f"# retrying the WebDriver session: {e}", file=sys.stderr)
                time.sleep(1)
        try:
            self.wait_until(lambda: self.phase() != "loading", "the window renders")
            # Pixie registers dev.pixie.app with the desktop in the background at start-up.
            if registered:
                self.wait_until(scheme_registered, "the dev.pixie.app handler is registered")
        except Exception:
            self.close()  # never leave a session behind for the next scenario
            raise

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


# The desktop file expected to handle dev.pixie.app: the one a dev run writes, or the
# installed package's (tests/install sets it).
EXPECTED_HANDLER = os.environ.get("PIXIE_E2E_HANDLER", "pixie-handler.desktop")


def scheme_registered():
    out = subprocess.run(
        ["xdg-mime", "query", "default", "x-scheme-handler/dev.pixie.app"],
        capture_output=True, text=True,
    ).stdout.strip()
    return out == EXPECTED_HANDLER


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
    w.wait_until(lambda: picture_loaded(w), "the picture has loaded")
    assert w.visible("sign-out")
    w.no_secrets_in_page()
    # The provider the app embeds cannot be switched into a fault mode.
    try:
        urllib.request.urlopen(f"{issuer_of(auth_urls()[-1])}/_fault", data=b"fault=id-token-alg-none", timeout=10)
        raise AssertionError("the embedded provider accepted a fault switch")
    except urllib.error.HTTPError as e:
        assert e.code in (404, 405), e.code
    time.sleep(0.3)  # let the picture paint before the screenshot
    shot = os.path.join(OUT, "signed-in.png")
    w.d.save_screenshot(shot)
    subprocess.run(["import", "-window", "root", os.path.join(OUT, "signed-in-desktop.png")], check=False)
    print(f"# screenshot of the signed-in window: {shot}")
    check_flow_panel(w, failed=False)
    w.click("sign-out")
    w.wait_phase("signed_out")


def check_flow_panel(w, failed):
    """'How this sign-in worked': the real steps, drawn; exports without secrets."""
    w.click("show-flow-failed" if failed else "show-flow")
    w.wait_until(lambda: w.visible("flow-panel"), "the flow panel opens")
    steps = w.d.find_elements(By.CSS_SELECTOR, "[data-testid=flow-diagram] svg g[data-step]")
    oks = [s.get_attribute("data-ok") for s in steps]
    if failed:
        assert "false" in oks, f"no failed step drawn: {oks}"
    else:
        # Every step of the record is drawn: with the demo provider, the push (RFC 9126),
        # the browser, the redirect, the token request, the ID token, userinfo, the picture.
        recorded = flow_steps(w)
        labels = [r["label"] for r in recorded]
        assert len(steps) == len(recorded) == 8 and set(oks) == {"true"}, (oks, labels)
        assert "pushed authorization request" in labels[0], labels[0]
    time.sleep(0.3)
    w.d.save_screenshot(os.path.join(OUT, "flow-failed.png" if failed else "flow.png"))
    w.click("flow-copy-mermaid")
    w.wait_until(lambda: "Mermaid" in w.text("flow-status"), "the Mermaid export is offered")
    mermaid = w.d.execute_script(
        "return navigator.clipboard && document.getElementById('flow-text').value;"
    )
    assert mermaid.startswith("sequenceDiagram"), mermaid[:40]
    assert "code_verifier=[never shown]" in mermaid or failed
    for word in ("eyJ", "access_token="):
        assert word not in mermaid
    w.click("flow-save-svg")
    w.wait_until(lambda: "Saved to" in w.text("flow-status"), "the SVG is saved")
    path = w.text("flow-status").split("Saved to ", 1)[1].strip()
    with open(path) as f:
        assert "<svg" in f.read()
    w.click("flow-close")
    w.wait_until(lambda: not w.visible("flow-panel"), "the flow panel closes")


def scenario_deny(w):
    """Deny at the provider → plain-words message; Try again works."""
    plan(action="deny")
    begin_sign_in(w)
    w.wait_phase("failed")
    time.sleep(0.3)  # let it paint
    w.d.save_screenshot(os.path.join(OUT, "failed.png"))
    message = w.text("error")
    assert "cancelled at the provider" in message, message
    assert w.el("error-code").get_attribute("textContent") == "access_denied"
    check_flow_panel(w, failed=True)
    plan(action="allow")
    w.click("try-again")
    w.wait_phase("signed_in")
    assert w.text("profile-name") == "Ada Lovelace"


def scenario_cancel(w):
    """Cancel while waiting → signed out; the late redirect is ignored with a notice."""
    plan(action="hold")
    url = begin_sign_in(w)
    w.wait_phase("authorizing")
    time.sleep(0.3)
    w.d.save_screenshot(os.path.join(OUT, "waiting.png"))
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
    deliver("dev.pixie.app:/oauth/callback/demo?code=forged-code&state=forged-state")
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
    reset_session()
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
    pids = apps_started_by_link()
    try:
        assert seen is not None, "the started app never said the link belongs to no sign-in"
        assert seen["phase"] == "signed_out", seen
        time.sleep(1)
        assert apps_started_by_link(), "the app started by the link exited or crashed"
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        time.sleep(1)


def apps_started_by_link():
    """PIDs of this run's app processes started with a link as their argument: among the
    processes started in this run's sandbox, never by a name alone (the person's own Pixie
    may be running)."""
    found = []
    for pid in sandbox.marked(SANDBOX):
        argv = sandbox.argv_of(pid)
        if argv[:1] == [APP] and len(argv) > 1 and argv[1].startswith("dev.pixie.app:"):
            found.append(pid)
    return found


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


def reset_session():
    """Each scenario starts signed out: no saved session, no cached profile."""
    subprocess.run(["secret-tool", "clear", "service", "dev.pixie.app"], check=False)
    # The provider used last belongs to the scenario that used it.
    last = os.path.join(os.environ["XDG_DATA_HOME"], "dev.pixie.app", "last-provider")
    if os.path.exists(last):
        os.remove(last)
    for name in ("accounts.json", "profile.json"):
        cache = os.path.join(os.environ["XDG_CACHE_HOME"], "dev.pixie.app", name)
        if os.path.exists(cache):
            os.remove(cache)


def demo_sub(name):
    """The subject the demo provider gives a name (see pixie-dev-idp's store.rs)."""
    return "user-" + hashlib.sha256(" ".join(name.split()).lower().encode()).hexdigest()[:16]


def keyring_lookup(account):
    r = subprocess.run(
        ["secret-tool", "lookup", "service", "dev.pixie.app", "username", account],
        capture_output=True, text=True,
    )
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def wait_for(cond, what, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


def files_containing(secret):
    """Files of the app's own config, cache and data dirs (the whole XDG sandbox except the
    Secret Service's keyring files) that contain `secret`."""
    keyrings = os.path.join(os.environ["XDG_DATA_HOME"], "keyrings")
    # The document portal's FUSE mount is not the app's; sockets and pipes are not files.
    portal = os.path.join(os.environ["XDG_RUNTIME_DIR"], "doc")
    found = []
    for top, _dirs, files in os.walk(SANDBOX):
        if top.startswith(keyrings) or top.startswith(portal):
            continue
        for name in files:
            path = os.path.join(top, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                with open(path, "rb") as f:
                    if secret.encode() in f.read():
                        found.append(path)
            except OSError:
                pass
    return found


def refresh_at_provider(issuer, refresh_token):
    """Use a refresh token at the provider directly, as a thief holding it would."""
    data = urllib.parse.urlencode(
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "pixie-desktop"}
    ).encode()
    try:
        with urllib.request.urlopen(f"{issuer}/token", data=data, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def issuer_of(auth_url):
    u = urllib.parse.urlsplit(auth_url)
    return f"{u.scheme}://{u.netloc}"


def scenario_session_survives_restart():
    """A pushed (RFC 9126) and DPoP-bound (RFC 9449) sign-in: the browser gets only client_id
    and request_uri, the tokens are bound to a key kept with the session in the keyring and
    in no file. Quit, start again: signed in without the browser, the refresh made with the
    kept key; an old refresh token replayed by a thief revokes the session and the app asks
    to sign in again."""
    reset_session()
    account = "demo:" + demo_sub("Ada Lovelace")
    w = Window()
    try:
        plan(action="allow")
        url = begin_sign_in(w)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        assert sorted(query) == ["client_id", "request_uri"], url
        assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:"), url
        w.wait_phase("signed_in")
        steps = flow_steps(w)
        pushed = request_params(w, url)
        assert pushed.get("code_challenge_method") == "S256" and pushed.get("dpop_jkt"), pushed
        token = [s for s in steps if s["to"] == "token_endpoint"][-1]
        assert any(p["name"] == "DPoP" for p in token["params"]), token["params"]
        first = wait_for(lambda: keyring_lookup(account), "the session is in the keyring")
        assert first["issuer"] == issuer_of(url), first["issuer"]
        assert first.get("dpop_key"), "the DPoP key is kept with the session"
        assert not files_containing(first["dpop_key"]), "the DPoP key is in a file"
    finally:
        w.close()
    time.sleep(0.5)
    opened = len(auth_urls())
    w = Window()
    try:
        w.wait_phase("signed_in", timeout=5)
        assert w.text("profile-name") == "Ada Lovelace"
        second = wait_for(
            lambda: (k := keyring_lookup(account)) and k["refresh_token"] != first["refresh_token"] and k,
            "the session was refreshed and the rotated token saved",
        )
        assert len(auth_urls()) == opened, "the browser was opened on restore"
        assert second.get("dpop_key") == first["dpop_key"], "the same key after the refresh"
        for token in (first["refresh_token"], second["refresh_token"]):
            leaked = files_containing(token)
            assert not leaked, f"a refresh token is in {leaked}"
        w.no_secrets_in_page()
        # A thief replays the old refresh token: the provider refuses it and revokes the
        # whole family, the app's current token included.
        status, body = refresh_at_provider(first["issuer"], first["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant", (status, body)
    finally:
        w.close()
    time.sleep(0.5)
    w = Window()
    try:
        w.wait_notice("Your session has ended")
        w.wait_phase("signed_out")
        wait_for(lambda: keyring_lookup(account) is None, "the dead session left the keyring")
    finally:
        w.close()


def scenario_sign_out(w):
    """Sign out (also in the browser): the refresh token no longer works at the provider,
    the keyring entry is gone, and the provider's logout comes back to Pixie."""
    account = "demo:" + demo_sub("Ada Lovelace")
    plan(action="allow")
    url = begin_sign_in(w)
    w.wait_phase("signed_in")
    session = wait_for(lambda: keyring_lookup(account), "the session is in the keyring")
    w.click("sign-out-browser")
    w.click("sign-out")
    w.wait_phase("signed_out")
    wait_for(lambda: keyring_lookup(account) is None, "the keyring entry is deleted")
    status, body = refresh_at_provider(issuer_of(url), session["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant", (status, body)
    w.wait_notice("signed out in the browser too")
    # RP-Initiated Logout with client_id and a state; the ID token stays out of the URL.
    logout = [u for u in auth_urls() if "/end_session?" in u][-1]
    assert "state=" in logout and "client_id=" in logout, logout
    assert "id_token_hint=" not in logout and "eyJ" not in logout, logout
    # A forged "signed out" link (no state of ours) proves nothing and says nothing.
    deliver("dev.pixie.app:/oauth/logout?state=forged")
    w.wait_notice("no sign-in is in progress")


def scenario_window_hears_no_event(w):
    """The page cannot listen to any event: not the deep-link plugin's (which carries whole
    redirects, code and state included), not Pixie's; views come only on its own channel.
    An old view delivered late is not drawn over a newer one."""
    refused = w.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const names = ['deep-link://new-url', 'pixie://state', 'tauri://focus'];
        Promise.all(names.map((n) => window.__TAURI__.event.listen(n, () => {})
            .then(() => 'listening to ' + n, (e) => 'refused: ' + e))).then(done);
    """)
    assert all(r.startswith("refused") for r in refused), refused
    plan(action="allow")
    begin_sign_in(w)
    w.wait_phase("signed_in")
    w.d.execute_script(
        "window.PixieView.render({revision: 1, phase: 'authorizing', providers: [],"
        " provider_id: 'demo', provider_name: 'Old', loopback: false, has_flow: false});"
    )
    time.sleep(0.3)
    assert w.phase() == "signed_in", "a stale view was drawn over a newer one"
    assert w.text("profile-name") == "Ada Lovelace"


def scenario_no_browser():
    """A browser that cannot start: words that name the browser (not the provider), and
    no URL in them."""
    reset_session()
    w = Window(kind="no-browser")
    try:
        w.wait_phase("signed_out")
        w.click("sign-in")
        w.wait_phase("failed")
        assert w.el("error-code").get_attribute("textContent") == "browser"
        message = w.text("error")
        assert "web browser" in message and "pixie-no-such-browser" in message, message
        assert "http" not in message and "/nonexistent" not in message, message
        w.no_secrets_in_page()
    finally:
        w.close()
        time.sleep(0.5)


def scenario_sign_out_without_refresh_token():
    """oidc-provider with a client that gets no refresh token: nothing is kept in the keyring,
    and sign-out still revokes (the access token) and signs out in the browser."""
    reset_session()
    w = Window(kind="norefresh")
    try:
        w.wait_phase("signed_out")
        plan(action="allow", person="oidc", user="ada")
        begin_sign_in(w)
        w.wait_phase("signed_in")
        assert w.text("profile-name") == "Ada Lovelace", w.text("profile-name")
        entries = subprocess.run(["secret-tool", "search", "--all", "service", "dev.pixie.app"],
                                 capture_output=True, text=True)
        assert "op-norefresh" not in entries.stdout + entries.stderr, "a session was kept"
        log = os.path.join(OUT, "oidc-provider.log")
        before = os.path.getsize(log)
        w.click("sign-out-browser")
        w.click("sign-out")
        w.wait_phase("signed_out")

        def revoked():
            with open(log) as f:
                f.seek(before)
                return "POST /token/revocation -> 200" in f.read()
        wait_for(revoked, "oidc-provider received the revocation")
        w.wait_notice("signed out in the browser too")
    finally:
        w.close()
        time.sleep(0.5)


def scenario_no_dbus():
    """Without D-Bus there is no keyring: the window says so and the sign-in still works
    for this run (the link pasted, since no session bus can forward it)."""
    w = Window(kind="no-dbus")
    try:
        plan(action="hold")
        url = begin_sign_in(w)
        redirect = login(url)
        w.wait_until(lambda: w.visible("paste-toggle"), "the paste-the-link option appears", 40)
        w.click("paste-toggle")
        w.el("paste-url").send_keys(redirect)
        w.click("paste-submit")
        w.wait_phase("signed_in")
        w.wait_notice("couldn't save your sign-in to the system keyring")
        time.sleep(0.3)
        w.d.save_screenshot(os.path.join(OUT, "no-keyring.png"))
        assert "until you quit" in w.text("notice")
    finally:
        w.close()


FAULTY = {}


def faulty_idp():
    """A standalone demo provider built with its `faults` feature, for the app to sign in to."""
    if "issuer" not in FAULTY:
        log = open(os.path.join(OUT, "faulty-idp.log"), "w")
        proc = subprocess.Popen(
            # Pixie offers a PIXIE_ISSUER provider as `custom`, with its own redirect URI.
            [os.environ["PIXIE_IDP_BIN"], "--port", "0",
             "--client", "pixie-custom=dev.pixie.app:/oauth/callback/custom"],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        FAULTY["proc"] = proc
        FAULTY["issuer"] = proc.stdout.readline().strip()
    return FAULTY["issuer"]


def set_fault(name):
    data = urllib.parse.urlencode({"fault": name}).encode()
    with urllib.request.urlopen(f"{faulty_idp()}/_fault", data=data, timeout=20) as r:
        assert r.status == 204, r.status


def scenario_hostile_provider():
    """A misbehaving provider: a bad signature, a mix-up (wrong iss) and markup in an error
    each get plain words in the window (markup shown as text), and Try again then works."""
    reset_session()
    w = Window(kind="hostile")
    try:
        plan(action="allow")
        cases = [
            ("id-token-bad-signature", "failed Pixie's security checks", "id_token_invalid"),
            ("redirect-wrong-iss", "came from a different provider", "issuer_mismatch"),
            ("redirect-error-markup", "<img src=x onerror=alert(1)>", "access_denied"),
        ]
        for i, (fault, words, code) in enumerate(cases):
            set_fault(fault)
            w.click("sign-in" if i == 0 else "try-again")
            w.wait_phase("failed")
            message = w.text("error")
            assert words in message, (fault, message)
            assert w.el("error-code").get_attribute("textContent") == code
            # Provider text is text: no element was made from it.
            kids = w.d.execute_script(
                "return document.querySelector('[data-testid=error]').children.length"
            )
            assert kids == 0, f"markup from the provider became {kids} element(s)"
            time.sleep(0.3)
            w.d.save_screenshot(os.path.join(OUT, f"hostile-{fault}.png"))
        set_fault("none")
        w.click("try-again")
        w.wait_phase("signed_in")
    finally:
        w.close()
        time.sleep(0.5)  # let the D-Bus name go before the next launch


INTEROP = {}
HERE = os.path.dirname(os.path.abspath(__file__))


def node_packages():
    """tests/interop's pinned npm packages (oidc-provider, axe-core), installed with `npm ci`
    when missing or older than the lockfile (as tests/interop/run.sh does); their folder."""
    interop = os.path.join(HERE, "..", "interop")
    stamp = os.path.join(interop, "node_modules", ".package-lock.json")
    lock = os.path.join(interop, "package-lock.json")
    if not os.path.exists(stamp) or os.path.getmtime(lock) > os.path.getmtime(stamp):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=interop, check=True,
                       stdout=subprocess.DEVNULL)
    return interop


def oidc_provider():
    """oidc-provider (tests/interop, version pinned) on loopback; its issuer URL."""
    if "issuer" not in INTEROP:
        interop = node_packages()
        log = open(os.path.join(OUT, "oidc-provider.log"), "w")
        proc = subprocess.Popen(
            [os.environ.get("PIXIE_NODE", "node"), os.path.join(interop, "provider.mjs"), "--port", "0", "--verbose"],
            stdout=subprocess.PIPE, stderr=log, text=True,
        )
        INTEROP["proc"] = proc
        INTEROP["issuer"] = json.loads(proc.stdout.readline())["issuer"]
    return INTEROP["issuer"]


def interop_config():
    """A providers.toml naming oidc-provider twice: once per redirect mode."""
    path = os.path.join(SANDBOX, "interop-providers.toml")
    issuer = oidc_provider()
    with open(path, "w") as f:
        f.write(f"""default = "op-link"

[[provider]]
id = "op-link"
display_name = "oidc-provider (deep link)"
issuer = "{issuer}"
client_id = "pixie-interop"
redirect = "deep-link"

[[provider]]
id = "op-loopback"
display_name = "oidc-provider (loopback)"
issuer = "{issuer}"
client_id = "pixie-interop"
redirect = "loopback"
""")
    return path


def keyring_entries():
    """Every Pixie entry in the sandbox's keyring: {account: session}."""
    r = subprocess.run(["secret-tool", "search", "--all", "--unlock", "service", "dev.pixie.app"],
                       capture_output=True, text=True)
    entries, item = {}, {}
    for line in (r.stdout + r.stderr).splitlines() + ["["]:
        if line.startswith("["):  # a new item: file the one before
            if "secret" in item:
                session = json.loads(item["secret"])
                entries[f'{session["provider_id"]}:{session["subject"]}'] = session
            item = {}
        elif " = " in line:
            key, value = line.split(" = ", 1)
            item[key] = value
    return entries


def account_names(w):
    return [e.get_attribute("textContent") for e in
            w.d.find_elements(By.CSS_SELECTOR, "[data-testid=account-list] .account-text > span:first-child")]


def add_account(w, provider, **person):
    w.click("add-account")
    w.wait_until(lambda: w.visible("sign-in") and w.visible("add-back"), "the sign-in panel for another account")
    w.click(f"provider-option-{provider}")
    w.wait_until(lambda: picked(w) == [provider], f"{provider} is picked")
    plan(action="allow", **person)
    url = begin_sign_in(w)
    w.wait_phase("signed_in")
    return url


def scenario_accounts():
    """Two demo accounts and an oidc-provider one: add, switch, restart (all restored, the
    active one kept), sign out of one, sign out of all: every token revoked, no entry left."""
    reset_session()
    w = Window(kind="interop")
    try:
        w.wait_phase("signed_out")
        w.click("provider-option-demo")
        plan(action="allow", name="Ada Lovelace")
        demo_url = begin_sign_in(w)
        w.wait_phase("signed_in")
        second = add_account(w, "demo", name="Grace Hopper")
        assert request_params(w, second).get("prompt") == "login", request_params(w, second)
        w.wait_until(lambda: w.text("profile-name") == "Grace Hopper", "Grace is the active account")
        add_account(w, "op-link", person="oidc", user="alan")
        w.wait_until(lambda: len(account_names(w)) == 3, "three accounts listed")
        assert account_names(w) == ["Ada Lovelace", "Grace Hopper", "Alan"], account_names(w)
        w.d.find_element(By.CSS_SELECTOR, "[data-testid=account-list] button").click()
        w.wait_until(lambda: w.text("profile-name") == "Ada Lovelace", "switched to Ada")
        current = w.d.find_elements(By.CSS_SELECTOR, "[data-testid=account-list] button[aria-current=true]")
        assert len(current) == 1 and "Ada Lovelace" in current[0].get_attribute("textContent")
        assert "Signed in as Ada Lovelace" in w.text("status")
        time.sleep(0.3)
        w.d.save_screenshot(os.path.join(OUT, "accounts.png"))
    finally:
        w.close()
        time.sleep(0.5)
    sessions = wait_for(lambda: len(keyring_entries()) == 3 and keyring_entries(), "three sessions kept")
    w = Window(kind="interop")
    try:
        w.wait_phase("signed_in")
        w.wait_until(lambda: len(account_names(w)) == 3, "every account restored")
        assert w.text("profile-name") == "Ada Lovelace", "the active account is kept"
        w.click("sign-out")
        w.wait_until(lambda: len(account_names(w)) == 0 or "Ada Lovelace" not in account_names(w),
                     "Ada signed out")
        w.wait_until(lambda: len(keyring_entries()) == 2, "her entry is gone, the others stay")
        ada = [k for k in sessions if k.startswith("demo:") and k == "demo:" + demo_sub("Ada Lovelace")][0]
        status, body = refresh_at_provider(issuer_of(demo_url), sessions[ada]["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant", (status, body)
        log = os.path.join(OUT, "oidc-provider.log")
        before = os.path.getsize(log)
        w.click("sign-out-all")
        w.wait_phase("signed_out")
        wait_for(lambda: not keyring_entries(), "no entry left")
        for key, session in sessions.items():
            if key.startswith("demo:"):
                status, body = refresh_at_provider(issuer_of(demo_url), session["refresh_token"])
                assert status == 400 and body["error"] == "invalid_grant", (key, status, body)

        def revoked():
            with open(log) as f:
                f.seek(before)
                return "POST /token/revocation -> 200" in f.read()
        wait_for(revoked, "oidc-provider received the revocation")
    finally:
        w.close()
        time.sleep(0.5)


def device_login(uri, name):
    """Play the person on the demo provider's verification page (the code filled in by
    verification_uri_complete): Continue as `name`."""
    with urllib.request.urlopen(uri, timeout=20) as r:
        html = r.read().decode()
    tx = re.search(r'name="tx" value="([^"]+)"', html)
    assert tx, f"no form on the verification page: {html[:300]}"
    data = urllib.parse.urlencode({"tx": tx.group(1), "action": "allow", "name": name}).encode()
    with urllib.request.urlopen(urllib.parse.urljoin(uri, "/device"), data=data, timeout=20) as r:
        page = r.read().decode()
    assert 'data-approved="true"' in page, page[:300]


def read_qr(data_url):
    """The text of the QR code the window shows (zbarimg from zbar-tools)."""
    assert data_url.startswith("data:image/png;base64,"), data_url[:40]
    path = os.path.join(OUT, "device-qr.png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(data_url.split(",", 1)[1]))
    out = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True)
    return out.stdout.strip()


def scenario_device(w):
    """Sign in on another device (RFC 8628): the user code in large type, the address, and a
    QR code that decodes to verification_uri_complete; the person signs in there."""
    w.wait_phase("signed_out")
    w.wait_until(lambda: w.visible("device-start"), "the other-device way is offered")
    w.click("device-start")
    w.wait_phase("device")
    code = w.text("device-code")
    assert code and "expires in" in w.text("device-time-left"), code
    complete = read_qr(w.el("device-qr").get_attribute("src"))
    assert complete.startswith(w.text("device-uri")), (complete, w.text("device-uri"))
    assert urllib.parse.parse_qs(urllib.parse.urlparse(complete).query)["user_code"][0] == code
    time.sleep(0.3)
    w.d.save_screenshot(os.path.join(OUT, "device.png"))
    w.no_secrets_in_page()
    device_login(complete, "Ada Lovelace")
    w.wait_phase("signed_in", timeout=45)
    assert w.text("profile-name") == "Ada Lovelace"
    w.click("sign-out")
    w.wait_phase("signed_out")


def scenario_keyboard_alone(w):
    """The keyboard alone: the focus starts on Sign in and follows every screen; Enter and
    Space sign in, Escape cancels and closes, Tab reaches each action and the checkbox."""
    def focused():
        el = w.d.switch_to.active_element
        return el.get_attribute("data-testid") or el.get_attribute("id") or el.tag_name

    def press(*keys):
        w.d.switch_to.active_element.send_keys(*keys)

    def focus_is(testid, what):
        w.wait_until(lambda: focused() == testid, f"{what} (focus on {testid}, is {focused()})")

    plan(action="hold")
    w.wait_phase("signed_out")
    focus_is("sign-in", "the window opens with Sign in focused")
    press(Keys.TAB)
    focus_is("device-start", "Tab goes on to the other way to sign in")
    press(Keys.SHIFT, Keys.TAB)
    focus_is("sign-in", "Shift+Tab comes back")

    before = len(auth_urls())
    press(Keys.ENTER)
    w.wait_until(lambda: len(auth_urls()) > before, "Enter opened the browser")
    w.wait_phase("authorizing")
    focus_is("cancel", "while waiting, Cancel has the focus")
    press(Keys.ESCAPE)
    w.wait_phase("signed_out")
    focus_is("sign-in", "after Escape the focus is back on Sign in")

    before = len(auth_urls())
    press(Keys.SPACE)
    w.wait_until(lambda: len(auth_urls()) > before, "Space opened the browser")
    w.wait_phase("authorizing")
    deliver(login(auth_urls()[-1]))
    w.wait_phase("signed_in")
    focus_is("sign-out", "signed in, Sign out has the focus")
    press(Keys.TAB)
    focus_is("sign-out-browser", "Tab reaches the checkbox")
    press(Keys.SPACE)
    w.wait_until(lambda: w.el("sign-out-browser").is_selected(), "Space ticks it")
    press(Keys.SPACE)
    w.wait_until(lambda: not w.el("sign-out-browser").is_selected(), "and unticks it")
    press(Keys.TAB)
    focus_is("add-account", "Tab reaches Add another account")
    press(Keys.TAB)
    focus_is("show-flow", "and the flow of the sign-in")
    press(Keys.ENTER)
    w.wait_until(lambda: w.visible("flow-panel"), "Enter opens the flow panel")
    focus_is("flow-close", "the flow panel opens with Close focused")
    press(Keys.ESCAPE)
    w.wait_until(lambda: not w.visible("flow-panel"), "Escape closes it")
    focus_is("sign-out", "the focus goes back to the signed-in screen")
    w.d.save_screenshot(os.path.join(OUT, "keyboard-signed-in.png"))
    press(Keys.ENTER)
    w.wait_phase("signed_out")
    focus_is("sign-in", "signed out, Sign in has the focus again")


def axe_violations(w, screen):
    """What axe-core (npm, pinned in tests/interop/package.json beside oidc-provider) finds on
    the screen the window shows now, WCAG 2.1 A and AA rules, one line per rule broken."""
    if not w.d.execute_script("return !!window.axe"):
        with open(os.path.join(node_packages(), "node_modules", "axe-core", "axe.min.js")) as f:
            w.d.execute_script(f.read())
    found = w.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const only = {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']};
        axe.run(document, {runOnly: only, resultTypes: ['violations']}).then(
          (r) => done(r.violations.map((v) => v.id + ' (' + v.help + '): ' +
            v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join('; '))),
          (e) => done(['axe could not run: ' + e]));
    """)
    return [f"{screen}: {v}" for v in found]


def check_every_screen(w, theme):
    """Each screen a person meets, checked by axe-core: signed out, waiting, signed in, the
    flow panel, the error screen, the device screen."""
    found = []
    w.wait_phase("signed_out")
    found += axe_violations(w, f"{theme}, signed out")
    plan(action="hold")
    url = begin_sign_in(w)
    w.wait_phase("authorizing")
    found += axe_violations(w, f"{theme}, waiting")
    deliver(login(url))
    w.wait_phase("signed_in")
    w.wait_until(lambda: picture_loaded(w), "the picture has loaded")
    found += axe_violations(w, f"{theme}, signed in")
    w.click("show-flow")
    w.wait_until(lambda: w.visible("flow-panel"), "the flow panel opens")
    found += axe_violations(w, f"{theme}, the flow panel")
    w.click("flow-close")
    w.click("sign-out")
    w.wait_phase("signed_out")
    plan(action="deny")
    begin_sign_in(w)
    w.wait_phase("failed")
    found += axe_violations(w, f"{theme}, failed")
    plan(action="hold")
    w.click("try-again")
    w.wait_phase("authorizing")
    w.click("cancel")
    w.wait_phase("signed_out")
    w.wait_until(lambda: w.visible("device-start"), "the other-device way is offered")
    w.click("device-start")
    w.wait_phase("device")
    w.wait_until(lambda: w.visible("device-qr"), "the QR code is drawn")
    found += axe_violations(w, f"{theme}, another device")
    w.click("cancel-device")
    w.wait_phase("signed_out")
    if theme == "dark":
        w.d.save_screenshot(os.path.join(OUT, "dark-signed-out.png"))
    assert not found, "axe-core found:\n" + "\n".join(found)


def scenario_accessibility(w):
    """axe-core (WCAG 2.1 A and AA: names, roles, contrast, …) finds nothing on any screen."""
    w.wait_phase("signed_out")
    # First, that it finds what it should: a button with no name, planted for a moment.
    w.d.execute_script("const b = document.createElement('button'); b.id = 'axe-probe';"
                       "document.getElementById('signed-out').append(b);")
    planted = axe_violations(w, "probe")
    w.d.execute_script("document.getElementById('axe-probe').remove();")
    assert any("button-name" in v for v in planted), f"axe-core missed a nameless button: {planted}"
    check_every_screen(w, "light")


def scenario_accessibility_dark():
    """The same in dark mode (GTK_THEME=Adwaita:dark → prefers-color-scheme: dark)."""
    reset_session()
    w = Window(kind="dark")
    try:
        assert w.d.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches"), \
            "the window is not in dark mode"
        check_every_screen(w, "dark")
    finally:
        w.close()
        time.sleep(0.5)


def scenario_waiting_ways(w):
    """While waiting for the browser: the time left and the paste box at once; "Copy the
    sign-in link", "Open the browser again" and "Try the loopback way" each sign in."""
    # Copy the link, open it by hand.
    plan(action="hold")
    url = begin_sign_in(w)
    w.wait_phase("authorizing")
    assert w.visible("paste-toggle"), "pasting is offered at once"
    assert "expires in 4:" in w.text("time-left"), w.text("time-left")
    time.sleep(0.3)
    w.d.save_screenshot(os.path.join(OUT, "waiting-ways.png"))
    # The browser did load the page: the pushed request_uri is spent (RFC 9126 §7.3), so the
    # link to copy is a fresh push of the same request.
    urllib.request.urlopen(url, timeout=10).close()
    w.click("copy-link")
    w.wait_until(lambda: w.el("link-text").get_attribute("value"), "the link is shown")
    link = w.el("link-text").get_attribute("value")
    assert link != url and sorted(request_query(link)) == ["client_id", "request_uri"], link
    deliver(login(link))
    w.wait_phase("signed_in")
    w.click("sign-out")
    w.wait_phase("signed_out")
    # Open the browser again.
    plan(action="hold")
    url = begin_sign_in(w)
    w.wait_phase("authorizing")
    urllib.request.urlopen(url, timeout=10).close()
    plan(action="allow")
    before = len(auth_urls())
    w.click("reopen")
    w.wait_until(lambda: len(auth_urls()) > before, "the browser got the page again")
    again = auth_urls()[-1]
    assert again != url and sorted(request_query(again)) == ["client_id", "request_uri"], again
    w.wait_phase("signed_in")
    w.click("sign-out")
    w.wait_phase("signed_out")
    # The loopback way instead of the deep link.
    plan(action="hold")
    begin_sign_in(w)
    w.wait_phase("authorizing")
    w.wait_until(lambda: w.visible("try-loopback"), "the loopback way is offered")
    plan(action="allow")
    before = len(auth_urls())
    w.click("try-loopback")
    w.wait_until(lambda: len(auth_urls()) > before, "a loopback sign-in started")
    w.wait_phase("signed_in")
    redirect = last_redirect()
    assert re.match(r"http://127\.0\.0\.1:\d+/oauth/callback/demo\?", redirect), redirect[:60]
    page = open(os.path.join(OUT, "loopback-page.txt")).read()
    assert "You're signed in to Pixie" in page, page[:200]


def norefresh_config():
    """A providers.toml with oidc-provider's client that gets no refresh token."""
    path = os.path.join(SANDBOX, "norefresh-providers.toml")
    with open(path, "w") as f:
        f.write(f"""default = "op-norefresh"

[[provider]]
id = "op-norefresh"
display_name = "oidc-provider (no refresh token)"
issuer = "{oidc_provider()}"
client_id = "pixie-interop-norefresh"
""")
    return path


BAD_CONFIG = """[[provider]]
id = "work"
clientid = "pixie"
issuer = "https://sso.example.com/realms/staff"
"""


def bad_config():
    path = os.path.join(SANDBOX, "bad-providers.toml")
    with open(path, "w") as f:
        f.write(BAD_CONFIG)
    return path


def picker_ids(w):
    return [e.get_attribute("value") for e in
            w.d.find_elements(By.CSS_SELECTOR, "[data-testid=provider-picker] input[type=radio]")]


def picked(w):
    return [e.get_attribute("value") for e in
            w.d.find_elements(By.CSS_SELECTOR, "[data-testid=provider-picker] input:checked")]


def picture_loaded(w):
    return w.d.execute_script(
        "const i = document.querySelector('[data-testid=profile-picture]');"
        "return i.complete && i.naturalWidth > 0 && !i.hidden;"
    )


def scenario_interop_both_modes():
    """oidc-provider, a certified OP, configured twice in providers.toml: pick the deep-link
    one and sign in, sign out, pick the loopback one and sign in (the browser gets Pixie's
    page, the listener closes); the last one used is picked at the next launch."""
    reset_session()
    w = Window(kind="interop")
    try:
        w.wait_phase("signed_out")
        config_error = w.text("config-error-text") if w.visible("config-error") else None
        assert picker_ids(w) == ["op-link", "op-loopback", "demo"], (picker_ids(w), config_error)
        assert picked(w) == ["op-link"], picked(w)
        w.click("provider-option-op-link")
        plan(action="allow", person="oidc", user="ada")
        begin_sign_in(w)
        w.wait_phase("signed_in")
        assert w.text("profile-name") == "Ada Lovelace", w.text("profile-name")
        w.wait_until(lambda: picture_loaded(w), "the picture has loaded")
        redirect = open(os.path.join(OUT, "last-redirect.txt")).read()
        assert redirect.startswith("dev.pixie.app:/oauth/callback/op-link?"), redirect
        w.no_secrets_in_page()
        w.click("sign-out")
        w.wait_phase("signed_out")

        w.click("provider-option-op-loopback")
        w.wait_until(lambda: "loopback" in w.text("sign-in"), "the loopback provider is picked")
        assert picked(w) == ["op-loopback"], picked(w)
        plan(action="allow", person="oidc", user="grace")
        begin_sign_in(w)
        w.wait_phase("signed_in")
        redirect_uri = last_redirect().split("?")[0]
        assert re.match(r"http://127\.0\.0\.1:\d+/", redirect_uri), redirect_uri
        assert w.text("profile-name") == "Grace Hopper", w.text("profile-name")
        w.wait_until(lambda: picture_loaded(w), "the picture has loaded")
        page = open(os.path.join(OUT, "loopback-page.txt")).read()
        assert page.startswith("200") and "You're signed in to Pixie" in page, page[:200]
        port = urllib.parse.urlparse(redirect_uri).port
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            raise AssertionError("the loopback listener is still open after the sign-in")
        except OSError:
            pass
        time.sleep(0.3)
        w.d.save_screenshot(os.path.join(OUT, "interop-signed-in.png"))
        w.click("sign-out")
        w.wait_phase("signed_out")
    finally:
        w.close()
        time.sleep(0.5)
    # The next launch starts with the provider used last.
    w = Window(kind="interop")
    try:
        w.wait_phase("signed_out")
        w.wait_until(lambda: picked(w) == ["op-loopback"], "the last used provider is picked")
        time.sleep(0.3)
        w.d.save_screenshot(os.path.join(OUT, "picker.png"))
    finally:
        w.close()
        time.sleep(0.5)
    # --provider picks one for this launch.
    w = Window(args=["--provider", "op-link"], kind="interop")
    try:
        w.wait_until(lambda: picked(w) == ["op-link"], "--provider picks op-link")
    finally:
        w.close()
        time.sleep(0.5)


def scenario_bad_config():
    """A providers.toml with a mistake: the window names the file, the line and the field,
    and the demo provider still signs in."""
    reset_session()
    w = Window(kind="bad-config")
    try:
        w.wait_until(lambda: w.visible("config-error"), "the configuration error is shown")
        text = w.text("config-error-text")
        assert "bad-providers.toml:3:" in text and "clientid" in text, text
        time.sleep(0.3)
        w.d.save_screenshot(os.path.join(OUT, "bad-config.png"))
        plan(action="allow")
        begin_sign_in(w)
        w.wait_phase("signed_in")
        assert w.text("profile-name") == "Ada Lovelace"
        assert w.visible("config-error"), "the mistake stays on screen until it is fixed"
        w.click("sign-out")
        w.wait_phase("signed_out")
    finally:
        w.close()
        time.sleep(0.5)


MIME = "x-scheme-handler/dev.pixie.app"


def named_default():
    """The handler the sandbox's mimeapps.list names for dev.pixie.app (what GIO, and so
    `gio open` and browsers, use first), or None."""
    path = os.path.join(os.environ["XDG_CONFIG_HOME"], "mimeapps.list")
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    in_defaults = False
    for line in lines:
        if line.startswith("["):
            in_defaults = line.strip() == "[Default Applications]"
        elif in_defaults and line.startswith(MIME + "="):
            return next((e for e in line.split("=", 1)[1].split(";") if e), None)
    return None


def unregister():
    r = subprocess.run([APP, "--unregister"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def scenario_stale_handler():
    """A stale registration never captures sign-in links: one whose program is gone is
    replaced at start-up; an installed copy wins over the dev build; `pixie --unregister`
    removes the dev registration and leaves the installed copy's file alone."""
    apps = os.path.join(os.environ["XDG_DATA_HOME"], "applications")
    ours = os.path.join(apps, "pixie-handler.desktop")
    unregister()
    assert not os.path.exists(ours) and named_default() != "pixie-handler.desktop"

    # An old build registered itself, then its binary went (cargo clean).
    with open(os.path.join(apps, "pixie-old-handler.desktop"), "w") as f:
        f.write("[Desktop Entry]\nType=Application\nName=Pixie\nExec=\"/nonexistent/target/debug/pixie\" %u\n"
                f"MimeType={MIME}\nNoDisplay=true\n")
    subprocess.run(["xdg-mime", "default", "pixie-old-handler.desktop", MIME], check=True)
    assert named_default() == "pixie-old-handler.desktop"
    w = Window(registered=False)
    try:
        wait_for(lambda: named_default() == "pixie-handler.desktop", "the stale handler is replaced")
        # The handler starts this build's link forwarder (pixie-open, next to the app).
        forwarder = os.path.join(os.path.dirname(APP), "pixie-open")
        with open(ours) as f:
            assert f'Exec="{forwarder}" %u' in f.read(), "the handler does not start this build"
    finally:
        w.close()
        time.sleep(0.5)

    # A package is installed (its desktop file in a system data folder): it wins.
    system = os.path.join(SANDBOX, "system")
    os.makedirs(os.path.join(system, "applications"), exist_ok=True)
    installed = os.path.join(system, "applications", "Pixie.desktop")
    with open(installed, "w") as f:
        f.write(f"[Desktop Entry]\nType=Application\nName=Pixie\nExec=true %u\nMimeType={MIME};\n")
    env = dict(os.environ, XDG_DATA_DIRS=f"{system}:{os.environ.get('XDG_DATA_DIRS') or '/usr/local/share:/usr/share'}")
    log = open(os.path.join(OUT, "stale-handler-app.log"), "w")
    app = subprocess.Popen([APP], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: named_default() == "Pixie.desktop", "the installed copy receives links again")
    finally:
        app.terminate()
        app.wait(timeout=10)
        log.close()
    out = unregister()
    assert "removed" in out and not os.path.exists(ours), out
    assert os.path.exists(installed), "--unregister removed the installed copy's file"
    assert named_default() == "Pixie.desktop", named_default()

    # The package is removed: the next dev run takes the links back.
    shutil.rmtree(system)
    w = Window(registered=False)
    try:
        wait_for(lambda: named_default() == "pixie-handler.desktop", "the dev run registers again")
    finally:
        w.close()
        time.sleep(0.5)
    out = unregister()
    assert "removed" in out and not os.path.exists(ours), out
    assert named_default() != "pixie-handler.desktop", named_default()


def windowed(fn):
    def run():
        reset_session()
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
    ("PAR + DPoP: only client_id and request_uri in the browser; the session and its key survive a restart", scenario_session_survives_restart),
    ("sign out revokes, forgets and signs out in the browser", windowed(scenario_sign_out)),
    ("the window hears no event and draws no stale view", windowed(scenario_window_hears_no_event)),
    ("a browser that cannot start is named in plain words", scenario_no_browser),
    ("sign out without a refresh token still revokes", scenario_sign_out_without_refresh_token),
    ("several accounts: add, switch, restart, sign out of one and of all", scenario_accounts),
    ("sign in on another device with the code or the QR code", windowed(scenario_device)),
    ("waiting: copy the link, open the browser again, or the loopback way", windowed(scenario_waiting_ways)),
    ("the keyboard alone: focus follows each screen; Enter, Space, Escape and Tab do the rest", windowed(scenario_keyboard_alone)),
    ("axe-core finds no WCAG 2.1 A/AA violation on any screen", windowed(scenario_accessibility)),
    ("axe-core finds none in dark mode either", scenario_accessibility_dark),
    ("without D-Bus the keyring error is shown and sign-in still works", scenario_no_dbus),
    ("a misbehaving provider gets plain words and a way back", scenario_hostile_provider),
    ("oidc-provider in both redirect modes through the picker", scenario_interop_both_modes),
    ("a providers.toml mistake is named and the demo still signs in", scenario_bad_config),
    ("a stale link handler is repaired; --unregister removes a dev registration", scenario_stale_handler),
]


def main():
    try:
        return run_all(sys.argv[1:])
    finally:
        for d in DRIVERS.values():
            d.stop()
        if "proc" in FAULTY:
            FAULTY["proc"].terminate()
        if "proc" in INTEROP:
            INTEROP["proc"].terminate()


def run_all(only):
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
