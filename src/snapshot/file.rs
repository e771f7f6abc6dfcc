//! Snapshot files in insta's format, so `cargo insta review` works on them:
//! a YAML header between `---` lines, then the contents.
//!
//! We write the files ourselves (insta's writer is private and its assertion
//! macros panic, print to stdout and read their mode from the environment
//! once per process) and read them with insta's own parser, so what we write
//! is what insta reads.

use std::path::{Path, PathBuf};

use super::SnapshotError;

/// The header fields scimitar fills in.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// The suite file the snapshot comes from.
    pub source: String,
    /// `suite / step`.
    pub description: String,
    /// The request, as the suite writes it (`GET /Users/{{userId}}`).
    pub expression: String,
}

/// The text of a snapshot file.
pub fn render(header: &Header, contents: &str) -> String {
    format!(
        "---\nsource: {}\ndescription: {}\nexpression: {}\n---\n{}\n",
        quote(&header.source),
        quote(&header.description),
        quote(&header.expression),
        contents.trim_end()
    )
}

/// A YAML scalar written exactly as insta's emitter writes it (plain when
/// safe, else double-quoted), so a file accepted by `cargo insta` and one
/// written by scimitar do not differ.
fn quote(s: &str) -> String {
    if !needs_quotes(s) {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// insta's (yaml-rust's) rule for when a string must be quoted.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(c, ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\'
                | '\0'..='\x06' | '\t' | '\n' | '\r' | '\x0e'..='\x1a' | '\x1c'..='\x1f')
        })
        || [
            "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE",
            "false", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
        ]
        .contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// The contents of a snapshot file as insta normalises them (trailing
/// whitespace trimmed, CRLF as LF), or `None` when there is no file.
pub fn read(path: &Path) -> Result<Option<String>, SnapshotError> {
    if !path.exists() {
        return Ok(None);
    }
    let snap = insta::Snapshot::from_file(path).map_err(|e| SnapshotError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    match snap.contents().as_text() {
        Some(t) => Ok(Some(t.to_string())),
        None => Err(SnapshotError::Read {
            path: path.to_path_buf(),
            reason: "a binary snapshot, not a response snapshot".into(),
        }),
    }
}

/// Normalises fresh contents the way insta normalises stored ones.
pub fn normalise(contents: &str) -> String {
    contents.trim_end().replace("\r\n", "\n")
}

pub fn write(path: &Path, text: &str) -> Result<(), SnapshotError> {
    let fail = |e: std::io::Error| SnapshotError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

/// `x.snap` → `x.snap.new`.
pub fn pending_path(snap: &Path) -> PathBuf {
    let mut s = snap.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

/// A file name part from a suite or step name: letters, digits, `-`, `.`
/// and single `_` (insta reads `a__b` as module `a`, snapshot `b`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
            c
        } else {
            '-'
        };
        let prev = out.chars().next_back();
        if (c == '_' && prev == Some('_')) || (c == '-' && prev == Some('-')) {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_matches(|c| c == '-' || c == '.').to_string();
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insta_reads_what_we_write() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("suite").join("step.snap");
        let contents =
            "status: 200\ncontent-type: application/scim+json\nbody:\n{\n  \"a\": \"---\"\n}\n";
        let header = Header {
            source: "suites/x: y.yaml".into(),
            description: "x / \"step\"".into(),
            expression: "GET /Users/{{userId}}".into(),
        };
        write(&p, &render(&header, contents)).unwrap();
        let snap = insta::Snapshot::from_file(&p).unwrap();
        assert_eq!(snap.metadata().source(), Some("suites/x: y.yaml"));
        assert_eq!(snap.metadata().description(), Some("x / \"step\""));
        assert_eq!(snap.metadata().expression(), Some("GET /Users/{{userId}}"));
        assert_eq!(read(&p).unwrap().unwrap(), normalise(contents));
        assert_eq!(snap.snapshot_name(), Some("step"));
        // Quoted only where insta quotes.
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("---\nsource: \"suites/x: y.yaml\"\ndescription: \"x / \\\"step\\\"\"\nexpression: \"GET /Users/{{userId}}\"\n---\n"), "{text}");
        assert_eq!(
            quote("reference-shapes / get-user"),
            "reference-shapes / get-user"
        );
        assert_eq!(quote("POST /Users"), "POST /Users");
        assert_eq!(quote("- x"), "\"- x\"");
        assert_eq!(quote("a\u{1}b"), "\"a\\u0001b\"");
        assert!(read(&dir.path().join("none.snap")).unwrap().is_none());
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("create user"), "create-user");
        assert_eq!(slug("a__b/../c"), "a_b-..-c");
        assert_eq!(slug("../"), "unnamed");
        assert_eq!(slug("get-user"), "get-user");
    }
}
