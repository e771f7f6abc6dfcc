//! The console summary printed after the per-step lines: one row per IdP
//! profile that ran, with its coverage and verdict, then totals, the
//! snapshot and throttling lines, and leftovers.

use super::Counts;
use super::compat::Compat;
use crate::results::RunResult;

/// The lines under the verdicts, shared by the console and the reports:
/// snapshot changes, throttling, and what a partial run means.
pub fn notes(c: &Compat) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = c.snapshot_line() {
        out.push(format!("{l} (not a compatibility verdict)"));
    }
    if let Some(t) = &c.throttling {
        out.push(format!("rate limiting: {t}"));
    }
    // Only when the selection is what left a profile incomplete.
    let incomplete = c.profiles.iter().any(|p| {
        p.suites > 0
            && p.verdict == super::compat::Verdict::Incomplete
            && p.coverage.count(super::compat::Unchecked::Filtered) > 0
    });
    if c.explicit_partial && incomplete {
        out.push(format!(
            "partial run, as asked ({}): a profile left incomplete by this selection does not fail the run",
            c.filters
        ));
    }
    if c.unfinished() {
        out.push(
            "incomplete: steps were left unchecked (rate limited, interrupted, or a suite that could not be set up), so no compatibility is claimed for them and the run does not pass (exit 1; 130 after Ctrl-C)".into(),
        );
    }
    out
}

/// Where the suites came from, in one line.
pub fn source(run: &RunResult) -> String {
    let src = &run.invocation.suite_source;
    let mut parts = Vec::new();
    if let Some(v) = &src.builtin {
        parts.push(format!("built-in suites of scimitar {v}"));
    }
    parts.extend(src.paths.iter().cloned());
    if parts.is_empty() {
        "not recorded".into()
    } else {
        parts.join(", ")
    }
}

pub fn render(run: &RunResult) -> String {
    let c = Compat::new(run);
    let mut s = String::new();
    s.push_str(&format!(
        "\nscimitar {}: {} ({} requests, {:.2}s)\n",
        c.version,
        c.target,
        run.requests_sent,
        run.duration.as_secs_f64()
    ));
    s.push_str(&format!("  attributes judged by {}\n", c.schemas));
    if let Some(l) = &c.lookup {
        s.push_str(&format!("  userName lookup {l}\n"));
    }
    let rows: Vec<_> = c.profiles.iter().filter(|p| p.suites > 0).collect();
    if rows.is_empty() {
        s.push_str("  no suite ran\n");
    } else {
        let width = rows
            .iter()
            .map(|p| p.label.chars().count())
            .max()
            .unwrap_or(0)
            .max("profile".len());
        let cov = rows
            .iter()
            .map(|p| p.coverage_cell().chars().count())
            .max()
            .unwrap_or(0)
            .max("checked".len());
        s.push_str(&format!(
            "  {:<width$}  {:>cov$} {:>6} {:>6} {:>8} {:>7}  verdict\n",
            "profile", "checked", "passed", "failed", "advisory", "skipped"
        ));
        let mut total = Counts::default();
        for p in &rows {
            s.push_str(&format!(
                "  {:<width$}  {:>cov$} {:>6} {:>6} {:>8} {:>7}  {}\n",
                p.label,
                p.coverage_cell(),
                p.counts.passed,
                p.counts.failed,
                p.counts.advisory,
                p.counts.skipped,
                p.verdict_text()
            ));
            total.passed += p.counts.passed;
            total.failed += p.counts.failed;
            total.advisory += p.counts.advisory;
            total.skipped += p.counts.skipped;
        }
        if rows.len() > 1 {
            s.push_str(&format!(
                "  {:<width$}  {:>cov$} {:>6} {:>6} {:>8} {:>7}\n",
                "total", "", total.passed, total.failed, total.advisory, total.skipped
            ));
        }
    }
    for line in notes(&c) {
        s.push_str(&line);
        s.push('\n');
    }
    let known = run.count(crate::results::Outcome::Known);
    if known > 0 {
        s.push_str(&format!(
            "  known failures (scimitar.toml baseline, not failing the run): {known}\n"
        ));
    }
    let left: Vec<String> = c
        .profiles
        .iter()
        .flat_map(|p| p.leftovers.iter())
        .map(|(suite, path, why)| format!("  {suite}: {path} ({why})"))
        .chain(run.lookup.iter().flat_map(|l| &l.cleanup).filter_map(|cl| {
            cl.problem()
                .map(|why| format!("  userName lookup check: {} ({why})", cl.path))
        }))
        .collect();
    if !left.is_empty() {
        s.push_str(
            "\nnot cleaned up (these resources are left on the target; delete them by hand):\n",
        );
        for l in left {
            s.push_str(&l);
            s.push('\n');
        }
    }
    s
}
