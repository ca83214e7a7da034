#!/usr/bin/env python3
"""A scripted person at oidc-provider's built-in (devInteractions) pages.

Standard library only (urllib + http.cookiejar + html.parser), Python 3.11.

    python3 oidc_person.py login AUTH_URL [--deny] [--user NAME] [--visit] [--jar FILE]
    python3 oidc_person.py device VERIFICATION_URI [--code CODE] [--deny|--abort] [--user NAME] [--jar FILE]
    python3 oidc_person.py logout END_SESSION_URL [--jar FILE]

``login`` opens the authorization URL like a browser would: it keeps cookies,
follows redirects by hand while they stay on the provider's origin, signs in
on the login page (login = NAME, default "ada"; any password) and on the
consent page either confirms ("allow") or takes the page's cancel link
(``--deny``). It stops at the first redirect that leaves the provider's origin
(``dev.pixie.app:/oauth/callback?...`` or ``http://127.0.0.1:<port>/...``)
and prints that URL on the first line of stdout. With ``--visit`` and an
http(s) redirect it also GETs that URL (redirects not followed) and prints the
HTTP status on line 2 and the response body after it.

``device`` plays the person on another device in the device authorization grant
(RFC 8628 §3.3): it opens the verification URI (``verification_uri_complete`` carries
the code; with the plain ``verification_uri`` it types ``--code``), confirms the device
(or takes its abort button with ``--abort``), signs in and allows (or cancels on the
consent page with ``--deny``), and prints one line: ``approved``, ``denied: WORDS`` or
``refused: WORDS`` (the provider turned the code away), WORDS being the page's text.

``logout`` opens an RP-initiated logout (end_session) URL, confirms the
sign-out form ("Yes, sign me out") or submits the provider's self-posting
form, and prints the final redirect back to the client (e.g.
``dev.pixie.app:/oauth/logout?state=...``). Without a post_logout_redirect_uri
the provider ends on its own "signed out" page; then that page's URL is
printed.

Each call starts with an empty cookie jar (a fresh browser profile) unless
``--jar FILE`` (or the environment variable OIDC_PERSON_JAR) names a
Mozilla-format cookie file, which is loaded before and saved after; share a
jar between ``login`` and ``logout`` when the logout should end the very
provider session that the login created (oidc-provider only revokes the
grants of the session whose cookie it sees).

On failure the CLI prints a message on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["login", "device", "logout", "follow", "visit"]

TIMEOUT = 15.0
MAX_STEPS = 25
PASSWORD = "correct horse battery staple"
USER_AGENT = "pixie-interop-person/1.0 (python urllib)"
REDIRECT_CODES = {301, 302, 303, 307, 308}
DENY_WORDS = re.compile(r"\b(cancel|abort|deny|decline|reject)\b", re.I)
LOGOUT_YES = re.compile(r"\b(yes|sign[- ]?(me )?out|log[- ]?(me )?out)\b", re.I)
LOGOUT_NO = re.compile(r"\s*(no|stay|cancel)\b", re.I)  # used with .match


# --------------------------------------------------------------------- HTML


@dataclass
class Control:
    tag: str  # "input" | "button" | "select" | "textarea"
    type: str
    name: str | None
    value: str
    text: str = ""
    form_id: str | None = None  # the HTML `form` attribute, if any


@dataclass
class Form:
    action: str | None
    method: str
    id: str | None
    controls: list[Control] = field(default_factory=list)

    def fields(self) -> list[Control]:
        return [c for c in self.controls if c.tag != "button" and c.type not in ("submit", "image", "button", "reset")]

    def submitters(self) -> list[Control]:
        return [c for c in self.controls if (c.tag == "button" and c.type in ("submit", "")) or (c.tag == "input" and c.type in ("submit", "image"))]

    def has_password(self) -> bool:
        return any(c.type == "password" for c in self.controls)


@dataclass
class Link:
    href: str
    text: str


class PageParser(HTMLParser):
    """Collects forms (with their controls, including controls associated by
    the `form` attribute), links, the title and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[Link] = []
        self.title = ""
        self.text_parts: list[str] = []
        self._form: Form | None = None
        self._button: Control | None = None
        self._link: Link | None = None
        self._in_title = False
        self._skip = 0  # inside <script>/<style>
        self._orphans: list[Control] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k.lower(): (v if v is not None else "") for k, v in attrs_list}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "form":
            self._form = Form(action=attrs.get("action"), method=(attrs.get("method") or "get").lower(), id=attrs.get("id"))
            self.forms.append(self._form)
        elif tag == "input":
            itype = (attrs.get("type") or "text").lower()
            if itype in ("checkbox", "radio") and "checked" not in attrs:
                return
            ctl = Control("input", itype, attrs.get("name"), attrs.get("value", "on" if itype in ("checkbox", "radio") else ""), form_id=attrs.get("form"))
            self._add(ctl)
        elif tag == "button":
            ctl = Control("button", (attrs.get("type") or "submit").lower(), attrs.get("name"), attrs.get("value", ""), form_id=attrs.get("form"))
            self._button = ctl
            self._add(ctl)
        elif tag in ("select", "textarea"):
            self._add(Control(tag, tag, attrs.get("name"), attrs.get("value", ""), form_id=attrs.get("form")))
        elif tag == "a" and "href" in attrs:
            self._link = Link(attrs["href"], "")
            self.links.append(self._link)

    def _add(self, ctl: Control) -> None:
        if ctl.form_id is not None:
            self._orphans.append(ctl)
        elif self._form is not None:
            self._form.controls.append(ctl)
        else:
            self._orphans.append(ctl)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        elif tag == "a":
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        if self._button is not None:
            self._button.text += data
        if self._link is not None:
            self._link.text += data
        self.text_parts.append(data)

    def close(self) -> None:
        super().close()
        by_id = {f.id: f for f in self.forms if f.id}
        for ctl in self._orphans:
            if ctl.form_id and ctl.form_id in by_id:
                by_id[ctl.form_id].controls.append(ctl)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts)).strip()


@dataclass
class Page:
    url: str
    status: int
    headers: object
    body: bytes

    @property
    def location(self) -> str | None:
        loc = self.headers.get("Location")  # type: ignore[attr-defined]
        if loc is None:
            return None
        return _absolute(self.url, loc)

    def parse(self) -> PageParser:
        charset = self.headers.get_content_charset() or "utf-8"  # type: ignore[attr-defined]
        parser = PageParser()
        parser.feed(self.body.decode(charset, errors="replace"))
        parser.close()
        return parser

    def describe(self) -> str:
        try:
            text = self.parse().text
        except Exception:  # pragma: no cover - diagnostics only
            text = self.body[:400].decode("utf-8", "replace")
        if len(text) > 600:
            text = text[:600] + "..."
        return f"HTTP {self.status} at {self.url}: {text}"


# --------------------------------------------------------------------- HTTP


class _PassThrough(urllib.request.HTTPErrorProcessor):
    """Return every response as is: no redirect following, no HTTPError."""

    def http_response(self, request, response):  # noqa: D401
        return response

    https_response = http_response


def _absolute(base: str, ref: str) -> str:
    if urllib.parse.urlsplit(ref).scheme:
        return ref
    return urllib.parse.urljoin(base, ref)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class Browser:
    def __init__(self, jar_path: str | None = None) -> None:
        self.jar_path = jar_path
        if jar_path:
            self.jar: http.cookiejar.CookieJar = http.cookiejar.MozillaCookieJar(jar_path)
            if os.path.exists(jar_path) and os.path.getsize(jar_path) > 0:
                self.jar.load(ignore_discard=True, ignore_expires=True)  # type: ignore[attr-defined]
        else:
            self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # loopback: never via a proxy
            urllib.request.HTTPCookieProcessor(self.jar),
            _PassThrough(),
        )

    def save(self) -> None:
        if self.jar_path:
            self.jar.save(ignore_discard=True, ignore_expires=True)  # type: ignore[attr-defined]

    def request(self, method: str, url: str, data: dict[str, str] | list[tuple[str, str]] | None = None) -> Page:
        body = None
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
        if data is not None:
            encoded = urllib.parse.urlencode(data)
            if method == "GET":
                split = urllib.parse.urlsplit(url)
                query = f"{split.query}&{encoded}" if split.query else encoded
                url = urllib.parse.urlunsplit(split._replace(query=query))
            else:
                body = encoded.encode("ascii")
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=TIMEOUT) as resp:
                return Page(url=url, status=resp.status, headers=resp.headers, body=resp.read())
        except urllib.error.URLError as exc:
            raise RuntimeError(f"{method} {url} failed: {exc.reason}") from exc
        except OSError as exc:
            raise RuntimeError(f"{method} {url} failed: {exc}") from exc

    def submit(self, page: Page, form: Form, values: dict[str, str] | None = None, submitter: Control | None = None) -> Page:
        """Submit `form` as a browser would: every named field with its value
        (overridden by `values`), plus the name/value of the submitter."""
        values = dict(values or {})
        data: list[tuple[str, str]] = []
        for ctl in form.fields():
            if not ctl.name:
                continue
            data.append((ctl.name, values.pop(ctl.name, ctl.value)))
        if submitter is not None and submitter.name:
            data.append((submitter.name, submitter.value))
        action = _absolute(page.url, form.action) if form.action else page.url
        method = "POST" if form.method == "post" else "GET"
        return self.request(method, action, data)


# --------------------------------------------------------------------- flows


def _walk(browser: Browser, start_url: str, on_page, what: str) -> str:
    """GET start_url, follow same-origin redirects by hand, hand each HTML
    page to on_page(page, parsed) -> next Page, and return the first redirect
    Location that leaves the provider's origin."""
    provider = _origin(start_url)
    page = browser.request("GET", start_url)
    for _ in range(MAX_STEPS):
        if page.status in REDIRECT_CODES:
            loc = page.location
            if not loc:
                raise RuntimeError(f"{what}: HTTP {page.status} without Location at {page.url}")
            if _origin(loc) != provider:
                return loc
            # oidc-provider redirects with 302/303 only; a browser turns
            # those into GET (307/308 are not expected here).
            page = browser.request("GET", loc)
            continue
        if page.status != 200:
            raise RuntimeError(f"{what}: unexpected response, {page.describe()}")
        ctype = page.headers.get_content_type()  # type: ignore[attr-defined]
        if ctype not in ("text/html", "application/xhtml+xml"):
            raise RuntimeError(f"{what}: unexpected {ctype} response at {page.url}")
        parsed = page.parse()
        result = on_page(page, parsed)
        if isinstance(result, str):
            return result
        page = result
    raise RuntimeError(f"{what}: gave up after {MAX_STEPS} steps (last: {page.describe()})")


def _error_page(page: Page, parsed: PageParser, what: str) -> RuntimeError:
    return RuntimeError(f"{what}: the provider showed a page the person cannot act on: "
                        f"title {parsed.title.strip()!r}; {page.describe()}")


def _auto_form(parsed: PageParser) -> Form | None:
    """A form with only hidden fields (form_post style auto-submit page)."""
    if len(parsed.forms) == 1:
        form = parsed.forms[0]
        if form.fields() and all(c.type == "hidden" for c in form.fields()):
            return form
    return None


def _submit_auto_form(browser, page, parsed, provider, what):
    """Submit a page's self-posting form (one that submits itself by script) when it stays on
    the provider; a page with nothing left to do is an error page."""
    form = _auto_form(parsed)
    if form is None:
        raise _error_page(page, parsed, what)
    target = _absolute(page.url, form.action) if form.action else page.url
    if _origin(target) != provider:
        raise RuntimeError(f"{what}: a self-posting form leaves the provider for {target} "
                           "(response_mode=form_post?); only redirects are supported")
    return browser.submit(page, form)


def _sign_in(browser: Browser, page: Page, parsed: PageParser, user: str, what: str) -> Page | None:
    """On a page with a sign-in form (one with a password field): sign in as `user` (any
    password). None when the page has no such form."""
    login_forms = [f for f in parsed.forms if f.has_password()]
    if not login_forms:
        return None
    form = login_forms[0]
    values: dict[str, str] = {}
    username_set = False
    for ctl in form.fields():
        if not ctl.name:
            continue
        if ctl.type == "password":
            values[ctl.name] = PASSWORD
        elif ctl.type in ("text", "email") and not username_set:
            values[ctl.name] = user
            username_set = True
    if not username_set:
        raise RuntimeError(f"{what}: no user name field in the sign-in form at {page.url}")
    subs = form.submitters()
    return browser.submit(page, form, values, subs[0] if subs else None)


def _consent(browser: Browser, page: Page, parsed: PageParser, provider, action: str, what: str) -> Page | None:
    """On a consent page (a form with something to submit but no password): confirm
    ("allow") or take the page's cancel path ("deny"). None when there is no such form."""
    consent_forms = [f for f in parsed.forms if f.submitters() and not f.has_password()]
    if not consent_forms:
        return None
    form = consent_forms[0]
    target = _absolute(page.url, form.action) if form.action else page.url
    if _origin(target) != provider:
        raise RuntimeError(f"{what}: the provider answered with a form that posts to {target} "
                           "(response_mode=form_post?); only redirect responses are supported")
    if action == "allow":
        return browser.submit(page, form, None, form.submitters()[0])
    # deny: the page's cancel/abort path -- a same-origin link first,
    # then a submit button that says so.
    for link in parsed.links:
        href = _absolute(page.url, link.href)
        if _origin(href) == provider and (DENY_WORDS.search(link.text) or re.search(r"/(abort|cancel|deny)\b", urllib.parse.urlsplit(href).path)):
            return browser.request("GET", href)
    for form in consent_forms:
        for sub in form.submitters():
            if DENY_WORDS.search(sub.text) or DENY_WORDS.search(sub.value or ""):
                return browser.submit(page, form, None, sub)
    raise RuntimeError(f"{what} --deny: no cancel/abort path on the consent page at {page.url}")


def login(auth_url: str, action: str = "allow", user: str = "ada", jar: str | None = None) -> str:
    """Sign in at the provider's pages and return the redirect URL that leaves
    the provider (the authorization response to the client)."""
    if action not in ("allow", "deny"):
        raise ValueError(f"action must be 'allow' or 'deny', not {action!r}")
    if not user:
        raise ValueError("user must not be empty")
    browser = Browser(jar or os.environ.get("OIDC_PERSON_JAR") or None)
    provider = _origin(auth_url)

    def on_page(page: Page, parsed: PageParser):
        signed_in = _sign_in(browser, page, parsed, user, "login")
        if signed_in is not None:
            return signed_in
        answered = _consent(browser, page, parsed, provider, action, "login")
        if answered is not None:
            return answered
        return _submit_auto_form(browser, page, parsed, provider, "login")

    try:
        return _walk(browser, auth_url, on_page, "login")
    finally:
        browser.save()


DEVICE_DONE = re.compile(r"\b(success(ful)?|signed in|you can (now )?close)\b", re.I)


def device(verification_uri: str, user_code: str | None = None, action: str = "allow",
           user: str = "ada", jar: str | None = None) -> str:
    """Finish a device sign-in (RFC 8628 §3.3) on the provider's pages, as the person on
    their other device: open `verification_uri` (with the code in it, or type `user_code`
    into the page), confirm the device, sign in as `user`, then allow, "deny" on the
    consent page, or "abort" on the device confirmation page.

    Returns one line: "approved" (the provider's success page), "denied: WORDS" (the
    provider took the no and showed WORDS), or "refused: WORDS" (the provider turned the
    code away, e.g. a wrong or used one)."""
    if action not in ("allow", "deny", "abort"):
        raise ValueError(f"action must be 'allow', 'deny' or 'abort', not {action!r}")
    if not user:
        raise ValueError("user must not be empty")
    browser = Browser(jar or os.environ.get("OIDC_PERSON_JAR") or None)
    provider = _origin(verification_uri)
    said_no = False  # the no has been given (consent cancelled, or the device aborted)
    entered = False  # the user code has been put to the provider

    def words(parsed: PageParser) -> str:
        text = parsed.text
        title = re.sub(r"\s+", " ", parsed.title).strip()
        return text[len(title):].strip() if title and text.startswith(title) else text

    try:
        page = browser.request("GET", verification_uri)
        for _ in range(MAX_STEPS):
            if page.status in REDIRECT_CODES:
                loc = page.location
                if not loc:
                    raise RuntimeError(f"device: HTTP {page.status} without Location at {page.url}")
                if _origin(loc) != provider:
                    raise RuntimeError(f"device: the provider sent the browser away, to {loc}")
                page = browser.request("GET", loc)
                continue
            ctype = page.headers.get_content_type()  # type: ignore[attr-defined]
            if ctype not in ("text/html", "application/xhtml+xml"):
                raise RuntimeError(f"device: unexpected {ctype} response, {page.describe()}")
            parsed = page.parse()

            # The page that asks for the user code: first, or again with the provider's word.
            code_forms = [f for f in parsed.forms
                          if any(c.name == "user_code" and c.type == "text" for c in f.fields())]
            if code_forms:
                if said_no:
                    return f"denied: {words(parsed)}"
                if entered:
                    return f"refused: {words(parsed)}"
                if not user_code:
                    raise RuntimeError(f"device: the page asks for the user code and none was given ({page.url})")
                form = code_forms[0]
                subs = form.submitters()
                page = browser.submit(page, form, {"user_code": user_code}, subs[0] if subs else None)
                entered = True
                continue

            # "Is this your device?": the code to compare, Continue or Abort.
            confirm_forms = [f for f in parsed.forms if any(c.name == "confirm" for c in f.fields())]
            if confirm_forms:
                form = confirm_forms[0]
                subs = form.submitters()
                aborts = [c for c in subs if c.name == "abort" or DENY_WORDS.search(c.text)]
                go = [c for c in subs if c not in aborts]
                entered = True
                if action == "abort":
                    if not aborts:
                        raise RuntimeError(f"device --abort: no abort button on the confirmation page at {page.url}")
                    said_no = True
                    page = browser.submit(page, form, None, aborts[0])
                else:
                    page = browser.submit(page, form, None, go[0] if go else None)
                continue

            # The self-posting form that carries the code from verification_uri_complete.
            carriers = [f for f in parsed.forms if any(c.name == "user_code" for c in f.fields())]
            if carriers:
                entered = True
                target = _absolute(page.url, carriers[0].action) if carriers[0].action else page.url
                if _origin(target) != provider:
                    raise RuntimeError(f"device: the code would be posted away from the provider, to {target}")
                page = browser.submit(page, carriers[0])
                continue
            signed_in = _sign_in(browser, page, parsed, user, "device")
            if signed_in is not None:
                page = signed_in
                continue
            consent_action = "deny" if action == "deny" else "allow"
            answered = _consent(browser, page, parsed, provider, consent_action, "device")
            if answered is not None:
                said_no = said_no or consent_action == "deny"
                page = answered
                continue
            if _auto_form(parsed) is not None:
                page = _submit_auto_form(browser, page, parsed, provider, "device")
                continue
            if page.status == 200 and not parsed.forms and not said_no \
                    and DEVICE_DONE.search(f"{parsed.title} {parsed.text}"):
                return "approved"
            if said_no:
                return f"denied: {words(parsed)}"
            raise _error_page(page, parsed, "device")
        raise RuntimeError(f"device: gave up after {MAX_STEPS} steps (last: {page.describe()})")
    finally:
        browser.save()


def logout(end_session_url: str, jar: str | None = None) -> str:
    """Confirm an RP-initiated logout and return the final redirect back to
    the client (post_logout_redirect_uri), or the provider's own signed-out
    page URL when there is none."""
    browser = Browser(jar or os.environ.get("OIDC_PERSON_JAR") or None)
    provider = _origin(end_session_url)

    def on_page(page: Page, parsed: PageParser):
        forms = [f for f in parsed.forms if f.controls]
        if not forms:
            if parsed.forms == [] and re.search(r"sign[- ]?out|logged out|log[- ]?out", parsed.text, re.I) \
                    and "wrong" not in parsed.title.lower():
                return page.url  # the provider's own success page
            raise _error_page(page, parsed, "logout")
        for form in forms:
            subs = form.submitters()
            yes = [s for s in subs
                   if (LOGOUT_YES.search(s.text) or LOGOUT_YES.search(s.value) or (s.name == "logout" and s.value))
                   and not LOGOUT_NO.match(s.text)]
            if yes:
                return browser.submit(page, form, None, yes[0])
        return _submit_auto_form(browser, page, parsed, provider, "logout")

    try:
        return _walk(browser, end_session_url, on_page, "logout")
    finally:
        browser.save()


def follow(url: str) -> str | None:
    """GET url without following redirects; return its Location (absolute) or None."""
    return Browser().request("GET", url).location


def visit(url: str) -> tuple[int, bytes]:
    """GET url without following redirects; return (status, body)."""
    page = Browser().request("GET", url)
    return page.status, page.body


# --------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="oidc_person.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_login = sub.add_parser("login", help="sign in at AUTH_URL; print the redirect back to the client")
    p_login.add_argument("url", metavar="AUTH_URL")
    p_login.add_argument("--deny", action="store_true", help="cancel on the consent page instead of allowing")
    p_login.add_argument("--user", default="ada", help="login name to sign in as (default: ada)")
    p_login.add_argument("--visit", action="store_true", help="GET an http(s) redirect; print its status and body")
    p_login.add_argument("--jar", help="Mozilla cookie file to load and save (default: $OIDC_PERSON_JAR or none)")
    p_device = sub.add_parser("device", help="finish a device sign-in (RFC 8628) at VERIFICATION_URI; print the outcome")
    p_device.add_argument("url", metavar="VERIFICATION_URI")
    p_device.add_argument("--code", help="the user code to type (not needed with verification_uri_complete)")
    p_device.add_argument("--deny", action="store_true", help="cancel on the consent page instead of allowing")
    p_device.add_argument("--abort", action="store_true", help="abort on the device confirmation page")
    p_device.add_argument("--user", default="ada", help="login name to sign in as (default: ada)")
    p_device.add_argument("--jar", help="Mozilla cookie file to load and save (default: $OIDC_PERSON_JAR or none)")
    p_logout = sub.add_parser("logout", help="confirm an RP-initiated logout; print the final redirect")
    p_logout.add_argument("url", metavar="END_SESSION_URL")
    p_logout.add_argument("--jar", help="Mozilla cookie file to load and save (default: $OIDC_PERSON_JAR or none)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # usage errors: argparse has printed why
        return 0 if exc.code in (0, None) else 1

    try:
        if args.cmd == "login":
            location = login(args.url, "deny" if args.deny else "allow", args.user, args.jar)
            sys.stdout.write(location + "\n")
            if args.visit and urllib.parse.urlsplit(location).scheme.lower() in ("http", "https"):
                sys.stdout.flush()
                status, body = visit(location)
                sys.stdout.write(f"{status}\n")
                sys.stdout.flush()
                sys.stdout.buffer.write(body)
            sys.stdout.flush()
        elif args.cmd == "device":
            action = "abort" if args.abort else "deny" if args.deny else "allow"
            sys.stdout.write(device(args.url, args.code, action, args.user, args.jar) + "\n")
            sys.stdout.flush()
        else:
            sys.stdout.write(logout(args.url, args.jar) + "\n")
            sys.stdout.flush()
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"oidc_person: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
