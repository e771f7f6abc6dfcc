//! The limiter: one per target, shared by every suite of a run. It keeps
//! the number of requests in flight under a limit that halves on a 429 and
//! grows back by one per window of successes (AIMD, as TCP does), so a
//! rate-limited server is met at the pace it can take instead of being hit
//! by every suite at once.

use std::time::Duration;

use serde::Serialize;

/// How the server's 429s shaped the run: counted by the HTTP client's
/// limiter, reported always (a throttled run must not look like an
/// unthrottled one).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Throttling {
    /// 429 answers received.
    pub throttled: u64,
    /// Time spent waiting because of them, summed over requests.
    #[serde(rename = "waited_ms", serialize_with = "crate::http::ser_ms")]
    pub waited: Duration,
    /// The most requests the limiter let in flight at once.
    pub max_in_flight: usize,
    /// The fewest it allowed after a 429 (its lowest limit).
    pub min_limit: usize,
    /// Requests that stayed rate limited past `--max-retry-wait`.
    pub gave_up: u64,
}

impl Throttling {
    /// `throttled 212 times, waited 31 s, at most 2 requests in flight`, or
    /// `None` when the server never answered 429.
    pub fn summary(&self) -> Option<String> {
        if self.throttled == 0 {
            return None;
        }
        let times = if self.throttled == 1 { "time" } else { "times" };
        let mut s = format!(
            "throttled {} {times}, waited {:.0} s, at most {} request{} in flight (down to {} after 429s)",
            self.throttled,
            self.waited.as_secs_f64(),
            self.max_in_flight,
            if self.max_in_flight == 1 { "" } else { "s" },
            self.min_limit,
        );
        if self.gave_up > 0 {
            s.push_str(&format!(
                "; {} request{} still rate limited after --max-retry-wait",
                self.gave_up,
                if self.gave_up == 1 { "" } else { "s" }
            ));
        }
        Some(s)
    }
}

/// Most requests in flight the limiter ever allows; the suites' `--jobs`
/// keeps real runs far below it.
const CEILING: usize = 64;

/// How long a cut of the limit holds before another 429 may cut it again:
/// the 429s of requests already in flight answer the same overload.
const CUT_HOLD: Duration = Duration::from_millis(500);

/// Shared by every request to one target.
#[derive(Debug)]
pub struct Limiter {
    state: std::sync::Mutex<State>,
    changed: tokio::sync::Notify,
}

#[derive(Debug)]
struct State {
    /// Requests allowed in flight now.
    limit: usize,
    in_flight: usize,
    /// Successes since the limit last grew.
    successes: usize,
    /// No request starts before this (the server's Retry-After).
    paused_until: Option<std::time::Instant>,
    last_cut: Option<std::time::Instant>,
    stats: Throttling,
}

/// A request's place in flight; dropping it frees the place.
#[derive(Debug)]
pub struct Permit<'a> {
    limiter: &'a Limiter,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.limiter.state.lock() {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        self.limiter.changed.notify_waiters();
    }
}

impl Default for Limiter {
    fn default() -> Limiter {
        Limiter {
            state: std::sync::Mutex::new(State {
                limit: CEILING,
                in_flight: 0,
                successes: 0,
                paused_until: None,
                last_cut: None,
                stats: Throttling {
                    min_limit: CEILING,
                    ..Throttling::default()
                },
            }),
            changed: tokio::sync::Notify::new(),
        }
    }
}

impl Limiter {
    /// Waits for a place in flight (and for any pause the server asked for).
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            // Registered before the check, so a release in between is not lost.
            let notified = self.changed.notified();
            let wait = {
                let Ok(mut s) = self.state.lock() else {
                    return Permit { limiter: self };
                };
                let now = std::time::Instant::now();
                match s.paused_until {
                    Some(t) if t > now => Some(t - now),
                    _ if s.in_flight < s.limit => {
                        s.in_flight += 1;
                        s.stats.max_in_flight = s.stats.max_in_flight.max(s.in_flight);
                        return Permit { limiter: self };
                    }
                    _ => None,
                }
            };
            match wait {
                Some(d) => tokio::time::sleep(d).await,
                None => notified.await,
            }
        }
    }

    /// A response that was not a 429: the limit grows by one per `limit`
    /// successes (additive increase).
    pub fn success(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.successes += 1;
            if s.successes >= s.limit && s.limit < CEILING {
                s.limit += 1;
                s.successes = 0;
                drop(s);
                self.changed.notify_waiters();
            }
        }
    }

    /// A 429: the limit halves (at most once per [`CUT_HOLD`]), and no
    /// request starts before `pause` is over. Returns the limit now.
    pub fn throttled(&self, pause: Duration) -> usize {
        let Ok(mut s) = self.state.lock() else {
            return 1;
        };
        let now = std::time::Instant::now();
        s.stats.throttled += 1;
        if s.last_cut.is_none_or(|t| now.duration_since(t) >= CUT_HOLD) {
            // From what was really in flight: a limit never reached says nothing.
            s.limit = (s.limit.min(s.in_flight.max(1)) / 2).max(1);
            s.successes = 0;
            s.last_cut = Some(now);
            s.stats.min_limit = s.stats.min_limit.min(s.limit);
        }
        let until = now + pause;
        if s.paused_until.is_none_or(|t| t < until) {
            s.paused_until = Some(until);
        }
        s.limit
    }

    /// Time a request spent waiting on 429s.
    pub fn waited(&self, d: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.stats.waited += d;
        }
    }

    /// A request that stayed rate limited past its budget.
    pub fn gave_up(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.stats.gave_up += 1;
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> Throttling {
        self.state
            .lock()
            .map(|s| {
                let mut t = s.stats.clone();
                if t.throttled == 0 {
                    t.min_limit = t.max_in_flight;
                }
                t
            })
            .unwrap_or_default()
    }
}

/// `wait` plus up to a quarter of it (at least up to 100 ms) at random, so
/// requests told the same Retry-After do not all return in the same instant.
pub fn jitter(wait: Duration) -> Duration {
    let spread = (wait / 4).max(Duration::from_millis(100));
    let r = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    wait + spread.mul_f64(r)
}

/// The wait after the `n`th 429 of a request (1-based) when the server
/// names none (or zero): 0.5 s, doubling, at most 8 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis(500)
        .saturating_mul(1 << n.saturating_sub(1).min(4))
        .min(Duration::from_secs(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_halves_what_is_in_flight_and_successes_grow_it_back() {
        let l = Limiter::default();
        let permits: Vec<_> = futures_join(&l, 8).await;
        assert_eq!(l.stats().max_in_flight, 8);
        assert_eq!(l.throttled(Duration::ZERO), 4);
        // A second 429 of the same burst does not cut again.
        assert_eq!(l.throttled(Duration::ZERO), 4);
        drop(permits);
        for _ in 0..4 {
            l.success();
        }
        assert_eq!(l.state.lock().unwrap().limit, 5);
        let s = l.stats();
        assert_eq!((s.throttled, s.min_limit), (2, 4));
    }

    async fn futures_join(l: &Limiter, n: usize) -> Vec<Permit<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire().await);
        }
        v
    }

    #[test]
    fn jitter_and_backoff_stay_in_bounds() {
        for _ in 0..100 {
            let j = jitter(Duration::from_secs(2));
            assert!(j >= Duration::from_secs(2) && j <= Duration::from_millis(2500));
        }
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(10), Duration::from_secs(8));
    }
}
