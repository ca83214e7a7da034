//! The trace as a standalone SVG sequence diagram, built in the core so that what is saved
//! to disk never comes from the webview. The document uses a fixed handful of elements
//! (`svg`, `title`, `desc`, `rect`, `line`, `polygon`, `path`, `text`, `g`) with fixed
//! attributes; step text only ever lands in text nodes and is XML-escaped there. There is no
//! script, no `foreignObject`, no link, no `href`, no event attribute and no `style` element.

use std::fmt::Write;

use super::{FlowStep, Party};

const COLUMN: usize = 190;
const MARGIN: usize = 20;
const HEAD: usize = 56;
const LINE: usize = 16;
const LABEL: usize = 22;
const GAP: usize = 14;
/// Longest text line drawn; the JSON export has the rest.
const MAX_CHARS: usize = 110;
const RED: &str = "#b00020";
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const OK: &str = "#1a7f37";

/// XML 1.0 text and attribute escaping. Characters XML cannot carry at all (most control
/// characters, U+FFFE, U+FFFF) become U+FFFD.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 §2.2 Char (and its discouraged control characters); newlines are drawn
            // as spaces (one text line each).
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One line of text, shortened to [`MAX_CHARS`] and escaped.
fn line_text(s: &str) -> String {
    let mut short: String = s.chars().take(MAX_CHARS).collect();
    if s.chars().count() > MAX_CHARS {
        short.push('…');
    }
    xml_escape(&short)
}

/// The parties in the order they first appear (the app first), one lifeline each.
fn parties(steps: &[FlowStep]) -> Vec<Party> {
    let mut out = vec![Party::App];
    for step in steps {
        for p in [step.from, step.to] {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// A standalone SVG document (`<svg …>…</svg>`) for a list of steps.
pub fn to_svg(steps: &[FlowStep]) -> String {
    let parties = parties(steps);
    let x_of =
        |p: Party| MARGIN + COLUMN / 2 + COLUMN * parties.iter().position(|q| *q == p).unwrap_or(0);
    let width = (MARGIN * 2 + COLUMN * parties.len()).max(760);
    let mut body = String::new();
    let mut y = HEAD + 24;
    for step in steps {
        y = draw_step(&mut body, step, x_of(step.from), x_of(step.to), y);
    }
    let height = y + MARGIN;
    let mut out = header(width, height, steps.len(), &parties);
    for p in &parties {
        lifeline(&mut out, *p, x_of(*p), height);
    }
    out.push_str(&body);
    out.push_str("</svg>");
    out
}

/// The document's opening: size, title and description (for screen readers), background.
fn header(width: usize, height: usize, steps: usize, parties: &[Party]) -> String {
    let names = parties
        .iter()
        .map(|p| p.label())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"system-ui, sans-serif\" role=\"img\" \
         aria-labelledby=\"pixie-flow-title pixie-flow-desc\">\
         <title id=\"pixie-flow-title\">Pixie sign-in sequence diagram</title>\
         <desc id=\"pixie-flow-desc\">{steps} steps between {}</desc>\
         <rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>",
        xml_escape(&names)
    )
}

/// A party's box at the top and its lifeline down the page.
fn lifeline(out: &mut String, p: Party, x: usize, height: usize) {
    let _ = write!(
        out,
        "<g><rect x=\"{}\" y=\"{MARGIN}\" width=\"{}\" height=\"28\" rx=\"6\" fill=\"#f6f8fa\" stroke=\"{MUTED}\"/>\
         <text x=\"{x}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>\
         <line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#d0d7de\" stroke-width=\"1\"/></g>",
        x - COLUMN / 2 + 8,
        COLUMN - 16,
        MARGIN + 18,
        xml_escape(p.label()),
        MARGIN + 28,
        height - MARGIN / 2
    );
}

/// One step at height `y` from lifeline `x1` to `x2`: its label, arrow and details. Returns
/// the height below it.
fn draw_step(body: &mut String, step: &FlowStep, x1: usize, x2: usize, mut y: usize) -> usize {
    let colour = if step.ok() { INK } else { RED };
    let mut label = format!("{}. {}", step.seq, step.label);
    if let Some(status) = step.status {
        let _ = write!(label, " → {status}");
    }
    if let Some(d) = step.duration_ms {
        let _ = write!(label, " ({d} ms)");
    }
    let text_x = x1.min(x2) + 8;
    let _ = write!(
        body,
        "<g><text x=\"{text_x}\" y=\"{y}\" font-size=\"13\" font-weight=\"600\" fill=\"{colour}\">{}</text>",
        line_text(&label)
    );
    let browser = step.from == Party::Browser || step.to == Party::Browser;
    arrow(body, x1, x2, y + 8, colour, browser);
    y += LABEL;
    let mut detail = |text: String, fill: &str| {
        y += LINE;
        let _ = write!(
            body,
            "<text x=\"{text_x}\" y=\"{y}\" font-size=\"11\" fill=\"{fill}\">{text}</text>"
        );
    };
    for p in &step.params {
        detail(line_text(&format!("{} = {}", p.name, p.value)), MUTED);
    }
    for c in &step.checks {
        let mut t = format!("{} {} — {}", if c.ok { "✓" } else { "✗" }, c.name, c.spec);
        if let (false, Some(d)) = (c.ok, &c.detail) {
            let _ = write!(t, ": {d}");
        }
        detail(line_text(&t), if c.ok { OK } else { RED });
    }
    if let Some(n) = &step.note {
        detail(line_text(n), MUTED);
    }
    body.push_str("</g>");
    y + GAP
}

/// The arrow of a step: a loop for a step within one party, dashed through the browser.
fn arrow(body: &mut String, x1: usize, x2: usize, arrow_y: usize, colour: &str, dashed: bool) {
    if x1 == x2 {
        let _ = write!(
            body,
            "<path d=\"M{x1} {arrow_y} h30 v12 h-24\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>\
             <polygon points=\"{x1},{} {},{} {},{}\" fill=\"{colour}\"/>",
            arrow_y + 12,
            x1 + 8,
            arrow_y + 8,
            x1 + 8,
            arrow_y + 16
        );
        return;
    }
    let dir: isize = if x2 > x1 { 1 } else { -1 };
    let tip = x2 as isize;
    let back = tip - dir * 9;
    let dash = if dashed {
        " stroke-dasharray=\"5 3\""
    } else {
        ""
    };
    let _ = write!(
        body,
        "<line x1=\"{x1}\" y1=\"{arrow_y}\" x2=\"{back}\" y2=\"{arrow_y}\" stroke=\"{colour}\" stroke-width=\"1.5\"{dash}/>\
         <polygon points=\"{tip},{arrow_y} {back},{} {back},{}\" fill=\"{colour}\"/>",
        arrow_y - 5,
        arrow_y + 5
    );
}
