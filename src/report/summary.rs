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

/// The first finding of each failing step, with quoted values blanked
/// (ids, names), counted: those seen in three steps or more, most first.
/// A server missing one feature fails many steps; this says which.
pub fn shared_causes(run: &RunResult) -> Vec<(usize, String)> {
    let mut counts: Vec<(usize, String)> = Vec::new();
    let failing = run
        .suites
        .iter()
        .flat_map(|s| &s.steps)
        .filter(|st| st.selected && st.outcome == crate::results::Outcome::Failed);
    for st in failing {
        let Some(f) = st.findings.iter().find(|f| !f.advisory) else {
            continue;
        };
        let cause = blank_quoted(&format!("{}: {}", f.subject, without_detail(&f.message)));
        match counts.iter_mut().find(|(_, c)| *c == cause) {
            Some((n, _)) => *n += 1,
            None => counts.push((1, cause)),
        }
    }
    counts.retain(|(n, _)| *n >= 3);
    // Most first; ties in the order first seen (the sort is stable).
    counts.sort_by_key(|c| std::cmp::Reverse(c.0));
    counts
}

/// A status finding without the server's `detail` (its wording varies by
/// request; the `scimType` names the cause and stays):
/// `… got 400 (scimType noTarget; detail: …)` → `… got 400 (scimType noTarget)`.
fn without_detail(message: &str) -> String {
    if let Some(i) = message.find(" (detail: ") {
        return message[..i].to_string();
    }
    match (message.find(" (scimType "), message.find("; detail: ")) {
        (Some(t), Some(d)) if d > t => format!("{})", &message[..d]),
        _ => message.to_string(),
    }
}

/// `expected "42", got "x"` → `expected "…", got "…"`; the line cut at 160
/// characters.
fn blank_quoted(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in text.chars() {
        if c == '"' {
            if !inside {
                out.push_str("\"…");
            }
            inside = !inside;
            if !inside {
                out.push('"');
            }
        } else if !inside {
            out.push(c);
        }
    }
    let line = out.lines().next().unwrap_or_default();
    match line.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
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
    let shared = shared_causes(run);
    if !shared.is_empty() {
        s.push_str("failures that share a cause (one fix may clear them all):\n");
        for (n, cause) in shared {
            s.push_str(&format!("  {n:>3}× {cause}\n"));
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

#[cfg(test)]
mod tests {
    use super::blank_quoted;

    #[test]
    fn quoted_values_are_blanked_so_causes_group() {
        assert_eq!(
            blank_quoted(r#"json $.title: expected "Captain", but it is absent"#),
            r#"json $.title: expected "…", but it is absent"#
        );
        assert_eq!(
            blank_quoted("status: expected 200 or 204, got 501 (detail: Not Implemented)"),
            "status: expected 200 or 204, got 501 (detail: Not Implemented)"
        );
        assert_eq!(blank_quoted("a\nb"), "a");
    }

    #[test]
    fn the_servers_detail_is_dropped_its_scim_type_kept() {
        use super::without_detail;
        assert_eq!(
            without_detail("expected 200 or 204, got 400 (scimType noTarget; detail: no value)"),
            "expected 200 or 204, got 400 (scimType noTarget)"
        );
        assert_eq!(
            without_detail("expected 200 or 204, got 501 (detail: Not Implemented)"),
            "expected 200 or 204, got 501"
        );
        assert_eq!(
            without_detail("expected 409, got 400 (scimType invalidValue)"),
            "expected 409, got 400 (scimType invalidValue)"
        );
    }
}
