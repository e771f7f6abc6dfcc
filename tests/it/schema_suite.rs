//! The generated `schema` profile: suites written from what a server
//! declares in `/Schemas` and `/ResourceTypes`, run like any suite.
//!
//! Against the reference server the profile passes and covers every
//! declared attribute; fault-injecting proxies in front of it (a server
//! that declares one thing and does another) fail the step that names the
//! declaration; a server that declares less passes.

use crate::support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use scimitar::http::{Auth, Client, HttpConfig};
use scimitar::results::{Outcome, RunResult, StepResult};
use scimitar::runner::Run;
use scimitar::schema_suite::{self, Options};
use scimitar::server::{self, RunningServer, ServerConfig};
use serde_json::{Value, json};

const TOKEN: &str = "schema-suite-token";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn client(base: &str) -> Arc<Client> {
    let mut cfg = HttpConfig::new(base.parse().expect("url"));
    cfg.auth = Auth::Bearer(TOKEN.into());
    Arc::new(Client::new(cfg).expect("client"))
}

async fn reference() -> RunningServer {
    server::spawn(
        ([127, 0, 0, 1], 0).into(),
        ServerConfig {
            token: Some(TOKEN.into()),
            ..Default::default()
        },
    )
    .await
    .expect("reference server")
}

/// Discovery, generation from the target's declarations, then the run.
async fn run_generated(base: &str) -> RunResult {
    let client = client(base);
    let caps = scimitar::runner::discover(&client)
        .await
        .expect("discovery");
    let suites = schema_suite::for_run(&client, &caps)
        .await
        .expect("generated suites");
    Run::new(suites).execute_with(client, Arc::new(caps)).await
}

/// `suite::step (outcome): findings` for every step that did not pass.
fn not_passed(r: &RunResult) -> Vec<String> {
    let mut out = Vec::new();
    for s in &r.suites {
        for st in &s.steps {
            if st.outcome != Outcome::Passed {
                out.push(format!(
                    "{}::{} ({:?}): {}",
                    s.name,
                    st.name,
                    st.outcome,
                    findings(st)
                ));
            }
        }
        for c in &s.cleanup {
            if let Some(p) = c.problem() {
                out.push(format!("{} cleanup {}: {p}", s.name, c.path));
            }
        }
    }
    out
}

fn findings(st: &StepResult) -> String {
    let mut f: Vec<String> = st
        .findings
        .iter()
        .map(|f| format!("{}: {}", f.subject, f.message))
        .collect();
    f.extend(st.error.clone());
    f.join(" | ")
}

fn step<'r>(r: &'r RunResult, suite: &str, name: &str) -> &'r StepResult {
    r.suites
        .iter()
        .find(|s| s.name == suite)
        .and_then(|s| s.steps.iter().find(|st| st.name == name))
        .unwrap_or_else(|| panic!("no step {suite}::{name}"))
}

fn failed(r: &RunResult) -> BTreeSet<String> {
    r.suites
        .iter()
        .flat_map(|s| {
            s.steps
                .iter()
                .filter(|st| st.outcome == Outcome::Failed)
                .map(move |st| format!("{}::{}", s.name, st.name))
        })
        .collect()
}

// ---------------------------------------------------------------- the reference server

#[tokio::test]
async fn the_reference_server_passes_the_generated_profile() {
    let srv = reference().await;
    let r = run_generated(&srv.base_url).await;
    let bad = not_passed(&r);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let names: Vec<&str> = r.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["schema-user", "schema-group"]);
    assert!(r.suites.iter().all(|s| s.idp == "schema"));
    // Reasonable, not one request per check.
    assert!(r.requests_sent < 250, "{} requests", r.requests_sent);
    srv.shutdown().await;
}

/// Every attribute of `attrs` (and its sub-attributes) as `urn:attr.sub`.
fn declared(urn: &str, attrs: &[scimitar::scim::schema::Attribute], out: &mut Vec<String>) {
    for a in attrs {
        out.push(format!("{urn}:{}", a.name));
        for s in &a.sub_attributes {
            out.push(format!("{urn}:{}.{}", a.name, s.name));
        }
    }
}

#[tokio::test]
async fn every_attribute_of_user_group_and_enterprise_is_covered() {
    use scimitar::scim::schema;
    let srv = reference().await;
    let planned = schema_suite::fetch_and_plan(&client(&srv.base_url), &Options::default())
        .await
        .expect("plan");
    srv.shutdown().await;
    let mut want = Vec::new();
    for s in [schema::user(), schema::enterprise_user(), schema::group()] {
        declared(s.id, &s.attributes, &mut want);
    }
    let coverage: Vec<_> = planned.iter().flat_map(|p| p.coverage.iter()).collect();
    let got: Vec<String> = coverage.iter().map(|c| c.declaration.clone()).collect();
    let (mut w, mut g) = (want.clone(), got.clone());
    w.sort();
    g.sort();
    assert_eq!(w, g, "the coverage lists every declared attribute");

    // Not sent, each with its reason; everything else is sent and read back.
    let skipped: BTreeSet<String> = coverage
        .iter()
        .filter(|c| c.skipped.is_some())
        .map(|c| c.declaration.clone())
        .collect();
    let user = |a: &str| format!("{USER}:{a}");
    let mut expected: BTreeSet<String> = [
        user("groups.$ref"),
        user("groups.display"),
        user("groups.type"),
        user("x509Certificates"),
        user("x509Certificates.value"),
        user("x509Certificates.display"),
        user("x509Certificates.type"),
        user("x509Certificates.primary"),
        format!("{ENTERPRISE}:manager.$ref"),
        format!("{ENTERPRISE}:manager.displayName"),
        "urn:ietf:params:scim:schemas:core:2.0:Group:members.$ref".into(),
        "urn:ietf:params:scim:schemas:core:2.0:Group:members.display".into(),
    ]
    .into();
    assert_eq!(skipped, expected, "not sent");
    for c in &coverage {
        assert!(
            c.checks
                .iter()
                .any(|x| x == "type" || x == "never returned"),
            "{c:?} is type-checked (or checked never to be returned)"
        );
        if c.skipped.is_none() {
            assert!(
                c.checks.len() > 1,
                "{} has a behavioural check: {:?}",
                c.declaration,
                c.checks
            );
        }
    }
    let checks = |d: &str| {
        coverage
            .iter()
            .find(|c| c.declaration == d)
            .map(|c| c.checks.clone())
            .unwrap_or_default()
    };
    let has = |d: &str, check: &str| checks(d).iter().any(|c| c == check);
    assert!(has(&user("userName"), "uniqueness server"));
    assert!(has(&user("userName"), "required"));
    assert!(has(&user("userName"), "caseExact false: filter"));
    assert!(has(&user("password"), "never returned: even when asked"));
    assert!(has(&user("groups.value"), "readOnly: ignored"));
    assert!(has(&user("name.middleName"), "patch replace read-back"));
    assert!(has(&user("emails.type"), "canonicalValues"));
    assert!(has(&user("title"), "put"));
    assert!(has(&user("title"), "patch remove"));
    assert!(has(&format!("{ENTERPRISE}:department"), "patch remove"));
    assert!(has(
        &format!("{ENTERPRISE}:manager.value"),
        "create read-back"
    ));
    expected.clear();
}

#[test]
fn the_exported_yaml_loads_back_as_the_same_steps() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (srv, planned) = rt.block_on(async {
        let srv = reference().await;
        let p = schema_suite::fetch_and_plan(&client(&srv.base_url), &Options::default())
            .await
            .expect("plan");
        (srv, p)
    });
    rt.block_on(srv.shutdown());
    let dir = tempfile::tempdir().expect("tempdir");
    for p in &planned {
        let path = dir.path().join(format!("{}.yaml", p.name));
        std::fs::write(&path, &p.yaml).expect("write");
        let from_file = scimitar::suite::load_file(&path).expect("the written suite loads");
        let in_memory = p
            .load(schema_suite::in_memory_path(&p.name))
            .expect("in memory");
        assert_eq!(from_file.name, in_memory.name);
        assert_eq!(from_file.idp, "schema");
        assert_eq!(from_file.steps.len(), in_memory.steps.len());
        for (a, b) in from_file.steps.iter().zip(&in_memory.steps) {
            assert_eq!(a.name, b.name);
            assert_eq!(a.why, b.why);
            assert_eq!(a.request.method, b.request.method);
            assert_eq!(a.request.path, b.request.path);
            assert_eq!(a.request.query, b.request.query);
            assert_eq!(a.request.body, b.request.body);
            assert_eq!(a.depends_on, b.depends_on);
            assert_eq!(a.needs, b.needs);
            assert_eq!(a.expect.status, b.expect.status);
            assert_eq!(a.expect.json.len(), b.expect.json.len());
        }
        // Steps that use the created id say which step produces it.
        let read = from_file
            .steps
            .iter()
            .find(|s| s.name == "read-back-create")
            .expect("read-back-create");
        assert!(
            read.needs
                .contains(&("id".to_string(), "create".to_string())),
            "{:?}",
            read.needs
        );
        assert_eq!(read.depends_on, ["create"]);
    }
}

#[test]
fn schema_suite_writes_files_that_run_and_list_shows_the_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = support::scimitar(dir.path(), &["schema-suite", "--embedded", "--out", "gen"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("gen/schema-user.yaml"), "{}", out.all());
    let text = std::fs::read_to_string(dir.path().join("gen/schema-user.yaml")).expect("written");
    assert!(text.contains("idp: schema"));
    assert!(
        text.contains("x509Certificates: its value is binary"),
        "the reason is in the file"
    );
    // Written again without --force: refused, nothing overwritten.
    let again = support::scimitar(dir.path(), &["schema-suite", "--embedded", "--out", "gen"]);
    assert_eq!(again.code, 2, "{}", again.all());
    // One file for several resource types: one clear error.
    let one = support::scimitar(
        dir.path(),
        &["schema-suite", "--embedded", "--out", "x.yaml"],
    );
    assert_eq!(one.code, 2);
    assert!(one.stderr.contains("--resource-type"), "{}", one.all());
    let one = support::scimitar(
        dir.path(),
        &[
            "schema-suite",
            "--embedded",
            "--resource-type",
            "Group",
            "--out",
            "g.yaml",
        ],
    );
    assert_eq!(one.code, 0, "{}", one.all());

    let run = support::scimitar(dir.path(), &["run", "--embedded", "--suite", "gen", "-q"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("Generated from /Schemas"),
        "{}",
        run.all()
    );

    let list = support::scimitar(dir.path(), &["list", "--idp", "schema", "--embedded"]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert!(
        list.stdout.contains("schema-user [schema]"),
        "{}",
        list.all()
    );
    assert!(
        list.stdout
            .contains("patch-replace-title PATCH /Users/{{id}}"),
        "{}",
        list.all()
    );
    let no_target = support::scimitar(dir.path(), &["list", "--idp", "schema"]);
    assert_eq!(no_target.code, 2);
    assert!(no_target.stderr.contains("--url"), "{}", no_target.all());

    let embedded = support::scimitar(dir.path(), &["run", "--embedded", "--idp", "schema", "-q"]);
    assert_eq!(embedded.code, 0, "{}", embedded.all());
    assert!(
        embedded.stdout.contains("Generated from /Schemas"),
        "{}",
        embedded.all()
    );
}

// ---------------------------------------------------------------- faults

/// Rewrites a JSON response: (method, path, query, request body, response body).
type Rewrite = fn(&Method, &str, &str, &Option<Value>, &mut Value);

struct Proxy {
    upstream: String,
    rewrite: Rewrite,
    http: reqwest::Client,
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let url = if query.is_empty() {
        format!("{}{path}", p.upstream)
    } else {
        format!("{}{path}?{query}", p.upstream)
    };
    let mut b = p.http.request(method.clone(), url);
    for (k, v) in &headers {
        if k != header::HOST && k != header::CONTENT_LENGTH {
            b = b.header(k, v);
        }
    }
    let r = b.body(body.clone()).send().await.expect("upstream answers");
    let status = r.status().as_u16();
    let mut out_headers = r.headers().clone();
    out_headers.remove(header::CONTENT_LENGTH);
    out_headers.remove(header::TRANSFER_ENCODING);
    let bytes = r.bytes().await.unwrap_or_default();
    let bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut v) => {
            let req: Option<Value> = serde_json::from_slice(&body).ok();
            (p.rewrite)(&method, &path, &query, &req, &mut v);
            Bytes::from(serde_json::to_vec(&v).expect("json"))
        }
        Err(_) => bytes,
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(status).expect("status");
    *resp.headers_mut() = out_headers;
    resp
}

/// A reference server behind a proxy that applies `rewrite`; the proxy's base URL.
async fn behind(rewrite: Rewrite) -> (String, RunningServer) {
    let srv = reference().await;
    let proxy = Arc::new(Proxy {
        upstream: format!("http://{}", srv.addr),
        rewrite,
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let url = format!("http://{}/scim/v2", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, srv)
}

/// The resources in a response: the body itself or a list's `Resources`.
fn resources(v: &mut Value) -> Vec<&mut Value> {
    if v.get("Resources").is_some() {
        match v.get_mut("Resources") {
            Some(Value::Array(a)) => a.iter_mut().collect(),
            _ => Vec::new(),
        }
    } else {
        vec![v]
    }
}

/// The attribute declaration `name` of schema `urn` in a /Schemas answer.
fn declaration<'v>(v: &'v mut Value, urn: &str, name: &str) -> Option<&'v mut Value> {
    resources(v)
        .into_iter()
        .find(|s| s["id"] == urn)?
        .get_mut("attributes")?
        .as_array_mut()?
        .iter_mut()
        .find(|a| a["name"] == name)
}

fn is_schemas(path: &str) -> bool {
    path.ends_with("/Schemas")
}

async fn faulty(rewrite: Rewrite) -> RunResult {
    let (url, srv) = behind(rewrite).await;
    let r = run_generated(&url).await;
    srv.shutdown().await;
    r
}

#[tokio::test]
async fn a_dropped_sub_attribute_fails_the_steps_that_read_it_back() {
    fn drop_email_type(_: &Method, path: &str, _: &str, _: &Option<Value>, v: &mut Value) {
        if !path.contains("/Users") {
            return;
        }
        for r in resources(v) {
            if let Some(Value::Array(emails)) = r.get_mut("emails") {
                for e in emails {
                    if let Some(m) = e.as_object_mut() {
                        m.remove("type");
                    }
                }
            }
        }
    }
    let r = faulty(drop_email_type).await;
    for name in [
        "read-back-create",
        "read-back-put",
        "read-back-patch-replace-emails",
    ] {
        let st = step(&r, "schema-user", name);
        assert_eq!(st.outcome, Outcome::Failed, "{name}: {}", findings(st));
        assert!(
            st.findings
                .iter()
                .any(|f| f.subject == "json $.emails[*].type"),
            "{name}: {}",
            findings(st)
        );
    }
    let why = step(&r, "schema-user", "read-back-patch-replace-emails")
        .why
        .clone()
        .unwrap_or_default();
    assert!(why.contains(&format!("{USER}:emails readWrite")), "{why}");
    // Nothing else about emails fails: the other sub-attributes are there.
    assert!(
        failed(&r)
            .iter()
            .all(|s| s.starts_with("schema-user::read-back-")),
        "{:?}",
        failed(&r)
    );
}

#[tokio::test]
async fn a_stored_read_only_value_fails_the_read_only_step() {
    // The server declares nickName readOnly, yet stores what a client sends.
    fn nick_read_only(_: &Method, path: &str, _: &str, _: &Option<Value>, v: &mut Value) {
        if is_schemas(path)
            && let Some(d) = declaration(v, USER, "nickName")
        {
            d["mutability"] = json!("readOnly");
        }
    }
    let r = faulty(nick_read_only).await;
    let st = step(&r, "schema-user", "read-only-values-ignored");
    assert_eq!(st.outcome, Outcome::Failed, "{}", findings(st));
    assert!(
        st.findings.iter().any(|f| f.subject == "json $.nickName"),
        "{}",
        findings(st)
    );
    assert!(
        st.why
            .as_deref()
            .unwrap_or("")
            .contains(&format!("{USER}:nickName"))
    );
    assert_eq!(
        failed(&r),
        ["schema-user::read-only-values-ignored".to_string()].into()
    );
}

#[tokio::test]
async fn a_returned_password_fails_the_never_returned_step() {
    fn leak_password(_: &Method, path: &str, _: &str, _: &Option<Value>, v: &mut Value) {
        if !path.contains("/Users") {
            return;
        }
        for r in resources(v) {
            if r.get("id").is_some() {
                r["password"] = json!("hunter2");
            }
        }
    }
    let r = faulty(leak_password).await;
    let st = step(&r, "schema-user", "never-returned-password");
    assert_eq!(st.outcome, Outcome::Failed, "{}", findings(st));
    assert!(st.findings.iter().any(|f| f.subject == "json $.password"));
    assert!(
        st.why
            .as_deref()
            .unwrap_or("")
            .contains(&format!("{USER}:password writeOnly/returned never"))
    );
}

#[tokio::test]
async fn returned_always_ignored_under_attributes_fails_its_step() {
    // userName declared returned always (as many servers do), but the
    // server leaves it out when attributes= names something else.
    fn always_user_name(_: &Method, path: &str, query: &str, _: &Option<Value>, v: &mut Value) {
        if is_schemas(path) {
            if let Some(d) = declaration(v, USER, "userName") {
                d["returned"] = json!("always");
            }
        } else if query.contains("attributes=") {
            for r in resources(v) {
                if let Some(m) = r.as_object_mut() {
                    m.remove("userName");
                }
            }
        }
    }
    let r = faulty(always_user_name).await;
    for name in [
        "returned-always-under-attributes",
        "returned-always-under-excludedAttributes",
    ] {
        let st = step(&r, "schema-user", name);
        assert_eq!(st.outcome, Outcome::Failed, "{name}: {}", findings(st));
        assert!(st.findings.iter().any(|f| f.subject == "json $.userName"));
        assert!(
            st.why
                .as_deref()
                .unwrap_or("")
                .contains(&format!("{USER}:userName returned always"))
        );
    }
}

#[tokio::test]
async fn an_accepted_duplicate_fails_the_uniqueness_step() {
    // displayName declared unique, which the server does not enforce.
    fn unique_display_name(_: &Method, path: &str, _: &str, _: &Option<Value>, v: &mut Value) {
        if is_schemas(path)
            && let Some(d) = declaration(v, USER, "displayName")
        {
            d["uniqueness"] = json!("server");
        }
    }
    let r = faulty(unique_display_name).await;
    let st = step(&r, "schema-user", "duplicate-displayName");
    assert_eq!(st.outcome, Outcome::Failed, "{}", findings(st));
    assert!(st.findings.iter().any(|f| f.subject == "status"));
    assert!(
        st.why
            .as_deref()
            .unwrap_or("")
            .contains(&format!("{USER}:displayName uniqueness server"))
    );
    // The duplicate it made anyway is cleaned up.
    assert!(!r.has_leftovers());
    assert_eq!(
        failed(&r),
        ["schema-user::duplicate-displayName".to_string()].into()
    );
}

#[tokio::test]
async fn a_server_that_declares_less_passes() {
    // RFC 7643 §8.7.1: a server declares what it supports; less is legal.
    fn declare_less(_: &Method, path: &str, _: &str, _: &Option<Value>, v: &mut Value) {
        if is_schemas(path) {
            for s in resources(v) {
                if let Some(Value::Array(attrs)) = s.get_mut("attributes") {
                    attrs.retain(|a| {
                        ![
                            "nickName",
                            "ims",
                            "x509Certificates",
                            "manager",
                            "photos",
                            "title",
                        ]
                        .contains(&a["name"].as_str().unwrap_or(""))
                    });
                    for a in attrs.iter_mut() {
                        if let Some(Value::Array(subs)) = a.get_mut("subAttributes") {
                            subs.retain(|s| {
                                !["display", "middleName"]
                                    .contains(&s["name"].as_str().unwrap_or(""))
                            });
                        }
                    }
                }
            }
        } else if path.ends_with("/ResourceTypes") {
            for rt in resources(v) {
                rt["schemaExtensions"] = json!([]);
            }
        }
    }
    let r = faulty(declare_less).await;
    let bad = not_passed(&r);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let user = r
        .suites
        .iter()
        .find(|s| s.name == "schema-user")
        .expect("user suite");
    let names: Vec<&str> = user.steps.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names
            .iter()
            .all(|s| !s.ends_with("-title") && !s.contains("enterprise:")),
        "{names:?}"
    );
}

// ---------------------------------------------------------------- scim2-server

/// Steps of the generated profile that fail against scim2-server (PyPI,
/// `.ci/requirements-external.txt`), each with its verdict against RFC
/// 7643/7644. Empty as of scim2-server 0.8.3: all 164 generated steps pass
/// (create/PUT/PATCH round-trips of every attribute, caseExact filters,
/// 409 uniqueness on userName, 400 on a missing userName/displayName,
/// readOnly `groups` ignored, `password` never returned). A change in the
/// generator or the server that makes a step fail lands here, judged.
const SCIM2_SERVER_FINDINGS: &[(&str, &str)] = &[];

/// The venv with scim2-server, or `None` (after saying why) outside CI.
fn pyenv() -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("SCIMITAR_PYENV") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv"),
    };
    if dir.join("bin/scim2-server").is_file() {
        return Some(dir);
    }
    let msg = format!(
        "scim2-server not found in {} (see tests/external.rs)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}; CI must install it");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// Kills (and reaps) the server when dropped.
struct Proc(std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_generated_profile_against_scim2_server() {
    let Some(env) = pyenv() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = std::fs::File::create(tmp.path().join("scim2-server.log")).expect("log");
    let child = std::process::Command::new(env.join("bin/scim2-server"))
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .args(["--bearer-token", TOKEN])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start scim2-server");
    let mut p = Proc(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut up = false;
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            up = true;
            break;
        }
        assert!(
            p.0.try_wait().ok().flatten().is_none(),
            "scim2-server exited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "scim2-server does not listen on {addr} after 30 s");
    let r = run_generated(&format!("http://127.0.0.1:{port}/v2")).await;
    let known: BTreeSet<String> = SCIM2_SERVER_FINDINGS
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    assert_eq!(
        failed(&r),
        known,
        "the generated steps failing against scim2-server changed; judge each against the RFCs \
         and update SCIM2_SERVER_FINDINGS:\n{}",
        not_passed(&r).join("\n")
    );
    let steps: usize = r.suites.iter().map(|s| s.steps.len()).sum();
    assert!(steps > 100, "{steps} steps");
    assert!(!r.has_leftovers(), "{}", not_passed(&r).join("\n"));
}
