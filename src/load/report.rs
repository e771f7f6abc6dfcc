//! Renders a [`LoadReport`]: the console text and the `--json` file, and
//! checks the user's thresholds against it.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::LoadReport;

/// Limits the user set; each one that fails makes the run fail.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    /// Requests per second over the whole run, at least.
    pub require_rps: Option<f64>,
    /// Share of operations that failed, at most (0.01 = 1%).
    pub max_error_rate: Option<f64>,
    /// p99 latency over every operation, at most, in milliseconds.
    pub max_p99_ms: Option<f64>,
}

/// One threshold, checked.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdResult {
    /// `require-rps`, `max-error-rate` or `max-p99-ms`.
    pub name: String,
    /// What the user set.
    pub limit: f64,
    /// What the run measured.
    pub actual: f64,
    /// Whether the run kept to it.
    pub pass: bool,
}

impl Thresholds {
    /// Each threshold that was set, against the report.
    pub fn check(&self, r: &LoadReport) -> Vec<ThresholdResult> {
        let mut out = Vec::new();
        let mut add = |name: &str, limit: Option<f64>, actual: f64, pass: fn(f64, f64) -> bool| {
            if let Some(limit) = limit {
                out.push(ThresholdResult {
                    name: name.into(),
                    limit,
                    actual,
                    pass: pass(actual, limit),
                });
            }
        };
        add("require-rps", self.require_rps, r.rps, |a, l| a >= l);
        add(
            "max-error-rate",
            self.max_error_rate,
            r.error_rate,
            |a, l| a <= l,
        );
        add("max-p99-ms", self.max_p99_ms, r.p99_ms, |a, l| a <= l);
        out
    }
}

/// The `--json` document: the report, plus the thresholds and their results.
pub fn json(r: &LoadReport, thresholds: &[ThresholdResult]) -> String {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert(
            "thresholds".into(),
            serde_json::to_value(thresholds).unwrap_or(Value::Null),
        );
        m.insert(
            "pass".into(),
            Value::Bool(r.correct() && thresholds.iter().all(|t| t.pass)),
        );
    }
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

/// The console report. `cleanup_hint` is the command that removes leftovers.
pub fn text(r: &LoadReport, thresholds: &[ThresholdResult], cleanup_hint: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "scimitar load: {} users, {} groups × {} members, concurrency {}{} against {}",
        thousands(r.users as u64),
        thousands(r.groups as u64),
        r.members,
        r.concurrency,
        r.rate_limit
            .map(|x| format!(", at most {x} requests/s"))
            .unwrap_or_default(),
        r.target
    );
    let _ = writeln!(
        o,
        "{} requests in {:.1} s: {} requests/s; {} errors ({:.2}%); {} × 429; latency p50 {} ms, p95 {} ms, p99 {} ms, max {} ms{}",
        thousands(r.requests),
        r.duration_s,
        thousands(r.rps.round() as u64),
        thousands(r.errors),
        r.error_rate * 100.0,
        thousands(r.throttled),
        r.p50_ms,
        r.p95_ms,
        r.p99_ms,
        r.max_ms,
        if r.interrupted {
            " (interrupted: stopped early)"
        } else {
            ""
        }
    );
    o.push('\n');

    let header = [
        "operation",
        "request",
        "count",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "error classes",
    ];
    let rows: Vec<[String; 10]> = r
        .operations
        .iter()
        .map(|op| {
            [
                op.name.clone(),
                op.request.clone(),
                op.count.to_string(),
                op.errors.to_string(),
                format!("{:.0}", op.rps),
                op.p50_ms.to_string(),
                op.p95_ms.to_string(),
                op.p99_ms.to_string(),
                op.max_ms.to_string(),
                op.error_classes(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (k, (cell, w)) in cells.iter().zip(widths).enumerate() {
            // Text left, numbers right; the last column is not padded.
            if k == cells.len() - 1 {
                l.push_str(cell);
            } else if k < 2 {
                let _ = write!(l, "{cell:<w$}  ");
            } else {
                let _ = write!(l, "{cell:>w$}  ");
            }
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(o, "{}", line(&header.map(String::from)));
    for row in &rows {
        let _ = writeln!(o, "{}", line(row));
    }

    o.push_str("\nThrottling (429 Too Many Requests)\n");
    let t = &r.throttling;
    if t.responses_429 == 0 {
        o.push_str("  none: the target never answered 429\n");
    } else {
        let _ = writeln!(
            o,
            "  {} × 429: {} with Retry-After{}, {} without (waited {} s each); {} waits as asked, {} capped at --max-retry-wait; {} operations still 429 after the last retry",
            thousands(t.responses_429),
            t.with_retry_after,
            t.max_retry_after_s
                .map(|m| format!(" (longest {m} s)"))
                .unwrap_or_default(),
            t.without_retry_after,
            t.default_wait_s,
            t.honoured,
            t.capped,
            t.gave_up
        );
        let _ = writeln!(
            o,
            "  time lost: every worker paused {:.1} s in all ({:.0}% of the run)",
            t.time_lost_s,
            if r.duration_s > 0.0 {
                t.time_lost_s / r.duration_s * 100.0
            } else {
                0.0
            }
        );
        o.push_str("  Entra: pauses the job for Retry-After, then retries the failed requests (reports also show 429s retried only at the next cycle, ~40 min later). Okta: no documented retry; admins are told to slow down.\n");
    }

    let g = &r.gallery;
    o.push_str("\nEntra app gallery: at least 25 requests/s on /Users, sustained\n");
    match &g.not_measured {
        Some(why) => {
            let _ = writeln!(o, "  not measured: {why}");
        }
        None => {
            let _ = writeln!(
                o,
                "  {} {} requests/s on /Users over the {:.1} s user sync{}",
                verdict(g.pass),
                g.users_rps,
                g.seconds,
                g.slowest_second
                    .map(|s| format!(" (slowest whole second: {s})"))
                    .unwrap_or_default()
            );
        }
    }

    let q = &r.quarantine;
    o.push_str("\nEntra quarantine forecast (Microsoft's documented thresholds: escrow from 5,000 failures; quarantine above a 40% failure share or 40,000 failures; 60,000 including references)\n");
    let _ = writeln!(
        o,
        "  {}: {}",
        if q.would_quarantine {
            "WOULD QUARANTINE"
        } else {
            "no quarantine"
        },
        q.reason
    );
    if let Some(n) = q.tenant_objects_at_risk {
        let _ = writeln!(
            o,
            "  at this failure share ({:.1}%), a tenant of about {} objects or more would be quarantined in its initial sync",
            q.failure_share * 100.0,
            thousands(n)
        );
    }
    let _ = writeln!(
        o,
        "  Entra's own pace for these objects: {}–{} minutes per initial cycle; this endpoint took {:.1} s for the sync",
        r.entra_cycle_minutes.0, r.entra_cycle_minutes.1, r.sync_s
    );

    o.push_str("\nOkta\n");
    let _ = writeln!(
        o,
        "  import: {} pages of GET /Users?startIndex&count=100; {} responses slower than Okta's 60 s request timeout",
        r.import_pages, r.over_okta_timeout
    );

    if !r.correctness.is_empty() {
        o.push_str("\nCorrectness after the sync\n");
        for c in &r.correctness {
            let _ = writeln!(o, "  {} {}: {}", verdict(c.pass), c.name, c.detail);
        }
    }
    if !thresholds.is_empty() {
        o.push_str("\nThresholds\n");
        for t in thresholds {
            let _ = writeln!(
                o,
                "  {} {}: {} (limit {})",
                verdict(t.pass),
                t.name,
                t.actual,
                t.limit
            );
        }
    }
    o.push('\n');
    if r.kept {
        let _ = writeln!(
            o,
            "Kept what the run created (--keep); `{cleanup_hint}` removes it"
        );
    } else if r.leftovers > 0 {
        let _ = writeln!(
            o,
            "Cleanup: {} resources could not be deleted; `{cleanup_hint}` removes them",
            r.leftovers
        );
    } else {
        o.push_str("Cleanup: everything this run created was deleted\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
