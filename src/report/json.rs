//! The `--json` report: the run's results as data, with a versioned schema
//! (see docs/reports.md).

use serde::Serialize;

use crate::results::RunResult;

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    scimitar_version: &'static str,
    summary: Vec<(String, super::Counts)>,
    /// The compatibility verdict of every known profile and of any other
    /// that ran, as the reports give it.
    verdicts: Vec<Verdict>,
    #[serde(flatten)]
    run: &'a RunResult,
}

#[derive(Serialize)]
struct Verdict {
    idp: String,
    label: String,
    /// `compatible`, `not-compatible` or `not-tested`.
    verdict: &'static str,
    /// The verdict as the reports word it.
    text: String,
    counts: super::Counts,
}

pub fn render(run: &RunResult) -> String {
    let verdicts = super::compat::Compat::new(run)
        .profiles
        .iter()
        .map(|p| Verdict {
            idp: p.idp.clone(),
            label: p.label.clone(),
            verdict: match p.verdict {
                super::compat::Verdict::Compatible => "compatible",
                super::compat::Verdict::NotCompatible { .. } => "not-compatible",
                super::compat::Verdict::NotTested => "not-tested",
            },
            text: p.verdict.text(),
            counts: p.counts,
        })
        .collect();
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        scimitar_version: env!("CARGO_PKG_VERSION"),
        summary: super::by_idp(run),
        verdicts,
        run,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
