//! Writing a generated suite: where its files go, the credential check, and
//! the proof that it loads before it is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Generated, RecordError, Secrets};

/// Where a recorded suite and its fixtures go.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `OUT/NAME.yaml`
    pub suite_file: PathBuf,
    /// The folder the loader resolves `body_file` in for that suite file.
    pub fixtures_root: PathBuf,
    /// What `body_file` values start with: `fixtures/NAME` when the suite
    /// resolves fixtures beside itself, `NAME` when OUT sits below a
    /// `suites/` folder (the project's `suites/x` + `fixtures/x` layout).
    pub body_file_prefix: String,
}

impl Layout {
    /// The layout for suite `name` in `out_dir`; fails on a name that is
    /// not a plain file name.
    pub fn new(out_dir: &Path, name: &str) -> Result<Layout, RecordError> {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(RecordError::BadName(name.to_string()));
        }
        let suite_file = out_dir.join(format!("{name}.yaml"));
        let fixtures_root = crate::suite::load::fixtures_root(&suite_file);
        let own_folder = suite_file.parent().unwrap_or(Path::new(""));
        let body_file_prefix = if fixtures_root == own_folder {
            format!("fixtures/{name}")
        } else {
            name.to_string()
        };
        Ok(Layout {
            suite_file,
            fixtures_root,
            body_file_prefix,
        })
    }

    /// The folder this suite's fixtures go in.
    pub fn fixtures_dir(&self) -> PathBuf {
        self.fixtures_root.join(&self.body_file_prefix)
    }

    /// Fails when a file of this recording is there already: checked before
    /// recording starts, so a session is never lost to a name clash.
    pub fn check_free(&self) -> Result<(), RecordError> {
        for p in [&self.suite_file, &self.fixtures_dir()] {
            if p.exists() {
                return Err(RecordError::Exists(p.clone()));
            }
        }
        Ok(())
    }
}

/// Writes the suite and its fixtures, after checking that no credential seen
/// in the traffic is in them and that the suite loads as it is.
pub fn write(g: &Generated, layout: &Layout, secrets: &Secrets) -> Result<(), RecordError> {
    let mut files: Vec<(PathBuf, &str)> = g
        .fixtures
        .iter()
        .map(|(rel, text)| (layout.fixtures_root.join(rel), text.as_str()))
        .collect();
    files.push((layout.suite_file.clone(), g.yaml.as_str()));
    for (path, text) in &files {
        if let Some(what) = secrets.found_in(text) {
            return Err(RecordError::SecretInOutput {
                path: path.clone(),
                what,
            });
        }
    }
    layout.check_free()?;
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for (path, text) in &files[..files.len() - 1] {
            create_new(path, text)?;
            written.push(path.clone());
        }
        // The fixtures are in place: the suite must load exactly as written.
        crate::suite::load_str(&layout.suite_file, &g.yaml).map_err(|errors| {
            RecordError::Invalid(
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        create_new(&layout.suite_file, &g.yaml)
    })();
    if result.is_err() {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
        let _ = std::fs::remove_dir(layout.fixtures_dir());
    }
    result
}

fn create_new(path: &Path, text: &str) -> Result<(), RecordError> {
    let err = |source| RecordError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                RecordError::Exists(path.to_path_buf())
            } else {
                err(e)
            }
        })?;
    f.write_all(text.as_bytes()).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_follow_the_loader() {
        let l = Layout::new(Path::new("recorded"), "sync").unwrap();
        assert_eq!(l.suite_file, Path::new("recorded/sync.yaml"));
        assert_eq!(l.body_file_prefix, "fixtures/sync");
        assert_eq!(l.fixtures_dir(), Path::new("recorded/fixtures/sync"));
        let l = Layout::new(Path::new("suites/recorded"), "sync").unwrap();
        assert_eq!(l.body_file_prefix, "sync");
        assert_eq!(l.fixtures_dir(), Path::new("fixtures/sync"));
        for bad in ["", "../x", "a b", "-x", "a::b", "x/y"] {
            assert!(Layout::new(Path::new("o"), bad).is_err(), "{bad:?}");
        }
    }
}
