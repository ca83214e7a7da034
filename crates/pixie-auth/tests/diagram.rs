//! The exports of a sign-in's trace (Mermaid and SVG) with step text from outside: a forged
//! link's parameters or a provider's words can say anything, and must stay text in their
//! own place. Bounded in CI; `PROPTEST_CASES=20000` for a long run.

use pixie_auth::flow::{Check, FlowStep, Party, to_mermaid, to_svg};
use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256)
}

/// Text from anywhere, with the pieces each format treats as syntax mixed in.
fn text() -> impl Strategy<Value = String> {
    let nasty = prop::sample::select(vec![
        "\n",
        "\r\n",
        "\u{2028}",
        ";",
        "#",
        "#59;",
        "%%",
        "%%{init: {}}%%",
        "<",
        ">",
        "<br/>",
        "&",
        "&amp;",
        "\"",
        "'",
        "}",
        "{",
        "`",
        ":",
        "-->>",
        "\nNote over app: pwned",
        "\nparticipant evil",
        "<script>alert(1)</script>",
        "]]>",
        "<![CDATA[",
        "<!--",
        "<image href=x onerror=alert(1)>",
        "\u{0}",
        "\u{1b}",
        "\u{FFFE}",
        "\t",
        "end",
        "javascript:alert(1)",
    ]);
    prop::collection::vec(
        prop_oneof![nasty.prop_map(str::to_owned), "(?s).{0,12}"],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

fn party() -> impl Strategy<Value = Party> {
    prop::sample::select(vec![
        Party::App,
        Party::Browser,
        Party::Desktop,
        Party::AuthorizationEndpoint,
        Party::TokenEndpoint,
        Party::Jwks,
        Party::Userinfo,
        Party::Picture,
    ])
}

fn step() -> impl Strategy<Value = FlowStep> {
    (
        party(),
        party(),
        text(),
        prop::collection::vec((text(), text()), 0..3),
        prop::collection::vec((text(), any::<bool>(), prop::option::of(text())), 0..3),
        prop::option::of(text()),
    )
        .prop_map(|(from, to, label, params, checks, note)| {
            let mut s = FlowStep::new(from, to, &label);
            for (n, v) in params {
                s = s.param(&n, v);
            }
            for (n, ok, detail) in checks {
                s = s.check(Check::new(&n, "RFC 0000 §1", ok, detail));
            }
            if let Some(n) = note {
                s = s.note(&n);
            }
            s
        })
}

/// Mermaid's entity codes (`#59;`) back to characters; `None` if a `#` starts no code.
fn mermaid_decode(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';')? + i;
        let code: u32 = rest[i + 1..end].parse().ok()?;
        out.push(char::from_u32(code)?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Step text as Mermaid should show it: line breaks and control characters as spaces.
fn flattened(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Text Mermaid reads as plain text: no syntax character outside an entity code.
fn is_inert(text: &str) -> bool {
    if mermaid_decode(text).is_none() {
        return false;
    }
    let without_codes: String = {
        let mut s = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('#') {
            s.push_str(&rest[..i]);
            let end = rest[i..].find(';').map_or(rest.len(), |e| e + i + 1);
            rest = &rest[end..];
        }
        s.push_str(rest);
        s
    };
    !without_codes.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                ';' | '#'
                    | '%'
                    | '<'
                    | '>'
                    | '&'
                    | '"'
                    | '{'
                    | '}'
                    | '`'
                    | '\\'
                    | '\u{2028}'
                    | '\u{2029}'
            )
    })
}

const ELEMENTS: &[&str] = &[
    "svg", "title", "desc", "rect", "line", "polygon", "path", "text", "g",
];
const ATTRIBUTES: &[&str] = &[
    "xmlns",
    "width",
    "height",
    "viewBox",
    "font-family",
    "role",
    "aria-labelledby",
    "id",
    "x",
    "y",
    "rx",
    "fill",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "x1",
    "y1",
    "x2",
    "y2",
    "points",
    "d",
    "font-size",
    "font-weight",
    "text-anchor",
];

/// Read the SVG as XML: it must be well-formed, use only the diagram's elements and
/// attributes, and hold every piece of text as a text node. Returns the text.
fn svg_text(svg: &str) -> Result<String, String> {
    let mut reader = Reader::from_str(svg);
    let mut text = String::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                if !ELEMENTS.contains(&name.as_str()) {
                    return Err(format!("element <{name}>"));
                }
                for a in e.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    let key: &str = a.key.as_ref();
                    if !ATTRIBUTES.contains(&key) {
                        return Err(format!("attribute {key} on <{name}>"));
                    }
                }
                depth += 1;
            }
            Event::End(_) => text.push('\n'),
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref().map_err(|e| e.to_string())? {
                Some(c) => text.push(c),
                None => text.push(match &*r {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => return Err(format!("entity &{other};")),
                }),
            },
            Event::Eof => break,
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    if depth == 0 || !svg.starts_with("<svg ") || !svg.ends_with("</svg>") {
        return Err("not one svg element".into());
    }
    Ok(text)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Each step is one message line and at most one note line, whatever its text says, and
    /// that text reads back as given (line breaks as spaces).
    #[test]
    fn mermaid_step_text_cannot_leave_its_line(steps in prop::collection::vec(step(), 0..4)) {
        let m = to_mermaid(&steps);
        let lines: Vec<&str> = m.lines().collect();
        let header = 5;
        let expected = header + steps.iter().map(|s| {
            1 + usize::from(!s.params.is_empty() || !s.checks.is_empty() || s.note.is_some())
        }).sum::<usize>();
        prop_assert_eq!(lines.len(), expected, "{}", m);
        prop_assert!(!m.contains("%%"));
        let mut i = header;
        for step in &steps {
            let line = lines[i];
            let prefix = format!(
                "    {}{}{}: ",
                step.from.lifeline(),
                if step.ok() { "->>" } else { "-x" },
                step.to.lifeline()
            );
            prop_assert!(line.starts_with(&prefix), "{}", line);
            let body = &line[prefix.len()..];
            prop_assert!(is_inert(body), "{}", body);
            prop_assert_eq!(mermaid_decode(body).unwrap(), flattened(&step.label));
            i += 1;
            if !step.params.is_empty() || !step.checks.is_empty() || step.note.is_some() {
                let line = lines[i];
                prop_assert!(line.starts_with("    Note over "), "{}", line);
                let (_, body) = line.split_once(": ").unwrap();
                let pieces: Vec<&str> = body.split("<br/>").collect();
                let want = step.params.len() + step.checks.len() + usize::from(step.note.is_some());
                prop_assert_eq!(pieces.len(), want, "{}", line);
                for p in pieces {
                    prop_assert!(is_inert(p), "{}", p);
                }
                i += 1;
            }
        }
    }

    /// The SVG is well-formed XML made of the diagram's own elements and attributes only,
    /// and every label is there as text.
    #[test]
    fn svg_step_text_stays_text(steps in prop::collection::vec(step(), 0..4)) {
        let svg = to_svg(&steps);
        let text = svg_text(&svg).map_err(|e| TestCaseError::fail(format!("{e}\n{svg}")))?;
        for step in &steps {
            let shown: String = step.label.chars().take(40)
                .map(|c| if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c })
                .filter(|c| !c.is_control() && !matches!(c, '\u{FFFD}' | '\u{FFFE}' | '\u{FFFF}'))
                .collect();
            let got: String = text.chars().filter(|c| *c != '\u{FFFD}').collect();
            prop_assert!(got.contains(&shown), "{:?} not in the text", shown);
        }
    }
}

#[test]
fn a_failed_check_is_drawn_in_red_with_its_reason() {
    let steps = vec![
        FlowStep::new(Party::App, Party::TokenEndpoint, "POST /token").check(Check::new(
            "code accepted",
            "RFC 6749 §5.2",
            false,
            Some("invalid_grant <img src=x onerror=alert(1)>".into()),
        )),
    ];
    let svg = to_svg(&steps);
    assert!(svg.contains("fill=\"#b00020\">✗ code accepted — RFC 6749 §5.2: invalid_grant &lt;img src=x onerror=alert(1)&gt;</text>"), "{svg}");
    assert!(svg_text(&svg).is_ok());
    for banned in [
        "<script",
        "<foreignObject",
        "href",
        "<img",
        "<image",
        "<a ",
        "<style",
        "<use",
    ] {
        assert!(!svg.contains(banned), "{banned}");
    }
}
