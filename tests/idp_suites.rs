//! The shipped Entra ID and Okta suites, end to end: they pass against the
//! reference server, they tolerate what the IdPs tolerate (204 on PATCH,
//! reordered multi-valued attributes, extra attributes, Okta's 404 for "no
//! match"), and they catch servers that break an IdP — each fault injected by
//! a small proxy in front of the reference server.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Steps per shipped IdP suite; a changed suite must update this on purpose.
const SUITES: [(&str, usize); 9] = [
    ("entra-users", 30),
    ("entra-groups", 17),
    ("entra-legacy-users", 31),
    ("entra-legacy-groups", 15),
    ("okta-users", 16),
    ("okta-group-push", 15),
    ("okta-spec-test", 15),
    ("okta-aiw-users", 9),
    ("okta-aiw-groups", 9),
];

/// Runs the binary from the repository root with `--json`, returning the
/// output and the parsed report.
fn run(args: &[&str]) -> (Output, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("report.json");
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(args);
    let jp = json_path.to_string_lossy().to_string();
    all.extend_from_slice(&["--json", &jp]);
    let out = scimitar(Path::new(ROOT), &all);
    let report = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out, report)
}

/// `(suite, step) -> outcome` for every step in the report.
fn outcomes(report: &Value) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for s in report["suites"].as_array().into_iter().flatten() {
        for st in s["steps"].as_array().into_iter().flatten() {
            v.push((
                s["name"].as_str().unwrap_or("").to_string(),
                st["name"].as_str().unwrap_or("").to_string(),
                st["outcome"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    v
}

fn not_passed(got: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    got.iter().filter(|(_, _, o)| o != "passed").collect()
}

fn outcome_of(report: &Value, suite: &str, step: &str) -> String {
    outcomes(report)
        .into_iter()
        .find(|(s, st, _)| s == suite && st == step)
        .map(|(_, _, o)| o)
        .unwrap_or_else(|| panic!("no step {suite}::{step} in the report"))
}

fn idp_suite_args() -> Vec<&'static str> {
    vec!["--suite", "suites/entra", "--suite", "suites/okta"]
}

#[test]
fn every_idp_suite_passes_against_the_reference_server() {
    let mut args = vec!["--embedded"];
    args.extend(idp_suite_args());
    let (out, report) = run(&args);
    assert_eq!(out.code, 0, "{}", out.all());
    let got = outcomes(&report);
    for (suite, steps) in SUITES {
        let passed = got
            .iter()
            .filter(|(s, _, o)| s == suite && o == "passed")
            .count();
        assert_eq!(passed, steps, "{suite}: {:?}", not_passed(&got));
    }
    let total: usize = SUITES.iter().map(|(_, n)| n).sum();
    assert_eq!(got.len(), total);
    assert!(
        out.stdout.contains(&format!("{total} passed; 0 failed")),
        "{}",
        out.stdout
    );
    // Nothing the run created is left behind.
    for s in report["suites"].as_array().into_iter().flatten() {
        for c in s["cleanup"].as_array().into_iter().flatten() {
            let status = c["status"].as_u64();
            assert!(matches!(status, Some(204 | 404)), "{c}");
        }
    }
}

#[test]
fn every_step_says_why_it_matters_and_every_name_carries_the_prefix() {
    for dir in ["suites/entra", "suites/okta"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let steps = text.matches("\n  - name: ").count();
            let whys = text.matches("\n    why: ").count();
            assert_eq!(steps, whys, "{}: a step without why", path.display());
            assert!(text.contains("\nidp: "), "{}: no idp", path.display());
            // Every name the suite creates is built from a template ({{prefix}}).
            for line in text.lines() {
                let Some((key, value)) = line.trim_start().split_once(": ") else {
                    continue;
                };
                let key = key.trim_start_matches("- ");
                let named = key == "userName"
                    || key.ends_with("UserName")
                    || key.ends_with("roupName")
                    || key.ends_with("xternalId");
                if named && !value.starts_with('{') {
                    assert!(value.contains("{{"), "{}: {line}", path.display());
                }
            }
        }
    }
    for dir in ["fixtures/entra", "fixtures/okta"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let body: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for key in ["userName", "externalId"] {
                if let Some(v) = body.get(key) {
                    assert!(
                        v.as_str().is_some_and(|s| s.contains("{{")),
                        "{}",
                        path.display()
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------------ the proxy

/// What the proxy does to one exchange.
#[derive(Clone, Copy)]
enum Fault {
    /// PATCH ops with a capital letter ("Replace") get 400, as a strict server would.
    RejectCapitalisedOps,
    /// The enterprise manager is returned as the plain id string.
    StringManager,
    /// A successful create answers 200 instead of 201, and a successful
    /// DELETE 200 instead of 204 (a real API documents exactly this).
    CreateAnswers200,
    /// `Remove` on `members` drops its value list, so every member is removed
    /// (azure-docs#30826).
    RemoveWipesAllMembers,
    /// Okta-tolerated: a filter that matches nothing answers 404.
    NotFoundForEmptyFilter,
    /// DELETE answers 204 but removes nothing: the resource stays readable.
    SoftDelete,
    /// Three independent bugs at once: a create naming the ADSCIM schema URI
    /// gets 400, `Remove` with a value list on members gets 400, and the
    /// string "False" as a PATCH value gets 400.
    ThreeIndependent,
    /// RFC-legal variations: PATCH answers 204 with no body, multi-valued
    /// attributes come back reversed, and resources carry an extra attribute.
    LegalVariations,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    fault: Fault,
}

fn scim_error(status: u16, detail: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", SCIM)
        .body(Body::from(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                   "status": status.to_string(), "detail": detail})
            .to_string(),
        ))
        .expect("response")
}

fn reverse_arrays(v: &mut Value) {
    match v {
        Value::Array(items) => {
            items.reverse();
            items.iter_mut().for_each(reverse_arrays);
        }
        Value::Object(m) => m.values_mut().for_each(reverse_arrays),
        _ => {}
    }
}

fn capitalised_op(op: &Value) -> bool {
    op["op"]
        .as_str()
        .is_some_and(|s| s.chars().any(char::is_uppercase))
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut req_json: Option<Value> = serde_json::from_slice(&body).ok();
    if method == Method::PATCH
        && let Some(ops) = req_json
            .as_mut()
            .and_then(|b| b.get_mut("Operations"))
            .and_then(Value::as_array_mut)
    {
        match p.fault {
            Fault::ThreeIndependent
                if ops.iter().any(|o| {
                    let remove_list = o["op"].as_str() == Some("Remove")
                        && o["path"].as_str() == Some("members")
                        && o["value"].is_array();
                    remove_list || o["value"] == json!("False")
                }) =>
            {
                return scim_error(400, "unsupported operation value");
            }
            Fault::RejectCapitalisedOps if ops.iter().any(capitalised_op) => {
                return scim_error(400, "invalid op: expected add, remove or replace");
            }
            Fault::RemoveWipesAllMembers => {
                for o in ops.iter_mut() {
                    let remove = o["op"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("remove"));
                    let members = o["path"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("members"));
                    if remove
                        && members
                        && let Some(obj) = o.as_object_mut()
                    {
                        obj.remove("value");
                    }
                }
            }
            _ => {}
        }
    }
    if matches!(p.fault, Fault::SoftDelete) && method == Method::DELETE {
        return Response::builder()
            .status(204)
            .body(Body::empty())
            .expect("response");
    }
    if matches!(p.fault, Fault::ThreeIndependent)
        && method == Method::POST
        && req_json
            .as_ref()
            .is_some_and(|b| b["schemas"].to_string().contains("ADSCIM"))
    {
        return scim_error(400, "unknown schema");
    }
    let forwarded = match &req_json {
        Some(v) if matches!(p.fault, Fault::RemoveWipesAllMembers) => v.to_string().into(),
        _ => body,
    };
    let url = format!(
        "{}{}",
        p.upstream,
        uri.path_and_query().map(|q| q.as_str()).unwrap_or("/")
    );
    let mut rb = p.client.request(method.clone(), url).body(forwarded);
    for name in ["content-type", "accept", "authorization"] {
        if let Some(v) = headers.get(name) {
            rb = rb.header(name, v);
        }
    }
    let Ok(resp) = rb.send().await else {
        return scim_error(502, "upstream unreachable");
    };
    let mut status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").cloned();
    let location = resp.headers().get("location").cloned();
    let bytes = resp.bytes().await.unwrap_or_default();
    let mut json: Option<Value> = serde_json::from_slice(&bytes).ok();
    match p.fault {
        Fault::StringManager => {
            let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
            if let Some(m) = json
                .as_mut()
                .and_then(|j| j.get_mut(ext))
                .and_then(|e| e.get_mut("manager"))
                && let Some(id) = m.get("value").cloned()
            {
                *m = id;
            }
        }
        Fault::CreateAnswers200 if method == Method::POST && status == 201 => status = 200,
        Fault::CreateAnswers200 if method == Method::DELETE && status == 204 => status = 200,
        Fault::NotFoundForEmptyFilter
            if method == Method::GET
                && uri.query().is_some_and(|q| q.contains("filter="))
                && json.as_ref().is_some_and(|j| j["totalResults"] == json!(0)) =>
        {
            return scim_error(404, "User not found");
        }
        Fault::LegalVariations => {
            if method == Method::PATCH && status == 200 {
                return Response::builder()
                    .status(204)
                    .body(Body::empty())
                    .expect("response");
            }
            if let Some(j) = json.as_mut() {
                reverse_arrays(j);
                if let Some(o) = j.as_object_mut()
                    && o.contains_key("id")
                {
                    o.insert("urn:example:vendor:extra".into(), json!({"tier": "gold"}));
                }
            }
        }
        _ => {}
    }
    let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    if let Some(l) = location {
        b = b.header("location", l);
    }
    let out = match json {
        Some(j) => Body::from(j.to_string()),
        None => Body::from(bytes),
    };
    b.body(out).expect("response")
}

/// The reference server behind a faulty proxy; `url` is the proxy's SCIM base.
struct Faulty {
    url: String,
    // Declared before the runtime so the server is stopped before it drops.
    _server: scimitar::server::RunningServer,
    _rt: tokio::runtime::Runtime,
}

fn faulty(fault: Fault) -> Faulty {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (url, server) = rt.block_on(async {
        let upstream = scimitar::server::spawn(
            ([127, 0, 0, 1], 0).into(),
            scimitar::server::ServerConfig { token: None },
        )
        .await
        .expect("reference server");
        let origin = format!("http://{}", upstream.addr);
        let proxy = Arc::new(Proxy {
            upstream: origin,
            client: reqwest::Client::new(),
            fault,
        });
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/scim/v2"), upstream)
    });
    Faulty {
        url,
        _server: server,
        _rt: rt,
    }
}

fn run_against(f: &Faulty, suites: &[&str]) -> (Output, Value) {
    let mut args = vec!["--url", f.url.as_str()];
    for s in suites {
        args.extend_from_slice(&["--suite", s]);
    }
    run(&args)
}

/// The failure block of one step in the console output.
fn failure_block<'a>(stdout: &'a str, step: &str) -> &'a str {
    let head = format!("{step} failed (");
    let start = stdout
        .find(&head)
        .unwrap_or_else(|| panic!("no failure for {step}:\n{stdout}"));
    let rest = &stdout[start..];
    let end = rest[1..].find("\n\n").map(|i| i + 1).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn capitalised_ops_rejected_fails_the_legacy_dialect_only() {
    let f = faulty(Fault::RejectCapitalisedOps);
    let (out, report) = run_against(&f, &["suites/entra"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        outcome_of(&report, "entra-legacy-users", "patch-multi-valued"),
        "failed"
    );
    assert_eq!(
        outcome_of(&report, "entra-legacy-groups", "rename-group"),
        "failed"
    );
    let block = failure_block(&out.stdout, "entra-legacy-users::patch-multi-valued");
    assert!(block.contains("got 400"), "{block}");
    assert!(
        block.contains("why it matters: Entra sends op \"Replace\""),
        "{block}"
    );
    // The rest of that suite still runs: disabling also sends "Replace",
    // so it fails on its own, in the same run.
    assert_eq!(
        outcome_of(&report, "entra-legacy-users", "disable-user"),
        "failed"
    );
    // The aadOptscim062020 dialect sends lowercase ops: untouched by this fault.
    for (s, st, o) in outcomes(&report) {
        if s == "entra-users" || s == "entra-groups" {
            assert_eq!(o, "passed", "{s}::{st}");
        }
    }
}

#[test]
fn string_manager_fails_the_manager_read_back() {
    let f = faulty(Fault::StringManager);
    let (out, report) = run_against(&f, &["suites/entra/users.yaml"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        outcome_of(&report, "entra-users", "set-manager-documented-array"),
        "passed"
    );
    assert_eq!(
        outcome_of(&report, "entra-users", "read-manager-complex-form"),
        "failed"
    );
    let block = failure_block(&out.stdout, "entra-users::read-manager-complex-form");
    assert!(block.contains("expected a object, got \""), "{block}");
    assert!(
        block.contains("why it matters: Entra reads manager back as the complex"),
        "{block}"
    );
}

#[test]
fn create_and_delete_answering_200_are_both_found_and_nothing_is_left() {
    let f = faulty(Fault::CreateAnswers200);
    let (out, report) = run_against(&f, &["suites/entra/users.yaml", "suites/okta/users.yaml"]);
    assert_eq!(out.code, 1, "{}", out.all());
    for suite in ["entra-users", "okta-users"] {
        assert_eq!(outcome_of(&report, suite, "create-user"), "failed");
    }
    // The 200 created a user all the same: the lifecycle goes on, so the
    // 200 on DELETE is found in the same run.
    assert_eq!(outcome_of(&report, "entra-users", "read-user"), "passed");
    assert_eq!(outcome_of(&report, "entra-users", "delete-user"), "failed");
    let del = failure_block(&out.stdout, "entra-users::delete-user");
    assert!(del.contains("✗ status: expected 204, got 200"), "{del}");
    // Everything the 200s created was tracked and removed.
    assert!(!out.stderr.contains("left behind: "), "{}", out.all());
    let cleaned = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cleanup"].as_array().cloned().unwrap_or_default())
        .count();
    assert!(cleaned > 0, "nothing was tracked for cleanup");
    let block = failure_block(&out.stdout, "entra-users::create-user");
    assert!(block.contains("✗ status: expected 201, got 200"), "{block}");
    assert!(
        block.contains("why it matters: Entra sends meta"),
        "{block}"
    );
}

#[test]
fn remove_that_wipes_all_members_is_caught() {
    let f = faulty(Fault::RemoveWipesAllMembers);
    let (out, report) = run_against(&f, &["suites/entra/legacy-groups.yaml"]);
    assert_eq!(out.code, 1, "{}", out.all());
    // The PATCH itself "succeeds"; the read-back shows the damage.
    assert_eq!(
        outcome_of(
            &report,
            "entra-legacy-groups",
            "remove-member-by-value-list"
        ),
        "passed"
    );
    assert_eq!(
        outcome_of(
            &report,
            "entra-legacy-groups",
            "verify-only-listed-member-removed"
        ),
        "failed"
    );
    let block = failure_block(
        &out.stdout,
        "entra-legacy-groups::verify-only-listed-member-removed",
    );
    assert!(block.contains("azure-docs#30826"), "{block}");
}

#[test]
fn okta_tolerated_404_for_no_match_is_advisory_not_a_failure() {
    let f = faulty(Fault::NotFoundForEmptyFilter);
    let (out, report) = run_against(&f, &["suites/okta/users.yaml", "suites/entra/users.yaml"]);
    // Okta accepts it: only an advisory finding in the Okta suite …
    assert_eq!(
        outcome_of(&report, "okta-users", "match-user-none"),
        "passed"
    );
    assert_eq!(
        outcome_of(&report, "okta-users", "match-user-none-is-empty-list"),
        "advisory"
    );
    for (s, st, o) in outcomes(&report) {
        if s == "okta-users" && st != "match-user-none-is-empty-list" {
            assert_eq!(o, "passed", "{s}::{st}");
        }
    }
    // … while Entra's Test Connection needs the empty list.
    assert_eq!(
        outcome_of(&report, "entra-users", "test-connection"),
        "failed"
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let (okta_only, _) = run_against(&f, &["suites/okta/users.yaml"]);
    assert_eq!(okta_only.code, 0, "{}", okta_only.all());
    let (strict, _) = run(&[
        "--url",
        &f.url,
        "--suite",
        "suites/okta/users.yaml",
        "--strict",
    ]);
    assert_eq!(strict.code, 1, "{}", strict.all());
}

#[test]
fn rfc_legal_variations_raise_no_alarm() {
    let f = faulty(Fault::LegalVariations);
    let (out, report) = run_against(&f, &["suites/entra", "suites/okta"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let got = outcomes(&report);
    let total: usize = SUITES.iter().map(|(_, n)| n).sum();
    assert_eq!(got.len(), total);
    assert!(
        not_passed(&got).is_empty(),
        "{:?}\n{}",
        not_passed(&got),
        out.stdout
    );
    // The variations really were served: PATCH answered 204 and resources
    // carried the extra attribute.
    let exchanges: Vec<&Value> = report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["steps"].as_array().into_iter().flatten())
        .filter_map(|st| st.get("exchange"))
        .collect();
    let patch_204 = exchanges
        .iter()
        .filter(|e| e["request"]["method"] == "PATCH" && e["response"]["status"] == 204)
        .count();
    assert!(patch_204 >= 30, "only {patch_204} PATCH answered 204");
    assert!(
        exchanges.iter().any(|e| e["response"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("urn:example:vendor:extra"))),
        "no extra attribute was served"
    );
}

#[test]
fn three_independent_faults_are_all_reported_in_one_run() {
    let f = faulty(Fault::ThreeIndependent);
    let (out, report) = run_against(
        &f,
        &[
            "suites/entra/legacy-groups.yaml",
            "suites/entra/legacy-users.yaml",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let failed: Vec<(String, String)> = outcomes(&report)
        .into_iter()
        .filter(|(_, _, o)| o == "failed")
        .map(|(s, st, _)| (s, st))
        .collect();
    let has = |s: &str, st: &str| failed.iter().any(|(a, b)| a == s && b == st);
    // Each of the three bugs, in one run: the refused create did not hide
    // the member removal behind it.
    assert!(has("entra-legacy-groups", "create-group"), "{failed:?}");
    assert!(
        has("entra-legacy-groups", "remove-member-by-value-list"),
        "{failed:?}"
    );
    assert!(has("entra-legacy-users", "disable-user"), "{failed:?}");
    // No cascade: every failure is a step that sent one of the faulty
    // requests; what depends on them is skipped, not failed again.
    for (s, st) in &failed {
        assert!(
            matches!(
                st.as_str(),
                "create-group"
                    | "remove-member-by-value-list"
                    // It too removes members with a value list.
                    | "add-and-remove-in-one-patch"
                    | "disable-user"
            ),
            "cascade failure {s}::{st}:\n{}",
            out.stdout
        );
    }
    assert_eq!(
        outcome_of(
            &report,
            "entra-legacy-groups",
            "verify-only-listed-member-removed"
        ),
        "skipped"
    );
    let block = failure_block(&out.stdout, "entra-legacy-groups::create-group");
    assert!(block.contains("fallback: POST"), "{block}");
    assert!(block.contains("unknown schema"), "{block}");
    // The fallback group was tested and removed like any other.
    assert!(!out.stderr.contains("left behind: "), "{}", out.all());
}

#[test]
fn a_soft_delete_is_reported_as_left_behind() {
    let f = faulty(Fault::SoftDelete);
    let (out, report) = run_against(&f, &["suites/okta/users.yaml"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("soft delete: DELETE answered 204 but GET /Users/"),
        "{}",
        out.all()
    );
    let still: Vec<&Value> = report["suites"][0]["cleanup"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["still_there"].is_string())
        .collect();
    assert!(!still.is_empty(), "{}", report["suites"][0]["cleanup"]);
    assert!(
        out.stderr.contains("scimitar cleanup --url"),
        "{}",
        out.stderr
    );
}
