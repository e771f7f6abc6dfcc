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

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
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
