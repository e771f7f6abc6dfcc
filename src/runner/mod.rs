//! One run: discovery, then each selected suite's steps in order (suites
//! concurrently), then cleanup of everything the suite created. Results are
//! emitted as [`Event`]s while the run goes and returned whole at the end.

pub mod assert;
pub mod discovery;
pub mod lookup;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::Value;

use crate::events::{Event, EventSink, StepHook, SuiteHook};
use crate::http::{Client, Exchange, HttpError, Request, encode_segment};
use crate::results::{
    CleanupResult, Finding, Outcome, RunResult, SkipReason, StepResult, SuiteResult,
};
use crate::suite::template::{Vars, as_text};
use crate::suite::{Capability, CaptureSource, RequestSpec, Step, Suite};
pub use discovery::{Capabilities, discover};

/// How a run behaves. `Default` gives a fresh run id, cleanup on, advisory
/// findings advisory and 8 suites in flight.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run-unique id used in every name the run creates.
    pub run_id: String,
    /// Keep what the run created (no cleanup).
    pub keep: bool,
    /// Advisory findings fail their step too.
    pub strict: bool,
    /// Suites in flight at once.
    pub jobs: usize,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            run_id: new_run_id(),
            keep: false,
            strict: false,
            jobs: 8,
        }
    }
}

/// The steps the user selected, as `(suite, step)` names; `None` selects all.
pub type Selection = Option<HashSet<(String, String)>>;

/// A fresh run id: short, lower-case, recognisable in leftovers.
pub fn new_run_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    u[..8].to_string()
}

/// A run being set up: the suites, options, selection, event sinks and step
/// hooks. Build it, then [`Run::execute`] it against a client.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use scimitar::{http::{Client, HttpConfig}, runner::Run, suite};
/// let suites = suite::load_paths(&["suites/rfc".into()]).map_err(|e| format!("{e:?}"))?;
/// let client = Client::new(HttpConfig::new("http://127.0.0.1:8080/scim/v2".parse()?))?;
/// let result = Run::new(suites).jobs(4).execute(client.into()).await?;
/// println!("{} steps failed", result.count(scimitar::results::Outcome::Failed));
/// # Ok(()) }
/// ```
pub struct Run {
    suites: Vec<Suite>,
    options: RunOptions,
    selection: Selection,
    sinks: Vec<Arc<dyn EventSink>>,
    hooks: Vec<Arc<dyn StepHook>>,
    cancel: Arc<AtomicBool>,
    excluded: HashSet<(String, String)>,
    profile_files: Option<HashSet<String>>,
}

impl Run {
    /// A run of these suites with the default options, every step selected.
    pub fn new(suites: Vec<Suite>) -> Run {
        Run {
            suites,
            options: RunOptions::default(),
            selection: None,
            sinks: Vec::new(),
            hooks: Vec::new(),
            cancel: Arc::new(AtomicBool::new(false)),
            excluded: HashSet::new(),
            profile_files: None,
        }
    }

    /// The suite files that speak for a built-in profile (the built-in
    /// ones; the command layer knows which). By default every suite whose
    /// `idp:` names a known profile does. Only those suites make the run
    /// check the userName lookup: a custom suite's target may be a mock.
    pub fn profile_suites(mut self, files: impl IntoIterator<Item = String>) -> Run {
        self.profile_files = Some(files.into_iter().collect());
        self
    }

    /// Steps the user excluded by name (`--skip`): they are not run unless a
    /// later step needs a variable they capture; steps that verify them are
    /// skipped with that reason.
    pub fn exclude(mut self, excluded: HashSet<(String, String)>) -> Run {
        self.excluded = excluded;
        self
    }

    /// Replaces all options at once.
    pub fn options(mut self, options: RunOptions) -> Run {
        self.options = options;
        self
    }

    /// Suites in flight at once (at least 1).
    pub fn jobs(mut self, jobs: usize) -> Run {
        self.options.jobs = jobs.max(1);
        self
    }

    /// Only these `(suite, step)` pairs are reported; earlier steps of their
    /// suites still run, as the setup they need.
    pub fn select(mut self, selection: Selection) -> Run {
        self.selection = selection;
        self
    }

    /// Receives every event of the run.
    pub fn sink(mut self, sink: Arc<dyn EventSink>) -> Run {
        self.sinks.push(sink);
        self
    }

    /// Amends step results before they are emitted (snapshots plug in here).
    pub fn hook(mut self, hook: Arc<dyn StepHook>) -> Run {
        self.hooks.push(hook);
        self
    }

    /// Setting this flag stops the run: no new requests, then cleanup.
    pub fn cancel_flag(mut self, cancel: Arc<AtomicBool>) -> Run {
        self.cancel = cancel;
        self
    }

    /// The run's id, as names it creates carry it.
    pub fn run_id(&self) -> &str {
        &self.options.run_id
    }

    /// Discovers the server's capabilities, then runs.
    pub async fn execute(self, client: Arc<Client>) -> Result<RunResult, HttpError> {
        let caps = discover(&client).await?;
        Ok(self.execute_with(client, Arc::new(caps)).await)
    }

    /// Runs with capabilities already discovered.
    pub async fn execute_with(self, client: Arc<Client>, caps: Arc<Capabilities>) -> RunResult {
        let Run {
            suites,
            options,
            selection,
            sinks,
            hooks,
            cancel,
            excluded,
            profile_files,
        } = self;
        let ctx = Arc::new(Ctx {
            client,
            caps,
            opts: options,
            sel: selection,
            sinks,
            hooks,
            cancel,
            excluded,
            accepted_filters: Default::default(),
        });
        let started = Instant::now();
        let started_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        // The userName lookup the IdP profiles stand on, once, before their
        // suites: its own users, its own prefix (suites count from 1).
        let lookup_profiles: Vec<String> = crate::profile::PROFILES
            .iter()
            .filter(|p| {
                p.looks_up_users
                    && suites.iter().any(|s| {
                        s.idp == p.id
                            && profile_files
                                .as_ref()
                                .is_none_or(|f| f.contains(&s.file.display().to_string()))
                            && s.steps
                                .iter()
                                .any(|st| selected(&ctx.sel, &s.name, &st.name))
                    })
            })
            .map(|p| p.id.to_string())
            .collect();
        let lookup = if lookup_profiles.is_empty() || ctx.cancel.load(Ordering::SeqCst) {
            None
        } else {
            Some(
                lookup::check(
                    &ctx.client,
                    &format!("scimitar-{}-0", ctx.opts.run_id),
                    ctx.caps.get(Capability::Filter),
                    lookup_profiles,
                    ctx.opts.keep,
                )
                .await,
            )
        };
        let sem = Arc::new(tokio::sync::Semaphore::new(ctx.opts.jobs.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let suites: Vec<Arc<Suite>> = suites.into_iter().map(Arc::new).collect();
        let total = suites.len();
        for (index, suite) in suites.iter().enumerate() {
            let (ctx, sem, suite) = (ctx.clone(), sem.clone(), suite.clone());
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let r = run_suite(&suite, index, &ctx).await;
                ctx.emit(&Event::SuiteFinished { index, result: &r });
                (index, r)
            });
        }
        let mut results: Vec<Option<SuiteResult>> = vec![None; total];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                results[i] = Some(r);
            }
        }
        let in_flight = ctx.opts.jobs.min(total);
        let mut notes = Vec::new();
        if in_flight > 1 && !ctx.cancel.load(Ordering::SeqCst) {
            for (i, slot) in results.iter_mut().enumerate() {
                if let Some(r) = slot.as_mut()
                    && let Some(note) =
                        recheck_alone(&suites[i], total + i, r, in_flight, &ctx).await
                {
                    notes.push(note);
                }
            }
        }
        let result = RunResult {
            target: ctx.client.base_url().to_string(),
            started: started_at,
            duration: started.elapsed(),
            requests_sent: ctx.client.requests_sent(),
            throttling: ctx.client.throttling(),
            invocation: Default::default(),
            capabilities: Capability::ALL
                .iter()
                .map(|c| (c.to_string(), ctx.caps.get(*c)))
                .collect(),
            schemas: ctx.caps.schemas_judged(),
            lookup,
            suites: results.into_iter().flatten().collect(),
            notes,
        };
        ctx.emit(&Event::RunFinished { result: &result });
        result
    }
}

/// Whether a step failed the way overlapping requests break servers: a 5xx,
/// or a connection that broke (no response at all).
fn broke(st: &StepResult) -> Option<String> {
    if st.outcome != Outcome::Failed || !st.selected {
        return None;
    }
    if let Some(ex) = &st.exchange
        && ex.response.status >= 500
    {
        return Some(format!("answered {}", ex.response.status));
    }
    st.error
        .as_ref()
        .filter(|e| !e.starts_with("not sent") && !e.starts_with("cannot build"))
        .map(|_| "lost its connection".to_string())
}

/// A suite that saw 5xx answers or broken connections while other suites
/// were in flight runs once more, alone. When the same steps then pass, the
/// failure only happens under concurrency: the alone run's results stand,
/// with one finding that says so on the first step that broke (Entra and
/// Okta provision in parallel, so it is a real defect, just not the one the
/// step's own expectation names). Returns a note for the console.
async fn recheck_alone(
    suite: &Suite,
    index: usize,
    concurrent: &mut SuiteResult,
    in_flight: usize,
    ctx: &Ctx,
) -> Option<String> {
    let broken: Vec<(String, String)> = concurrent
        .steps
        .iter()
        .filter_map(|st| broke(st).map(|how| (st.name.clone(), how)))
        .collect();
    let (first, how) = broken.first()?.clone();
    // Alone: no other suite, no sinks (the console already showed this
    // suite) and no hooks (its snapshots were already compared).
    let alone_ctx = Ctx {
        client: ctx.client.clone(),
        caps: ctx.caps.clone(),
        opts: ctx.opts.clone(),
        sel: ctx.sel.clone(),
        sinks: Vec::new(),
        hooks: Vec::new(),
        cancel: ctx.cancel.clone(),
        excluded: ctx.excluded.clone(),
        accepted_filters: ctx.accepted_filters.clone(),
    };
    let mut alone = run_suite(suite, index, &alone_ctx).await;
    let passes_alone = broken.iter().all(|(name, _)| {
        alone
            .steps
            .iter()
            .find(|st| &st.name == name)
            .is_some_and(|st| st.outcome != Outcome::Failed)
    });
    if !passes_alone {
        // A real failure: the concurrent results stand; what the second run
        // created was cleaned up by it.
        concurrent.cleanup.extend(alone.cleanup);
        return None;
    }
    for st in &mut alone.steps {
        if let Some(orig) = concurrent.steps.iter().find(|o| o.name == st.name) {
            // Snapshot comparisons happened in the concurrent run.
            st.findings.extend(
                orig.findings
                    .iter()
                    .filter(|f| f.subject == "snapshot")
                    .cloned(),
            );
            st.snapshot_diff.clone_from(&orig.snapshot_diff);
            st.selected = orig.selected;
            if st.findings.iter().any(|f| !f.advisory) {
                st.outcome = Outcome::Failed;
            }
        }
        if st.name == first {
            st.findings.push(Finding {
                subject: "concurrency".into(),
                message: format!(
                    "{how} with {in_flight} suites in flight, but the suite passes when it runs alone; Entra and Okta provision in parallel, so the server must handle concurrent requests"
                ),
                rfc: None,
                advisory: false,
            });
            st.outcome = Outcome::Failed;
        }
    }
    alone.cleanup.splice(0..0, concurrent.cleanup.drain(..));
    *concurrent = alone;
    Some(format!(
        "{}: {first} {how} with {in_flight} suites in flight and passed when the suite ran alone; reported as one concurrency finding",
        suite.name
    ))
}

/// What every suite task shares.
struct Ctx {
    client: Arc<Client>,
    caps: Arc<Capabilities>,
    opts: RunOptions,
    sel: Selection,
    sinks: Vec<Arc<dyn EventSink>>,
    hooks: Vec<Arc<dyn StepHook>>,
    cancel: Arc<AtomicBool>,
    excluded: HashSet<(String, String)>,
    /// Filter attribute/operator pairs the server answered with 2xx, so a
    /// filter it declines is excused only when it uses something never
    /// accepted in any spelling.
    accepted_filters: Arc<std::sync::Mutex<HashSet<(String, String)>>>,
}

impl Ctx {
    fn emit(&self, e: &Event<'_>) {
        for s in &self.sinks {
            s.event(e);
        }
    }
}

fn selected(sel: &Selection, suite: &str, step: &str) -> bool {
    sel.as_ref()
        .is_none_or(|s| s.contains(&(suite.to_string(), step.to_string())))
}

async fn run_suite(suite: &Suite, index: usize, ctx: &Ctx) -> SuiteResult {
    let (client, opts, sel, cancel) = (&*ctx.client, &ctx.opts, &ctx.sel, &*ctx.cancel);
    let mut result = SuiteResult {
        name: suite.name.clone(),
        idp: suite.idp.clone(),
        file: suite.file.display().to_string(),
        steps: Vec::new(),
        cleanup: Vec::new(),
    };
    // Steps run up to the last selected one: earlier steps build the state
    // the selected ones need.
    let last = suite
        .steps
        .iter()
        .rposition(|s| selected(sel, &suite.name, &s.name));
    let Some(last) = last else {
        return result;
    };
    ctx.emit(&Event::SuiteStarted {
        index,
        name: &suite.name,
    });
    let mut skip = ctx.caps.unmet(&suite.requires);
    let mut vars = Vars::default();
    vars.set("run_id", Value::String(opts.run_id.clone()));
    // Per suite, so concurrent suites never collide on names.
    vars.set(
        "prefix",
        Value::String(format!("scimitar-{}-{}", opts.run_id, index + 1)),
    );
    vars.set(
        "base_url",
        Value::String(client.base_url().as_str().trim_end_matches('/').to_string()),
    );
    for (k, v) in &suite.vars {
        match vars.render_value(v) {
            Ok(r) => vars.set(k.clone(), r),
            Err(e) => {
                skip = Some(SkipReason::SuiteVars {
                    name: k.clone(),
                    error: e.to_string(),
                })
            }
        }
    }
    let mut hooks: Vec<Box<dyn SuiteHook + Send + '_>> =
        ctx.hooks.iter().map(|h| h.suite(suite, &vars)).collect();
    let plan = plan(suite, last, &ctx.excluded);
    let mut created: Vec<String> = Vec::new();
    // How each step that ran ended, for the steps that depend on it.
    let mut ended: HashMap<&str, Ended> = HashMap::new();
    for (step_index, step) in suite.steps[..=last].iter().enumerate() {
        if !plan[step_index] {
            // Excluded by the user and needed by no later step: not run.
            continue;
        }
        let is_sel = selected(sel, &suite.name, &step.name);
        if cancel.load(Ordering::SeqCst) {
            skip = Some(SkipReason::Interrupted);
        }
        let reason = skip
            .clone()
            .or_else(|| blocked(suite, step, &vars, &ended, sel, &ctx.excluded));
        let scope = StepScope {
            declared: &ctx.caps.declared,
            idp: &suite.idp,
            accepted_filters: &ctx.accepted_filters,
        };
        let mut r = match reason {
            Some(reason) => skipped(step, reason),
            None => run_step(step, client, &mut vars, &mut created, opts, scope).await,
        };
        r.selected = is_sel;
        // A snapshot difference fails the step but does not stop the suite:
        // the later steps' diffs are worth seeing too.
        for h in &mut hooks {
            h.after_step(step, &vars, &mut r);
        }
        ended.insert(step.name.as_str(), Ended::of(step, &r));
        if matches!(r.skip_reason, Some(SkipReason::TargetDown { .. })) && skip.is_none() {
            skip = r.skip_reason.clone();
        }
        ctx.emit(&Event::StepFinished {
            suite: index,
            step: step_index,
            result: &r,
        });
        result.steps.push(r);
    }
    drop(hooks);
    if !opts.keep {
        for path in created.iter().rev() {
            result.cleanup.push(remove(client, path).await);
        }
    }
    result
}

/// Deletes what the run created at `path`, then reads it back.
async fn remove(client: &Client, path: &str) -> CleanupResult {
    let outcome = match client
        .send(&Request::new(reqwest::Method::DELETE, path.to_string()))
        .await
    {
        Ok(ex) => Ok(ex.response.status),
        Err(e) => Err(e.to_string()),
    };
    let still_there = match outcome {
        Ok(s) if is_2xx(s) => still_there(client, path).await,
        _ => None,
    };
    CleanupResult {
        path: path.to_string(),
        outcome,
        still_there,
    }
}

/// After a 2xx DELETE, whether a GET still returns the resource (RFC 7644
/// §3.6: "the service provider MUST return a 404 for all operations
/// associated with the previously deleted resource"); what it showed.
async fn still_there(client: &Client, path: &str) -> Option<String> {
    let ex = client
        .send(&Request::new(reqwest::Method::GET, path.to_string()))
        .await
        .ok()?;
    if ex.response.status != 200 {
        return None;
    }
    let active = ex
        .response
        .json
        .as_ref()
        .and_then(|b| b.get("active"))
        .map(|a| format!(", active={a}"))
        .unwrap_or_default();
    Some(format!("GET {path} still returns it (200{active})"))
}

/// Which of the steps up to `last` run: every one the user did not exclude,
/// and an excluded one only when a later running step uses a variable it
/// captures (it then runs as setup, unreported).
fn plan(suite: &Suite, last: usize, excluded: &HashSet<(String, String)>) -> Vec<bool> {
    let is_excluded = |name: &str| excluded.contains(&(suite.name.clone(), name.to_string()));
    let mut run: Vec<bool> = suite.steps[..=last]
        .iter()
        .map(|st| !is_excluded(&st.name))
        .collect();
    for i in (0..=last).rev() {
        if !run[i] {
            continue;
        }
        for (_, producer) in &suite.steps[i].needs {
            if let Some(j) = suite.steps[..i].iter().position(|s| &s.name == producer) {
                run[j] = true;
            }
        }
    }
    run
}

/// Why a step cannot be run or means nothing now, if so: a variable it uses
/// was not produced, or a step it depends on did not pass.
/// What a step left for the steps that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Its request was accepted (2xx), or it expected no success: whatever
    /// its findings, what depends on it shows whether the state is right.
    Done,
    /// It asked for a change and the server refused it (no 2xx), failed or
    /// advisory alike: the state it builds is not there. (A fallback stands
    /// in for the resource, so later steps that only need its id run; what
    /// verifies the IdP-shaped content declares `depends_on` and is skipped.)
    Refused { failed: bool },
    /// Not checked.
    Unchecked,
}

impl Ended {
    fn of(step: &Step, r: &StepResult) -> Ended {
        let accepted = |ex: &Exchange| is_2xx(ex.response.status);
        match r.outcome {
            // A declined filter is a refusal the server may make.
            Outcome::Skipped
                if matches!(r.skip_reason, Some(SkipReason::FilterDeclined { .. })) =>
            {
                Ended::Refused { failed: false }
            }
            Outcome::Skipped => Ended::Unchecked,
            Outcome::Passed => Ended::Done,
            Outcome::Failed | Outcome::Advisory | Outcome::Known
                if expects_success(&step.expect) && !r.exchange.as_ref().is_some_and(accepted) =>
            {
                Ended::Refused {
                    failed: r.outcome != Outcome::Advisory,
                }
            }
            Outcome::Failed | Outcome::Advisory | Outcome::Known => Ended::Done,
        }
    }
}

/// Whether the expectation asks for a 2xx (directly or in an alternative).
fn expects_success(exp: &crate::suite::Expectation) -> bool {
    exp.status
        .as_ref()
        .is_some_and(|codes| codes.iter().any(|c| is_2xx(*c)))
        || exp.any_of.iter().any(expects_success)
}

fn blocked(
    suite: &Suite,
    step: &Step,
    vars: &Vars,
    ended: &HashMap<&str, Ended>,
    sel: &Selection,
    excluded: &HashSet<(String, String)>,
) -> Option<SkipReason> {
    for v in &step.depends_on {
        match ended.get(v.as_str()) {
            Some(Ended::Refused { failed: true }) => {
                return Some(SkipReason::EarlierStepFailed { step: v.clone() });
            }
            Some(Ended::Refused { failed: false }) => {
                return Some(SkipReason::DependencyRefused { step: v.clone() });
            }
            Some(Ended::Unchecked) => {
                return Some(SkipReason::DependencyUnchecked { step: v.clone() });
            }
            Some(Ended::Done) => {}
            None if excluded.contains(&(suite.name.clone(), v.clone())) => {
                return Some(SkipReason::DependencyExcluded { step: v.clone() });
            }
            None => {}
        }
    }
    for (name, producer) in &step.needs {
        if vars.get(name).is_none() {
            let setup = !selected(sel, &suite.name, producer);
            return Some(SkipReason::MissingVariable {
                name: name.clone(),
                producer: producer.clone(),
                setup,
            });
        }
    }
    None
}

fn skipped(step: &Step, reason: SkipReason) -> StepResult {
    StepResult::skipped(&step.name, step.why.clone(), step.loc.clone(), reason)
}

fn build_request(r: &RequestSpec, vars: &Vars) -> Result<Request, String> {
    let t = |s: &str| vars.render_text(s).map_err(|e| e.to_string());
    Ok(Request {
        method: r.method.clone(),
        path: t(&r.path)?,
        query: r
            .query
            .iter()
            .map(|(k, v)| {
                let v = vars.render_value(v).map_err(|e| e.to_string())?;
                Ok((k.clone(), as_text(&v)))
            })
            .collect::<Result<_, String>>()?,
        headers: r
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), t(v)?)))
            .collect::<Result<_, String>>()?,
        body: r
            .body
            .as_ref()
            .map(|b| vars.render_value(b).map_err(|e| e.to_string()))
            .transpose()?,
        auth: r.auth,
    })
}

/// What a step is judged by besides its expectation: the server's
/// declarations and the suite's client dialect.
#[derive(Clone, Copy)]
struct StepScope<'a> {
    declared: &'a crate::scim::declared::Declared,
    idp: &'a str,
    accepted_filters: &'a std::sync::Mutex<HashSet<(String, String)>>,
}

async fn run_step(
    step: &Step,
    client: &Client,
    vars: &mut Vars,
    created: &mut Vec<String>,
    opts: &RunOptions,
    scope: StepScope<'_>,
) -> StepResult {
    let started = Instant::now();
    let mut r = skipped(step, SkipReason::Interrupted);
    r.skip_reason = None;
    let req = match build_request(&step.request, vars) {
        Ok(req) => req,
        Err(e) => {
            r.outcome = Outcome::Failed;
            r.error = Some(format!("cannot build the request: {e}"));
            return r;
        }
    };
    if let Some(name) =
        crate::cleanup::unprefixed_name(req.method.as_str(), &req.path, req.body.as_ref())
    {
        r.outcome = Outcome::Failed;
        r.error = Some(format!(
            "not sent: {} {} would name a resource {name:?}; every name a suite creates must start with {{{{prefix}}}} so that nothing is left unrecognisable",
            req.method, req.path
        ));
        return r;
    }
    let ex = match client.send(&req).await {
        Ok(ex) => ex,
        // Rate limiting says nothing about conformance: not checked, not failed.
        // Already reported on the step where the target stopped answering.
        Err(HttpError::TargetDown(why)) => {
            r.outcome = Outcome::Skipped;
            r.skip_reason = Some(SkipReason::TargetDown { detail: why });
            r.duration = started.elapsed();
            return r;
        }
        Err(e @ HttpError::RateLimited { .. }) => {
            r.outcome = Outcome::Skipped;
            r.skip_reason = Some(SkipReason::RateLimited {
                request: format!("{} {}", req.method, req.path),
                detail: e.to_string(),
            });
            r.duration = started.elapsed();
            return r;
        }
        Err(e) => {
            r.outcome = Outcome::Failed;
            r.error = Some(format!("{} {}: {e}", req.method, req.path));
            r.duration = started.elapsed();
            return r;
        }
    };
    track(&req, &ex, client, created);
    let judging = assert::Judging::new(
        scope.declared,
        scope.idp,
        &req.path,
        &req.query,
        req.body.as_ref(),
    );
    if let Some(filter) = judging.filter
        && is_2xx(ex.response.status)
        && let Some(features) = assert::filter_features(filter)
        && let Ok(mut seen) = scope.accepted_filters.lock()
    {
        seen.extend(features);
    }
    let declined = match scope.accepted_filters.lock() {
        Ok(seen) => assert::declined_filter(&step.expect, &ex, &judging, &seen),
        Err(_) => None,
    };
    if let Some(filter) = declined {
        // Declining is the server's right (RFC 7644 §3.12): not checked,
        // not failed, and the verdict says which filters went unchecked.
        r.outcome = Outcome::Skipped;
        r.skip_reason = Some(SkipReason::FilterDeclined { filter });
        r.exchange = Some(ex);
        r.duration = started.elapsed();
        return r;
    }
    let mut findings = assert::judge(&step.expect, &ex, vars, &judging);
    let follow_on = root_cause_first(&step.expect, &ex, &mut findings);
    let status_class_wrong = follow_on.is_some();
    r.follow_on = follow_on.unwrap_or_default();
    // A refused IdP-shaped request: the fallback establishes the same state,
    // so the rest of the lifecycle is still tested. The failure stays.
    let mut from = &ex;
    let fallback_ex;
    if let Some(spec) = step
        .fallback
        .as_ref()
        .filter(|_| !is_2xx(ex.response.status))
    {
        match send_fallback(spec, client, vars).await {
            Ok((freq, fx)) => {
                track(&freq, &fx, client, created);
                fallback_ex = fx;
                from = &fallback_ex;
                r.fallback = Some(from.clone());
            }
            Err(e) => findings.push(Finding {
                subject: "fallback".into(),
                message: e,
                rfc: None,
                advisory: true,
            }),
        }
    }
    for c in &step.captures {
        match capture(&c.source, from) {
            Ok(v) => vars.set(c.var.clone(), v),
            Err(m) => {
                // A value the server never declared is no failure: the steps
                // that need it are skipped for want of it.
                let undeclared = match &c.source {
                    CaptureSource::Json { path } => {
                        assert::undeclared_capture(&judging, from, path)
                    }
                    CaptureSource::Header(_) => None,
                };
                let f = Finding {
                    subject: format!("capture {}", c.var),
                    message: match &undeclared {
                        Some(why) => format!("{m} ({why})"),
                        None => m,
                    },
                    rfc: None,
                    advisory: undeclared.is_some(),
                };
                if status_class_wrong {
                    r.follow_on.push(f);
                } else {
                    findings.push(f);
                }
            }
        }
    }
    if step.advisory {
        for f in &mut findings {
            f.advisory = true;
        }
    }
    if opts.strict {
        for f in &mut findings {
            f.advisory = false;
        }
    }
    r.outcome = if findings.iter().any(|f| !f.advisory) {
        Outcome::Failed
    } else if findings.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Advisory
    };
    r.findings = findings;
    r.exchange = Some(ex);
    r.duration = started.elapsed();
    r
}

fn is_2xx(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Root cause first: when the status is of another class than expected
/// (an error where success was expected, or the reverse), what merely
/// follows from it (fields absent from an error body, no Location on a 400)
/// is returned to be kept apart (the JSON has it), and the status finding
/// carries the server's own `scimType` and `detail`.
fn root_cause_first(
    exp: &crate::suite::Expectation,
    ex: &Exchange,
    findings: &mut Vec<Finding>,
) -> Option<Vec<Finding>> {
    let codes = exp
        .status
        .clone()
        .or_else(|| assert::any_of_statuses(exp))?;
    let class = |s: u16| s / 100;
    let got = ex.response.status;
    if codes.iter().any(|c| class(*c) == class(got)) {
        return None;
    }
    let i = findings
        .iter()
        .position(|f| f.subject == "status" && !f.advisory)?;
    if let Some(said) = server_said(ex) {
        findings[i].message = format!("{} ({said})", findings[i].message);
    }
    let status = findings.remove(i);
    let rest = std::mem::take(findings);
    findings.push(status);
    Some(rest)
}

/// What a SCIM error body says: `scimType X; detail: Y` (RFC 7644 §3.12).
fn server_said(ex: &Exchange) -> Option<String> {
    let body = ex.response.json.as_ref();
    let field = |k: &str| {
        body.and_then(|b| b.get(k))
            .and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| Some(v.to_string()))
            })
            .filter(|v| !v.is_empty() && v != "null")
    };
    let mut said = Vec::new();
    if let Some(t) = field("scimType") {
        said.push(format!("scimType {t}"));
    }
    if let Some(d) = field("detail") {
        let d: String = d.chars().take(300).collect();
        said.push(format!("detail: {d}"));
    }
    (!said.is_empty()).then(|| said.join("; "))
}

/// Sends a step's fallback request; its exchange, or why it could not be sent.
async fn send_fallback(
    spec: &RequestSpec,
    client: &Client,
    vars: &Vars,
) -> Result<(Request, Exchange), String> {
    let req = build_request(spec, vars).map_err(|e| format!("cannot build the fallback: {e}"))?;
    if let Some(name) =
        crate::cleanup::unprefixed_name(req.method.as_str(), &req.path, req.body.as_ref())
    {
        return Err(format!(
            "fallback not sent: it would name a resource {name:?} without the run prefix"
        ));
    }
    match client.send(&req).await {
        Ok(ex) => Ok((req, ex)),
        Err(e) => Err(format!("fallback {} {}: {e}", req.method, req.path)),
    }
}

fn capture(source: &CaptureSource, ex: &Exchange) -> Result<Value, String> {
    match source {
        CaptureSource::Header(h) => ex
            .response
            .header(h)
            .map(|v| Value::String(v.to_string()))
            .ok_or_else(|| format!("no {h} header in the response")),
        CaptureSource::Json { path } => {
            let body = ex
                .response
                .json
                .as_ref()
                .ok_or_else(|| format!("cannot read {path}: no JSON body"))?;
            assert::select_ci(path, body)?
                .ok_or_else(|| format!("{path} matched nothing in the response"))
        }
    }
}

/// The path below the base URL of a resource a Bulk operation created, from
/// its `location`. A server behind a proxy or a load balancer often names
/// another host or prefix there, so anything but the base URL is read as
/// `…/{endpoint}/{id}`: SCIM endpoints are one segment (RFC 7644 §3.2).
fn bulk_created(client: &Client, location: &str) -> Option<String> {
    let base = client.base_url().as_str().trim_end_matches('/');
    if let Some(rel) = location.strip_prefix(base)
        && rel.starts_with('/')
    {
        return Some(rel.trim_end_matches('/').to_string());
    }
    let path = reqwest::Url::parse(location)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| location.split(['?', '#']).next().unwrap_or("").to_string());
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let id = segments.next().filter(|s| !s.is_empty())?;
    let endpoint = segments.next().filter(|s| !s.is_empty())?;
    Some(format!("/{endpoint}/{id}"))
}

/// Remembers what a request created, and forgets what it deleted, so the
/// run removes exactly what it made.
fn track(req: &Request, ex: &Exchange, client: &Client, created: &mut Vec<String>) {
    let status = ex.response.status;
    let path = req
        .path
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    // Any 2xx with an id is a resource, whatever the exact status: a 200 to
    // a create is reported by the step, and the resource is still removed.
    if req.method == reqwest::Method::POST
        && (200..300).contains(&status)
        && let Some(id) = ex
            .response
            .json
            .as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
        && !path.ends_with("/.search")
        && !path.eq_ignore_ascii_case("/bulk")
    {
        created.push(format!("{path}/{}", encode_segment(id)));
    }
    if req.method == reqwest::Method::POST && path.eq_ignore_ascii_case("/bulk") {
        // Bulk creates come back as per-operation locations (RFC 7644 §3.7).
        if let Some(ops) = ex
            .response
            .json
            .as_ref()
            .and_then(|b| b.get("Operations"))
            .and_then(Value::as_array)
        {
            for op in ops {
                let created_ok = op
                    .get("method")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.eq_ignore_ascii_case("POST"))
                    && op
                        .get("status")
                        .and_then(|s| {
                            s.as_str()
                                .map(str::to_string)
                                .or_else(|| s.as_u64().map(|n| n.to_string()))
                        })
                        .is_some_and(|s| s.starts_with('2'));
                if let (true, Some(loc)) = (created_ok, op.get("location").and_then(Value::as_str))
                    && let Some(rel) = bulk_created(client, loc)
                {
                    created.push(rel);
                }
            }
        }
    }
    if req.method == reqwest::Method::DELETE && ((200..300).contains(&status) || status == 404) {
        created.retain(|c| c != path);
    }
}
