//! A small YAML writer for generated suites.
//!
//! Generic serializers lose what makes the hand-written suites readable:
//! key order, comments above steps, short maps on one line, folded `why:`
//! text. This writer keeps those, and quotes every scalar that YAML (1.2, as
//! serde-saphyr reads it with strict booleans) could read as something else.

use serde_json::Value;

/// A YAML node in the order it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A JSON scalar (null, boolean, number, string).
    Scalar(Value),
    /// Prose: on the key's line when short, else folded (`>-`).
    Text(String),
    /// Entries in the order they are written.
    Map(Vec<(String, Node)>),
    /// Items, each with comment lines written above it.
    Seq(Vec<(Vec<String>, Node)>),
}

impl Node {
    /// A string scalar.
    pub fn str(s: impl Into<String>) -> Node {
        Node::Scalar(Value::String(s.into()))
    }

    /// A JSON value, objects in their (sorted) key order.
    pub fn json(v: &Value) -> Node {
        match v {
            // `schemas` first, as SCIM messages are usually written.
            Value::Object(m) => Node::Map(
                m.iter()
                    .filter(|(k, _)| *k == "schemas")
                    .chain(m.iter().filter(|(k, _)| *k != "schemas"))
                    .map(|(k, v)| (k.clone(), Node::json(v)))
                    .collect(),
            ),
            Value::Array(a) => Node::Seq(a.iter().map(|v| (Vec::new(), Node::json(v))).collect()),
            other => Node::Scalar(other.clone()),
        }
    }

    /// The value a YAML reader gets back (comments dropped).
    pub fn to_json(&self) -> Value {
        match self {
            Node::Scalar(v) => v.clone(),
            Node::Text(t) => Value::String(t.clone()),
            Node::Map(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Node::Seq(s) => Value::Array(s.iter().map(|(_, v)| v.to_json()).collect()),
        }
    }
}

/// Longest line we try to keep to when choosing the one-line form.
const WIDTH: usize = 96;

/// Writes a document: comment lines, then the root mapping.
pub fn document(header: &[String], root: &[(String, Node)]) -> String {
    let mut out = String::new();
    for line in header {
        comment(&mut out, 0, line);
    }
    map_entries(&mut out, 0, root);
    out
}

fn comment(out: &mut String, indent: usize, line: &str) {
    out.push_str(&" ".repeat(indent));
    out.push('#');
    if !line.is_empty() {
        out.push(' ');
        // A comment ends at the line's end: keep it on one line.
        out.push_str(&line.replace(['\n', '\r'], " "));
    }
    out.push('\n');
}

fn map_entries(out: &mut String, indent: usize, entries: &[(String, Node)]) {
    for (k, v) in entries {
        let key = scalar_str(k);
        out.push_str(&" ".repeat(indent));
        out.push_str(&key);
        out.push(':');
        value_after_key(out, indent, key.len() + 2, v);
    }
}

/// Writes `v` after `key:`; `used` is how much of the line the key took.
fn value_after_key(out: &mut String, indent: usize, used: usize, v: &Node) {
    match v {
        Node::Text(t) => {
            let one = scalar_str(t);
            if indent + used + one.len() <= WIDTH || !foldable(t) {
                out.push(' ');
                out.push_str(&one);
                out.push('\n');
            } else {
                out.push_str(" >-\n");
                folded(out, indent + 2, t);
            }
        }
        _ => match flow(v) {
            Some(f) if indent + used + f.len() <= WIDTH || is_leaf(v) => {
                out.push(' ');
                out.push_str(&f);
                out.push('\n');
            }
            _ => {
                out.push('\n');
                match v {
                    Node::Map(m) => map_entries(out, indent + 2, m),
                    Node::Seq(s) => seq_items(out, indent + 2, s),
                    // Scalars and text always took a branch above.
                    _ => {}
                }
            }
        },
    }
}

fn is_leaf(v: &Node) -> bool {
    match v {
        Node::Scalar(_) => true,
        Node::Map(m) => m.is_empty(),
        Node::Seq(s) => s.is_empty(),
        Node::Text(_) => false,
    }
}

fn seq_items(out: &mut String, indent: usize, items: &[(Vec<String>, Node)]) {
    for (comments, item) in items {
        for c in comments {
            comment(out, indent, c);
        }
        let one = flow(item).filter(|f| indent + 2 + f.len() <= WIDTH || is_leaf(item));
        match (one, item) {
            (Some(f), _) => {
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                out.push_str(&f);
                out.push('\n');
            }
            (None, Node::Map(m)) => {
                // The first entry goes on the dash's line.
                let mut body = String::new();
                map_entries(&mut body, indent + 2, m);
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                out.push_str(&body[indent + 2..]);
            }
            (None, Node::Seq(s)) => {
                out.push_str(&" ".repeat(indent));
                out.push_str("-\n");
                seq_items(out, indent + 2, s);
            }
            (None, Node::Text(t)) if foldable(t) => {
                out.push_str(&" ".repeat(indent));
                out.push_str("- >-\n");
                folded(out, indent + 2, t);
            }
            (None, Node::Text(t)) => {
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                out.push_str(&scalar_str(t));
                out.push('\n');
            }
            (None, Node::Scalar(_)) => {}
        }
    }
}

/// Folded block scalar lines: words joined up to the width. Folding turns
/// each line break back into one space, so the text reads back unchanged
/// as long as it has no runs of spaces or line breaks of its own.
fn folded(out: &mut String, indent: usize, text: &str) {
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > WIDTH - 8 {
            out.push_str(&" ".repeat(indent));
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&" ".repeat(indent));
    out.push_str(&line);
    out.push('\n');
}

/// Whether prose can be written folded and read back unchanged.
fn foldable(t: &str) -> bool {
    !t.is_empty()
        && !t.starts_with(' ')
        && !t.ends_with(' ')
        && !t.contains("  ")
        && !t.chars().any(|c| c.is_control() || is_break(c))
}

/// The one-line (flow) form, when the node has one.
fn flow(v: &Node) -> Option<String> {
    Some(match v {
        Node::Scalar(s) => scalar(s),
        Node::Text(t) => scalar_str(t),
        Node::Map(m) if m.is_empty() => "{}".into(),
        Node::Seq(s) if s.is_empty() => "[]".into(),
        Node::Map(m) => {
            let parts: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| flow(v).map(|f| format!("{}: {f}", scalar_str(k))))
                .collect();
            format!("{{ {} }}", parts?.join(", "))
        }
        Node::Seq(s) => {
            if s.iter().any(|(c, _)| !c.is_empty()) {
                return None;
            }
            let parts: Option<Vec<String>> = s.iter().map(|(_, v)| flow(v)).collect();
            format!("[{}]", parts?.join(", "))
        }
    })
}

/// A JSON scalar as YAML.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => scalar_str(s),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// A string as a YAML scalar: plain when nothing could misread it, else
/// quoted without escapes (double quotes, or single ones around a `"`),
/// else double-quoted with escapes.
pub fn scalar_str(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    if !s.contains(['"', '\\']) && !s.chars().any(needs_escape) {
        return format!("\"{s}\"");
    }
    if !s.contains('\'') && !s.chars().any(needs_escape) {
        return format!("'{s}'");
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters YAML does not allow raw in a quoted scalar, or reads as a
/// line break (RFC-style printable set of YAML 1.2 §5.1, minus breaks).
fn needs_escape(c: char) -> bool {
    c.is_control() || is_break(c) || matches!(c, '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
}

fn is_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Plain scalars are allowed only for a conservative alphabet: letters,
/// digits, space inside, and `_ - . / @ +`; starting with a letter, `/` or
/// `_`; and never a word YAML reads as null or a boolean.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '/' || first == '_') || s.ends_with(' ') {
        return false;
    }
    if !s.chars().all(|c| {
        (c.is_alphanumeric() && !needs_escape(c))
            || matches!(c, ' ' | '_' | '-' | '.' | '/' | '@' | '+')
    }) {
        return false;
    }
    let reserved = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf",
    ];
    !reserved.iter().any(|r| s.eq_ignore_ascii_case(r))
}

/// Whether a text node would be written folded and read back unchanged; the
/// generator only makes text nodes of prose that passes.
pub fn text_ok(t: &str) -> bool {
    foldable(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn read(text: &str) -> Value {
        let options = serde_saphyr::options! { strict_booleans: true };
        serde_saphyr::from_str_with_options(text, options).unwrap()
    }

    #[test]
    fn keeps_order_comments_and_short_maps() {
        let root = vec![
            ("name".to_string(), Node::str("my-suite")),
            (
                "steps".to_string(),
                Node::Seq(vec![(
                    vec!["recorded at 10:00".to_string()],
                    Node::Map(vec![
                        ("name".into(), Node::str("create-user")),
                        (
                            "request".into(),
                            Node::json(&json!({"method": "POST", "path": "/Users"})),
                        ),
                        ("expect".into(), Node::json(&json!({"status": [200, 204]}))),
                    ]),
                )]),
            ),
        ];
        let text = document(&["header".to_string()], &root);
        assert_eq!(
            text,
            "# header\nname: my-suite\nsteps:\n  # recorded at 10:00\n  - name: create-user\n    request: { method: POST, path: /Users }\n    expect: { status: [200, 204] }\n"
        );
        assert_eq!(
            read(&text),
            json!({"name": "my-suite", "steps": [{"name": "create-user", "request": {"method": "POST", "path": "/Users"}, "expect": {"status": [200, 204]}}]})
        );
    }

    #[test]
    fn quotes_what_yaml_would_misread() {
        for s in [
            "true",
            "False",
            "null",
            "~",
            "",
            " x",
            "x ",
            "1001",
            "98052",
            "-x",
            "#x",
            "a: b",
            "a #b",
            "{{userId}}",
            "[x]",
            "@x",
            "*x",
            "&x",
            "!x",
            "%x",
            "`x",
            "x,y",
            "'q'",
            "\"q\"",
            "a\nb",
            "tab\there",
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "$.id",
            "1e3",
            ".inf",
            "0x1F",
            "yes",
            "On",
            "é",
            "\u{85}",
            "\u{2028}",
            "\u{7f}",
            "\u{0}",
        ] {
            let text = format!("k: {}\nf: {{ k: {} }}\n", scalar_str(s), scalar_str(s));
            assert_eq!(
                read(&text),
                json!({"k": s, "f": {"k": s}}),
                "{s:?} as {text}"
            );
        }
        assert_eq!(scalar_str("Adele Vance"), "Adele Vance");
        assert_eq!(scalar_str("userName eq \"x\""), "'userName eq \"x\"'");
        assert_eq!(scalar_str("{{userId}}"), "\"{{userId}}\"");
    }

    #[test]
    fn long_text_folds_and_reads_back() {
        let t = "Entra created a user here and the server answered 201 with its id; a different answer and the user is not provisioned, and every later step that uses its id cannot run";
        assert!(text_ok(t));
        let text = document(&[], &[("why".to_string(), Node::Text(t.into()))]);
        assert!(text.starts_with("why: >-\n  "), "{text}");
        assert_eq!(read(&text), json!({ "why": t }));
    }

    #[test]
    fn nested_bodies_read_back() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "add", "path": "members", "value": [{"$ref": null, "value": "{{userId}}"}, {"value": "x", "display": "a very long display name that does not fit on one line at all"}]},
                {"op": "replace", "value": {"name.givenName": "Kkom", "urn:x:y": 3, "empty": {}, "list": []}}
            ]
        });
        let text = document(&[], &[("body".to_string(), Node::json(&body))]);
        assert_eq!(read(&text), json!({ "body": body }), "{text}");
    }

    proptest! {
        #[test]
        fn any_string_reads_back(s in "\\PC*|[\\x00-\\x7f]{0,12}") {
            let text = format!("k: {}\nf: [{}]\n", scalar_str(&s), scalar_str(&s));
            prop_assert_eq!(read(&text), json!({"k": s, "f": [s]}));
        }
    }
}
