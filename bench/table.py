#!/usr/bin/env python3
"""Reads the peers' JSON lines on stdin and prints the comparison table (Markdown)."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip().startswith("{")]
by_peer = {r["peer"]: r for r in rows}
pixie = by_peer.get("pixie")
peers = [p for p in by_peer if p != "pixie"]
steps = ["callback", "userinfo", "picture", "total"]

head = "| step | " + " | ".join(f"{p} median / p95 (ms)" for p in by_peer) + " | " + " | ".join(
    f"pixie ÷ {p} (median)" for p in peers) + " |"
print(head)
print("|" + " --- |" * (1 + len(by_peer) + len(peers)))
for step in steps:
    cells = [f"{by_peer[p]['steps'][step]['median_ms']:.2f} / {by_peer[p]['steps'][step]['p95_ms']:.2f}" for p in by_peer]
    ratios = []
    for p in peers:
        other = by_peer[p]["steps"][step]["median_ms"]
        ratios.append(f"{pixie['steps'][step]['median_ms'] / other:.2f}×" if pixie and other else "-")
    print(f"| {step} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
print()
print("n = {}, warmup = {}; versions: {}".format(
    pixie["n"] if pixie else "?", pixie["warmup"] if pixie else "?",
    "; ".join(f"{p}: {json.dumps(r['versions'])}" for p, r in by_peer.items())))
