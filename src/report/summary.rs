//! The console summary printed after the per-step lines: one row per IdP
//! profile that ran, with its verdict, then totals and leftovers.

use super::Counts;
use super::compat::Compat;
use crate::results::RunResult;

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
        s.push_str(&format!(
            "  {:<width$}  {:>6} {:>6} {:>8} {:>7}  verdict\n",
            "profile", "passed", "failed", "advisory", "skipped"
        ));
        let mut total = Counts::default();
        for p in &rows {
            s.push_str(&format!(
                "  {:<width$}  {:>6} {:>6} {:>8} {:>7}  {}\n",
                p.label,
                p.counts.passed,
                p.counts.failed,
                p.counts.advisory,
                p.counts.skipped,
                p.verdict.text()
            ));
            total.passed += p.counts.passed;
            total.failed += p.counts.failed;
            total.advisory += p.counts.advisory;
            total.skipped += p.counts.skipped;
        }
        if rows.len() > 1 {
            s.push_str(&format!(
                "  {:<width$}  {:>6} {:>6} {:>8} {:>7}\n",
                "total", total.passed, total.failed, total.advisory, total.skipped
            ));
        }
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
