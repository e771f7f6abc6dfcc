//! `scimitar snapshots pending|accept|reject`: review without cargo-insta.
//! A pending snapshot is a `.snap.new` beside its `.snap` (or alone, when the
//! snapshot is new); accepting renames it over the `.snap`, rejecting
//! deletes it.

use std::path::{Path, PathBuf};

use super::{SnapshotError, file};

/// One `.snap.new` awaiting review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The `.snap.new` file.
    pub new: PathBuf,
    /// The `.snap` it would replace (it may not exist yet).
    pub snap: PathBuf,
}

impl Pending {
    /// Whether a stored snapshot exists (a change) or not (a new one).
    pub fn is_change(&self) -> bool {
        self.snap.exists()
    }
}

/// Every `.snap.new` below `dir` whose path contains `filter`, sorted.
pub fn pending(dir: &Path, filter: Option<&str>) -> Result<Vec<Pending>, SnapshotError> {
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, &mut out)?;
    }
    out.sort();
    Ok(out
        .into_iter()
        .filter(|p| filter.is_none_or(|f| p.to_string_lossy().replace('\\', "/").contains(f)))
        .map(|new| {
            let snap = new.with_extension("");
            Pending { new, snap }
        })
        .collect())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SnapshotError> {
    let fail = |e: std::io::Error| SnapshotError::List {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(fail)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if path.to_string_lossy().ends_with(".snap.new") {
            out.push(path);
        }
    }
    Ok(())
}

/// Promotes a pending snapshot to the stored one.
pub fn accept(p: &Pending) -> Result<(), SnapshotError> {
    std::fs::rename(&p.new, &p.snap).map_err(|e| SnapshotError::Write {
        path: p.snap.clone(),
        reason: e.to_string(),
    })
}

/// Drops a pending snapshot.
pub fn reject(p: &Pending) -> Result<(), SnapshotError> {
    std::fs::remove_file(&p.new).map_err(|e| SnapshotError::Write {
        path: p.new.clone(),
        reason: e.to_string(),
    })
}

/// What a pending snapshot changes, as a unified diff (a new one diffs
/// against nothing).
pub fn describe(p: &Pending) -> Result<String, SnapshotError> {
    let new = file::read(&p.new)?.unwrap_or_default();
    let old = file::read(&p.snap)?.unwrap_or_default();
    Ok(super::diff(&old, &new, &p.snap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_and_reject_move_the_right_files() {
        let dir = tempfile::tempdir().unwrap();
        let h = file::Header::default();
        let a = dir.path().join("s").join("a.snap");
        let b = dir.path().join("s").join("b.snap");
        file::write(&a, &file::render(&h, "old")).unwrap();
        file::write(&file::pending_path(&a), &file::render(&h, "new")).unwrap();
        file::write(&file::pending_path(&b), &file::render(&h, "fresh")).unwrap();

        let all = pending(dir.path(), None).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_change() && !all[1].is_change());
        assert!(describe(&all[0]).unwrap().contains("-old\n+new"));

        let only_a = pending(dir.path(), Some("s/a")).unwrap();
        assert_eq!(only_a.len(), 1);
        accept(&only_a[0]).unwrap();
        assert_eq!(file::read(&a).unwrap().as_deref(), Some("new"));
        reject(&pending(dir.path(), None).unwrap()[0]).unwrap();
        assert!(pending(dir.path(), None).unwrap().is_empty());
        assert!(!b.exists());
    }
}
