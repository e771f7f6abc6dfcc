//! The console summary printed after the per-step lines.

use super::{by_idp, idp_label};
use crate::runner::RunResult;

pub fn render(run: &RunResult) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "\nscimitar: {} ({} requests, {:.2}s)\n",
        run.target,
        run.requests_sent,
        run.duration.as_secs_f64()
    ));
    s.push_str(&format!(
        "  {:<40} {:>6} {:>6} {:>8} {:>7}\n",
        "profile", "passed", "failed", "advisory", "skipped"
    ));
    for (idp, c) in by_idp(run) {
        s.push_str(&format!(
            "  {:<40} {:>6} {:>6} {:>8} {:>7}\n",
            idp_label(&idp),
            c.passed,
            c.failed,
            c.advisory,
            c.skipped
        ));
    }
    let left: Vec<String> = run
        .suites
        .iter()
        .flat_map(|su| su.cleanup.iter().filter(|c| !c.ok()).map(move |c| (su, c)))
        .map(|(su, c)| {
            let why = match &c.outcome {
                Ok(st) => format!("DELETE answered {st}"),
                Err(e) => e.clone(),
            };
            format!("  {}: {} ({why})", su.name, c.path)
        })
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
