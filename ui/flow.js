// Draws the sequence diagram of a sign-in from the redacted steps the core recorded.
// Plain SVG built with DOM calls: every string from the core is set as text, never as markup.
"use strict";

window.PixieFlow = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 380;
  const LANES = { app: 50, browser: 190, provider: 330 };
  const LANE_TITLES = [["app", "Pixie core"], ["browser", "Browser / desktop"], ["provider", "Provider"]];
  const LANE_OF = {
    app: "app", browser: "browser", desktop: "browser",
    authorization_endpoint: "provider", token_endpoint: "provider", jwks: "provider",
    userinfo: "provider", picture: "provider",
  };
  const INK = "#1c1a27", MUTED = "#5d5873", OK = "#5b3df0", BAD = "#c4320a", GOOD = "#067647";

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
    for (const [lane, title] of LANE_TITLES) {
      const x = LANES[lane];
      svg.appendChild(el("rect", { x: x - 46, y: 8, width: 92, height: 24, rx: 6, fill: "#efecfb", stroke: "#cfc8f5" }));
      svg.appendChild(el("text", { x, y: 24, "text-anchor": "middle", "font-size": 10.5, "font-weight": 700, fill: INK }, title));
    }
    const lifelines = [];
    for (const lane of Object.keys(LANES)) {
      const line = el("line", { x1: LANES[lane], y1: 32, x2: LANES[lane], y2: 100, stroke: "#cfc8f5", "stroke-dasharray": "4 4" });
      lifelines.push(line);
      svg.appendChild(line);
    }

    let y = 52;
    for (const step of steps) {
      const ok = step.checks.every((c) => c.ok);
      const color = ok ? OK : BAD;
      const from = LANES[LANE_OF[step.from] || "app"];
      const to = LANES[LANE_OF[step.to] || "app"];
      const bits = [step.label];
      if (step.status) bits.push(String(step.status));
      if (step.duration_ms !== null && step.duration_ms !== undefined) bits.push(`${step.duration_ms} ms`);
      const group = el("g", { "data-step": step.seq, "data-ok": ok });
      group.appendChild(el("text", { x: 4, y: y - 4, "font-size": 8.5, fill: MUTED }, `+${Math.round(step.at_ms)} ms`));
      group.appendChild(el("text", { x: W / 2 + 18, y: y - 4, "text-anchor": "middle", "font-size": 10, "font-weight": 600, fill: ok ? INK : BAD }, clip(bits.join(" · "), 56)));
      if (from === to) {
        group.appendChild(el("path", { d: `M${from},${y + 2} h34 v12 h-32`, fill: "none", stroke: color, "stroke-width": 1.6, "marker-end": `url(#arrow-${ok ? "ok" : "bad"})` }));
        y += 22;
      } else {
        group.appendChild(el("line", { x1: from, y1: y + 4, x2: to + (to > from ? -3 : 3), y2: y + 4, stroke: color, "stroke-width": 1.6, "marker-end": `url(#arrow-${ok ? "ok" : "bad"})` }));
        y += 16;
      }
      for (const check of step.checks) {
        const mark = check.ok ? "✓" : "✗";
        group.appendChild(el("text", { x: 10, y: y + 8, "font-size": 8.5, fill: check.ok ? GOOD : BAD }, clip(`${mark} ${check.name} — ${check.spec}`, 72)));
        y += 12;
        if (!check.ok && check.detail) {
          group.appendChild(el("text", { x: 24, y: y + 8, "font-size": 8.5, fill: BAD }, clip(check.detail, 70)));
          y += 12;
        }
      }
      if (step.note) {
        const tokens = step.to === "token_endpoint";
        const h = 18;
        group.appendChild(el("rect", { x: 10, y: y + 1, width: W - 20, height: h, rx: 5, fill: tokens ? "#fff4d6" : "#f4f3f8", stroke: tokens ? "#e8b634" : "#e3e0ee" }));
        group.appendChild(el("text", { x: 18, y: y + 13, "font-size": 9, fill: INK, "font-weight": tokens ? 700 : 400 }, clip(step.note, 74)));
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

  return { draw };
})();
