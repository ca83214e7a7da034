#!/usr/bin/env python3
"""Stands in for the system browser (PIXIE_BROWSER). Pixie runs it with the authorization
URL; it records the URL, then follows the plan the test left in $PIXIE_E2E_DIR/plan.json:
  {"action": "allow" | "deny" | "hold", "delay": seconds, "deliveries": n, "name": "..."}
"hold" is a person who has not finished yet: the test completes the sign-in later."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from person import deliver, follow_once, login  # noqa: E402


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
    try:
        with open(os.path.join(out, "plan.json")) as f:
            plan = json.load(f)
    except FileNotFoundError:
        plan = {"action": "allow"}
    if plan.get("action") == "hold":
        return 0
    time.sleep(plan.get("delay", 0))
    redirect = login(url, plan["action"], name=plan.get("name"))
    with open(os.path.join(out, "last-redirect.txt"), "w") as f:
        f.write(redirect)
    for _ in range(plan.get("deliveries", 1)):
        deliver(redirect)
    return 0


if __name__ == "__main__":
    sys.exit(main())
