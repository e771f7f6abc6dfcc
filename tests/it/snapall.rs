//! Every IdP step and discovery response keeps a snapshot, and snapshots are
//! stable across fresh instances of the same server: scim2-server (PyPI),
//! a proxy that drops `meta`, fakes with awkward but legal server shapes
//! (integer ids, locations by userName, ETags that hash the body, timestamps
//! without fraction or with an offset, unsorted lists), the reference
//! server, orphans, review, and the CI workflow of docs/ci.md.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const TOKEN: &str = "scimitar-snapall-token";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a run printed and wrote.
struct Ran {
    code: i32,
    out: String,
    report: Value,
}

impl Ran {
    /// The `snapshots (…): …` summary line.
    fn summary(&self) -> &str {
        self.out
            .lines()
            .find(|l| l.starts_with("snapshots"))
            .unwrap_or("")
    }

    /// `suite::step` → (outcome, snapshot diff, snapshot findings).
    fn steps(&self) -> BTreeMap<String, (String, Option<String>, Vec<String>)> {
        let mut out = BTreeMap::new();
        for s in self.report["suites"].as_array().into_iter().flatten() {
            for st in s["steps"].as_array().into_iter().flatten() {
                let findings = st["findings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|f| f["subject"] == "snapshot")
                    .map(|f| f["message"].as_str().unwrap_or("").to_string())
                    .collect();
                out.insert(
                    format!(
                        "{}::{}",
                        s["name"].as_str().unwrap_or("?"),
                        st["name"].as_str().unwrap_or("?")
                    ),
                    (
                        st["outcome"].as_str().unwrap_or("?").to_string(),
                        st["snapshot_diff"].as_str().map(str::to_string),
                        findings,
                    ),
                );
            }
        }
        out
    }

    /// Steps whose snapshot differed or was missing.
    fn snapshot_failures(&self) -> Vec<String> {
        self.steps()
            .into_iter()
            .filter(|(_, (_, diff, f))| diff.is_some() || !f.is_empty())
            .map(|(k, (_, diff, f))| format!("{k}: {f:?}\n{}", diff.unwrap_or_default()))
            .collect()
    }
}

/// Runs the binary in `cwd` with a JSON report; `ci` sets `CI=true`.
fn run(cwd: &Path, args: &[&str], ci: bool) -> Ran {
    let tmp = tempfile::tempdir().expect("tempdir");
    let json = tmp.path().join("run.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimitar"));
    cmd.args(args)
        .args(["--json", json.to_str().expect("utf-8"), "-q"])
        .current_dir(cwd)
        .env_remove("SCIM_URL")
        .env_remove("SCIM_TOKEN")
        .env_remove("TF_BUILD")
        .env("NO_COLOR", "1");
    if ci {
        cmd.env("CI", "true");
    } else {
        cmd.env_remove("CI");
    }
    let out = cmd.output().expect("run scimitar");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("no JSON report; scimitar said:\n{text}"));
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: text,
        report,
    }
}

/// Every `.snap` below `dir`, relative, sorted.
fn snap_files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "snap") {
                let rel = p.strip_prefix(base).expect("below base");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// The shipped suites declare their snapshots.

/// The IdP suites and the discovery suites, as `--suite` arguments.
const SNAPSHOT_SUITES: &[&str] = &[
    "suites/entra",
    "suites/okta",
    "suites/rfc/discovery.yaml",
    "suites/rfc/discovery-groups.yaml",
    "suites/rfc/discovery-enterprise.yaml",
];

/// Steps that keep no snapshot, each with the comment above it saying why.
const OPT_OUTS: &[&str] = &[
    "okta-group-push::import-groups",
    "okta-spec-test::list-one-user",
    "okta-spec-test::list-groups",
    "okta-users::connection-test",
    "okta-users::import-first-page",
    "okta-users::import-next-page",
];

fn snapshot_suites() -> Vec<scimitar::suite::Suite> {
    let paths: Vec<PathBuf> = SNAPSHOT_SUITES.iter().map(|p| root().join(p)).collect();
    scimitar::suite::load_paths(&paths).expect("the shipped suites load")
}

fn suite_args() -> Vec<&'static str> {
    SNAPSHOT_SUITES
        .iter()
        .flat_map(|p| ["--suite", *p])
        .collect()
}

#[test]
fn every_idp_and_discovery_step_declares_a_snapshot_or_says_why_not() {
    let mut opted_out = Vec::new();
    for s in snapshot_suites() {
        let text = std::fs::read_to_string(&s.file).expect("suite file");
        let lines: Vec<&str> = text.lines().collect();
        for st in &s.steps {
            if st.snapshot.is_some() {
                continue;
            }
            let id = format!("{}::{}", s.name, st.name);
            let at = lines
                .iter()
                .position(|l| *l == format!("  - name: {}", st.name))
                .expect("step line");
            assert!(
                at > 0 && lines[at - 1].trim_start().starts_with("# No snapshot:"),
                "{id} keeps no snapshot and no comment above it says why"
            );
            // An opt-out is written out, so a reader sees it in the step.
            assert!(
                lines[at..]
                    .iter()
                    .take_while(|l| !l.starts_with("  - name:") || **l == lines[at])
                    .any(|l| l.trim() == "snapshot: false"),
                "{id}: say `snapshot: false`"
            );
            opted_out.push(id);
        }
    }
    opted_out.sort();
    let mut known: Vec<String> = OPT_OUTS.iter().map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(opted_out, known);
}

// ---------------------------------------------------------------------------
// scim2-server

/// The venv of `.ci/run`, or `None` (after saying so) outside CI.
fn pyenv() -> Option<PathBuf> {
    let dir = std::env::var_os("SCIMITAR_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/pyenv"));
    if dir.join("bin/scim2-server").is_file() {
        return Some(dir);
    }
    let msg = format!(
        "scim2-server not found in {} (run `bash .ci/run`)",
        dir.display()
    );
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "{msg}; CI must install it"
    );
    eprintln!("SKIPPED: {msg}");
    None
}

/// A scim2-server process, killed when dropped.
struct Scim2Server {
    child: Child,
    url: String,
}

impl Drop for Scim2Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh scim2-server (empty, in memory) on a free port.
fn scim2_server(env: &Path) -> Scim2Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(env.join("bin/scim2-server"))
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .args(["--bearer-token", TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start scim2-server");
    let mut server = Scim2Server {
        child,
        url: format!("http://127.0.0.1:{port}/v2"),
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..300 {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("scim2-server exited ({status}) before listening");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("scim2-server does not listen on {addr} after 30 s");
}

/// Runs the snapshot suites against `url`, snapshots in `dir`.
fn run_snapshot_suites(url: &str, dir: &Path, extra: &[&str], ci: bool) -> Ran {
    let mut args = vec!["run", "--url", url, "--token", TOKEN];
    args.extend(suite_args());
    args.extend(["--snapshots", dir.to_str().expect("utf-8")]);
    args.extend_from_slice(extra);
    run(root(), &args, ci)
}

/// Records against one scim2-server: a snapshot for every step that got a
/// response; returns how many.
fn record_scim2(env: &Path, dir: &Path) -> usize {
    let server = scim2_server(env);
    let first = run_snapshot_suites(&server.url, dir, &[], false);
    let steps = first.steps();
    let mut expected = Vec::new();
    for s in snapshot_suites() {
        for st in &s.steps {
            let id = format!("{}::{}", s.name, st.name);
            let (outcome, _, _) = steps
                .get(&id)
                .unwrap_or_else(|| panic!("{id} not in the report"));
            if let Some(rel) = scimitar::snapshot::relative_path(&s, st)
                && outcome != "skipped"
            {
                expected.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    expected.sort();
    assert!(expected.len() > 60, "too few steps ran:\n{}", first.out);
    assert_eq!(snap_files(dir), expected, "{}", first.out);
    let n = expected.len();
    assert!(
        first.summary().contains(&format!(
            "0 matched, {n} new, 0 changed; new ones recorded; {n} files written in {}",
            dir.display()
        )),
        "{}",
        first.out
    );
    // The header names the suite as built in, never the cache or checkout path.
    let snap = std::fs::read_to_string(dir.join("entra-users/create-user.snap")).expect("snap");
    assert!(
        snap.starts_with(
            "---\nsource: \"builtin:entra/users.yaml\"\ndescription: entra-users / create-user\n"
        ),
        "{snap}"
    );
    n
}

#[test]
fn scim2_server_every_step_recorded_then_a_fresh_instance_shows_no_difference() {
    let Some(env) = pyenv() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("snapshots");
    let n = record_scim2(&env, &dir);

    let server = scim2_server(&env);
    let again = run_snapshot_suites(&server.url, &dir, &["--require-snapshots"], true);
    assert!(
        again.snapshot_failures().is_empty(),
        "{:#?}",
        again.snapshot_failures()
    );
    assert!(
        again
            .summary()
            .ends_with(&format!("{n} matched, 0 new, 0 changed")),
        "{}",
        again.out
    );
}

#[test]
fn a_proxy_that_drops_meta_fails_the_run_with_diffs_naming_meta() {
    let Some(env) = pyenv() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("snapshots");
    record_scim2(&env, &dir);

    let server = scim2_server(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let proxy = rt.block_on(drop_meta_proxy(&server.url));
    let ran = run_snapshot_suites(&proxy, &dir, &["--require-snapshots"], true);
    assert_eq!(ran.code, 1, "{}", ran.out);
    let steps = ran.steps();
    let diffs: Vec<(&String, &String)> = steps
        .iter()
        .filter_map(|(k, (_, d, _))| d.as_ref().map(|d| (k, d)))
        .collect();
    assert!(diffs.len() >= 10, "{}", ran.out);
    for (step, diff) in &diffs {
        let removed: Vec<&str> = diff
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .map(|l| l[1..].trim().trim_end_matches(','))
            .collect();
        assert!(
            removed.contains(&"\"meta\": {"),
            "{step}: the diff does not name meta:\n{diff}"
        );
        // Only meta went: an added line is a kept one that lost its comma.
        for added in diff
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        {
            assert!(
                removed.contains(&added[1..].trim()),
                "{step}: {added}\n{diff}"
            );
        }
    }
    // Counted apart from the checks: the summary's `changed` is the diffs.
    assert!(
        ran.summary()
            .contains(&format!(" 0 new, {} changed;", diffs.len())),
        "{}",
        ran.summary()
    );
    let (_, _, findings) = &steps[diffs[0].0];
    assert!(
        findings[0].starts_with("the response differs from "),
        "{findings:?}"
    );
}

/// A body change a proxy makes: `(path below the base URL, JSON body)`.
type Change = fn(&str, &mut Value);

/// Drops `meta` wherever it sits.
fn strip_meta(_: &str, v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("meta");
            m.values_mut().for_each(|x| strip_meta("", x));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip_meta("", x)),
        _ => {}
    }
}

async fn drop_meta_proxy(upstream: &str) -> String {
    proxy(upstream, strip_meta).await
}

/// A proxy in front of `upstream` that applies `change` to its JSON
/// responses and names itself where the server named its own URL; returns
/// its base URL (`http://127.0.0.1:PORT/v2`).
async fn proxy(upstream: &str, change: Change) -> String {
    #[derive(Clone)]
    struct Up {
        base: String,
        own: String,
        change: Change,
        http: reqwest::Client,
    }
    async fn forward(
        State(up): State<Up>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let rest = path.strip_prefix("/v2").unwrap_or(path);
        let mut req = up
            .http
            .request(method, format!("{}{rest}", up.base))
            .body(body.to_vec());
        for (k, v) in &headers {
            if k != header::HOST && k != header::CONTENT_LENGTH {
                req = req.header(k, v);
            }
        }
        let Ok(resp) = req.send().await else {
            return StatusCode::BAD_GATEWAY.into_response();
        };
        let status = resp.status();
        let mut headers = resp.headers().clone();
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::TRANSFER_ENCODING);
        if let Some(l) = headers.get(header::LOCATION).and_then(|l| l.to_str().ok())
            && let Ok(l) = HeaderValue::from_str(&l.replace(&up.base, &up.own))
        {
            headers.insert(header::LOCATION, l);
        }
        let text = resp.text().await.unwrap_or_default();
        let text = text.replace(&up.base, &up.own);
        let body = match serde_json::from_str::<Value>(&text) {
            Ok(mut v) => {
                (up.change)(uri.path().strip_prefix("/v2").unwrap_or(""), &mut v);
                v.to_string()
            }
            Err(_) => text,
        };
        let mut r = (status, body).into_response();
        r.headers_mut().extend(headers);
        r
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let own = format!("http://{}/v2", listener.local_addr().expect("addr"));
    let up = Up {
        base: upstream.to_string(),
        own: own.clone(),
        change,
        http: reqwest::Client::new(),
    };
    let app = axum::Router::new().fallback(forward).with_state(up);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    own
}

// ---------------------------------------------------------------------------
// Server shapes: a fresh instance of the same server re-runs without diffs.

/// How a fake SCIM server makes up what it makes up. Every instance differs
/// from the last (`seed`): other ids, another clock, another order.
#[derive(Clone, Copy, Default)]
struct Shape {
    /// Ids are integers from a counter that starts elsewhere on each
    /// instance (`"1001"`), not UUIDs.
    int_ids: bool,
    /// `meta.location` ends in the userName (displayName for groups).
    location_by_name: bool,
    /// `meta.version` and the ETag hash the body.
    etag_hash: bool,
    /// Timestamps: `None` with a fraction and `Z`; `Some(false)` without a
    /// fraction; `Some(true)` without a fraction, with a `+05:30` offset.
    plain_time: Option<bool>,
    /// Lists, `emails`, `members` and `schemas` in a shuffled order.
    unsorted: bool,
}

struct FakeState {
    shape: Shape,
    base: String,
    rng: u64,
    next_id: u64,
    /// Seconds since the instance's epoch; every write ticks it.
    clock: i64,
    epoch: time::OffsetDateTime,
    /// (endpoint, id) → resource.
    store: BTreeMap<(String, String), Value>,
}

impl FakeState {
    fn rand(&mut self) -> u64 {
        // xorshift64: a seeded order, the same for the same seed.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn shuffle(&mut self, a: &mut [Value]) {
        if !self.shape.unsorted {
            return;
        }
        for i in (1..a.len()).rev() {
            let j = (self.rand() % (i as u64 + 1)) as usize;
            a.swap(i, j);
        }
    }

    fn new_id(&mut self) -> String {
        if self.shape.int_ids {
            self.next_id += 1;
            self.next_id.to_string()
        } else {
            uuid::Uuid::new_v4().to_string()
        }
    }

    fn now(&mut self) -> String {
        use time::format_description::well_known::Rfc3339;
        self.clock += 1;
        let t =
            self.epoch + time::Duration::seconds(self.clock) + time::Duration::milliseconds(123);
        match self.shape.plain_time {
            None => t.format(&Rfc3339).unwrap_or_default(),
            Some(offset) => {
                let t = if offset {
                    t.to_offset(time::macros::offset!(+5:30))
                } else {
                    t
                };
                let f = time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
                );
                let s = t.format(&f).unwrap_or_default();
                if offset { s } else { s.replace("+00:00", "Z") }
            }
        }
    }

    /// The resource as the server shows it: shuffled, with a fresh ETag.
    fn show(&mut self, mut v: Value) -> Value {
        for key in ["emails", "members", "schemas"] {
            if let Some(Value::Array(a)) = v.get_mut(key) {
                let mut items = std::mem::take(a);
                self.shuffle(&mut items);
                *a = items;
            }
        }
        v
    }

    fn stamp(&mut self, endpoint: &str, v: &mut Value, created: Option<Value>) {
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let name = v
            .get("userName")
            .or_else(|| v.get("displayName"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let now = self.now();
        let tail = if self.shape.location_by_name {
            name
        } else {
            id
        };
        v["meta"] = json!({
            "resourceType": if endpoint == "Users" { "User" } else { "Group" },
            "created": created.unwrap_or(json!(now)),
            "lastModified": now,
            "location": format!("{}/{endpoint}/{tail}", self.base),
        });
        // A server-made timestamp outside `meta`, as audit extensions carry.
        if endpoint == "Users" {
            v["urn:example:params:scim:schemas:extension:audit:2.0:User"] =
                json!({"provisionedAt": self.now()});
        }
        let version = if self.shape.etag_hash {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            v.to_string().hash(&mut h);
            format!("W/\"{:016x}\"", h.finish())
        } else {
            "W/\"1\"".to_string()
        };
        v["meta"]["version"] = json!(version);
    }
}

fn scim(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    if let Some(etag) = v["meta"]["version"].as_str()
        && let Ok(h) = HeaderValue::from_str(etag)
    {
        r.headers_mut().insert(header::ETAG, h);
    }
    r
}

fn scim_error(status: StatusCode, detail: String) -> Response {
    scim(
        status,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": status.as_u16().to_string(), "detail": detail}),
    )
}

/// `attr eq "x"` or `attr sw "x"`, the only filters the shape suites send.
fn matches_filter(v: &Value, filter: &str) -> bool {
    let mut parts = filter.splitn(3, ' ');
    let (Some(attr), Some(op), Some(val)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let val = val.trim_matches('"').to_lowercase();
    let have = v[attr].as_str().unwrap_or_default().to_lowercase();
    match op {
        "eq" => have == val,
        "sw" => have.starts_with(&val),
        _ => false,
    }
}

async fn fake_scim(
    State(st): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let mut s = st.lock().expect("fake state");
    let path = uri.path().trim_start_matches("/scim/v2/");
    let parts: Vec<&str> = path.split('/').collect();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["ServiceProviderConfig"]) => scim(
            StatusCode::OK,
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "patch": {"supported": true}, "filter": {"supported": true, "maxResults": 100},
                "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
                "sort": {"supported": false}, "etag": {"supported": true},
                "changePassword": {"supported": false}, "authenticationSchemes": []}),
        ),
        ("GET", ["ResourceTypes"]) => scim(
            StatusCode::OK,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 2, "Resources": [
                {"id": "User", "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User"},
                {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": "urn:ietf:params:scim:schemas:core:2.0:Group"}]}),
        ),
        ("POST", [ep @ ("Users" | "Groups")]) => {
            let ep = ep.to_string();
            let mut v = body;
            let id = s.new_id();
            v["id"] = json!(id);
            s.stamp(&ep, &mut v, None);
            s.store.insert((ep, id), v.clone());
            let shown = s.show(v);
            scim(StatusCode::CREATED, &shown)
        }
        ("GET", [ep @ ("Users" | "Groups")]) => {
            let filter = uri
                .query()
                .and_then(|q| {
                    url_decode(q)
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("filter=").map(str::to_string))
                })
                .unwrap_or_default();
            let mut found: Vec<Value> = s
                .store
                .iter()
                .filter(|((e, _), v)| e == ep && matches_filter(v, &filter))
                .map(|(_, v)| v.clone())
                .collect();
            s.shuffle(&mut found);
            let found: Vec<Value> = found.into_iter().map(|v| s.show(v)).collect();
            scim(
                StatusCode::OK,
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": found.len(), "startIndex": 1, "itemsPerPage": found.len(),
                    "Resources": found}),
            )
        }
        (m, [ep @ ("Users" | "Groups"), id]) => {
            let key = (ep.to_string(), id.to_string());
            let what = if *ep == "Users" { "User" } else { "Group" };
            let Some(old) = s.store.get(&key).cloned() else {
                return scim_error(StatusCode::NOT_FOUND, format!("{what} {id} not found"));
            };
            match m {
                "GET" => {
                    let shown = s.show(old);
                    scim(StatusCode::OK, &shown)
                }
                "DELETE" => {
                    s.store.remove(&key);
                    StatusCode::NO_CONTENT.into_response()
                }
                "PATCH" => {
                    // Only what the shape suites send: replace of plain attributes.
                    let mut v = old.clone();
                    for op in body["Operations"].as_array().into_iter().flatten() {
                        if let (Some(p), Some(val)) = (op["path"].as_str(), op.get("value")) {
                            v[p] = val.clone();
                        }
                    }
                    let created = old["meta"]["created"].clone();
                    s.stamp(ep, &mut v, Some(created));
                    s.store.insert(key, v.clone());
                    let shown = s.show(v);
                    scim(StatusCode::OK, &shown)
                }
                _ => scim_error(StatusCode::METHOD_NOT_ALLOWED, "not here".into()),
            }
        }
        _ => scim_error(StatusCode::NOT_FOUND, format!("no {path}")),
    }
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A fresh fake of `shape`; instance `seed` differs from every other.
fn start_fake(rt: &tokio::runtime::Runtime, shape: Shape, seed: u64) -> String {
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}/scim/v2", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(FakeState {
            shape,
            base: base.clone(),
            rng: 0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d),
            next_id: seed * 1000,
            clock: 0,
            epoch: time::macros::datetime!(2026-01-01 0:00 UTC) + time::Duration::days(seed as i64),
            store: BTreeMap::new(),
        }));
        let app = axum::Router::new().fallback(fake_scim).with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        base
    })
}

/// Two users, a filtered list, a PATCH, a group of both, a 404 naming the
/// id, a delete: each response snapshotted.
const SHAPE_SUITE: &str = r#"
name: NAME
idp: rfc
vars:
  ada: "{{prefix}}-ada@example.com"
  bob: "{{prefix}}-bob@example.com"
steps:
  - name: create-ada
    request:
      method: POST
      path: /Users
      body:
        schemas: [urn:ietf:params:scim:schemas:core:2.0:User, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User]
        userName: "{{ada}}"
        name: { givenName: Ada, familyName: Lovelace }
        emails:
          - { value: "{{prefix}}-ada@work.example", type: work, primary: true }
          - { value: "{{prefix}}-ada@home.example", type: home }
          - { value: "{{prefix}}-ada@other.example", type: other }
    expect: { status: 201 }
    capture: { adaId: "$.id" }
    snapshot: true
  - name: create-bob
    request:
      method: POST
      path: /Users
      body: { schemas: [urn:ietf:params:scim:schemas:core:2.0:User], userName: "{{bob}}" }
    expect: { status: 201 }
    capture: { bobId: "$.id" }
    snapshot: true
  - name: get-ada
    request: { method: GET, path: "/Users/{{adaId}}" }
    expect: { status: 200 }
    snapshot: true
  - name: list-both
    request: { method: GET, path: /Users, query: { filter: 'userName sw "{{prefix}}"' } }
    expect: { status: 200, json: { "$.totalResults": 2 } }
    snapshot: true
  - name: patch-ada
    request:
      method: PATCH
      path: "/Users/{{adaId}}"
      body:
        schemas: [urn:ietf:params:scim:api:messages:2.0:PatchOp]
        Operations: [{ op: replace, path: displayName, value: Ada L. }]
    expect: { status: 200 }
    snapshot: true
  - name: create-group
    request:
      method: POST
      path: /Groups
      body:
        schemas: [urn:ietf:params:scim:schemas:core:2.0:Group]
        displayName: "{{prefix}}-team"
        members: [{ value: "{{adaId}}" }, { value: "{{bobId}}" }]
    expect: { status: 201 }
    capture: { groupId: "$.id" }
    snapshot: true
  - name: list-groups
    request: { method: GET, path: /Groups, query: { filter: 'displayName eq "{{prefix}}-team"' } }
    expect: { status: 200 }
    snapshot: true
  - name: delete-bob
    request: { method: DELETE, path: "/Users/{{bobId}}" }
    expect: { status: 204 }
    snapshot: true
  - name: get-bob-gone
    request: { method: GET, path: "/Users/{{bobId}}" }
    expect: { status: 404 }
    snapshot: true
"#;

/// Records `shape` against one fresh fake, re-runs against others, and
/// requires zero differences; the fakes' raw answers did differ.
fn assert_stable(shape: Shape) {
    // Two suites at once (--jobs 2), so ids from one counter interleave
    // differently on every run.
    let tmp = shape_suites();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // Record once (plain run), then compare as CI would.
    let go = |seed: u64, ci: bool| {
        let url = start_fake(&rt, shape, seed);
        let mut args = vec!["run", "--url", &url, "--snapshots", "snaps", "--jobs", "2"];
        if ci {
            args.push("--require-snapshots");
        }
        run(tmp.path(), &args, ci)
    };
    let first = go(1, false);
    assert_eq!(first.code, 0, "{}", first.out);
    assert_eq!(
        snap_files(&tmp.path().join("snaps")).len(),
        18,
        "{}",
        first.out
    );
    for seed in [2, 3] {
        let again = go(seed, true);
        assert_eq!(again.code, 0, "{}", again.out);
        assert!(
            again.snapshot_failures().is_empty(),
            "{:#?}",
            again.snapshot_failures()
        );
        assert!(
            again.summary().ends_with("18 matched, 0 new, 0 changed"),
            "{}",
            again.out
        );
        // The instances really answered differently.
        let body = |r: &Ran| {
            r.report["suites"][0]["steps"][0]["exchange"]["response"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        assert_ne!(body(&first), body(&again));
    }
}

#[test]
fn integer_ids_rerun_without_differences() {
    assert_stable(Shape {
        int_ids: true,
        ..Shape::default()
    });
}

#[test]
fn locations_by_username_rerun_without_differences() {
    assert_stable(Shape {
        location_by_name: true,
        ..Shape::default()
    });
}

#[test]
fn body_hash_etags_rerun_without_differences() {
    assert_stable(Shape {
        etag_hash: true,
        ..Shape::default()
    });
}

#[test]
fn timestamps_without_fraction_or_with_an_offset_rerun_without_differences() {
    for offset in [false, true] {
        assert_stable(Shape {
            plain_time: Some(offset),
            ..Shape::default()
        });
    }
}

#[test]
fn unsorted_lists_rerun_without_differences() {
    assert_stable(Shape {
        unsorted: true,
        ..Shape::default()
    });
}

#[test]
fn all_shapes_at_once_rerun_without_differences() {
    assert_stable(Shape {
        int_ids: true,
        location_by_name: true,
        etag_hash: true,
        plain_time: Some(true),
        unsorted: true,
    });
}

// ---------------------------------------------------------------------------
// docs/ci.md: the snapshot gate's commands, run as written.

/// The fenced blocks of docs/ci.md's snapshot section: `(language, text)`.
fn ci_doc_blocks() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).expect("docs/ci.md");
    let start = doc
        .find("## Snapshot gate")
        .expect("a snapshot gate section");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut out = Vec::new();
    let mut lines = section.lines();
    while let Some(l) = lines.next() {
        if let Some(lang) = l.strip_prefix("```").filter(|x| !x.is_empty()) {
            let text: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            out.push((lang.to_string(), text.join("\n")));
        }
    }
    out
}

/// Shell commands of a block: continuation lines joined, comments dropped.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for l in block.lines() {
        let l = l.trim();
        if cur.is_empty() && (l.is_empty() || l.starts_with('#')) {
            continue;
        }
        match l.strip_suffix('\\') {
            Some(part) => cur.push_str(part),
            None => {
                cur.push_str(l);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    out
}

/// Serves the reference server and, in front of it, the same server after a
/// "release" that changed its ServiceProviderConfig's documentation link.
fn staging(rt: &tokio::runtime::Runtime) -> (scimitar::server::RunningServer, String, String) {
    fn release(path: &str, v: &mut Value) {
        if path == "/ServiceProviderConfig" {
            v["documentationUri"] = json!("https://docs.example.com/scim/v2");
        }
    }
    rt.block_on(async {
        let server = scimitar::server::spawn(
            ([127, 0, 0, 1], 0).into(),
            scimitar::server::ServerConfig {
                token: Some(TOKEN.into()),
                ..Default::default()
            },
        )
        .await
        .expect("reference server");
        let same = proxy(&server.base_url, |_, _| {}).await;
        let changed = proxy(&server.base_url, release).await;
        (server, same, changed)
    })
}

#[test]
fn the_ci_snapshot_gate_in_docs_works_as_written() {
    let blocks = ci_doc_blocks();
    let sh: Vec<Vec<String>> = blocks
        .iter()
        .filter(|(l, _)| l == "sh")
        .map(|(_, t)| commands(t))
        .collect();
    let workflow = &blocks
        .iter()
        .find(|(l, _)| l == "yaml")
        .expect("a workflow")
        .1;
    let wf: Value = serde_saphyr::from_str(workflow).expect("the workflow is YAML");
    let gate: Vec<String> = wf["jobs"]["snapshots"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .filter(|r| r.contains("scimitar ") && !r.contains("cargo install"))
        .flat_map(commands)
        .collect();
    assert_eq!(gate.len(), 1, "{gate:?}");
    assert!(gate[0].contains("--require-snapshots") && gate[0].contains("--snapshots"));
    assert_eq!(sh.len(), 3, "record, review, orphans: {sh:?}");
    // The environment the workflow gives: STAGING and SCIM_TOKEN.
    assert!(sh[0][0].starts_with("export STAGING=") && sh[0][0].contains(" SCIM_TOKEN="));

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_server, same, changed) = staging(&rt);
    let repo = tempfile::tempdir().expect("tempdir");
    let bin = Path::new(env!("CARGO_BIN_EXE_scimitar"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache = repo.path().join(".cache");
    let sh_run = |cmd: &str, staging: &str, ci: bool| {
        let mut c = Command::new("bash");
        c.args(["-c", cmd])
            .current_dir(repo.path())
            .env("PATH", &path)
            .env("STAGING", staging)
            .env("SCIM_TOKEN", TOKEN)
            .env("XDG_CACHE_HOME", &cache)
            .env("NO_COLOR", "1")
            .env("GIT_AUTHOR_NAME", "ci")
            .env("GIT_AUTHOR_EMAIL", "ci@example.com")
            .env("GIT_COMMITTER_NAME", "ci")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com")
            .env_remove("SCIM_URL")
            .env_remove("TF_BUILD");
        if ci {
            c.env("CI", "true");
        } else {
            c.env_remove("CI");
        }
        let o = c.output().expect("bash");
        let text = format!(
            "$ {cmd}\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code().unwrap_or(-1), text)
    };
    let ok = |cmd: &str, staging: &str, ci: bool| {
        let (code, text) = sh_run(cmd, staging, ci);
        assert_eq!(code, 0, "{text}");
        text
    };
    ok("git init -q .", &same, false);

    // 1. Record once and commit (the export is the test's environment).
    for cmd in &sh[0][1..] {
        let out = ok(cmd, &same, false);
        if cmd.starts_with("scimitar run") {
            assert!(out.contains("files written in snapshots/staging"), "{out}");
        }
    }
    let recorded = snap_files(&repo.path().join("snapshots/staging"));
    assert!(recorded.len() > 150, "{recorded:?}");
    let snap = std::fs::read_to_string(
        repo.path()
            .join("snapshots/staging/entra-users/read-user.snap"),
    )
    .expect("a recorded snapshot");
    assert!(
        snap.contains("source: \"builtin:entra/users.yaml\""),
        "{snap}"
    );

    // 2. The gate passes while staging answers the same.
    let out = ok(&gate[0], &same, true);
    assert!(
        out.contains(&format!("{} matched, 0 new, 0 changed", recorded.len())),
        "{out}"
    );
    assert!(
        repo.path().join("junit.xml").is_file() && repo.path().join("scim-report.md").is_file()
    );

    // … and fails, with the diff in the log and the JUnit report, once a
    // release changed a response.
    let (code, out) = sh_run(&gate[0], &changed, true);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("+  \"documentationUri\": \"https://docs.example.com/scim/v2\","),
        "{out}"
    );
    let junit = std::fs::read_to_string(repo.path().join("junit.xml")).expect("junit");
    assert!(junit.contains("documentationUri"), "{junit}");

    // 3. Review: re-run without CI, list, accept exactly what was listed.
    let (code, out) = sh_run(&sh[1][0], &changed, false);
    assert_eq!(code, 1, "{out}");
    let listed = ok(&sh[1][1], &changed, false);
    let accept = listed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("scimitar snapshots accept "))
        .unwrap_or_else(|| panic!("no accept command in\n{listed}"));
    let n = listed
        .lines()
        .filter(|l| l.starts_with("changed: "))
        .count();
    assert!(n >= 2, "{listed}");
    let out = ok(accept, &changed, false);
    assert!(out.contains(&format!("\n{n} accepted")), "{out}");
    let out = ok(&gate[0], &changed, true);
    assert!(
        out.contains(&format!("{} matched, 0 new, 0 changed", recorded.len())),
        "{out}"
    );

    // Orphans: a renamed step's old snapshot is reported by the full run,
    // and the documented command removes it.
    let stale = repo
        .path()
        .join("snapshots/staging/entra-users/old-name.snap");
    std::fs::copy(
        repo.path()
            .join("snapshots/staging/entra-users/read-user.snap"),
        &stale,
    )
    .expect("copy");
    let out = ok(&gate[0], &changed, true);
    assert!(
        out.contains("snapshots: 1 snapshot in snapshots/staging belongs to no step (orphans)"),
        "{out}"
    );
    let out = ok(&sh[2][0], &changed, false);
    assert!(
        out.contains("removed: snapshots/staging/entra-users/old-name.snap"),
        "{out}"
    );
    assert!(!stale.exists());
    assert_eq!(snap_files(&repo.path().join("snapshots/staging")), recorded);
}

// ---------------------------------------------------------------------------
// Where files go, the reference server, review.

/// A temporary folder with two copies of the shape suite.
fn shape_suites() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let suites = tmp.path().join("suites");
    std::fs::create_dir_all(&suites).expect("suites dir");
    for name in ["shape-a", "shape-b"] {
        std::fs::write(
            suites.join(format!("{name}.yaml")),
            SHAPE_SUITE.replace("NAME", name),
        )
        .expect("suite");
    }
    tmp
}

#[test]
fn a_plain_run_writes_nothing_and_each_local_port_has_its_own_folder() {
    let tmp = shape_suites();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let one = start_fake(&rt, Shape::default(), 1);
    let two = start_fake(&rt, Shape::default(), 2);
    let folder = |url: &str| {
        let u = reqwest::Url::parse(url).expect("url");
        format!("snapshots/127.0.0.1-{}-scim-v2", u.port().expect("port"))
    };

    let plain = run(tmp.path(), &["run", "--url", &one], false);
    assert_eq!(plain.code, 0, "{}", plain.out);
    assert!(!tmp.path().join("snapshots").exists(), "{}", plain.out);
    assert_eq!(
        plain.summary(),
        format!(
            "snapshots: 18 responses not compared and nothing written: there is no {} here; \
             --update-snapshots records them there (--snapshots DIR elsewhere)",
            folder(&one)
        )
    );

    let rec = run(
        tmp.path(),
        &["run", "--url", &one, "--update-snapshots"],
        false,
    );
    assert!(
        rec.summary()
            .ends_with(&format!("; 18 files written in {}", folder(&one))),
        "{}",
        rec.out
    );
    assert_eq!(snap_files(&tmp.path().join(folder(&one))).len(), 18);

    // Another server on the same host: its own folder, not the first one's.
    let other = run(tmp.path(), &["run", "--url", &two], false);
    assert!(
        other
            .summary()
            .contains(&format!("there is no {} here", folder(&two))),
        "{}",
        other.out
    );
    // Once recorded, a plain run compares (and writes only what changed).
    let again = run(tmp.path(), &["run", "--url", &one], false);
    assert_eq!(
        again.summary(),
        format!("snapshots ({}): 18 matched, 0 new, 0 changed", folder(&one))
    );
}

#[test]
fn run_embedded_twice_in_a_row_matches_every_committed_reference_snapshot() {
    let committed = snap_files(&root().join("snapshots/reference"));
    assert!(committed.len() > 150, "{committed:?}");
    for _ in 0..2 {
        let ran = run(root(), &["run", "--embedded", "--require-snapshots"], true);
        assert_eq!(
            ran.code, 0,
            "re-record with `cargo run -- run --embedded --update-snapshots` if the change is \
             intended\n{}",
            ran.out
        );
        assert!(
            ran.snapshot_failures().is_empty(),
            "{:#?}",
            ran.snapshot_failures()
        );
        assert_eq!(
            ran.summary(),
            format!(
                "snapshots (snapshots/reference): {} matched, 0 new, 0 changed",
                committed.len()
            ),
            "{}",
            ran.out
        );
        assert!(!ran.out.contains("orphans"), "{}", ran.out);
    }
    assert_eq!(snap_files(&root().join("snapshots/reference")), committed);
}

#[test]
fn pending_suggests_accepting_exactly_the_listed_files() {
    let tmp = shape_suites();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = ["--snapshots", "snaps"];
    let url = start_fake(&rt, Shape::default(), 1);
    let rec = run(
        tmp.path(),
        &[&["run", "--url", &url][..], &dir].concat(),
        false,
    );
    assert_eq!(rec.code, 0, "{}", rec.out);
    // The server now names locations by userName: every resource changes.
    let url = start_fake(
        &rt,
        Shape {
            location_by_name: true,
            ..Shape::default()
        },
        2,
    );
    let changed = run(
        tmp.path(),
        &[&["run", "--url", &url][..], &dir].concat(),
        false,
    );
    assert_eq!(changed.code, 1, "{}", changed.out);
    let pending_before = changed
        .steps()
        .values()
        .filter(|(_, d, _)| d.is_some())
        .count();
    assert!(pending_before >= 8, "{}", changed.out);

    let bin = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .args(args)
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("scimitar");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // A name ending in .snap.new is that file only, not one in `shape-a`.
    let none = bin(&[
        "snapshots",
        "pending",
        "--snapshots",
        "snaps",
        "a/get-ada.snap.new",
    ]);
    assert!(none.starts_with("no pending snapshots"), "{none}");
    let listed = bin(&[
        "snapshots",
        "pending",
        "--snapshots",
        "snaps",
        "shape-a/get-ada",
    ]);
    assert!(
        listed.starts_with("changed: snaps/shape-a/get-ada.snap.new\n"),
        "{listed}"
    );
    assert!(
        listed.ends_with(
            "1 pending; accept exactly these with\n  scimitar snapshots accept --snapshots snaps shape-a/get-ada.snap.new\nor reject them with `reject` in place of `accept`\n"
        ),
        "{listed}"
    );
    let accepted = bin(&[
        "snapshots",
        "accept",
        "--snapshots",
        "snaps",
        "shape-a/get-ada.snap.new",
    ]);
    assert!(accepted.ends_with("\n1 accepted\n"), "{accepted}");
    let rest = bin(&["snapshots", "pending", "--snapshots", "snaps"]);
    assert!(
        rest.contains(&format!("\n{} pending;", pending_before - 1)),
        "{rest}"
    );
    assert!(!rest.contains("shape-a/get-ada.snap.new"), "{rest}");
}
