//! The `--json` report: the run's results as data, with a versioned schema
//! (see docs/reports.md).

use serde::Serialize;

use crate::results::RunResult;

/// Bumped whenever a field changes meaning or disappears.
/// 2: verdicts carry coverage and custom rows; cleanup entries are
/// `{path, status | error, cleaned}`; `throttling` and `invocation` added.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    scimitar_version: &'static str,
    summary: Vec<(String, super::Counts)>,
    /// The compatibility verdict of every known profile and of any other
    /// that ran, as the reports give it.
    verdicts: Vec<Verdict>,
    /// Selected steps whose only failure is a snapshot difference.
    snapshot_changes: usize,
    /// Steps left unchecked for a reason the user did not choose: exit 1.
    unfinished: bool,
    #[serde(flatten)]
    run: &'a RunResult,
}

#[derive(Serialize)]
struct Verdict {
    idp: String,
    label: String,
    /// Custom suites: never an IdP's verdict.
    custom: bool,
    /// `compatible`, `compatible-without`, `not-compatible`, `incomplete`,
    /// `not-tested`, `custom-passed` or `custom-failed`.
    verdict: &'static str,
    /// The verdict as the reports word it.
    text: String,
    counts: super::Counts,
    coverage: Coverage,
}

#[derive(Serialize)]
struct Coverage {
    /// Steps checked (passed, advisory or failed).
    checked: usize,
    /// Steps in the profile's built-in suites (custom: steps selected).
    total: usize,
    /// Steps not checked, by reason (`rate_limited`, `interrupted`,
    /// `suite_error`, `filtered`, `unsupported`, `after_failure`).
    not_checked: std::collections::BTreeMap<&'static str, usize>,
    /// Capabilities the server lacks that left steps unchecked.
    missing_capabilities: Vec<String>,
}

pub fn render(run: &RunResult) -> String {
    let compat = super::compat::Compat::new(run);
    let verdicts = compat
        .profiles
        .iter()
        .map(|p| Verdict {
            idp: p.idp.clone(),
            label: p.label.clone(),
            custom: p.custom,
            verdict: p.verdict.id(),
            text: p.verdict_text(),
            counts: p.counts,
            coverage: Coverage {
                checked: p.coverage.checked,
                total: p.coverage.total,
                not_checked: p
                    .coverage
                    .unchecked
                    .iter()
                    .map(|(u, n)| (u.id(), *n))
                    .collect(),
                missing_capabilities: p.coverage.missing.clone(),
            },
        })
        .collect();
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        scimitar_version: env!("CARGO_PKG_VERSION"),
        summary: super::by_idp(run),
        verdicts,
        snapshot_changes: compat.snapshot_changes.len(),
        unfinished: compat.unfinished(),
        run,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
