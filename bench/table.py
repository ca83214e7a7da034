#!/usr/bin/env python3
"""Reads the peers' JSON lines on stdin and prints the comparison table (Markdown).

`pixie` is the plain path (the provider offers neither PAR nor DPoP), compared with each
peer on the same path; `pixie (PAR + DPoP)` is Pixie against a provider that offers both
(RFC 9126, RFC 9449), compared with the plain path."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip().startswith("{")]
by_peer = {r["peer"]: r for r in rows}
pixie = by_peer.get("pixie")
bound = by_peer.get("pixie (PAR + DPoP)")
peers = [p for p in by_peer if not p.startswith("pixie")]
steps = ["start", "callback", "userinfo", "picture", "total"]


def median(peer, step):
    return by_peer[peer]["steps"].get(step, {}).get("median_ms")


def cell(peer, step):
    s = by_peer[peer]["steps"].get(step)
    return f"{s['median_ms']:.2f} / {s['p95_ms']:.2f}" if s else "-"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "-"


ratio_heads = [f"pixie ÷ {p} (median)" for p in peers]
if bound and pixie:
    ratio_heads.append("PAR + DPoP ÷ plain (median)")
print("| step | " + " | ".join(f"{p} median / p95 (ms)" for p in by_peer) + " | " + " | ".join(ratio_heads) + " |")
print("|" + " --- |" * (1 + len(by_peer) + len(ratio_heads)))
for step in steps:
    ratios = [ratio(median("pixie", step) if pixie else None, median(p, step)) for p in peers]
    if bound and pixie:
        ratios.append(ratio(median("pixie (PAR + DPoP)", step), median("pixie", step)))
    print(f"| {step} | " + " | ".join(cell(p, step) for p in by_peer) + " | " + " | ".join(ratios) + " |")
print()
print("start: the authorization request (for PAR + DPoP, the push to the provider); the peers build only the URL and are not timed there. n = {}, warmup = {}; versions: {}".format(
    pixie["n"] if pixie else "?", pixie["warmup"] if pixie else "?",
    "; ".join(f"{p}: {json.dumps(r['versions'])}" for p, r in by_peer.items())))
