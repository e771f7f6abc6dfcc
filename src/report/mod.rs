//! Reports: pure consumers of a [`RunResult`]. Adding a format touches
//! nothing else.

pub mod compat;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;

use crate::results::{Outcome, RunResult};

/// Counts of step outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub advisory: usize,
    pub skipped: usize,
    /// Failures the baseline covers (`scimitar.toml` `[[known]]`).
    #[serde(skip_serializing_if = "is_zero")]
    pub known: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Counts {
    pub fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Advisory => self.advisory += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Known => self.known += 1,
        }
    }
}

/// Counts per IdP profile, in first-seen order, over selected steps.
pub fn by_idp(run: &RunResult) -> Vec<(String, Counts)> {
    let mut out: Vec<(String, Counts)> = Vec::new();
    for s in &run.suites {
        let i = match out.iter().position(|(k, _)| *k == s.idp) {
            Some(i) => i,
            None => {
                out.push((s.idp.clone(), Counts::default()));
                out.len() - 1
            }
        };
        for st in s.steps.iter().filter(|st| st.selected) {
            out[i].1.add(st.outcome);
        }
    }
    out
}

/// A readable name for an IdP profile (see [`crate::profile`]).
pub fn idp_label(idp: &str) -> &str {
    crate::profile::label(idp)
}

/// Every output format of a run, in one place. `--junit`, `--json` and
/// `--report FILE.md|.html` each name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// JUnit XML, for CI test views.
    Junit,
    /// The run's results as versioned JSON.
    Json,
    /// The compatibility report in Markdown.
    Markdown,
    /// The compatibility report as one self-contained HTML page.
    Html,
}

/// Why a report could not be rendered. No format fails today; the type
/// keeps `render`'s signature stable for one that can.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {}

impl ReportFormat {
    /// A compatibility report's format from the file's extension:
    /// `.md`/`.markdown` or `.html`/`.htm`, case-insensitive.
    pub fn from_path(path: &std::path::Path) -> Option<ReportFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Some(ReportFormat::Markdown),
            "html" | "htm" => Some(ReportFormat::Html),
            _ => None,
        }
    }

    /// The report's text.
    pub fn render(self, run: &RunResult) -> Result<String, ReportError> {
        Ok(match self {
            ReportFormat::Junit => junit::render(run),
            ReportFormat::Json => json::render(run),
            ReportFormat::Markdown => markdown::render(run),
            ReportFormat::Html => html::render(run),
        })
    }
}
