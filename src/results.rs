//! Results as plain data: run → suite → step results, outcomes, findings,
//! typed skip reasons and the recorded exchanges. The runner produces them;
//! the console, reports and snapshots consume them. Nothing here runs
//! anything, and nothing here imports the runner.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

pub use crate::http::{Exchange, Throttling};
use crate::suite::SourceLoc;

/// Everything one run found.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The target base URL (no credentials).
    pub target: String,
    /// When the run began (RFC 3339).
    pub started: String,
    /// How long it took.
    #[serde(serialize_with = "crate::http::ser_ms")]
    pub duration: Duration,
    /// Requests put on the wire (retries included).
    pub requests_sent: u64,
    /// What discovery learned; `None` for a capability the server did not say.
    pub capabilities: Vec<(String, Option<bool>)>,
    /// Whose attribute definitions judged the run: the server's `/Schemas`
    /// or RFC 7643's.
    pub schemas: SchemasJudged,
    /// The userName lookup the IdP profiles stand on, checked once with two
    /// users present; `None` when no IdP suite ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup: Option<LookupCheck>,
    /// Every suite's result, in the suites' order.
    pub suites: Vec<SuiteResult>,
    /// What the server's rate limiting did to the run.
    pub throttling: Throttling,
    /// What the user asked for (set by the command layer; empty for a run
    /// built through the library alone).
    pub invocation: Invocation,
    /// What the run wants the reader to know beyond the steps (e.g. a suite
    /// that failed only under concurrency).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl RunResult {
    /// How many selected steps ended with this outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.suites
            .iter()
            .flat_map(|s| &s.steps)
            .filter(|st| st.selected && st.outcome == outcome)
            .count()
    }

    /// Whether something the run created could not be removed.
    pub fn has_leftovers(&self) -> bool {
        self.suites
            .iter()
            .any(|s| s.cleanup.iter().any(|c| !c.ok()))
            || self
                .lookup
                .as_ref()
                .is_some_and(|l| l.cleanup.iter().any(|c| !c.ok()))
    }
}

/// How the userName lookup check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LookupOutcome {
    /// Each user was found by its own userName, and only it.
    Works,
    /// The filter was refused, or found the wrong users or none.
    Broken,
    /// The two users it needs could not be created (or the run stopped).
    Unchecked,
}

/// Entra ID, Okta, Google Workspace, PingFederate, JumpCloud and OneLogin
/// find every user with `filter=userName eq "…"` before they create or
/// update it: a server whose filter is refused, ignored or loose makes them
/// create duplicates or overwrite the wrong user. Checked once per run with
/// two users present (a lookup on an empty server proves nothing).
#[derive(Debug, Clone, Serialize)]
pub struct LookupCheck {
    /// `works`, `broken` or `unchecked`.
    pub outcome: LookupOutcome,
    /// What was seen, in one sentence.
    pub summary: String,
    /// What `/ServiceProviderConfig` says of `filter.supported`.
    pub declared_filter: Option<bool>,
    /// The built-in profiles this check speaks for.
    pub profiles: Vec<String>,
    /// The requests and responses behind the verdict.
    pub exchanges: Vec<Exchange>,
    /// The two users' removal.
    pub cleanup: Vec<CleanupResult>,
}

impl LookupCheck {
    /// The line the console and the reports show.
    pub fn describe(&self) -> String {
        let word = match self.outcome {
            LookupOutcome::Works => "works",
            LookupOutcome::Broken => "BROKEN",
            LookupOutcome::Unchecked => "not checked",
        };
        format!("{word}: {}", self.summary)
    }
}

/// Whose schema definitions judged attributes (RFC 7643 §7; `/Schemas` is
/// RFC 7644 §4): an attribute the server declares must behave as declared,
/// one it does not declare is not held against it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SchemasJudged {
    /// `server` (its own `/Schemas`) or `rfc7643` (RFC 7643's definitions).
    pub source: String,
    /// The schema URNs that judged.
    pub ids: Vec<String>,
    /// Why RFC 7643's definitions were used, when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl SchemasJudged {
    /// Whether the server's own `/Schemas` judged.
    pub fn by_server(&self) -> bool {
        self.source == "server"
    }

    /// One line for the console and the reports.
    pub fn describe(&self) -> String {
        let ids: Vec<&str> = self
            .ids
            .iter()
            .map(|id| {
                id.strip_prefix("urn:ietf:params:scim:schemas:")
                    .unwrap_or(id)
            })
            .collect();
        if self.by_server() {
            format!("the server's /Schemas ({})", ids.join(", "))
        } else {
            let why = self.why.as_deref().unwrap_or("the server published none");
            format!("RFC 7643's definitions ({why})")
        }
    }
}

/// What the user asked for, as the reports record it: the command line
/// (secrets redacted), the filters, where the suites came from, and which
/// suites are the built-in ones (what coverage is measured against).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Invocation {
    /// The command line, secrets replaced by `***`.
    pub command_line: Vec<String>,
    /// The step filters.
    pub filters: Filters,
    /// Where the suites came from.
    pub suite_source: SuiteSource,
    /// The built-in suites (of the binary), the measure of each profile's
    /// coverage. Empty when not known (a library run).
    #[serde(skip)]
    pub builtin: Vec<BuiltinSuite>,
    /// Files of the loaded suites whose content is a built-in suite's
    /// (as [`SuiteResult::file`] names them): only these speak for an IdP.
    #[serde(skip)]
    pub builtin_files: Vec<String>,
    /// The user stopped the run (Ctrl-C).
    pub interrupted: bool,
}

impl Invocation {
    /// Whether a suite result comes from a built-in suite.
    pub fn is_builtin(&self, suite: &SuiteResult) -> bool {
        self.builtin_files.contains(&suite.file)
    }
}

/// The step filters the user gave.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filters {
    /// FILTER: steps whose `suite::step` name contains it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// `--exact`.
    pub exact: bool,
    /// `--skip` (repeatable).
    pub skip: Vec<String>,
    /// `--idp` (repeatable).
    pub idps: Vec<String>,
    /// `--suite` paths given (none: the default suites).
    pub suites: Vec<String>,
}

impl Filters {
    /// Whether the user chose what to run (FILTER, `--skip`, `--idp`,
    /// `--suite`): then a profile left incomplete by that choice is what
    /// was asked for, not a failure.
    pub fn explicit(&self) -> bool {
        self.filter.is_some()
            || !self.skip.is_empty()
            || !self.idps.is_empty()
            // `--suite builtin` is every built-in suite: nothing left out.
            || self.suites.iter().any(|s| s != "builtin")
    }

    /// The filters in one line, as typed: `FILTER 'x', --skip y`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.filter {
            parts.push(format!(
                "FILTER '{f}'{}",
                if self.exact { " (exact)" } else { "" }
            ));
        }
        for s in &self.skip {
            parts.push(format!("--skip {s}"));
        }
        for i in &self.idps {
            parts.push(format!("--idp {i}"));
        }
        for s in &self.suites {
            parts.push(format!("--suite {s}"));
        }
        parts.join(", ")
    }
}

/// Where the suites came from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SuiteSource {
    /// The built-in suites' version (scimitar's), when they were run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// Folders or files given or found (`./suites`).
    pub paths: Vec<String>,
}

/// One built-in suite: its profile, name and number of steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinSuite {
    /// Its `idp:`.
    pub idp: String,
    /// Its name.
    pub name: String,
    /// How many steps it has.
    pub steps: usize,
}

/// One suite's steps and cleanup, in the suite's order.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteResult {
    /// The suite's name.
    pub name: String,
    /// Its IdP profile (`entra`, `okta`, `rfc`, `custom`, …).
    pub idp: String,
    /// The file it was loaded from.
    pub file: String,
    /// Its steps that ran or were skipped, in order.
    pub steps: Vec<StepResult>,
    /// DELETEs of what the suite created, in reverse order of creation.
    pub cleanup: Vec<CleanupResult>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// Only advisory findings (a SHOULD, or a behaviour one IdP tolerates).
    Advisory,
    /// At least one expectation that is not advisory did not hold.
    Failed,
    /// Not checked; the step's [`SkipReason`] says why.
    Skipped,
    /// Failed, but a baseline entry (`scimitar.toml` `[[known]]`) that has
    /// not expired covers it: reported with its reason, not failed.
    Known,
}

/// One thing a step found wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// e.g. `status`, `json $.userName`, `check list-response`.
    pub subject: String,
    /// What was wrong, in one line.
    pub message: String,
    /// The RFC section or IdP behaviour the expectation enforces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rfc: Option<String>,
    /// A SHOULD, or a behaviour the IdP tolerates: reported, not failed.
    pub advisory: bool,
}

/// One step's result.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// The step's name, unique in its suite.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether the step runs at all under the user's filter.
    #[serde(skip)]
    pub selected: bool,
    /// Why the step was not checked (only for [`Outcome::Skipped`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<SkipReason>,
    /// What was wrong (advisory ones included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The request failed before a response came (timeout, refused, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Findings that only follow from a wrong status (fields absent from an
    /// error body, no Location on a 400): kept for whoever wants them, not
    /// shown as failures of their own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub follow_on: Vec<Finding>,
    /// The fallback request sent when the step's own request was refused;
    /// later steps use what it created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Exchange>,
    /// The suite's `why:` for the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The request and response, secrets already redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    /// A unified diff against the accepted snapshot, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_diff: Option<String>,
    /// The baseline's reason and expiry, for [`Outcome::Known`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// Where the step is written.
    pub location: SourceLoc,
    /// How long it took.
    #[serde(serialize_with = "crate::http::ser_ms")]
    pub duration: Duration,
}

/// Why a step was not checked. Typed, so no code searches message text for
/// meaning; rendered as one sentence (the JSON carries that sentence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The server says it lacks capabilities the suite needs.
    Unsupported {
        /// The capabilities it lacks, as the suite names them.
        capabilities: Vec<String>,
    },
    /// A suite-level variable could not be rendered.
    SuiteVars {
        /// The variable.
        name: String,
        /// Why it could not be rendered.
        error: String,
    },
    /// The user stopped the run.
    Interrupted,
    /// An earlier step of the suite failed.
    EarlierStepFailed {
        /// That step's name.
        step: String,
    },
    /// An earlier step of the suite stayed rate limited.
    EarlierStepRateLimited {
        /// That step's name.
        step: String,
    },
    /// A variable the step uses was not produced by the step that captures it.
    MissingVariable {
        /// The variable.
        name: String,
        /// The step that should have captured it.
        producer: String,
        /// Whether that step ran only as setup for this one (not selected).
        setup: bool,
    },
    /// The step depends on a step whose request the server refused with only
    /// an advisory finding (a behaviour the IdP tolerates): nothing to verify.
    DependencyRefused {
        /// That step's name.
        step: String,
    },
    /// The step depends on a step that was not checked.
    DependencyUnchecked {
        /// That step's name.
        step: String,
    },
    /// The step depends on a step the user excluded (`--skip`).
    DependencyExcluded {
        /// That step's name.
        step: String,
    },
    /// The target stopped answering earlier in the run.
    TargetDown {
        /// What happened then.
        detail: String,
    },
    /// An RFC suite's filter the server declined with 400 invalidFilter,
    /// which RFC 7644 §3.12 allows for an attribute and operator it does
    /// not support: not checked, and no failure.
    FilterDeclined {
        /// The filter as sent.
        filter: String,
    },
    /// This step's own request stayed rate limited (429) within the retry budget.
    RateLimited {
        /// `METHOD path` of the request.
        request: String,
        /// Why the retries ended.
        detail: String,
    },
}

impl SkipReason {
    /// Whether rate limiting, not the server's conformance, left the step unchecked.
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            SkipReason::RateLimited { .. } | SkipReason::EarlierStepRateLimited { .. }
        )
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Unsupported { capabilities } => write!(
                f,
                "the server does not support {} (per /ServiceProviderConfig and /ResourceTypes)",
                capabilities.join(", ")
            ),
            SkipReason::FilterDeclined { filter } => write!(
                f,
                "the server declined the filter `{filter}` with 400 invalidFilter, which RFC 7644 §3.12 allows for an attribute and operator it does not support"
            ),
            SkipReason::SuiteVars { name, error } => write!(f, "vars.{name}: {error}"),
            SkipReason::Interrupted => f.write_str("the run was interrupted"),
            SkipReason::EarlierStepFailed { step } => {
                write!(f, "an earlier step, '{step}', failed")
            }
            SkipReason::EarlierStepRateLimited { step } => {
                write!(f, "an earlier step, '{step}', was rate limited (429)")
            }
            SkipReason::RateLimited { request, detail } => write!(f, "{request}: {detail}"),
            SkipReason::MissingVariable {
                name,
                producer,
                setup: true,
            } => write!(
                f,
                "setup step '{producer}' failed: it did not produce {{{{{name}}}}}"
            ),
            SkipReason::MissingVariable { name, producer, .. } => {
                write!(f, "'{producer}' failed to produce {{{{{name}}}}}")
            }
            SkipReason::DependencyRefused { step } => {
                write!(
                    f,
                    "it depends on '{step}', which the server refused (advisory)"
                )
            }
            SkipReason::DependencyUnchecked { step } => {
                write!(f, "it depends on '{step}', which was not checked")
            }
            SkipReason::DependencyExcluded { step } => {
                write!(f, "it depends on '{step}', which was skipped (--skip)")
            }
            SkipReason::TargetDown { detail } => {
                write!(
                    f,
                    "not sent: the target stopped answering earlier ({detail})"
                )
            }
        }
    }
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One DELETE of something the suite created. In JSON:
/// `{"path": …, "status": 204, "cleaned": true}`,
/// `{"path": …, "error": "…", "cleaned": false}`, with `still_there` after
/// a soft delete.
#[derive(Debug, Clone)]
pub struct CleanupResult {
    /// The resource's path under the base URL.
    pub path: String,
    /// The DELETE's status, or why it could not be sent.
    pub outcome: Result<u16, String>,
    /// Set when a GET after a 2xx DELETE still found the resource (a soft
    /// delete): what the GET showed.
    pub still_there: Option<String>,
}

impl Serialize for CleanupResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &self.path)?;
        match &self.outcome {
            Ok(status) => m.serialize_entry("status", status)?,
            Err(e) => m.serialize_entry("error", e)?,
        }
        if let Some(seen) = &self.still_there {
            m.serialize_entry("still_there", seen)?;
        }
        m.serialize_entry("cleaned", &self.ok())?;
        m.end()
    }
}

impl CleanupResult {
    /// 2xx, or 404 (already gone), count as cleaned, unless a GET still
    /// finds the resource.
    pub fn ok(&self) -> bool {
        matches!(self.outcome, Ok(s) if (200..300).contains(&s) || s == 404)
            && self.still_there.is_none()
    }

    /// Why the resource is still on the target, if it is.
    pub fn problem(&self) -> Option<String> {
        if let Some(seen) = &self.still_there {
            let status = self
                .outcome
                .as_ref()
                .map(u16::to_string)
                .unwrap_or_default();
            return Some(format!("soft delete: DELETE answered {status} but {seen}"));
        }
        match &self.outcome {
            _ if self.ok() => None,
            Ok(s) => Some(format!("DELETE answered {s}")),
            Err(e) => Some(e.clone()),
        }
    }
}

impl StepResult {
    /// A step that was not checked, with the reason.
    pub fn skipped(
        name: &str,
        why: Option<String>,
        location: SourceLoc,
        reason: SkipReason,
    ) -> StepResult {
        StepResult {
            name: name.to_string(),
            outcome: Outcome::Skipped,
            selected: true,
            skip_reason: Some(reason),
            findings: Vec::new(),
            follow_on: Vec::new(),
            fallback: None,
            error: None,
            why,
            exchange: None,
            snapshot_diff: None,
            known: None,
            location,
            duration: Duration::ZERO,
        }
    }

    /// The full explanation of a non-passing step, as the console and
    /// reports show it.
    pub fn explain(&self, suite: &str) -> String {
        self.explain_with(suite, &|d: &str| d.to_string())
    }

    /// [`StepResult::explain`], with the snapshot diff passed through
    /// `style_diff` (the console colours it for a terminal).
    pub fn explain_with(&self, suite: &str, style_diff: &dyn Fn(&str) -> String) -> String {
        let mut s = String::new();
        let verdict = match self.outcome {
            Outcome::Passed => "passed",
            Outcome::Advisory => "advisory findings",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Known => "failed, known",
        };
        s.push_str(&format!(
            "{suite}::{} {verdict} ({})\n",
            self.name, self.location
        ));
        if let Some(ex) = &self.exchange {
            s.push_str(&format!("  request:  {}\n", ex.request.line()));
            for r in &ex.retries {
                s.push_str(&format!("            {r}\n"));
            }
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("  error:    {e}\n"));
        }
        for f in &self.findings {
            let mark = if f.advisory { "!" } else { "✗" };
            let rfc = f
                .rfc
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            s.push_str(&format!("  {mark} {}{rfc}: {}\n", f.subject, f.message));
        }
        if !self.follow_on.is_empty() {
            s.push_str(&format!(
                "  ({} more findings only follow from the status; the JSON report lists them)\n",
                self.follow_on.len()
            ));
        }
        if let Some(fb) = &self.fallback {
            s.push_str(&format!(
                "  fallback: {} answered {}; later steps use what it created\n",
                fb.request.line(),
                fb.response.status
            ));
        }
        if let Some(why) = &self.why {
            s.push_str(&format!("  why it matters: {why}\n"));
        }
        if let Some(d) = &self.snapshot_diff {
            s.push_str("  snapshot diff:\n");
            for line in style_diff(d).lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
        if let Some(ex) = &self.exchange {
            let ct = ex
                .response
                .header("content-type")
                .unwrap_or("no content type");
            s.push_str(&format!("  response: {} ({ct})\n", ex.response.status));
            let body = ex.response.excerpt(1200);
            for line in body.lines() {
                s.push_str(&format!("    {line}\n"));
            }
            if self.outcome == Outcome::Failed {
                s.push_str(&format!("  reproduce: {}\n", ex.request.curl()));
            }
        }
        s
    }

    /// The full request and response, headers and bodies (secrets already
    /// redacted), as `-v` shows a failing step.
    pub fn exchange_text(&self) -> String {
        let Some(ex) = &self.exchange else {
            return String::new();
        };
        let mut s = String::from("  full request:\n");
        s.push_str(&format!("    {}\n", ex.request.line()));
        for (k, v) in &ex.request.headers {
            s.push_str(&format!("    {k}: {v}\n"));
        }
        if let Some(b) = &ex.request.body {
            s.push('\n');
            for line in serde_json::to_string_pretty(b).unwrap_or_default().lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
        s.push_str(&format!("  full response: {}\n", ex.response.status));
        for (k, v) in &ex.response.headers {
            s.push_str(&format!("    {k}: {v}\n"));
        }
        if !ex.response.body.is_empty() {
            s.push('\n');
            for line in ex.response.body.lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
        if ex.response.truncated {
            s.push_str("    … (cut off at --max-body)\n");
        }
        s
    }
}
