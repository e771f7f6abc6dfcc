//! Results as plain data: what reports consume. Nothing here runs anything.

use std::time::Duration;

use serde::Serialize;

use crate::http::Exchange;
use crate::suite::SourceLoc;

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The target base URL (no credentials).
    pub target: String,
    pub started: String,
    #[serde(serialize_with = "crate::http::ser_ms")]
    pub duration: Duration,
    pub requests_sent: u64,
    /// What discovery learned; `None` for a capability the server did not say.
    pub capabilities: Vec<(String, Option<bool>)>,
    pub suites: Vec<SuiteResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteResult {
    pub name: String,
    pub idp: String,
    pub file: String,
    pub steps: Vec<StepResult>,
    /// DELETEs of what the suite created, in reverse order of creation.
    pub cleanup: Vec<CleanupResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    /// Only advisory findings (a SHOULD, or a behaviour one IdP tolerates).
    Advisory,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// e.g. `status`, `json $.userName`, `check list-response`.
    pub subject: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rfc: Option<String>,
    pub advisory: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub name: String,
    pub outcome: Outcome,
    /// Whether the step runs at all under the user's filter.
    #[serde(skip)]
    pub selected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The request failed before a response came (timeout, refused, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_diff: Option<String>,
    pub location: SourceLoc,
    #[serde(serialize_with = "crate::http::ser_ms")]
    pub duration: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct CleanupResult {
    pub path: String,
    /// The DELETE's status, or why it could not be sent.
    pub outcome: Result<u16, String>,
}

impl CleanupResult {
    /// 2xx, or 404 (already gone), count as cleaned.
    pub fn ok(&self) -> bool {
        matches!(self.outcome, Ok(s) if (200..300).contains(&s) || s == 404)
    }
}

impl StepResult {
    /// The full explanation of a non-passing step, as the console and
    /// reports show it.
    pub fn explain(&self, suite: &str) -> String {
        let mut s = String::new();
        let verdict = match self.outcome {
            Outcome::Passed => "passed",
            Outcome::Advisory => "advisory findings",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
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
        if let Some(why) = &self.why {
            s.push_str(&format!("  why it matters: {why}\n"));
        }
        if let Some(d) = &self.snapshot_diff {
            s.push_str("  snapshot diff:\n");
            for line in d.lines() {
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
        }
        s
    }
}
