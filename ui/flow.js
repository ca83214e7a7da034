// Draws the sequence diagram of a sign-in from the redacted steps the core recorded.
// Plain SVG built with DOM calls: every string from the core is set as text, never as markup.
"use strict";

window.PixieFlow = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const MIN_W = 380;
  const LANE_GAP = 110;
  // The lanes in drawing order, and the core's parties (flow.rs `Party`) on each. Every
  // provider endpoint shares the provider's lane; the step's own label names the endpoint.
  const LANE_TITLES = { app: "Pixie core", browser: "Browser / desktop", device: "Other device", provider: "Provider" };
  const LANE_ORDER = ["app", "browser", "device", "provider"];
  const LANE_OF = {
    app: "app",
    browser: "browser", desktop: "browser",
    // RFC 8628: the person's phone or other computer, where a device sign-in is finished.
    other_device: "device",
    authorization_endpoint: "provider", token_endpoint: "provider", jwks: "provider",
    userinfo: "provider", picture: "provider",
    device_authorization_endpoint: "provider",
  };
  const INK = "#1c1a27", MUTED = "#5d5873", OK = "#5b3df0", BAD = "#c4320a", GOOD = "#067647", ODD = "#8a5a00";

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  // A party this page does not know (a newer core): a lane of its own, named after it, so
  // the step is drawn where it happened rather than folded into another lane.
  function laneOf(party) {
    return has(LANE_OF, party) ? LANE_OF[party] : `unknown:${party}`;
  }

  function laneTitle(lane) {
    if (has(LANE_TITLES, lane)) return LANE_TITLES[lane];
    const words = String(lane).slice("unknown:".length).replace(/_/g, " ").trim() || "unnamed";
    return `? ${words}`;
  }

  // The lanes a list of steps uses: the app and the provider always, the browser for a
  // browser sign-in (or before any), the other device for a device sign-in, and any party
  // not known here at the right.
  function lanesFor(steps) {
    const used = new Set(["app", "provider"]);
    for (const step of steps) {
      used.add(laneOf(step.from));
      used.add(laneOf(step.to));
    }
    if (!steps.length) used.add("browser");
    const known = LANE_ORDER.filter((l) => used.has(l));
    const unknown = [...used].filter((l) => !LANE_ORDER.includes(l));
    return [...known, ...unknown];
  }

  // A few words for what a step's parameters add: a DPoP proof (RFC 9449) and its nonce
  // retry are parameters of the token and userinfo steps.
  function tags(step) {
    const names = new Set((step.params || []).map((p) => p.name));
    const out = [];
    if (names.has("DPoP")) out.push("DPoP proof");
    if (names.has("DPoP-Nonce")) out.push("nonce retry");
    return out;
  }

  function el(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clip(text, max) {
    const chars = Array.from(String(text));
    return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : chars.join("");
  }

  function draw(steps) {
    steps = Array.isArray(steps) ? steps : [];
    const lanes = lanesFor(steps);
    const W = Math.max(MIN_W, 100 + LANE_GAP * (lanes.length - 1));
    const gap = (W - 100) / Math.max(1, lanes.length - 1);
    const X = Object.fromEntries(lanes.map((lane, i) => [lane, 50 + gap * i]));
    const box = Math.min(92, gap - 8);
    const chars = Math.round(W / 6.8);
    const svg = el("svg", { xmlns: NS, viewBox: `0 0 ${W} 100`, role: "img", "font-family": "DejaVu Sans, sans-serif" });
    svg.appendChild(el("title", {}, "Sequence diagram of the last sign-in"));
    const bg = el("rect", { x: 0, y: 0, width: W, height: 100, fill: "#ffffff" });
    svg.appendChild(bg);
    const defs = el("defs");
    for (const [id, color] of [["ok", OK], ["bad", BAD]]) {
      const m = el("marker", { id: `arrow-${id}`, viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" });
      m.appendChild(el("path", { d: "M0,0 L8,4 L0,8 z", fill: color }));
      defs.appendChild(m);
    }
    svg.appendChild(defs);
    for (const lane of lanes) {
      const x = X[lane];
      const known = has(LANE_TITLES, lane);
      const head = el("g", { "data-lane": lane });
      head.appendChild(el("rect", { x: x - box / 2, y: 8, width: box, height: 24, rx: 6, fill: known ? "#efecfb" : "#fff4d6", stroke: known ? "#cfc8f5" : "#e8b634" }));
      head.appendChild(el("text", { x, y: 24, "text-anchor": "middle", "font-size": 10.5, "font-weight": 700, fill: known ? INK : ODD }, known ? laneTitle(lane) : clip(laneTitle(lane), 16)));
      svg.appendChild(head);
    }
    const lifelines = [];
    for (const lane of lanes) {
      const line = el("line", { x1: X[lane], y1: 32, x2: X[lane], y2: 100, stroke: "#cfc8f5", "stroke-dasharray": "4 4" });
      lifelines.push(line);
      svg.appendChild(line);
    }

    let y = 52;
    for (const step of steps) {
      const ok = step.checks.every((c) => c.ok);
      const color = ok ? OK : BAD;
      const from = X[laneOf(step.from)];
      const to = X[laneOf(step.to)];
      const bits = [step.label, ...tags(step)];
      if (step.status) bits.push(String(step.status));
      if (step.duration_ms !== null && step.duration_ms !== undefined) bits.push(`${step.duration_ms} ms`);
      const strange = [step.from, step.to].filter((p) => !has(LANE_OF, p));
      const group = el("g", { "data-step": step.seq, "data-ok": ok, "data-from": laneOf(step.from), "data-to": laneOf(step.to) });
      if (strange.length) group.setAttribute("data-unknown", strange.join(" "));
      group.appendChild(el("text", { x: 4, y: y - 4, "font-size": 8.5, fill: MUTED }, `+${Math.round(step.at_ms)} ms`));
      group.appendChild(el("text", { x: W / 2 + 18, y: y - 4, "text-anchor": "middle", "font-size": 10, "font-weight": 600, fill: ok ? INK : BAD }, clip(bits.join(" · "), chars)));
      if (from === to) {
        group.appendChild(el("path", { d: `M${from},${y + 2} h34 v12 h-32`, fill: "none", stroke: color, "stroke-width": 1.6, "marker-end": `url(#arrow-${ok ? "ok" : "bad"})` }));
        y += 22;
      } else {
        group.appendChild(el("line", { x1: from, y1: y + 4, x2: to + (to > from ? -3 : 3), y2: y + 4, stroke: color, "stroke-width": 1.6, "marker-end": `url(#arrow-${ok ? "ok" : "bad"})` }));
        y += 16;
      }
      if (strange.length) {
        group.appendChild(el("text", { x: 10, y: y + 8, "font-size": 8.5, fill: ODD }, clip(`? drawn in a lane of its own: this window does not know the party ${strange.join(", ")}`, chars + 16)));
        y += 12;
      }
      for (const check of step.checks) {
        const mark = check.ok ? "✓" : "✗";
        group.appendChild(el("text", { x: 10, y: y + 8, "font-size": 8.5, fill: check.ok ? GOOD : BAD }, clip(`${mark} ${check.name} — ${check.spec}`, chars + 16)));
        y += 12;
        if (!check.ok && check.detail) {
          group.appendChild(el("text", { x: 24, y: y + 8, "font-size": 8.5, fill: BAD }, clip(check.detail, chars + 14)));
          y += 12;
        }
      }
      if (step.note) {
        const tokens = step.to === "token_endpoint";
        const h = 18;
        group.appendChild(el("rect", { x: 10, y: y + 1, width: W - 20, height: h, rx: 5, fill: tokens ? "#fff4d6" : "#f4f3f8", stroke: tokens ? "#e8b634" : "#e3e0ee" }));
        group.appendChild(el("text", { x: 18, y: y + 13, "font-size": 9, fill: INK, "font-weight": tokens ? 700 : 400 }, clip(step.note, chars + 18)));
        y += h + 4;
      }
      svg.appendChild(group);
      y += 18;
    }
    const height = Math.max(y, 80);
    svg.setAttribute("viewBox", `0 0 ${W} ${height}`);
    bg.setAttribute("height", height);
    for (const line of lifelines) line.setAttribute("y2", height - 6);
    return svg;
  }

  return { draw, lanesFor };
})();
