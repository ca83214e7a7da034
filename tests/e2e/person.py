"""What a person does in the browser at the demo provider, scripted over plain HTTP:
load the authorization URL, submit the sign-in form, and hand the link of the last page
("Open Pixie") to the OS."""

import html as html_text
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def login(auth_url: str, action: str = "allow", user: str = "ada", name: str | None = None) -> str:
    """Sign in (or deny) at the provider; return where the provider redirects the browser."""
    with _opener.open(auth_url, timeout=20) as page:
        html = page.read().decode()
    match = re.search(r'name="tx" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("the provider's sign-in page has no form")
    fields = {"tx": match.group(1), "action": action, "user": user}
    if name:
        fields["name"] = name
    form_url = urllib.parse.urljoin(auth_url, "/authorize")
    data = urllib.parse.urlencode(fields).encode()
    try:
        with _opener.open(form_url, data=data, timeout=20) as page:
            done = page.read().decode()
    except urllib.error.HTTPError as e:  # a redirect is raised because we do not follow it
        if e.code in (302, 303):
            return e.headers["Location"]
        raise
    # The last page: the link its "Open Pixie" button (and its meta refresh) goes to.
    link = handoff_link(done)
    if not link:
        raise RuntimeError("the provider's last page has no link back to the app")
    return link


def handoff_link(page: str) -> str | None:
    """The href of the last page's "Open …" button, unescaped as a browser reads it."""
    match = re.search(r'id="open-app" href="([^"]+)"', page)
    return html_text.unescape(match.group(1)) if match else None


def follow_once(url: str) -> str | None:
    """GET a URL and return where it redirects to, without following."""
    try:
        with _opener.open(url, timeout=20):
            return None
    except urllib.error.HTTPError as e:
        if e.code in (302, 303):
            return e.headers["Location"]
        raise


def deliver(link: str) -> None:
    """Hand a link to the desktop the way a browser does: the registered
    x-scheme-handler decides which program gets it."""
    subprocess.run(["gio", "open", link], check=True, timeout=30)
