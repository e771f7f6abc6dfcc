//! One run: discovery, then each selected suite's steps in order (suites
//! concurrently), then cleanup of everything the suite created.

pub mod assert;
pub mod result;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::Value;

use crate::http::{Client, Exchange, HttpError, Request};
use crate::suite::template::{Vars, as_text};
use crate::suite::{Capability, CaptureSource, Step, Suite};
pub use result::*;

/// What the server says it supports; `None` where it did not say.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    values: Vec<(Capability, Option<bool>)>,
    /// Why discovery learned nothing, if it did not.
    pub note: Option<String>,
}

impl Capabilities {
    pub fn get(&self, c: Capability) -> Option<bool> {
        self.values
            .iter()
            .find(|(k, _)| *k == c)
            .and_then(|(_, v)| *v)
    }

    pub fn set(&mut self, c: Capability, v: Option<bool>) {
        self.values.retain(|(k, _)| *k != c);
        self.values.push((c, v));
    }

    /// Why a suite needing `requires` cannot run here, if it cannot.
    /// Unknown capabilities are assumed present: a missing answer is a
    /// finding for the discovery suites, not a reason to test less.
    pub fn unmet(&self, requires: &[Capability]) -> Option<String> {
        let missing: Vec<String> = requires
            .iter()
            .filter(|c| self.get(**c) == Some(false))
            .map(|c| c.to_string())
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "the server does not support {} (per /ServiceProviderConfig and /ResourceTypes)",
                missing.join(", ")
            )
        })
    }
}

/// Reads `/ServiceProviderConfig` and `/ResourceTypes` once for the run. Only
/// a failure to reach the server is an error.
pub async fn discover(client: &Client) -> Result<Capabilities, HttpError> {
    let mut caps = Capabilities::default();
    let spc = client
        .send(&Request::new(
            reqwest::Method::GET,
            "/ServiceProviderConfig",
        ))
        .await?;
    match (&spc.response.json, spc.response.status) {
        (Some(v), 200) => {
            let flag = |k: &str| {
                v.get(k)
                    .and_then(|o| o.get("supported"))
                    .and_then(Value::as_bool)
            };
            caps.set(Capability::Patch, flag("patch"));
            caps.set(Capability::Filter, flag("filter"));
            caps.set(Capability::Sort, flag("sort"));
            caps.set(Capability::Etag, flag("etag"));
            caps.set(Capability::Bulk, flag("bulk"));
            caps.set(Capability::ChangePassword, flag("changePassword"));
        }
        (_, status) if (300..400).contains(&status) => {
            caps.note = Some(format!(
                "GET /ServiceProviderConfig was redirected ({status}) to {}; scimitar does not follow redirects: check --url. Capabilities assumed",
                spc.response.header("location").unwrap_or("nowhere")
            ))
        }
        (_, status) => {
            caps.note = Some(format!(
                "GET /ServiceProviderConfig answered {status} without a usable body; capabilities assumed"
            ))
        }
    }
    let rt = client
        .send(&Request::new(reqwest::Method::GET, "/ResourceTypes"))
        .await?;
    if let (Some(v), 200) = (&rt.response.json, rt.response.status) {
        let types: Vec<&Value> = match v.get("Resources") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ if v.is_array() => v.as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            _ => Vec::new(),
        };
        if !types.is_empty() {
            let has_groups = types.iter().any(|t| {
                t.get("name").and_then(Value::as_str) == Some("Group")
                    || t.get("endpoint").and_then(Value::as_str) == Some("/Groups")
            });
            let has_ext = types.iter().any(|t| {
                t.get("schemaExtensions")
                    .and_then(Value::as_array)
                    .is_some_and(|exts| {
                        exts.iter().any(|e| {
                            e.get("schema").and_then(Value::as_str)
                                == Some(crate::scim::urn::ENTERPRISE_USER)
                        })
                    })
            });
            caps.set(Capability::Groups, Some(has_groups));
            caps.set(Capability::EnterpriseUser, Some(has_ext));
        }
    }
    Ok(caps)
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run-unique id used in every name the run creates.
    pub run_id: String,
    pub keep: bool,
    pub strict: bool,
    /// Suites in flight at once.
    pub jobs: usize,
    /// Where and how steps with `snapshot:` are compared; `None`: not at all.
    pub snapshots: Option<Arc<crate::snapshot::Store>>,
    /// Counts suites as they finish, for a progress display.
    pub progress: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

/// The steps the user selected, as `(suite, step)` names; `None` selects all.
pub type Selection = Option<HashSet<(String, String)>>;

/// A fresh run id: short, lower-case, recognisable in leftovers.
pub fn new_run_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    u[..8].to_string()
}

/// Runs the suites and returns their results in the suites' order.
pub async fn run(
    suites: Vec<Suite>,
    client: Arc<Client>,
    caps: Arc<Capabilities>,
    opts: RunOptions,
    selection: Selection,
    cancel: Arc<AtomicBool>,
) -> RunResult {
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let selection = Arc::new(selection);
    let mut set = tokio::task::JoinSet::new();
    let total = suites.len();
    for (index, suite) in suites.into_iter().enumerate() {
        let (client, caps, opts, sel, sem, cancel) = (
            client.clone(),
            caps.clone(),
            opts.clone(),
            selection.clone(),
            sem.clone(),
            cancel.clone(),
        );
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r = run_suite(&suite, index, &client, &caps, &opts, &sel, &cancel).await;
            if let Some(p) = &opts.progress {
                p.fetch_add(1, Ordering::Relaxed);
            }
            (index, r)
        });
    }
    let mut results: Vec<Option<SuiteResult>> = vec![None; total];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            results[i] = Some(r);
        }
    }
    RunResult {
        target: client.base_url().to_string(),
        started: started_at,
        duration: started.elapsed(),
        requests_sent: client.requests_sent(),
        capabilities: Capability::ALL
            .iter()
            .map(|c| (c.to_string(), caps.get(*c)))
            .collect(),
        suites: results.into_iter().flatten().collect(),
    }
}

fn selected(sel: &Selection, suite: &str, step: &str) -> bool {
    sel.as_ref()
        .is_none_or(|s| s.contains(&(suite.to_string(), step.to_string())))
}

async fn run_suite(
    suite: &Suite,
    index: usize,
    client: &Client,
    caps: &Capabilities,
    opts: &RunOptions,
    sel: &Selection,
    cancel: &AtomicBool,
) -> SuiteResult {
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
    let mut skip = caps.unmet(&suite.requires);
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
            Err(e) => skip = Some(format!("vars.{k}: {e}")),
        }
    }
    let mut snaps = opts.snapshots.as_deref().map(|s| s.suite(suite, &vars));
    let mut created: Vec<String> = Vec::new();
    for step in &suite.steps[..=last] {
        let is_sel = selected(sel, &suite.name, &step.name);
        if skip.is_none() && cancel.load(Ordering::SeqCst) {
            skip = Some("the run was interrupted".into());
        }
        let mut r = if let Some(reason) = &skip {
            skipped(step, reason.clone())
        } else {
            run_step(step, client, &mut vars, &mut created, opts).await
        };
        r.selected = is_sel;
        // A snapshot difference fails the step but does not stop the suite:
        // the later steps' diffs are worth seeing too.
        let outcome = r.outcome;
        if let Some(s) = snaps.as_mut() {
            s.apply(step, &vars, &mut r);
        }
        if skip.is_none() {
            match outcome {
                Outcome::Failed => skip = Some(format!("an earlier step, '{}', failed", step.name)),
                // Only rate limiting skips a step that was sent.
                Outcome::Skipped => {
                    skip = Some(format!(
                        "an earlier step, '{}', was rate limited (429)",
                        step.name
                    ))
                }
                _ => {}
            }
        }
        result.steps.push(r);
    }
    if !opts.keep {
        for path in created.iter().rev() {
            let outcome = match client
                .send(&Request::new(reqwest::Method::DELETE, path.clone()))
                .await
            {
                Ok(ex) => Ok(ex.response.status),
                Err(e) => Err(e.to_string()),
            };
            result.cleanup.push(CleanupResult {
                path: path.clone(),
                outcome,
            });
        }
    }
    result
}

fn skipped(step: &Step, reason: String) -> StepResult {
    StepResult {
        name: step.name.clone(),
        outcome: Outcome::Skipped,
        selected: true,
        skip_reason: Some(reason),
        findings: Vec::new(),
        error: None,
        why: step.why.clone(),
        exchange: None,
        snapshot_diff: None,
        location: step.loc.clone(),
        duration: std::time::Duration::ZERO,
    }
}

fn build_request(step: &Step, vars: &Vars) -> Result<Request, String> {
    let r = &step.request;
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

async fn run_step(
    step: &Step,
    client: &Client,
    vars: &mut Vars,
    created: &mut Vec<String>,
    opts: &RunOptions,
) -> StepResult {
    let started = Instant::now();
    let mut r = skipped(step, String::new());
    r.skip_reason = None;
    let req = match build_request(step, vars) {
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
        Err(e @ HttpError::RateLimited { .. }) => {
            r.outcome = Outcome::Skipped;
            r.skip_reason = Some(format!("{} {}: {e}", req.method, req.path));
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
    let mut findings = assert::evaluate(&step.expect, &ex, vars);
    for c in &step.captures {
        match capture(&c.source, &ex) {
            Ok(v) => vars.set(c.var.clone(), v),
            Err(m) => findings.push(Finding {
                subject: format!("capture {}", c.var),
                message: m,
                rfc: None,
                advisory: false,
            }),
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
            let q = serde_json_path::JsonPath::parse(path).map_err(|e| e.to_string())?;
            assert::select(&q, body)
                .ok_or_else(|| format!("{path} matched nothing in the response"))
        }
    }
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
    if req.method == reqwest::Method::POST
        && status == 201
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
        // Bulk creates come back as per-operation locations.
        let base = client.base_url().as_str().trim_end_matches('/').to_string();
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
                        .is_some_and(|s| s.starts_with("201"));
                if let (true, Some(loc)) = (created_ok, op.get("location").and_then(Value::as_str))
                    && let Some(rel) = loc.strip_prefix(&base)
                {
                    created.push(rel.to_string());
                }
            }
        }
    }
    if req.method == reqwest::Method::DELETE && ((200..300).contains(&status) || status == 404) {
        created.retain(|c| c != path);
    }
}

/// Percent-encodes an id for use as one path segment.
pub(crate) fn encode_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
