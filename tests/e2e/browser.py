#!/usr/bin/env python3
"""Stands in for the system browser (PIXIE_BROWSER). Pixie runs it with the authorization
URL; it records the URL, then follows the plan the test left in $PIXIE_E2E_DIR/plan.json:
  {"action": "allow" | "deny" | "hold", "delay": seconds, "deliveries": n, "name": "...",
   "person": "demo" | "oidc", "user": "..."}
"hold" is a person who has not finished yet: the test completes the sign-in later.
"person": "oidc" signs in at oidc-provider's pages (tests/interop/oidc_person.py); a loopback
redirect is then opened like a browser does (an HTTP GET), and the page saved."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from person import deliver, follow_once, login  # noqa: E402
import oidc_person  # noqa: E402


def main() -> int:
    url = sys.argv[1]
    out = os.environ["PIXIE_E2E_DIR"]
    with open(os.path.join(out, "auth-urls.txt"), "a") as f:
        f.write(url + "\n")
    if "/end_session?" in url:
        # RP-initiated logout: the provider sends the browser back to Pixie.
        back = follow_once(url)
        if back:
            deliver(back)
        return 0
    if "/session/end?" in url:
        # oidc-provider's RP-initiated logout: confirm on its page, then back to Pixie.
        back = oidc_person.logout(url)
        if back and back.startswith("dev.pixie.app:"):
            deliver(back)
        return 0
    try:
        with open(os.path.join(out, "plan.json")) as f:
            plan = json.load(f)
    except FileNotFoundError:
        plan = {"action": "allow"}
    if plan.get("action") == "hold":
        return 0
    time.sleep(plan.get("delay", 0))
    if plan.get("person") == "oidc":
        redirect = oidc_person.login(url, plan["action"], user=plan.get("user", "ada"))
    else:
        redirect = login(url, plan["action"], name=plan.get("name"))
    with open(os.path.join(out, "last-redirect.txt"), "w") as f:
        f.write(redirect)
    for _ in range(plan.get("deliveries", 1)):
        if redirect.startswith("http://127.0.0.1:"):
            # A loopback redirect: the browser loads it from Pixie's listener.
            status, body = oidc_person.visit(redirect)
            with open(os.path.join(out, "loopback-page.txt"), "w") as f:
                f.write(f"{status}\n{body.decode(errors='replace')}")
        else:
            deliver(redirect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
