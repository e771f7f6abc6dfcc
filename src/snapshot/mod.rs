//! Snapshot diffing of responses: record, redact, compare, review.
//!
//! A step that opts in (`snapshot: true`) has its response turned into
//! canonical, redacted text ([`redact`]) and compared with
//! `<dir>/<suite>/<step>.snap` ([`file`], insta's format). A difference fails
//! the step with a unified diff; [`review`] lists, accepts and rejects the
//! pending `.snap.new` files and finds orphans. Without a folder to use
//! ([`Mode::Off`]) nothing is compared or written.

pub mod file;
pub mod redact;
pub mod review;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::events::{StepHook, SuiteHook};
use crate::results::{Finding, Outcome, StepResult};
use crate::suite::template::Vars;
use crate::suite::{Step, Suite};
use redact::{Body, Redactor, Volatiles};

/// What can go wrong reading or writing snapshot files.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("cannot write snapshot {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    #[error("cannot list snapshots in {}: {reason}", path.display())]
    List { path: PathBuf, reason: String },
}

/// When snapshot files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compare; record missing snapshots as `.snap`, changed ones as `.snap.new`.
    Check,
    /// Write every snapshot as `.snap` (new or changed); nothing fails.
    Update,
    /// Compare only; write nothing (CI).
    Ci,
    /// No snapshot folder was asked for and none exists: compare nothing,
    /// write nothing, only count the responses that could be recorded.
    Off,
}

impl Mode {
    /// The mode for the flags and the environment: `--update-snapshots`
    /// wins, then `CI`/`TF_BUILD` (as insta reads them), then `Check`.
    pub fn detect(update: bool) -> Mode {
        if update {
            Mode::Update
        } else if is_ci() {
            Mode::Ci
        } else {
            Mode::Check
        }
    }
}

/// Whether we run in CI, as insta decides it.
pub fn is_ci() -> bool {
    ["CI", "TF_BUILD"].iter().any(|k| {
        std::env::var(k)
            .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
            .unwrap_or(false)
    })
}

/// How a run treats snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// `snapshots/<target>` unless `--snapshots DIR`.
    pub dir: PathBuf,
    pub mode: Mode,
    /// A missing snapshot fails the step (`--require-snapshots`).
    pub require: bool,
}

/// What happened to one step's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Matched,
    /// No snapshot yet; `written` says where it was recorded (not in CI).
    New {
        written: Option<PathBuf>,
    },
    /// The response differs; `written` is the `.snap.new` (or the updated `.snap`).
    Changed {
        written: Option<PathBuf>,
    },
    /// Reading or writing failed.
    Error(String),
    /// Not compared: no snapshot folder ([`Mode::Off`]).
    Unrecorded,
}

/// One step's snapshot, for the end-of-run summary.
#[derive(Debug, Clone)]
pub struct Event {
    pub path: PathBuf,
    pub verdict: Verdict,
}

/// The snapshot store of one run; shared by all suites.
#[derive(Debug)]
pub struct Store {
    opts: SnapshotOptions,
    events: Mutex<Vec<Event>>,
    /// Files written so far (`.snap`, `.snap.new`, refreshed headers).
    written: AtomicUsize,
}

/// The default folder name for a target: `--target-name`, else `reference`
/// for the embedded server, else the endpoint's host, port (when not the
/// scheme's default) and base path: `127.0.0.1-8080-scim-v2`. Two servers
/// on one host never share snapshots; name a target with `--target-name`
/// to keep its snapshots when its port changes.
pub fn target_dir_name(target_name: Option<&str>, embedded: bool, url: &str) -> String {
    if let Some(n) = target_name.filter(|n| !n.trim().is_empty()) {
        return file::slug(n);
    }
    if embedded {
        return "reference".into();
    }
    let Ok(u) = reqwest::Url::parse(url) else {
        return file::slug(url);
    };
    let host = u.host_str().unwrap_or("target").trim_matches(['[', ']']);
    let mut name = host.replace(':', "_");
    if let Some(port) = u.port() {
        name.push_str(&format!("-{port}"));
    }
    let path = u.path().trim_matches('/');
    if !path.is_empty() {
        name.push('-');
        name.push_str(path);
    }
    file::slug(&name)
}

/// How a snapshot's `source:` names its suite: `builtin:entra/users.yaml`
/// for a suite built into scimitar (unpacked into the cache, or a
/// checkout's identical copy), else the user's path, relative to the
/// working directory when below it. Never a cache path, so the header is
/// the same on every machine and version.
pub fn source_name(path: &Path) -> String {
    match builtin(path) {
        Some(rel) => format!("builtin:{rel}"),
        None => relative(path),
    }
}

/// The path of a built-in suite below `suites/`, if `path` is one.
fn builtin(path: &Path) -> Option<String> {
    if let Some(rel) = crate::embedded::relative(path) {
        let rel = rel.to_string_lossy().replace('\\', "/");
        return rel.strip_prefix("suites/").map(str::to_string);
    }
    let bytes = std::fs::read(path).ok()?;
    crate::embedded::files().iter().find_map(|(rel, b)| {
        let inner = rel.strip_prefix("suites/")?;
        (path.ends_with(rel) && *b == bytes.as_slice()).then(|| inner.to_string())
    })
}

impl Store {
    pub fn new(opts: SnapshotOptions) -> Store {
        Store {
            opts,
            events: Mutex::new(Vec::new()),
            written: AtomicUsize::new(0),
        }
    }

    pub fn options(&self) -> &SnapshotOptions {
        &self.opts
    }

    /// The snapshot state of one suite run. `vars` must hold the suite's
    /// `prefix`, `run_id` and `base_url`.
    pub fn suite(&self, suite: &Suite, vars: &Vars) -> SuiteSnapshots<'_> {
        let text = |k: &str| {
            vars.get(k)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        SuiteSnapshots {
            store: self,
            suite: suite.name.clone(),
            source: source_name(&suite.file),
            redactor: Redactor::new(Volatiles {
                base_url: text("base_url").trim_end_matches('/').to_string(),
                prefix: text("prefix"),
                run_id: text("run_id"),
            }),
            used: HashSet::new(),
        }
    }

    /// Every snapshot seen so far, in no particular order.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// One line for the end of the run, or `None` if no step had a snapshot.
    pub fn summary(&self) -> Option<String> {
        let events = self.events();
        if events.is_empty() {
            return None;
        }
        let count = |f: &dyn Fn(&Verdict) -> bool| events.iter().filter(|e| f(&e.verdict)).count();
        let dir = self.opts.dir.display();
        if self.opts.mode == Mode::Off {
            return Some(format!(
                "snapshots: {} responses not compared and nothing written: there is no {dir} here; \
                 --update-snapshots records them there (--snapshots DIR elsewhere)",
                events.len()
            ));
        }
        let matched = count(&|v| *v == Verdict::Matched);
        let new = count(&|v| matches!(v, Verdict::New { .. }));
        let changed = count(&|v| matches!(v, Verdict::Changed { .. }));
        let errors = count(&|v| matches!(v, Verdict::Error(_)));
        let mut s = format!("snapshots ({dir}): {matched} matched, {new} new, {changed} changed");
        if errors > 0 {
            s.push_str(&format!(", {errors} unreadable or unwritable"));
        }
        let written = self.written.load(Ordering::Relaxed);
        match self.opts.mode {
            Mode::Ci if new + changed > 0 => s.push_str("; nothing written (CI)"),
            Mode::Check if new > 0 && !self.opts.require => s.push_str("; new ones recorded"),
            _ => {}
        }
        // Every file a run writes is announced, with where it went.
        if written > 0 {
            let files = if written == 1 { "file" } else { "files" };
            s.push_str(&format!("; {written} {files} written in {dir}"));
        }
        let pending = events.iter().any(|e| {
            matches!(&e.verdict, Verdict::Changed { written: Some(p) } | Verdict::New { written: Some(p) }
                if p.extension().is_some_and(|x| x == "new"))
        });
        if pending {
            s.push_str(&format!(
                "\n  review: scimitar snapshots pending --snapshots {dir}   (or cargo insta review)\n  accept: scimitar snapshots accept --snapshots {dir}"
            ));
        }
        Some(s)
    }

    fn log(&self, path: PathBuf, verdict: Verdict) {
        if let Ok(mut e) = self.events.lock() {
            e.push(Event { path, verdict });
        }
    }
}

impl StepHook for Store {
    fn suite<'a>(&'a self, suite: &Suite, vars: &Vars) -> Box<dyn SuiteHook + Send + 'a> {
        Box::new(Store::suite(self, suite, vars))
    }
}

impl SuiteHook for SuiteSnapshots<'_> {
    fn after_step(&mut self, step: &Step, vars: &Vars, result: &mut StepResult) {
        self.apply(step, vars, result);
    }
}

/// Snapshot state of one suite run: the id tokens given so far.
pub struct SuiteSnapshots<'a> {
    store: &'a Store,
    suite: String,
    source: String,
    redactor: Redactor,
    used: HashSet<String>,
}

impl SuiteSnapshots<'_> {
    /// Snapshots the step's response if the step opts in and got one:
    /// compares, writes per the mode, and on a difference fails the step
    /// with a `snapshot` finding and the diff in `snapshot_diff`. Steps that
    /// ran but were not selected only advance the id numbering.
    pub fn apply(&mut self, step: &Step, vars: &Vars, r: &mut StepResult) {
        let Some(spec) = &step.snapshot else { return };
        let Some(ex) = &r.exchange else { return };
        if r.outcome == Outcome::Skipped {
            // Sent but not checked (rate limited): no response to keep.
            return;
        }
        if self.store.opts.mode == Mode::Off {
            if r.selected {
                self.store.log(PathBuf::new(), Verdict::Unrecorded);
            }
            return;
        }
        let mut extra = Vec::new();
        for p in &spec.redact {
            let rendered = vars.render_text(p).unwrap_or_else(|_| p.clone());
            if let Ok(q) = serde_json_path::JsonPath::parse(&rendered) {
                extra.push(q);
            }
        }
        let resp = &ex.response;
        let body = match &resp.json {
            Some(v) if !resp.truncated => Body::Json(v),
            _ if resp.body.trim().is_empty() => Body::Empty,
            _ => Body::Text(&resp.body),
        };
        let text = self
            .redactor
            .render(resp.status, resp.header("content-type"), body, &extra);
        if !r.selected {
            return;
        }
        let name = file::slug(spec.name.as_deref().unwrap_or(&step.name));
        let Some(rel) = relative_path_of(&self.suite, step) else {
            return;
        };
        let path = self.store.opts.dir.join(rel);
        if !self.used.insert(name.clone()) {
            fail(
                r,
                format!(
                    "snapshot name '{name}' is used by another step of this suite; give this one its own (snapshot: {{name: …}})"
                ),
                None,
            );
            self.store
                .log(path, Verdict::Error("duplicate name".into()));
            return;
        }
        let header = file::Header {
            source: self.source.clone(),
            description: format!("{} / {}", self.suite, step.name),
            expression: expression(step),
        };
        let verdict = compare(self.store, &path, &header, &text, r);
        self.store.log(path, verdict);
    }
}

/// Where a step's snapshot goes below the snapshot folder:
/// `<suite>/<name>.snap`, or `None` when the step keeps none.
pub fn relative_path(suite: &Suite, step: &Step) -> Option<PathBuf> {
    relative_path_of(&suite.name, step)
}

fn relative_path_of(suite: &str, step: &Step) -> Option<PathBuf> {
    let spec = step.snapshot.as_ref()?;
    let name = file::slug(spec.name.as_deref().unwrap_or(&step.name));
    Some(PathBuf::from(file::slug(suite)).join(format!("{name}.snap")))
}

/// The request as the suite writes it, templates unrendered so it is the
/// same on every run: `GET /Users?filter=userName eq "{{userName}}"`.
fn expression(step: &Step) -> String {
    let r = &step.request;
    let mut s = format!("{} {}", r.method, r.path);
    for (i, (k, v)) in r.query.iter().enumerate() {
        let sep = if i == 0 && !r.path.contains('?') {
            '?'
        } else {
            '&'
        };
        s.push_str(&format!("{sep}{k}={}", crate::suite::template::as_text(v)));
    }
    s
}

/// Compares and writes one snapshot; marks the step on failure.
fn compare(
    store: &Store,
    path: &Path,
    header: &file::Header,
    text: &str,
    r: &mut StepResult,
) -> Verdict {
    let opts = &store.opts;
    let new = file::normalise(text);
    let pending = file::pending_path(path);
    let write = |p: &Path, text: &str| -> Result<(), SnapshotError> {
        file::write(p, text)?;
        store.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    let old = match file::read(path) {
        Ok(o) => o,
        Err(e) => {
            fail(r, e.to_string(), None);
            return Verdict::Error(e.to_string());
        }
    };
    let written = |p: &Path| -> Result<Option<PathBuf>, SnapshotError> {
        write(p, &file::render(header, &new))?;
        Ok(Some(p.to_path_buf()))
    };
    let outcome = match (old, opts.mode) {
        (Some(old), _) if old == new => {
            // A stale review left over from an earlier difference.
            if opts.mode != Mode::Ci && pending.exists() {
                let _ = std::fs::remove_file(&pending);
            }
            // --update-snapshots also refreshes an outdated header.
            let full = file::render(header, &new);
            if opts.mode == Mode::Update
                && std::fs::read_to_string(path).is_ok_and(|t| t != full)
                && let Err(e) = write(path, &full)
            {
                fail(r, e.to_string(), None);
                return Verdict::Error(e.to_string());
            }
            return Verdict::Matched;
        }
        // Not reached: `apply` returns before comparing.
        (_, Mode::Off) => Ok(Verdict::Unrecorded),
        (Some(_), Mode::Update) => {
            let _ = std::fs::remove_file(&pending);
            written(path).map(|w| Verdict::Changed { written: w })
        }
        (Some(old), mode) => {
            let w = if mode == Mode::Ci {
                Ok(None)
            } else {
                written(&pending)
            };
            let diff = diff(&old, &new, path);
            let changed = diff.lines().filter(|l| is_change(l)).count();
            let hint = match &w {
                Ok(Some(p)) => format!(
                    "; the new response is in {} (scimitar snapshots accept, or --update-snapshots)",
                    p.display()
                ),
                _ => "; run without CI=true, or with --update-snapshots, to record it".into(),
            };
            fail(
                r,
                format!(
                    "the response differs from {} ({changed} changed lines){hint}",
                    path.display()
                ),
                Some(diff),
            );
            w.map(|w| Verdict::Changed { written: w })
        }
        (None, Mode::Update) => written(path).map(|w| Verdict::New { written: w }),
        (None, Mode::Ci) => {
            if opts.require {
                fail(
                    r,
                    format!(
                        "no snapshot at {} (--require-snapshots); record it with --update-snapshots",
                        path.display()
                    ),
                    None,
                );
            }
            Ok(Verdict::New { written: None })
        }
        (None, Mode::Check) if opts.require => {
            let w = written(&pending);
            fail(
                r,
                format!(
                    "no snapshot at {} (--require-snapshots); the response is in {}: accept it with `scimitar snapshots accept`",
                    path.display(),
                    pending.display()
                ),
                None,
            );
            w.map(|w| Verdict::New { written: w })
        }
        (None, Mode::Check) => {
            if pending.exists() {
                let _ = std::fs::remove_file(&pending);
            }
            written(path).map(|w| Verdict::New { written: w })
        }
    };
    outcome.unwrap_or_else(|e| {
        fail(r, e.to_string(), None);
        Verdict::Error(e.to_string())
    })
}

fn fail(r: &mut StepResult, message: String, diff: Option<String>) {
    r.findings.push(Finding {
        subject: "snapshot".into(),
        message,
        rfc: None,
        advisory: false,
    });
    r.outcome = Outcome::Failed;
    if diff.is_some() {
        r.snapshot_diff = diff;
    }
}

fn is_change(line: &str) -> bool {
    (line.starts_with('+') && !line.starts_with("+++"))
        || (line.starts_with('-') && !line.starts_with("---"))
}

/// A unified diff of stored and fresh snapshot contents (plain text; the
/// console colours it with [`colorize`]).
pub fn diff(old: &str, new: &str, path: &Path) -> String {
    let old = format!("{}\n", old.trim_end());
    let new = format!("{}\n", new.trim_end());
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{} (stored)", path.display()), "this run")
        .to_string()
}

/// Colours a unified diff for a terminal: removals red, additions green,
/// hunk headers cyan, file headers bold.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + 64);
    for line in diff.lines() {
        let colour = if line.starts_with("+++") || line.starts_with("---") {
            Some("1")
        } else if line.starts_with("@@") {
            Some("36")
        } else if line.starts_with('+') {
            Some("32")
        } else if line.starts_with('-') {
            Some("31")
        } else {
            None
        };
        match colour {
            Some(c) => out.push_str(&format!("\x1b[{c}m{line}\x1b[0m\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// A suite path as the header shows it: relative to the working directory
/// when it is below it.
fn relative(p: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf());
    rel.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_exactly_the_change() {
        let old = "status: 200\nbody:\n{\n  \"a\": 1,\n  \"b\": 2\n}";
        let new = "status: 200\nbody:\n{\n  \"a\": 1,\n  \"b\": 3\n}";
        let d = diff(old, new, Path::new("x.snap"));
        let changes: Vec<&str> = d.lines().filter(|l| is_change(l)).collect();
        assert_eq!(changes, vec!["-  \"b\": 2", "+  \"b\": 3"]);
        assert!(d.starts_with("--- x.snap (stored)\n+++ this run\n"), "{d}");
    }

    #[test]
    fn colours_each_kind_of_diff_line() {
        let c = colorize("--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same\n");
        assert_eq!(
            c,
            "\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\x1b[31m-old\x1b[0m\n\x1b[32m+new\x1b[0m\n same\n"
        );
    }

    #[test]
    fn target_names() {
        assert_eq!(target_dir_name(Some("Acme prod"), false, "x"), "Acme-prod");
        assert_eq!(
            target_dir_name(None, true, "http://127.0.0.1:1/"),
            "reference"
        );
        assert_eq!(
            target_dir_name(None, false, "https://api.example.com/scim/v2"),
            "api.example.com-scim-v2"
        );
        // Two local servers on different ports never share a folder.
        assert_eq!(
            target_dir_name(None, false, "http://127.0.0.1:8080/scim"),
            "127.0.0.1-8080-scim"
        );
        assert_eq!(
            target_dir_name(None, false, "http://127.0.0.1:8081/scim/v2/"),
            "127.0.0.1-8081-scim-v2"
        );
        assert_eq!(target_dir_name(None, false, "http://[::1]:9/"), "_1-9");
    }
}
