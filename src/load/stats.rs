//! What a load run measured, kept in constant memory: per operation a
//! latency histogram (hdrhistogram) and counters, never the exchanges.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are kept in microseconds, from 1 µs to one hour, to 3
/// significant digits: about 90 KB per operation, whatever the run's size.
pub(crate) fn new_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static histogram bounds are valid")
}

/// How one operation's request ended, when it did not end as expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An unexpected HTTP status (429 only when retries ran out).
    Status(u16),
    /// No response within the timeout.
    Timeout,
    /// No response for another reason (connection refused, reset, TLS).
    Transport,
    /// The expected status, but a body that cannot be used (no `id`).
    Body,
}

/// The running tally of one operation.
#[derive(Debug)]
pub(crate) struct OpStats {
    pub(crate) histogram: Histogram<u32>,
    pub(crate) count: u64,
    pub(crate) by_status: BTreeMap<u16, u64>,
    pub(crate) timeouts: u64,
    pub(crate) transport: u64,
    pub(crate) bad_body: u64,
    pub(crate) first: Option<Instant>,
    pub(crate) last: Option<Instant>,
}

impl OpStats {
    pub(crate) fn new() -> OpStats {
        OpStats {
            histogram: new_histogram(),
            count: 0,
            by_status: BTreeMap::new(),
            timeouts: 0,
            transport: 0,
            bad_body: 0,
            first: None,
            last: None,
        }
    }

    pub(crate) fn record(
        &mut self,
        started: Instant,
        latency: Option<Duration>,
        failure: Option<Failure>,
    ) {
        self.count += 1;
        self.first = Some(self.first.map_or(started, |f| f.min(started)));
        let end = Instant::now();
        self.last = Some(self.last.map_or(end, |l| l.max(end)));
        if let Some(l) = latency {
            self.histogram
                .saturating_record((l.as_micros() as u64).max(1));
        }
        match failure {
            None => {}
            Some(Failure::Status(s)) => *self.by_status.entry(s).or_default() += 1,
            Some(Failure::Timeout) => self.timeouts += 1,
            Some(Failure::Transport) => self.transport += 1,
            Some(Failure::Body) => self.bad_body += 1,
        }
    }

    pub(crate) fn errors(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.timeouts + self.transport + self.bad_body
    }
}

fn ms(us: u64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

/// One row of the operations table.
#[derive(Debug, Clone, Serialize)]
pub struct OperationReport {
    /// Stable name (`create-user`).
    pub name: String,
    /// The request it sends (`POST /Users`).
    pub request: String,
    /// Operations finished (a 429 retried to success counts once).
    pub count: u64,
    /// Operations that did not end as expected.
    pub errors: u64,
    /// Unexpected statuses by code (4xx each, 5xx each, 429 after retries).
    pub by_status: BTreeMap<u16, u64>,
    /// No response within `--timeout`.
    pub timeouts: u64,
    /// No response for another reason (refused, reset, TLS).
    pub transport_errors: u64,
    /// Expected status but no usable body (a create without `id`).
    pub bad_bodies: u64,
    /// Over the operation's own span (first start to last end).
    pub rps: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 95th percentile latency.
    pub p95_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Slowest response.
    pub max_ms: f64,
}

impl OperationReport {
    pub(crate) fn from_stats(name: &str, request: &str, s: &OpStats) -> OperationReport {
        let span = match (s.first, s.last) {
            (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
            _ => 0.0,
        };
        let h = &s.histogram;
        let q = |x: f64| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(x))
            }
        };
        OperationReport {
            name: name.to_string(),
            request: request.to_string(),
            count: s.count,
            errors: s.errors(),
            by_status: s.by_status.clone(),
            timeouts: s.timeouts,
            transport_errors: s.transport,
            bad_bodies: s.bad_body,
            rps: if span > 0.0 {
                round1(s.count as f64 / span)
            } else {
                0.0
            },
            p50_ms: q(0.50),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            max_ms: if h.is_empty() { 0.0 } else { ms(h.max()) },
        }
    }

    /// `404×3 409×1 5xx×12 timeout×2`: the error classes, or `-`.
    pub fn error_classes(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut server = 0;
        for (status, n) in &self.by_status {
            if *status >= 500 {
                server += n;
            } else {
                parts.push(format!("{status}×{n}"));
            }
        }
        if server > 0 {
            parts.push(format!("5xx×{server}"));
        }
        for (label, n) in [
            ("timeout", self.timeouts),
            ("no-response", self.transport_errors),
            ("bad-body", self.bad_bodies),
        ] {
            if n > 0 {
                parts.push(format!("{label}×{n}"));
            }
        }
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join(" ")
        }
    }
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// What 429 Too Many Requests did to the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Throttling {
    /// 429 responses received (each retry that got one counts).
    pub responses_429: u64,
    /// 429s that carried Retry-After.
    pub with_retry_after: u64,
    /// 429s without it.
    pub without_retry_after: u64,
    /// Waits that were as long as the server asked.
    pub honoured: u64,
    /// Waits cut to `--max-retry-wait` because the server asked for longer.
    pub capped: u64,
    /// Operations still answered 429 after the last retry (counted as errors).
    pub gave_up: u64,
    /// Wall time every worker stood still because of 429s, in seconds.
    pub time_lost_s: f64,
    /// The longest Retry-After asked, in seconds.
    pub max_retry_after_s: Option<f64>,
    /// The wait after a 429 without Retry-After, in seconds.
    pub default_wait_s: f64,
}

/// Microsoft's gallery requirement: at least 25 requests/s per tenant on
/// /Users, measured over the initial user sync (only /Users traffic).
#[derive(Debug, Clone, Serialize)]
pub struct Gallery {
    /// 25.
    pub required_rps: f64,
    /// Successful /Users requests per second over the user sync.
    pub users_rps: f64,
    /// The slowest whole second of the user sync (None when it lasted under 2 s).
    pub slowest_second: Option<u64>,
    /// How long the user sync took.
    pub seconds: f64,
    /// `users_rps` reached 25.
    pub pass: bool,
    /// Why the check says nothing (`--rate` below 25), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<String>,
}

/// Microsoft's documented escrow/quarantine thresholds (application
/// provisioning quarantine status, ms.date 2025-03-04).
/// Failures before the escrow rule is evaluated at all.
pub const ESCROW_MIN_FAILURES: u64 = 5_000;
/// Quarantine when the failed share exceeds this…
pub const QUARANTINE_SHARE: f64 = 0.40;
/// …or failures exceed this (reference failures excluded).
pub const QUARANTINE_FAILURES: u64 = 40_000;
/// The absolute limit, reference failures included.
pub const QUARANTINE_ABSOLUTE: u64 = 60_000;

/// What Entra's quarantine logic would make of this run's outcomes.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantine {
    /// Failed object operations (match, create, update, disable, delete).
    pub failures: u64,
    /// Object operations that succeeded.
    pub successes: u64,
    /// Failed reference updates (group members): count toward 60,000 only.
    pub reference_failures: u64,
    /// `failures / (failures + successes)`.
    pub failure_share: f64,
    /// Entra would quarantine this job.
    pub would_quarantine: bool,
    /// Why, in one sentence.
    pub reason: String,
    /// At this failure share, the fewest failures (and so objects) at which a
    /// larger tenant's initial sync would be quarantined; None if never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_objects_at_risk: Option<u64>,
}

impl Quarantine {
    /// `auth_failures`: 401/403 answers (Entra quarantines on bad
    /// credentials whatever the counts); `match_404`: a filter GET answered
    /// 404 where Entra expects 200 with an empty list (quarantine regardless
    /// of counts, Microsoft's own example).
    pub fn forecast(
        failures: u64,
        successes: u64,
        reference_failures: u64,
        auth_failures: u64,
        match_404: u64,
    ) -> Quarantine {
        let total = failures + successes;
        let share = if total == 0 {
            0.0
        } else {
            failures as f64 / total as f64
        };
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let (quarantine, reason) = if auth_failures > 0 {
            (
                true,
                format!(
                    "{auth_failures} requests were refused as unauthenticated (401/403): Entra quarantines a job with invalid credentials whatever the counts (EncounteredQuarantineException)"
                ),
            )
        } else if match_404 > 0 {
            (
                true,
                format!(
                    "{match_404} filter queries that find nothing answered 404: Entra expects 200 with an empty list and quarantines for this regardless of failure counts"
                ),
            )
        } else if failures + reference_failures > QUARANTINE_ABSOLUTE {
            (
                true,
                format!(
                    "{} failures including references exceed the absolute limit of 60,000",
                    failures + reference_failures
                ),
            )
        } else if failures >= ESCROW_MIN_FAILURES && share > QUARANTINE_SHARE {
            (
                true,
                format!(
                    "{failures} failures ({}) pass 5,000 and the 40% share (EncounteredEscrowProportionThreshold)",
                    pct(share)
                ),
            )
        } else if failures > QUARANTINE_FAILURES {
            (
                true,
                format!("{failures} failures pass 5,000 and exceed 40,000"),
            )
        } else if failures < ESCROW_MIN_FAILURES {
            (
                false,
                format!(
                    "{failures} failures ({}): below the 5,000 at which Entra starts evaluating escrows",
                    pct(share)
                ),
            )
        } else {
            (
                false,
                format!(
                    "{failures} failures ({}): at most 40% and at most 40,000",
                    pct(share)
                ),
            )
        };
        // The same share in a bigger tenant: quarantined once failures reach
        // 5,000 with share > 40%, or pass 40,000 at any share.
        let tenant_objects_at_risk = if failures == 0 || quarantine {
            None
        } else if share > QUARANTINE_SHARE {
            Some((ESCROW_MIN_FAILURES as f64 / share).ceil() as u64)
        } else {
            Some(((QUARANTINE_FAILURES + 1) as f64 / share).ceil() as u64)
        };
        Quarantine {
            failures,
            successes,
            reference_failures,
            failure_share: (share * 10_000.0).round() / 10_000.0,
            would_quarantine: quarantine,
            reason,
            tenant_objects_at_risk,
        }
    }
}

/// Checks that the target stored what it acknowledged.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `user-count`, `group-members` or `unique-userName`.
    pub name: String,
    /// Whether it held.
    pub pass: bool,
    /// What was seen, in one sentence.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsofts_worked_examples() {
        // [MS-Q]: 45,000 failed → quarantine; 30,000 failed + 5,000 succeeded
        // → quarantine; 20,000 failed + 100,000 succeeded → no quarantine.
        assert!(Quarantine::forecast(45_000, 0, 0, 0, 0).would_quarantine);
        assert!(Quarantine::forecast(30_000, 5_000, 0, 0, 0).would_quarantine);
        assert!(!Quarantine::forecast(20_000, 100_000, 0, 0, 0).would_quarantine);
        // Under 5,000 failures nothing is evaluated, even at 100%.
        let q = Quarantine::forecast(4_999, 0, 0, 0, 0);
        assert!(!q.would_quarantine, "{}", q.reason);
        // References count toward 60,000 only.
        assert!(!Quarantine::forecast(10_000, 100_000, 45_000, 0, 0).would_quarantine);
        assert!(Quarantine::forecast(10_000, 100_000, 50_001, 0, 0).would_quarantine);
        // Credentials and a 404 on an empty match quarantine at any count.
        assert!(Quarantine::forecast(1, 1_000, 0, 1, 0).would_quarantine);
        assert!(Quarantine::forecast(1, 1_000, 0, 0, 1).would_quarantine);
    }

    #[test]
    fn tenant_size_at_risk_follows_the_share() {
        // 10% failing: a tenant quarantines once failures pass 40,000.
        let q = Quarantine::forecast(100, 900, 0, 0, 0);
        assert_eq!(q.failure_share, 0.1);
        assert_eq!(q.tenant_objects_at_risk, Some(400_010));
        // 50% failing: 5,000 failures suffice.
        let q = Quarantine::forecast(500, 500, 0, 0, 0);
        assert_eq!(q.tenant_objects_at_risk, Some(10_000));
        assert_eq!(
            Quarantine::forecast(0, 10, 0, 0, 0).tenant_objects_at_risk,
            None
        );
    }

    #[test]
    fn error_classes_list_each_4xx_and_group_5xx() {
        let mut s = OpStats::new();
        let t = Instant::now();
        for f in [
            Some(Failure::Status(404)),
            Some(Failure::Status(409)),
            Some(Failure::Status(409)),
            Some(Failure::Status(500)),
            Some(Failure::Status(503)),
            Some(Failure::Timeout),
            None,
        ] {
            s.record(t, Some(Duration::from_millis(5)), f);
        }
        let r = OperationReport::from_stats("x", "GET /x", &s);
        assert_eq!(r.count, 7);
        assert_eq!(r.errors, 6);
        assert_eq!(r.error_classes(), "404×1 409×2 5xx×2 timeout×1");
        assert_eq!(r.p50_ms, 5.0);
    }
}
