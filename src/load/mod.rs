//! `scimitar load`: an Entra-style initial sync at scale against a SCIM
//! endpoint, with latency percentiles, throttling, Microsoft's gallery rate
//! and quarantine thresholds, and checks that the target stored what it
//! acknowledged.
//!
//! The scenario ([`scenario`]): for each user, Entra's match (`GET
//! /Users?filter=userName eq`) then create (`POST /Users`, Entra's body);
//! for each group the displayName match, create, then member PATCHes in
//! batches; correctness checks; an incremental cycle (attribute PATCHes,
//! `active=false`, DELETE on shares of the users); an Okta-style import
//! (`GET /Users?startIndex=…&count=100`); then cleanup of everything created.
//!
//! Data flows one way: [`run`] drives the requests over
//! [`crate::http::Client`] and returns a [`LoadReport`]; [`report`] renders
//! it; [`locust`] writes the same scenario as a locustfile.

mod driver;
mod ids;
pub mod locust;
pub mod report;
pub mod scenario;
pub mod stats;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

pub use stats::{Check, Gallery, OperationReport, Quarantine, Throttling};

use crate::http::{Client, HttpError};

/// What to run. `Default` is a small sync (1,000 users, 20 groups of 50).
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Users to sync.
    pub users: usize,
    /// Groups to sync.
    pub groups: usize,
    /// Members per group (users of this run, wrapping around).
    pub members: usize,
    /// Members added per PATCH.
    pub member_batch: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests per second at most, over all workers.
    pub rate: Option<f64>,
    /// Share of the users the incremental cycle updates (attribute PATCH).
    pub update_share: f64,
    /// Share of the users it disables (`active=false`).
    pub disable_share: f64,
    /// Share of the users it deletes.
    pub delete_share: f64,
    /// Okta's import page size.
    pub import_page: usize,
    /// Parallel creates of one userName in the uniqueness check.
    pub duplicates: usize,
    /// Names start with `scimitar-<run_id>-`.
    pub run_id: String,
    /// Leave what the run created.
    pub keep: bool,
    /// Retries of a request answered 429.
    pub max_retries: u32,
    /// Longest Retry-After honoured.
    pub max_retry_wait: Duration,
    /// Wait after a 429 without Retry-After.
    pub default_retry_wait: Duration,
}

impl Default for LoadConfig {
    fn default() -> LoadConfig {
        LoadConfig {
            users: 1000,
            groups: 20,
            members: 50,
            member_batch: 10,
            concurrency: 16,
            rate: None,
            update_share: 0.10,
            disable_share: 0.05,
            delete_share: 0.05,
            import_page: 100,
            duplicates: 8,
            run_id: crate::runner::new_run_id(),
            keep: false,
            max_retries: 5,
            max_retry_wait: Duration::from_secs(30),
            default_retry_wait: Duration::from_secs(1),
        }
    }
}

impl LoadConfig {
    fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: &str| Err(LoadError::Config(m.to_string()));
        if self.users == 0 {
            return bad("--users must be at least 1");
        }
        if self.users > u32::MAX as usize || self.groups > u32::MAX as usize {
            return bad("--users and --groups must be below 4,294,967,296");
        }
        if self.concurrency == 0 {
            return bad("--concurrency must be at least 1");
        }
        if self.member_batch == 0 {
            return bad("--member-batch must be at least 1");
        }
        if self.import_page == 0 {
            return bad("the import page size must be at least 1");
        }
        if let Some(r) = self.rate
            && !(r.is_finite() && r > 0.0 && Duration::try_from_secs_f64(1.0 / r).is_ok())
        {
            return bad("--rate must be a positive number of requests per second");
        }
        Ok(())
    }
}

/// Why a load run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A setting is out of range.
    #[error("{0}")]
    Config(String),
    /// The first request got no response.
    #[error("cannot reach the SCIM endpoint: {0}")]
    Unreachable(HttpError),
    /// No credentials could be had (an OAuth token endpoint refused).
    #[error("cannot get credentials: {0}")]
    Credentials(String),
    /// The first request was refused (401/403): the run would measure nothing.
    #[error(
        "the SCIM endpoint answered {0} to the first request (Entra's test connection, GET /Users?filter=…): check the credentials"
    )]
    Unauthorized(u16),
}

/// Live counters for progress display; the driver only writes them.
#[derive(Debug, Default)]
pub struct Live {
    phase: Mutex<&'static str>,
    /// Units (users, groups, pages) done in the current phase.
    pub done: AtomicU64,
    /// Units in the current phase.
    pub total: AtomicU64,
    /// Operations finished.
    pub operations: AtomicU64,
    /// Operations that did not end as expected.
    pub errors: AtomicU64,
}

impl Live {
    /// The current phase (`users`, `groups`, `cleanup users`, …).
    pub fn phase(&self) -> &'static str {
        self.phase.lock().map(|p| *p).unwrap_or("")
    }

    fn start_phase(&self, name: &'static str, total: u64) {
        if let Ok(mut p) = self.phase.lock() {
            *p = name;
        }
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }
}

/// Everything a load run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// The SCIM base URL.
    pub target: String,
    /// What every name of this run starts with (`scimitar-<run id>-`).
    pub run_prefix: String,
    /// Users asked for.
    pub users: usize,
    /// Groups asked for.
    pub groups: usize,
    /// Members per group asked for.
    pub members: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// `--rate`, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
    /// Requests on the wire (429 retries included).
    pub requests: u64,
    /// Wall time from the first request to the end of cleanup.
    pub duration_s: f64,
    /// `requests / duration_s`.
    pub rps: f64,
    /// Operations that did not end as expected.
    pub errors: u64,
    /// `errors` over operations.
    pub error_rate: f64,
    /// 429 responses received.
    pub throttled: u64,
    /// Median latency over every operation.
    pub p50_ms: f64,
    /// 95th percentile latency over every operation.
    pub p95_ms: f64,
    /// 99th percentile latency over every operation.
    pub p99_ms: f64,
    /// Slowest response.
    pub max_ms: f64,
    /// Responses slower than Okta's 60 s request timeout.
    pub over_okta_timeout: u64,
    /// One row per operation that ran, in scenario order.
    pub operations: Vec<OperationReport>,
    /// What 429s did.
    pub throttling: Throttling,
    /// Microsoft's gallery rate check.
    pub gallery: Gallery,
    /// What Entra's quarantine rules would make of the failures.
    pub quarantine: Quarantine,
    /// Whether the target stored what it acknowledged.
    pub correctness: Vec<Check>,
    /// Seconds of the initial sync (users, groups, members).
    pub sync_s: f64,
    /// Entra's own pace for this many objects: 0.01 to 0.08 minutes per
    /// object (users + groups + memberships), in minutes.
    pub entra_cycle_minutes: (f64, f64),
    /// Okta import pages read.
    pub import_pages: u64,
    /// Resources cleanup could not delete.
    pub leftovers: u64,
    /// `--keep`: nothing was deleted at the end.
    pub kept: bool,
    /// Ctrl-C stopped the run early (cleanup still ran).
    pub interrupted: bool,
}

impl LoadReport {
    /// Whether every correctness check passed.
    pub fn correct(&self) -> bool {
        self.correctness.iter().all(|c| c.pass)
    }
}

/// Runs the scenario against the client's target. `cancel` stops new work
/// (in-flight requests finish) and goes straight to cleanup.
pub async fn run(
    client: Arc<Client>,
    config: LoadConfig,
    cancel: Arc<AtomicBool>,
    live: Arc<Live>,
) -> Result<LoadReport, LoadError> {
    config.validate()?;
    driver::Driver::new(client, config, cancel, live)
        .run()
        .await
}
