//! The trace as Mermaid `sequenceDiagram` text. Step text can come from outside (a forged
//! link's parameters, a provider's error description), so every character Mermaid reads as
//! syntax is written as one of its entity codes (`#59;` for `;`): a step stays one message
//! and one note, whatever it says.

use super::FlowStep;

/// Text Mermaid shows as it is: letters, digits, spaces and punctuation with no meaning in a
/// message or a note. Everything else ASCII becomes `#<decimal>;` (Mermaid's entity codes);
/// line breaks and other control characters become a space.
pub(crate) fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            out.push(' ');
        } else if c.is_alphanumeric()
            || matches!(
                c,
                ' ' | '.'
                    | ','
                    | '/'
                    | '_'
                    | '-'
                    | '='
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '@'
                    | '+'
                    | '!'
                    | '?'
                    | ':'
                    | '*'
                    | '\''
            )
            || (!c.is_ascii() && !c.is_whitespace())
        {
            out.push(c);
        } else {
            // `;` `#` `%` `<` `>` `&` `"` `{` `}` `` ` `` `\` `|` `~` `^` `$` and any other
            // space-like character.
            out.push_str(&format!("#{};", u32::from(c)));
        }
    }
    out
}

/// Mermaid `sequenceDiagram` text for a list of steps.
pub fn to_mermaid(steps: &[FlowStep]) -> String {
    let mut out = String::from("sequenceDiagram\n    autonumber\n");
    for (id, label) in [
        ("app", "Pixie core"),
        ("browser", "System browser / desktop"),
        ("provider", "Provider"),
    ] {
        out.push_str(&format!("    participant {id} as {label}\n"));
    }
    for step in steps {
        let from = step.from.lifeline();
        let to = step.to.lifeline();
        let mut text = mermaid_text(&step.label);
        if let Some(status) = step.status {
            text.push_str(&format!(" → {status}"));
        }
        if let Some(d) = step.duration_ms {
            text.push_str(&format!(" ({d} ms)"));
        }
        let arrow = if step.ok() { "->>" } else { "-x" };
        out.push_str(&format!("    {from}{arrow}{to}: {text}\n"));
        let mut lines: Vec<String> = step
            .params
            .iter()
            .map(|p| mermaid_text(&format!("{}={}", p.name, p.value)))
            .collect();
        lines.extend(step.checks.iter().map(|c| {
            mermaid_text(&format!(
                "{} {} — {}",
                if c.ok { "✓" } else { "✗" },
                c.name,
                c.spec
            ))
        }));
        if let Some(n) = &step.note {
            lines.push(mermaid_text(n));
        }
        if !lines.is_empty() {
            let over = if from == to {
                from.to_owned()
            } else {
                format!("{from},{to}")
            };
            out.push_str(&format!("    Note over {over}: {}\n", lines.join("<br/>")));
        }
    }
    out
}
