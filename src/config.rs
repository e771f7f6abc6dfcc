//! `scimitar.toml`: the project's settings for a run (the target, how to
//! authenticate without the secret itself, profiles, snapshot folder, jobs,
//! timeouts) and a baseline of known failures, each with a reason and an
//! expiry date. Command-line flags override the file (the command layer
//! merges them); this module parses, checks and applies the baseline.
//!
//! ```toml
//! [target]
//! url = "https://api.example.com/scim/v2"
//! token_env = "SCIM_TOKEN"          # never the token itself
//!
//! [run]
//! idp = ["entra", "okta"]
//! jobs = 4
//!
//! [[known]]
//! test = "okta-users::create-duplicate"
//! reason = "409 on duplicates ships in 2.4 (JIRA-123)"
//! until = 2027-03-31
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;
use toml::Spanned;

use crate::events::{StepHook, SuiteHook};
use crate::results::{Finding, Outcome, StepResult};
use crate::suite::template::Vars;
use crate::suite::{Step, Suite};

/// The file names looked for, in order, in the current folder (the second
/// follows cargo-nextest's `.config/nextest.toml` convention).
pub const DEFAULT_PATHS: [&str; 2] = ["scimitar.toml", ".config/scimitar.toml"];

/// Why a config file could not be used: always with the file and, when the
/// parser knows it, the line and column.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line and column, when known.
    pub at: Option<(usize, usize)>,
    /// What is wrong, in one line.
    pub message: String,
}

/// The whole file. Unknown keys are errors, so a typo never passes silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the file was read from (set by [`load`]).
    #[serde(skip)]
    pub path: PathBuf,
    /// How to reach the target.
    #[serde(default)]
    pub target: Target,
    /// What to run and how.
    #[serde(default)]
    pub run: RunSection,
    /// Known failures, shown as "known" instead of failing until they expire.
    #[serde(default)]
    pub known: Vec<KnownEntry>,
}

/// `[target]`: the endpoint and how to authenticate. Secrets are named by
/// where to read them (an environment variable or a file), never written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// SCIM base URL.
    pub url: Option<String>,
    /// Environment variable holding the bearer token.
    pub token_env: Option<String>,
    /// File holding the bearer token (first line).
    pub token_file: Option<PathBuf>,
    /// OAuth 2.0 client credentials: the token endpoint.
    pub oauth_token_url: Option<String>,
    /// OAuth 2.0 client id.
    pub client_id: Option<String>,
    /// Environment variable holding the OAuth client secret.
    pub client_secret_env: Option<String>,
    /// File holding the OAuth client secret (first line).
    pub client_secret_file: Option<PathBuf>,
    /// OAuth scope.
    pub scope: Option<String>,
    /// Per-request timeout in seconds.
    pub timeout: Option<f64>,
    /// Longest Retry-After honoured on a 429, in seconds.
    pub max_retry_wait: Option<f64>,
    /// Extra CA certificates (PEM).
    pub cacert: Option<PathBuf>,
    // Secrets written into the file: caught with their position and refused.
    #[serde(default)]
    token: Option<Spanned<toml::Value>>,
    #[serde(default)]
    client_secret: Option<Spanned<toml::Value>>,
    #[serde(default)]
    basic: Option<Spanned<toml::Value>>,
    #[serde(default)]
    password: Option<Spanned<toml::Value>>,
}

/// `[run]`: which suites, how many at once, where snapshots live.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// IdP profiles to run (like `--idp`).
    #[serde(default)]
    pub idp: Vec<String>,
    /// Suite files or folders (like `--suite`), relative to the file.
    #[serde(default)]
    pub suites: Vec<PathBuf>,
    /// Suites run at once.
    pub jobs: Option<usize>,
    /// The snapshot folder (like `--snapshots`), relative to the file.
    pub snapshots: Option<PathBuf>,
    /// Advisory findings fail the run too.
    pub strict: Option<bool>,
}

/// One `[[known]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownEntry {
    /// `suite::step` as the console prints it; a trailing `*` matches any
    /// name that starts with what comes before it.
    pub test: Spanned<String>,
    /// Why it is known to fail (shown with every report of it).
    pub reason: Spanned<String>,
    /// The last day it counts as known (a TOML date, `2027-03-31`).
    pub until: Spanned<toml::value::Datetime>,
    #[serde(skip)]
    expires: Option<time::Date>,
}

impl KnownEntry {
    /// The last day the entry counts.
    pub fn expires(&self) -> time::Date {
        self.expires.unwrap_or(time::Date::MIN)
    }

    /// Whether it covers the step named `name` (`suite::step`).
    pub fn matches(&self, name: &str) -> bool {
        let t = self.test.get_ref();
        match t.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == t,
        }
    }
}

/// The config file to read: `--config FILE`, none with `--no-config`, else
/// the first of [`DEFAULT_PATHS`] that exists under `dir`.
pub fn find(explicit: Option<&Path>, disabled: bool, dir: &Path) -> Option<PathBuf> {
    if disabled {
        return None;
    }
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    DEFAULT_PATHS
        .iter()
        .map(|p| {
            if dir == Path::new(".") {
                PathBuf::from(p)
            } else {
                dir.join(p)
            }
        })
        .find(|p| p.is_file())
}

/// Reads and checks a config file; relative paths in it become relative to
/// the file's folder.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        at: None,
        message: format!("cannot read it: {e}"),
    })?;
    let mut cfg = parse(&text, path)?;
    let base = path.parent().unwrap_or(Path::new(""));
    let rebase = |p: &mut PathBuf| {
        if p.is_relative() && !base.as_os_str().is_empty() {
            *p = base.join(&*p);
        }
    };
    cfg.run.suites.iter_mut().for_each(rebase);
    cfg.run.snapshots.iter_mut().for_each(rebase);
    cfg.target.token_file.iter_mut().for_each(rebase);
    cfg.target.client_secret_file.iter_mut().for_each(rebase);
    cfg.target.cacert.iter_mut().for_each(rebase);
    Ok(cfg)
}

/// Parses config text; `path` only names the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let err = |span: Option<Range<usize>>, message: String| ConfigError {
        path: path.to_path_buf(),
        at: span.map(|s| line_col(text, s.start)),
        message,
    };
    let mut cfg: Config =
        toml::from_str(text).map_err(|e| err(e.span(), e.message().trim().to_string()))?;
    cfg.path = path.to_path_buf();
    let t = &cfg.target;
    for (key, value, instead) in [
        ("token", &t.token, "token_env = \"VAR\" or token_file"),
        (
            "client_secret",
            &t.client_secret,
            "client_secret_env = \"VAR\" or client_secret_file",
        ),
        ("basic", &t.basic, "--basic on the command line"),
        ("password", &t.password, "token_env = \"VAR\" or token_file"),
    ] {
        if let Some(v) = value {
            return Err(err(
                Some(v.span()),
                format!(
                    "target.{key}: a secret never goes in the config file (it ends up in version control); use {instead}"
                ),
            ));
        }
    }
    if t.token_env.is_some() as u8
        + t.token_file.is_some() as u8
        + t.oauth_token_url.is_some() as u8
        > 1
    {
        return Err(err(
            None,
            "[target]: give one of token_env, token_file or oauth_token_url".into(),
        ));
    }
    if cfg.run.jobs == Some(0) {
        return Err(err(None, "run.jobs must be at least 1".into()));
    }
    for k in &mut cfg.known {
        if k.test.get_ref().trim().is_empty() {
            return Err(err(Some(k.test.span()), "known.test is empty".into()));
        }
        if k.reason.get_ref().trim().is_empty() {
            return Err(err(
                Some(k.reason.span()),
                format!(
                    "known {:?}: give a reason (why it fails, and what fixes it)",
                    k.test.get_ref()
                ),
            ));
        }
        let d = k.until.get_ref();
        let date = match (&d.date, &d.time) {
            (Some(date), None) => time::Date::from_calendar_date(
                i32::from(date.year),
                time::Month::try_from(date.month)
                    .ok()
                    .unwrap_or(time::Month::January),
                date.day,
            )
            .ok(),
            _ => None,
        };
        match date {
            Some(date) => k.expires = Some(date),
            None => {
                return Err(err(
                    Some(k.until.span()),
                    format!("known.until: {d} is not a date; write it as 2027-03-31"),
                ));
            }
        }
    }
    Ok(cfg)
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// What the baseline did with one entry during a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaselineUse {
    /// A failing step it covered, shown as known.
    Known(String),
    /// A failing step it would have covered, but it has expired.
    Expired(String),
    /// A step it covers that no longer fails: the entry can go.
    Fixed(String),
}

/// The known failures of a config, applied to step results as they finish
/// (a [`StepHook`]): a failed step an entry covers becomes
/// [`Outcome::Known`]; after the entry's `until` date it fails again, with a
/// finding saying the entry expired.
#[derive(Debug)]
pub struct Baseline {
    entries: Vec<KnownEntry>,
    today: time::Date,
    uses: Mutex<Vec<(usize, BaselineUse)>>,
}

impl Baseline {
    /// The baseline of these entries, judged on `today`.
    pub fn new(entries: Vec<KnownEntry>, today: time::Date) -> Baseline {
        Baseline {
            entries,
            today,
            uses: Mutex::new(Vec::new()),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Amends one step result named `name` (`suite::step`).
    pub fn apply(&self, name: &str, r: &mut StepResult) {
        let Some((i, e)) = self
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.matches(name))
        else {
            return;
        };
        let until = e.expires();
        let used = match r.outcome {
            Outcome::Failed if self.today <= until => {
                r.outcome = Outcome::Known;
                r.known = Some(format!("{} (known until {until})", e.reason.get_ref()));
                BaselineUse::Known(name.to_string())
            }
            Outcome::Failed => {
                r.findings.push(Finding {
                    subject: "baseline".into(),
                    message: format!(
                        "the known-failure entry for {:?} expired on {until} ({}); fix the failure or renew the entry",
                        e.test.get_ref(),
                        e.reason.get_ref()
                    ),
                    rfc: None,
                    advisory: false,
                });
                BaselineUse::Expired(name.to_string())
            }
            Outcome::Passed | Outcome::Advisory => BaselineUse::Fixed(name.to_string()),
            Outcome::Skipped | Outcome::Known => return,
        };
        if let Ok(mut u) = self.uses.lock() {
            u.push((i, used));
        }
    }

    /// One note per entry that needs attention after the run: expired
    /// entries, entries whose steps now pass, entries that matched nothing.
    pub fn notes(&self) -> Vec<String> {
        let uses = self.uses.lock().map(|u| u.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let mine: Vec<&BaselineUse> = uses
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, u)| u)
                .collect();
            let test = e.test.get_ref();
            if mine.iter().any(|u| matches!(u, BaselineUse::Expired(_))) {
                out.push(format!(
                    "known failure {test:?} expired on {}: it fails the run again",
                    e.expires()
                ));
            } else if !mine.is_empty() && mine.iter().all(|u| matches!(u, BaselineUse::Fixed(_))) {
                out.push(format!(
                    "known failure {test:?} passes now: remove it from the baseline"
                ));
            } else if mine.is_empty() {
                out.push(format!(
                    "known failure {test:?} matched no step that ran (renamed, or not selected?)"
                ));
            }
        }
        out
    }
}

impl StepHook for Baseline {
    fn suite<'a>(&'a self, suite: &Suite, _vars: &Vars) -> Box<dyn SuiteHook + Send + 'a> {
        Box::new(BaselineSuite {
            baseline: self,
            suite: suite.name.clone(),
        })
    }
}

struct BaselineSuite<'a> {
    baseline: &'a Baseline,
    suite: String,
}

impl SuiteHook for BaselineSuite<'_> {
    fn after_step(&mut self, step: &Step, _vars: &Vars, result: &mut StepResult) {
        self.baseline
            .apply(&format!("{}::{}", self.suite, step.name), result);
    }
}

/// Today's date (UTC), for judging expiry.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Config, ConfigError> {
        parse(text, Path::new("scimitar.toml"))
    }

    #[test]
    fn reads_every_section() {
        let c = p(r#"
[target]
url = "https://x.example/scim/v2"
oauth_token_url = "https://x.example/token"
client_id = "app"
client_secret_env = "SECRET"
timeout = 10

[run]
idp = ["entra"]
jobs = 2
snapshots = "snaps"

[[known]]
test = "entra-users::create-*"
reason = "ticket 1"
until = 2027-01-31
"#)
        .unwrap();
        assert_eq!(c.target.url.as_deref(), Some("https://x.example/scim/v2"));
        assert_eq!(c.target.client_secret_env.as_deref(), Some("SECRET"));
        assert_eq!(c.run.jobs, Some(2));
        assert_eq!(c.known[0].expires().to_string(), "2027-01-31");
        assert!(c.known[0].matches("entra-users::create-user"));
        assert!(!c.known[0].matches("entra-users::delete"));
    }

    #[test]
    fn unknown_keys_say_where() {
        let e = p("[run]\njobs = 2\njbos = 3\n").unwrap_err().to_string();
        assert!(e.starts_with("scimitar.toml:3:1: "), "{e}");
        assert!(e.contains("jbos"), "{e}");
    }

    #[test]
    fn a_secret_in_the_file_is_refused_without_echoing_it() {
        let e = p("[target]\ntoken = \"hunter2\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("scimitar.toml:2:"), "{e}");
        assert!(e.contains("token_env"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_known_entry_needs_a_reason_and_a_date() {
        let e = p("[[known]]\ntest = \"a::b\"\nreason = \"\"\nuntil = 2027-01-01\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3:") && e.contains("reason"), "{e}");
        let e = p("[[known]]\ntest = \"a::b\"\nreason = \"r\"\nuntil = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":4:"), "{e}");
        let e = p("[[known]]\ntest = \"a::b\"\nreason = \"r\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("until"), "{e}");
    }
}
