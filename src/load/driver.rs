//! Runs the scenario: phases of independent units (a user, a group, a
//! page) taken by `concurrency` workers from a shared counter, every request
//! through one pacing point (the 429 pause and `--rate`).

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::Value;

use super::ids::IdTable;
use super::scenario::{self, Names, OPERATIONS, Op};
use super::stats::{
    self, Check, Failure, Gallery, OpStats, OperationReport, Quarantine, Throttling,
};
use super::{Live, LoadConfig, LoadError, LoadReport};
use crate::http::{Client, HttpError, Request};

/// A request's end, as the scenario needs it.
struct Outcome {
    status: Option<u16>,
    json: Option<Value>,
    ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Users,
    Groups,
    VerifyGroups,
    Incremental,
    Import,
    CleanupGroups,
    CleanupUsers,
}

#[derive(Default)]
struct ThrottleState {
    paused_until: Option<Instant>,
    stats: Throttling,
}

pub(super) struct Driver {
    client: Arc<Client>,
    cfg: LoadConfig,
    names: Names,
    cancel: Arc<AtomicBool>,
    live: Arc<Live>,
    stats: Vec<Mutex<OpStats>>,
    throttle: Mutex<ThrottleState>,
    limiter: Option<DefaultDirectRateLimiter>,
    users: Mutex<IdTable>,
    groups: Mutex<IdTable>,
    /// (group, batch) member PATCHes that failed: the group's expected
    /// members leave those out.
    failed_batches: Mutex<HashSet<(usize, usize)>>,
    /// Successful /Users requests per second of the user sync.
    users_seconds: Mutex<Vec<u32>>,
    users_started: Mutex<Option<Instant>>,
    import_total: AtomicUsize,
    import_pages: AtomicU64,
    group_checks: Mutex<(u64, Vec<String>)>,
    leftovers: AtomicU64,
}

/// Attempts per cleanup DELETE (besides 429 retries): cleanup is not
/// measured Entra traffic, and leaving data behind is worse than a retry.
const CLEANUP_ATTEMPTS: u32 = 3;

impl Driver {
    pub(super) fn new(
        client: Arc<Client>,
        cfg: LoadConfig,
        cancel: Arc<AtomicBool>,
        live: Arc<Live>,
    ) -> Arc<Driver> {
        let limiter = cfg.rate.and_then(|r| {
            let quota = Quota::with_period(Duration::from_secs_f64(1.0 / r))?;
            // A burst of one: the rate holds within every second, not on average.
            Some(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN)))
        });
        Arc::new(Driver {
            names: Names::new(&cfg.run_id),
            users: Mutex::new(IdTable::new(cfg.users)),
            groups: Mutex::new(IdTable::new(cfg.groups)),
            stats: OPERATIONS
                .iter()
                .map(|_| Mutex::new(OpStats::new()))
                .collect(),
            throttle: Mutex::new(ThrottleState::default()),
            failed_batches: Mutex::new(HashSet::new()),
            users_seconds: Mutex::new(Vec::new()),
            users_started: Mutex::new(None),
            import_total: AtomicUsize::new(0),
            import_pages: AtomicU64::new(0),
            group_checks: Mutex::new((0, Vec::new())),
            leftovers: AtomicU64::new(0),
            limiter,
            client,
            cfg,
            cancel,
            live,
        })
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    pub(super) async fn run(self: Arc<Self>) -> Result<LoadReport, LoadError> {
        self.preflight().await?;
        let sent_before = self.client.requests_sent();
        let started = Instant::now();

        *lock(&self.users_started) = Some(Instant::now());
        self.phase(Phase::Users, 0, self.cfg.users).await;
        let users_s = started.elapsed().as_secs_f64();
        self.phase(Phase::Groups, 0, self.cfg.groups).await;
        let sync_s = started.elapsed().as_secs_f64();

        let mut correctness = Vec::new();
        if !self.cancelled() {
            correctness.push(self.verify_count().await);
        }
        if !self.cancelled() && self.cfg.groups > 0 {
            self.phase(Phase::VerifyGroups, 0, self.cfg.groups).await;
            correctness.push(self.group_check());
        }
        if !self.cancelled() && self.cfg.duplicates >= 2 {
            correctness.push(self.verify_duplicates().await);
        }
        let (u, d, x) = self.incremental();
        self.phase(Phase::Incremental, 0, u.len() + d.len() + x.len())
            .await;
        self.import().await;
        if !self.cfg.keep {
            self.phase(Phase::CleanupGroups, 0, self.cfg.groups).await;
            self.phase(Phase::CleanupUsers, 0, self.cfg.users).await;
        }
        let duration = started.elapsed().as_secs_f64();
        let requests = self.client.requests_sent() - sent_before;
        Ok(self.report(requests, duration, users_s, sync_s, correctness))
    }

    /// Entra's test connection: one match on a random name. Fails the start
    /// when the target is unreachable or refuses the credentials.
    async fn preflight(&self) -> Result<(), LoadError> {
        let probe = format!("userName eq \"{}\"", uuid::Uuid::new_v4());
        let mut r = Request::new(reqwest::Method::GET, "/Users");
        r.query.push(("filter".into(), probe));
        for _ in 0..=self.cfg.max_retries {
            let ex = self.client.send_once(&r).await.map_err(|e| match e {
                HttpError::Credentials(why) => LoadError::Credentials(why),
                e => LoadError::Unreachable(e),
            })?;
            match ex.response.status {
                s @ (401 | 403) => return Err(LoadError::Unauthorized(s)),
                429 => {
                    let asked = ex
                        .response
                        .header("retry-after")
                        .and_then(crate::http::retry_after_value);
                    let wait = asked.unwrap_or(self.cfg.default_retry_wait);
                    tokio::time::sleep(wait.min(self.cfg.max_retry_wait)).await;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    fn incremental(
        &self,
    ) -> (
        std::ops::Range<usize>,
        std::ops::Range<usize>,
        std::ops::Range<usize>,
    ) {
        scenario::incremental_ranges(
            self.cfg.users,
            self.cfg.update_share,
            self.cfg.disable_share,
            self.cfg.delete_share,
        )
    }

    /// Runs units `from..n` of a phase on `concurrency` workers.
    async fn phase(self: &Arc<Self>, phase: Phase, from: usize, n: usize) {
        let cleanup = matches!(phase, Phase::CleanupGroups | Phase::CleanupUsers);
        if from >= n || (self.cancelled() && !cleanup) {
            return;
        }
        self.live.start_phase(phase_name(phase), (n - from) as u64);
        let next = Arc::new(AtomicUsize::new(from));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.cfg.concurrency.min(n - from) {
            let me = self.clone();
            let next = next.clone();
            workers.spawn(async move {
                // Cleanup always runs to the end: it is what Ctrl-C asks for.
                while cleanup || !me.cancelled() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    me.unit(phase, i).await;
                    me.live.done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while workers.join_next().await.is_some() {}
    }

    async fn unit(&self, phase: Phase, i: usize) {
        match phase {
            Phase::Users => self.sync_user(i).await,
            Phase::Groups => self.sync_group(i).await,
            Phase::VerifyGroups => self.verify_group(i).await,
            Phase::Incremental => self.incremental_unit(i).await,
            Phase::Import => {
                let start = i * self.cfg.import_page + 1;
                self.import_page(start).await;
            }
            Phase::CleanupGroups => {
                let id = lock(&self.groups).get(i);
                if let Some(id) = id
                    && self.cleanup_delete("/Groups", &id).await
                {
                    lock(&self.groups).clear(i);
                }
            }
            Phase::CleanupUsers => {
                let id = lock(&self.users).get(i);
                if let Some(id) = id
                    && self.cleanup_delete("/Users", &id).await
                {
                    lock(&self.users).clear(i);
                }
            }
        }
    }

    async fn sync_user(&self, i: usize) {
        let m = self
            .send(Op::MatchUser, &scenario::match_user(&self.names, i))
            .await;
        self.users_second(&m);
        let c = self
            .send(Op::CreateUser, &scenario::create_user(&self.names, i))
            .await;
        self.users_second(&c);
        if c.ok
            && let Some(id) = c.json.as_ref().and_then(|j| j["id"].as_str())
        {
            lock(&self.users).set(i, id);
        }
    }

    /// Counts a successful /Users request toward the gallery's rate.
    fn users_second(&self, o: &Outcome) {
        if !o.ok {
            return;
        }
        let Some(start) = *lock(&self.users_started) else {
            return;
        };
        let sec = start.elapsed().as_secs() as usize;
        let mut v = lock(&self.users_seconds);
        if v.len() <= sec {
            v.resize(sec + 1, 0);
        }
        v[sec] += 1;
    }

    async fn sync_group(&self, g: usize) {
        self.send(Op::MatchGroup, &scenario::match_group(&self.names, g))
            .await;
        let c = self
            .send(Op::CreateGroup, &scenario::create_group(&self.names, g))
            .await;
        let Some(gid) = c
            .json
            .as_ref()
            .and_then(|j| j["id"].as_str())
            .filter(|_| c.ok)
            .map(str::to_string)
        else {
            return;
        };
        lock(&self.groups).set(g, &gid);
        let members = self.member_ids(g);
        for (b, batch) in members.chunks(self.cfg.member_batch).enumerate() {
            if self.cancelled() {
                return;
            }
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            let o = self
                .send(Op::AddMembers, &scenario::add_members(&gid, &refs))
                .await;
            if !o.ok {
                lock(&self.failed_batches).insert((g, b));
            }
        }
    }

    /// The ids of group `g`'s members that exist (their create succeeded).
    fn member_ids(&self, g: usize) -> Vec<String> {
        let users = lock(&self.users);
        scenario::group_members(g, self.cfg.members, self.cfg.users)
            .filter_map(|u| users.get(u))
            .collect()
    }

    async fn verify_count(&self) -> Check {
        let created = lock(&self.users).present().count();
        let mut r = Request::new(reqwest::Method::GET, "/Users");
        r.query.push((
            "filter".into(),
            format!("userName sw \"{}\"", self.names.prefix),
        ));
        r.query.push(("count".into(), "1".into()));
        let o = self.send(Op::VerifyCount, &r).await;
        let total = o.json.as_ref().and_then(|j| j["totalResults"].as_u64());
        let (pass, detail) = match (o.status, total) {
            (Some(200), Some(t)) if t == created as u64 => (
                true,
                format!(
                    "userName sw \"{}\" counts {t}, the users created",
                    self.names.prefix
                ),
            ),
            (Some(200), Some(t)) => (
                false,
                format!(
                    "userName sw \"{}\" counts {t}, but {created} creates were acknowledged with 201",
                    self.names.prefix
                ),
            ),
            (Some(s), _) => (
                false,
                format!("the prefix filter answered {s}, not a ListResponse"),
            ),
            (None, _) => (false, "the prefix filter got no response".into()),
        };
        Check {
            name: "user-count".into(),
            pass,
            detail,
        }
    }

    async fn verify_group(&self, g: usize) {
        let Some(gid) = lock(&self.groups).get(g) else {
            return;
        };
        let o = self
            .send(
                Op::VerifyGroup,
                &Request::new(reqwest::Method::GET, format!("/Groups/{gid}")),
            )
            .await;
        let members = self.member_ids(g);
        let failed = lock(&self.failed_batches).clone();
        let expected: HashSet<&str> = members
            .chunks(self.cfg.member_batch)
            .enumerate()
            .filter(|(b, _)| !failed.contains(&(g, *b)))
            .flat_map(|(_, batch)| batch.iter().map(String::as_str))
            .collect();
        let got: Option<HashSet<&str>> = o.json.as_ref().filter(|_| o.ok).map(|j| {
            j["members"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["value"].as_str())
                .collect()
        });
        let problem = match got {
            None => Some(format!(
                "{}: GET answered {}",
                self.names.group_name(g),
                o.status.map_or("nothing".into(), |s| s.to_string())
            )),
            Some(got) if got != expected => Some(format!(
                "{}: {} members, expected {} ({} missing, {} unexpected)",
                self.names.group_name(g),
                got.len(),
                expected.len(),
                expected.difference(&got).count(),
                got.difference(&expected).count()
            )),
            Some(_) => None,
        };
        let mut checks = lock(&self.group_checks);
        checks.0 += 1;
        if let Some(p) = problem {
            checks.1.push(p);
        }
    }

    fn group_check(&self) -> Check {
        let (checked, problems) = lock(&self.group_checks).clone();
        let pass = problems.is_empty() && checked > 0;
        let detail = if pass {
            format!("{checked} groups each hold exactly the members added")
        } else if checked == 0 {
            "no group was created, so none could be checked".into()
        } else {
            let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
            format!(
                "{} of {checked} groups differ: {}{}",
                problems.len(),
                shown.join("; "),
                if problems.len() > 3 { "; …" } else { "" }
            )
        };
        Check {
            name: "group-members".into(),
            pass,
            detail,
        }
    }

    /// Parallel creates of one userName: exactly one 201, the rest 409
    /// (RFC 7644 §3.3: uniqueness, scimType uniqueness).
    async fn verify_duplicates(self: &Arc<Self>) -> Check {
        let n = self.cfg.duplicates;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let me = self.clone();
            tasks.spawn(async move {
                let mut r = scenario::create_user(&me.names, 0);
                if let Some(b) = r.body.as_mut() {
                    b["userName"] = me.names.duplicate_name().into();
                    b["externalId"] = format!("{}dup", me.names.prefix).into();
                }
                me.send(Op::VerifyDuplicate, &r).await
            });
        }
        let (mut created, mut conflicts, mut other) = (Vec::new(), 0, Vec::new());
        while let Some(res) = tasks.join_next().await {
            let Ok(o) = res else { continue };
            match o.status {
                Some(201) => created.push(
                    o.json
                        .as_ref()
                        .and_then(|j| j["id"].as_str())
                        .unwrap_or_default()
                        .to_string(),
                ),
                Some(409) => conflicts += 1,
                s => other.push(s.map_or("no response".into(), |s| s.to_string())),
            }
        }
        let made = created.len();
        // Delete every copy at the end, like the rest (also with --keep: it is a probe).
        for id in created.iter().filter(|id| !id.is_empty()) {
            self.cleanup_delete("/Users", id).await;
        }
        let pass = made == 1 && conflicts == n - 1;
        let detail = if pass {
            format!("{n} parallel creates of one userName: one 201, {conflicts} × 409")
        } else {
            let mut d =
                format!("{n} parallel creates of one userName: {made} × 201, {conflicts} × 409");
            if !other.is_empty() {
                d.push_str(&format!(", other: {}", other.join(", ")));
            }
            if made > 1 {
                d.push_str(" (duplicates: Entra later fails with MultipleEntriesInResponse)");
            }
            d
        };
        Check {
            name: "unique-userName".into(),
            pass,
            detail,
        }
    }

    /// User `i` of the incremental ranges (updated, disabled, deleted).
    async fn incremental_unit(&self, i: usize) {
        let (u, d, _) = self.incremental();
        let id = lock(&self.users).get(i);
        let Some(id) = id else { return };
        if u.contains(&i) {
            self.send(Op::UpdateUser, &scenario::update_user(&self.names, &id, i))
                .await;
        } else if d.contains(&i) {
            self.send(Op::DisableUser, &scenario::disable_user(&id))
                .await;
        } else {
            let o = self
                .send(Op::DeleteUser, &scenario::delete("/Users", &id))
                .await;
            if o.ok {
                lock(&self.users).clear(i);
            }
        }
    }

    /// Okta's import: the first page gives totalResults, the rest follow in
    /// parallel. Reads at most the pages this run's users fill, so a shared
    /// tenant's other data does not stretch the run.
    async fn import(self: &Arc<Self>) {
        if self.cancelled() {
            return;
        }
        let page = self.cfg.import_page;
        self.live.start_phase("import", 1);
        self.import_page(1).await;
        let total = self.import_total.load(Ordering::Relaxed);
        let cap = self.cfg.users.div_ceil(page);
        let pages = total.div_ceil(page).min(cap);
        if pages > 1 {
            // Unit i reads the page starting at i * page + 1; the first is read.
            self.phase(Phase::Import, 1, pages).await;
        }
    }

    async fn import_page(&self, start: usize) {
        let o = self
            .send(
                Op::ImportUsers,
                &scenario::import_page(start, self.cfg.import_page),
            )
            .await;
        self.import_pages.fetch_add(1, Ordering::Relaxed);
        if start == 1
            && let Some(t) = o.json.as_ref().and_then(|j| j["totalResults"].as_u64())
        {
            self.import_total.store(t as usize, Ordering::Relaxed);
        }
    }

    /// DELETE with a few attempts; true when the resource is gone.
    async fn cleanup_delete(&self, endpoint: &str, id: &str) -> bool {
        for _ in 0..CLEANUP_ATTEMPTS {
            let o = self
                .send(Op::Cleanup, &scenario::delete(endpoint, id))
                .await;
            if o.ok {
                return true;
            }
            // A 4xx other than 404 will not change on retry.
            if o.status
                .is_some_and(|s| (400..500).contains(&s) && s != 429)
            {
                break;
            }
        }
        self.leftovers.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// Waits out a 429 pause and the rate limit, sends, and records.
    async fn send(&self, op: Op, req: &Request) -> Outcome {
        let mut retries = 0;
        loop {
            self.wait_turn().await;
            let started = Instant::now();
            let result = self.client.send_once(req).await;
            let (failure, status, json, latency) = match result {
                Ok(ex) if ex.response.status == 429 => {
                    let asked = ex
                        .response
                        .header("retry-after")
                        .and_then(crate::http::retry_after_value);
                    if retries < self.cfg.max_retries {
                        retries += 1;
                        self.pause(asked, false);
                        continue;
                    }
                    self.pause(asked, true);
                    (
                        Some(Failure::Status(429)),
                        Some(429),
                        None,
                        Some(ex.elapsed),
                    )
                }
                Ok(ex) => {
                    let status = ex.response.status;
                    let mut failure = (!op.expected(status)).then_some(Failure::Status(status));
                    let json = ex.response.json;
                    if failure.is_none() && !body_usable(op, status, json.as_ref()) {
                        failure = Some(Failure::Body);
                    }
                    (failure, Some(status), json, Some(ex.elapsed))
                }
                Err(
                    HttpError::Timeout { .. }
                    | HttpError::BodyTimeout { .. }
                    | HttpError::ConnectTimeout { .. },
                ) => (Some(Failure::Timeout), None, None, None),
                Err(_) => (Some(Failure::Transport), None, None, None),
            };
            lock(&self.stats[op.index()]).record(started, latency, failure);
            self.live.operations.fetch_add(1, Ordering::Relaxed);
            if failure.is_some() {
                self.live.errors.fetch_add(1, Ordering::Relaxed);
            }
            return Outcome {
                status,
                json,
                ok: failure.is_none(),
            };
        }
    }

    /// Stops every worker for the time a 429 asks (capped), as Entra does
    /// for the whole job; `gave_up` counts a 429 after the last retry.
    fn pause(&self, asked: Option<Duration>, gave_up: bool) {
        let mut t = lock(&self.throttle);
        let s = &mut t.stats;
        s.responses_429 += 1;
        match asked {
            Some(a) => {
                s.with_retry_after += 1;
                let secs = a.as_secs_f64();
                s.max_retry_after_s = Some(s.max_retry_after_s.map_or(secs, |m| m.max(secs)));
                if a > self.cfg.max_retry_wait {
                    s.capped += 1;
                } else if !gave_up {
                    s.honoured += 1;
                }
            }
            None => s.without_retry_after += 1,
        }
        if gave_up {
            s.gave_up += 1;
            return;
        }
        let wait = asked
            .unwrap_or(self.cfg.default_retry_wait)
            .min(self.cfg.max_retry_wait);
        let now = Instant::now();
        let until = now + wait;
        let from = t.paused_until.filter(|p| *p > now).unwrap_or(now);
        if until > from {
            t.stats.time_lost_s += (until - from).as_secs_f64();
            t.paused_until = Some(until);
        }
    }

    async fn wait_turn(&self) {
        loop {
            let until = lock(&self.throttle).paused_until;
            match until {
                Some(u) if u > Instant::now() => tokio::time::sleep_until(u.into()).await,
                _ => break,
            }
        }
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
    }

    fn report(
        &self,
        requests: u64,
        duration: f64,
        users_s: f64,
        sync_s: f64,
        correctness: Vec<Check>,
    ) -> LoadReport {
        let mut all = stats::new_histogram();
        let mut operations = Vec::new();
        let (mut failures, mut successes, mut refs, mut auth, mut m404) = (0, 0, 0, 0, 0);
        for (k, (name, request)) in OPERATIONS.iter().enumerate() {
            let s = lock(&self.stats[k]);
            let _ = all.add(&s.histogram);
            let r = OperationReport::from_stats(name, request, &s);
            let op = Op::ALL[k];
            if op.is_object() {
                failures += r.errors;
                successes += r.count - r.errors;
            }
            if op == Op::AddMembers {
                refs += r.errors;
            }
            auth += r.by_status.get(&401).unwrap_or(&0) + r.by_status.get(&403).unwrap_or(&0);
            if matches!(op, Op::MatchUser | Op::MatchGroup) {
                m404 += r.by_status.get(&404).unwrap_or(&0);
            }
            if r.count > 0 {
                operations.push(r);
            }
        }
        let count: u64 = operations.iter().map(|o| o.count).sum();
        let errors: u64 = operations.iter().map(|o| o.errors).sum();
        let q = |x: f64| {
            if all.is_empty() {
                0.0
            } else {
                (all.value_at_quantile(x) as f64 / 100.0).round() / 10.0
            }
        };
        let throttling = lock(&self.throttle).stats.clone();
        let users_ok = lock(&self.users_seconds)
            .iter()
            .map(|&n| n as u64)
            .sum::<u64>();
        let users_seconds = lock(&self.users_seconds).clone();
        // Whole seconds only: the last one is cut short by the phase's end.
        let full = (users_s.floor() as usize).min(users_seconds.len());
        let slowest_second = (full >= 2)
            .then(|| users_seconds[..full].iter().min().map(|&n| n as u64))
            .flatten();
        let users_rps = if users_s > 0.0 {
            users_ok as f64 / users_s
        } else {
            0.0
        };
        let required = 25.0;
        let not_measured = self
            .cfg
            .rate
            .filter(|r| *r < required)
            .map(|r| format!("--rate {r} is below the 25 requests/s the check needs"));
        let members_total: usize = (0..self.cfg.groups)
            .map(|g| scenario::group_members(g, self.cfg.members, self.cfg.users).count())
            .sum();
        let objects = (self.cfg.users + self.cfg.groups + members_total) as f64;
        let leftovers = self.leftovers.load(Ordering::Relaxed);
        LoadReport {
            target: self.client.base_url().to_string(),
            run_prefix: self.names.prefix.clone(),
            users: self.cfg.users,
            groups: self.cfg.groups,
            members: self.cfg.members,
            concurrency: self.cfg.concurrency,
            rate_limit: self.cfg.rate,
            requests,
            duration_s: (duration * 100.0).round() / 100.0,
            rps: if duration > 0.0 {
                stats::round1(requests as f64 / duration)
            } else {
                0.0
            },
            errors,
            error_rate: if count > 0 {
                (errors as f64 / count as f64 * 10_000.0).round() / 10_000.0
            } else {
                0.0
            },
            throttled: throttling.responses_429,
            p50_ms: q(0.50),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            max_ms: if all.is_empty() {
                0.0
            } else {
                (all.max() as f64 / 100.0).round() / 10.0
            },
            over_okta_timeout: all.count_between(60_000_000, u64::MAX),
            operations,
            throttling: Throttling {
                time_lost_s: (throttling.time_lost_s * 100.0).round() / 100.0,
                default_wait_s: self.cfg.default_retry_wait.as_secs_f64(),
                ..throttling
            },
            gallery: Gallery {
                required_rps: required,
                users_rps: stats::round1(users_rps),
                slowest_second,
                seconds: stats::round1(users_s),
                pass: users_rps >= required && not_measured.is_none(),
                not_measured,
            },
            quarantine: Quarantine::forecast(failures, successes, refs, auth, m404),
            correctness,
            sync_s: stats::round1(sync_s),
            entra_cycle_minutes: (stats::round1(objects * 0.01), stats::round1(objects * 0.08)),
            import_pages: self.import_pages.load(Ordering::Relaxed),
            leftovers,
            kept: self.cfg.keep,
            interrupted: self.cancelled(),
        }
    }
}

/// A usable body where the scenario needs one: a create's `id`, a list's
/// `totalResults` (and a match that finds nothing: the names are new).
fn body_usable(op: Op, status: u16, json: Option<&Value>) -> bool {
    match op {
        Op::CreateUser | Op::CreateGroup => json
            .and_then(|j| j["id"].as_str())
            .is_some_and(|s| !s.is_empty()),
        Op::MatchUser | Op::MatchGroup => json.and_then(|j| j["totalResults"].as_u64()) == Some(0),
        Op::ImportUsers | Op::VerifyCount => {
            json.and_then(|j| j["totalResults"].as_u64()).is_some()
        }
        Op::VerifyDuplicate if status == 201 => json.and_then(|j| j["id"].as_str()).is_some(),
        _ => true,
    }
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Users => "users",
        Phase::Groups => "groups",
        Phase::VerifyGroups => "verify",
        Phase::Incremental => "incremental",
        Phase::Import => "import",
        Phase::CleanupGroups => "cleanup groups",
        Phase::CleanupUsers => "cleanup users",
    }
}

/// Locks, carrying on after a panic elsewhere (the data is counters).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
