//! The `--json` report: the run's results as data, with a versioned schema
//! (see README, "JSON report").

use serde::Serialize;

use crate::runner::RunResult;

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    scimitar_version: &'static str,
    summary: Vec<(String, super::Counts)>,
    #[serde(flatten)]
    run: &'a RunResult,
}

pub fn render(run: &RunResult) -> String {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        scimitar_version: env!("CARGO_PKG_VERSION"),
        summary: super::by_idp(run),
        run,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
