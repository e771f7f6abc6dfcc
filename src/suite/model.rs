//! The suite model: what a suite file says, validated and typed.
//!
//! `*File` types mirror the YAML (serde, unknown fields denied); the loader
//! turns them into the typed [`Suite`], [`Step`] and [`Expectation`] the
//! runner executes, so a mistake in a suite is found before any request.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use super::predicate::Predicate;

// ---------------------------------------------------------------- file shape

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuiteFile {
    pub name: Option<String>,
    #[serde(default)]
    pub idp: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    pub steps: Vec<serde_saphyr::Spanned<StepFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepFile {
    pub name: String,
    #[serde(default)]
    pub why: Option<String>,
    #[serde(default)]
    pub advisory: bool,
    pub request: RequestFile,
    #[serde(default)]
    pub expect: ExpectFile,
    #[serde(default)]
    pub capture: BTreeMap<String, Value>,
    #[serde(default)]
    pub snapshot: Option<Value>,
    /// Earlier steps this one verifies or builds on (e.g. the GET after a
    /// PATCH): skipped, not failed, when one of them failed.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// A request that establishes the same state when this one is refused
    /// (not 2xx): its response feeds the captures; the failure still counts.
    #[serde(default)]
    pub fallback: Option<RequestFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestFile {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: BTreeMap<String, Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub body_file: Option<String>,
    #[serde(default)]
    pub auth: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    #[serde(default)]
    pub status: Option<Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    #[serde(default)]
    pub json: BTreeMap<String, Value>,
    #[serde(default)]
    pub check: Vec<Value>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub any_of: Vec<ExpectFile>,
}

// ---------------------------------------------------------------- typed model

/// Where something sits in a suite file, for error messages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceLoc {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One suite: an ordered lifecycle of steps sharing variables.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    /// The client dialect the suite replays: a built-in profile id
    /// (`profile::PROFILES`) or a name of the user's own.
    pub idp: String,
    pub description: Option<String>,
    pub requires: Vec<Capability>,
    /// Suite variables, rendered once when the suite starts.
    pub vars: Vec<(String, Value)>,
    pub steps: Vec<Step>,
    pub file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// What breaks for the IdP (or a client) when this step fails.
    pub why: Option<String>,
    pub advisory: bool,
    pub request: RequestSpec,
    pub expect: Expectation,
    pub captures: Vec<Capture>,
    pub snapshot: Option<SnapshotSpec>,
    /// Earlier steps this one verifies or builds on.
    pub depends_on: Vec<String>,
    /// Sent when `request` is refused; its response feeds the captures.
    pub fallback: Option<RequestSpec>,
    /// Captured variables the step uses, each with the earlier step that
    /// captures it (the latest one before this step).
    pub needs: Vec<(String, String)>,
    pub loc: SourceLoc,
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: reqwest::Method,
    /// Path below the base URL, templated; may carry its own query string.
    pub path: String,
    pub query: Vec<(String, Value)>,
    pub headers: Vec<(String, String)>,
    /// JSON body, templated on string leaves.
    pub body: Option<Value>,
    pub auth: AuthMode,
}

pub use crate::http::AuthMode;

/// Whether the response body must be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyRule {
    /// JSON predicates and checks need a JSON body (the default).
    #[default]
    Required,
    /// An empty body is fine; if a body is there, the predicates apply.
    Optional,
    /// The body must be empty (e.g. 204 No Content).
    Empty,
}

#[derive(Debug, Clone, Default)]
pub struct Expectation {
    pub status: Option<Vec<u16>>,
    pub headers: Vec<(String, Predicate)>,
    pub json: Vec<JsonAssert>,
    pub checks: Vec<NamedCheck>,
    pub body: BodyRule,
    /// At least one alternative must hold (e.g. 200 with the resource, or 204).
    pub any_of: Vec<Expectation>,
}

#[derive(Debug, Clone)]
pub struct JsonAssert {
    /// JSONPath (RFC 9535), templated; parsed when the step runs.
    pub path: String,
    pub predicate: Predicate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCheck {
    pub kind: CheckKind,
    pub advisory: bool,
}

/// SCIM-aware checks a step can name (see `check`).
pub use crate::check::CheckKind;

#[derive(Debug, Clone)]
pub struct Capture {
    pub var: String,
    pub source: CaptureSource,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json { path: String },
    Header(String),
}

#[derive(Debug, Clone, Default)]
pub struct SnapshotSpec {
    /// Snapshot name; the step name when not given.
    pub name: Option<String>,
    /// Extra JSONPaths to redact, beyond the volatile values always redacted.
    pub redact: Vec<String>,
}

/// What a suite can require of the server, read from `/ServiceProviderConfig`
/// and `/ResourceTypes` once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Patch,
    Filter,
    Sort,
    Etag,
    Bulk,
    ChangePassword,
    Groups,
    EnterpriseUser,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::Patch,
        Capability::Filter,
        Capability::Sort,
        Capability::Etag,
        Capability::Bulk,
        Capability::ChangePassword,
        Capability::Groups,
        Capability::EnterpriseUser,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Patch => "patch",
            Capability::Filter => "filter",
            Capability::Sort => "sort",
            Capability::Etag => "etag",
            Capability::Bulk => "bulk",
            Capability::ChangePassword => "change-password",
            Capability::Groups => "groups",
            Capability::EnterpriseUser => "enterprise-user",
        }
    }

    pub fn from_name(name: &str) -> Option<Capability> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
