//! `scimitar snapshots pending|accept|reject|orphans`: review without
//! cargo-insta. A pending snapshot is a `.snap.new` beside its `.snap` (or
//! alone, when the snapshot is new); accepting renames it over the `.snap`,
//! rejecting deletes it. An orphan is a snapshot no step declares any more.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{SnapshotError, file};
use crate::suite::Suite;

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

/// Every `.snap.new` below `dir` that one of `filters` selects (all when
/// there is none), sorted. A filter selects the paths that contain it; one
/// ending in `.snap.new` names one file: the path relative to `dir`, or its
/// end after a `/`. That is what [`pending`] lists, so a command built from
/// the list accepts exactly what was listed.
pub fn pending(dir: &Path, filters: &[String]) -> Result<Vec<Pending>, SnapshotError> {
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, &mut out, ".snap.new")?;
    }
    out.sort();
    Ok(out
        .into_iter()
        .filter(|p| filters.is_empty() || filters.iter().any(|f| selects(f, &rel(dir, p))))
        .map(|new| {
            let snap = new.with_extension("");
            Pending { new, snap }
        })
        .collect())
}

/// `p` relative to `dir`, with `/` separators.
pub fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn selects(filter: &str, rel: &str) -> bool {
    let f = filter.replace('\\', "/");
    if f.ends_with(".snap.new") {
        rel == f || rel.ends_with(&format!("/{}", f.trim_start_matches('/')))
    } else {
        rel.contains(&f)
    }
}

/// Which snapshot files [`orphans`] judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrphanScope {
    /// Every file: the suites are all there are.
    All,
    /// Only files in the folders of the given suites (a run of some suites
    /// says nothing of the others' snapshots).
    TheseSuites,
}

/// Snapshot files (`.snap` and `.snap.new`) below `dir` that no step of
/// `suites` declares: left by a renamed or removed step or suite. Files are
/// matched by their last two path parts (`<suite>/<step>.snap`), so `dir`
/// may be one target's folder or the folder of all targets.
pub fn orphans(
    dir: &Path,
    suites: &[Suite],
    scope: OrphanScope,
) -> Result<Vec<PathBuf>, SnapshotError> {
    let folders: BTreeSet<String> = suites.iter().map(|s| file::slug(&s.name)).collect();
    let declared: BTreeSet<String> = suites
        .iter()
        .flat_map(|s| s.steps.iter().filter_map(|st| super::relative_path(s, st)))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let mut found = Vec::new();
    if dir.exists() {
        walk(dir, &mut found, ".snap")?;
        walk(dir, &mut found, ".snap.new")?;
    }
    found.sort();
    Ok(found
        .into_iter()
        .filter(|p| {
            let snap = p.to_string_lossy().trim_end_matches(".new").to_string();
            let snap = Path::new(&snap);
            let (suite, name) = match (snap.parent().and_then(Path::file_name), snap.file_name()) {
                (Some(suite), Some(name)) => (
                    suite.to_string_lossy().into_owned(),
                    name.to_string_lossy().into_owned(),
                ),
                _ => return false,
            };
            (scope == OrphanScope::All || folders.contains(&suite))
                && !declared.contains(&format!("{suite}/{name}"))
        })
        .collect())
}

/// Deletes an orphan, and its suite folder when that is left empty.
pub fn remove_orphan(p: &Path) -> Result<(), SnapshotError> {
    std::fs::remove_file(p).map_err(|e| SnapshotError::Write {
        path: p.to_path_buf(),
        reason: e.to_string(),
    })?;
    if let Some(parent) = p.parent() {
        // Fails (and is meant to) when other files remain.
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, suffix: &str) -> Result<(), SnapshotError> {
    let fail = |e: std::io::Error| SnapshotError::List {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(fail)?;
        if kind.is_dir() {
            walk(&path, out, suffix)?;
        } else if path.to_string_lossy().ends_with(suffix) {
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
    fn orphans_are_snapshots_no_step_declares() {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("s.yaml");
        std::fs::write(
            &suite,
            "name: s\nidp: rfc\nsteps:\n  - name: kept\n    snapshot: true\n    request: { method: GET, path: /Users }\n  - name: none\n    request: { method: GET, path: /Users }\n",
        )
        .unwrap();
        let suites = crate::suite::load_paths(&[suite]).unwrap();
        let snaps = dir.path().join("snaps");
        let h = file::Header::default();
        for f in [
            "s/kept.snap",
            "s/none.snap",
            "s/old.snap.new",
            "gone/x.snap",
        ] {
            file::write(&snaps.join(f), &file::render(&h, "x")).unwrap();
        }
        let rel = |v: Vec<PathBuf>| -> Vec<String> { v.iter().map(|p| rel(&snaps, p)).collect() };
        assert_eq!(
            rel(orphans(&snaps, &suites, OrphanScope::All).unwrap()),
            ["gone/x.snap", "s/none.snap", "s/old.snap.new"]
        );
        // A run of some suites says nothing of other suites' folders.
        assert_eq!(
            rel(orphans(&snaps, &suites, OrphanScope::TheseSuites).unwrap()),
            ["s/none.snap", "s/old.snap.new"]
        );
        remove_orphan(&snaps.join("gone/x.snap")).unwrap();
        assert!(!snaps.join("gone").exists());
    }

    #[test]
    fn accept_and_reject_move_the_right_files() {
        let dir = tempfile::tempdir().unwrap();
        let h = file::Header::default();
        let a = dir.path().join("s").join("a.snap");
        let b = dir.path().join("s").join("b.snap");
        file::write(&a, &file::render(&h, "old")).unwrap();
        file::write(&file::pending_path(&a), &file::render(&h, "new")).unwrap();
        file::write(&file::pending_path(&b), &file::render(&h, "fresh")).unwrap();

        let all = pending(dir.path(), &[]).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_change() && !all[1].is_change());
        assert!(describe(&all[0]).unwrap().contains("-old\n+new"));

        let only_a = pending(dir.path(), &["s/a".into()]).unwrap();
        assert_eq!(only_a.len(), 1);
        accept(&only_a[0]).unwrap();
        assert_eq!(file::read(&a).unwrap().as_deref(), Some("new"));
        reject(&pending(dir.path(), &[]).unwrap()[0]).unwrap();
        assert!(pending(dir.path(), &[]).unwrap().is_empty());
        assert!(!b.exists());
    }
}
