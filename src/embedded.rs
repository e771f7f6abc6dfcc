//! The repository's `suites/` and `fixtures/`, built into the binary (see
//! `build.rs`), for runs outside a checkout: `scimitar run` without
//! `--suite` and without a `./suites` folder uses these.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where [`extract`] put the files in this process, if it did.
static ROOT: OnceLock<PathBuf> = OnceLock::new();

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded_suites.rs"));
}

/// The embedded files as `(path relative to the repository root, bytes)`.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    generated::FILES
}

/// Whether the binary carries any suite.
pub fn has_suites() -> bool {
    files().iter().any(|(p, _)| p.starts_with("suites/"))
}

/// Writes the embedded files below a folder and returns it; its `suites/`
/// is what to load. The folder is a per-version cache
/// (`$XDG_CACHE_HOME/scimitar/…` or `~/.cache/scimitar/…`), so file paths in
/// messages stay valid after the run; a cache whose files were changed is
/// not used (a fresh temporary folder is).
pub fn extract() -> io::Result<PathBuf> {
    let root = extract_to()?;
    let _ = ROOT.set(root.clone());
    Ok(root)
}

/// `path` relative to the extraction folder (`suites/entra/users.yaml`)
/// when it lies there: reports name built-in suites without the user's
/// home folder.
pub fn relative(path: &Path) -> Option<&Path> {
    path.strip_prefix(ROOT.get()?).ok()
}

fn extract_to() -> io::Result<PathBuf> {
    let name = format!("{}-{}", env!("CARGO_PKG_VERSION"), generated::DIGEST);
    if let Some(cache) = cache_dir() {
        let dir = cache.join("scimitar").join(&name);
        if matches(&dir) {
            return Ok(dir);
        }
        if !dir.exists() {
            let tmp = cache
                .join("scimitar")
                .join(format!(".{name}-{}", uuid::Uuid::new_v4().simple()));
            if write_all(&tmp).is_ok() {
                // Atomic: a concurrent run either wins the rename or finds the folder complete.
                if std::fs::rename(&tmp, &dir).is_err() {
                    let _ = std::fs::remove_dir_all(&tmp);
                }
                if matches(&dir) {
                    return Ok(dir);
                }
            } else {
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
    }
    let dir =
        std::env::temp_dir().join(format!("scimitar-{name}-{}", uuid::Uuid::new_v4().simple()));
    write_all(&dir)?;
    Ok(dir)
}

fn cache_dir() -> Option<PathBuf> {
    let nonempty = |v: &str| {
        std::env::var_os(v)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    nonempty("XDG_CACHE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| nonempty("HOME").map(|h| h.join(".cache")))
}

/// Every embedded file is there with the embedded content.
fn matches(dir: &Path) -> bool {
    dir.is_dir()
        && files()
            .iter()
            .all(|(rel, bytes)| std::fs::read(dir.join(rel)).is_ok_and(|b| b == *bytes))
}

fn write_all(dir: &Path) -> io::Result<()> {
    for (rel, bytes) in files() {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    Ok(())
}
