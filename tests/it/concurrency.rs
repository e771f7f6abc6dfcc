//! Suites run concurrently (`--jobs`, default 8) over one shared client:
//! the results must not depend on it, discovery happens once per run, and
//! each created resource is deleted exactly once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{Suites, fake, scim_json, scimitar};
use regex::Regex;
use serde_json::Value;
use wiremock::Mock;
use wiremock::matchers::{method, path};

/// Extra suites beside the repository's, so the reports also carry a
/// failure (with its explanation), the skips after it, and an advisory.
fn extra_suites() -> Suites {
    let lifecycle = |n: usize| {
        format!(
            r#"
name: extra-{n}
idp: rfc
steps:
  - name: create
    request:
      method: POST
      path: /Users
      body: {{ schemas: [urn:ietf:params:scim:schemas:core:2.0:User], userName: "{{{{prefix}}}}-u{n}" }}
    expect: {{ status: 201, json: {{ "$.userName": "{{{{prefix}}}}-u{n}" }} }}
    capture: {{ id: "$.id" }}
  - name: read-wrongly
    request: {{ method: GET, path: "/Users/{{{{id}}}}-gone" }}
    expect: {{ status: 200 }}
  - name: never-runs
    depends_on: [read-wrongly]
    request: {{ method: GET, path: "/Users/{{{{id}}}}" }}
"#
        )
    };
    let mut s = Suites::new();
    for n in 1..=3 {
        s = s.suite(&format!("extra-{n}"), &lifecycle(n));
    }
    s.suite(
        "extra-advisory",
        r#"
name: extra-advisory
idp: rfc
steps:
  - name: list
    advisory: true
    request: { method: GET, path: /Users, query: { filter: 'userName eq "{{prefix}}-none"' } }
    expect: { status: 299 }
"#,
    )
}

/// What may differ between two runs of the same suites: timings, ids,
/// ports, run ids, timestamps, ETag counters and response sizes.
fn normalise(text: &str) -> String {
    let rules = [
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "<uuid>",
        ),
        (r"\b[0-9a-f]{32}\b", "<hex>"),
        (r"scimitar-[0-9a-z]{8}", "scimitar-<run>"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
        (
            r"\d{4}-\d\d-\d\dT\d\d(:|%3A)\d\d(:|%3A)\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "<time>",
        ),
        (
            r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
            "<date>",
        ),
        (r#"W/(\\*)"\d+(\\*)""#, r#"W/$1"n$2""#),
        (r"W/(\\*)&quot;\d+(\\*)&quot;", "W/${1}&quot;n${2}&quot;"),
        (r#"(time|timestamp)="[^"]*""#, r#"$1="""#),
        (r"\d+(\.\d+)?m?s\b", "<elapsed>"),
    ];
    let mut s = text.to_string();
    for (re, to) in rules {
        s = Regex::new(re)
            .expect("valid regex")
            .replace_all(&s, to)
            .into_owned();
    }
    s
}

/// The JSON report without what concurrency legitimately changes: timings,
/// and the responses (an unfiltered list also shows other suites' users).
fn comparable_json(text: &str) -> String {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                // The command line and the limiter's counts differ by --jobs.
                for k in [
                    "duration",
                    "elapsed",
                    "started",
                    "target",
                    "invocation",
                    "throttling",
                ] {
                    m.remove(k);
                }
                if let Some(Value::Object(ex)) = m.get_mut("exchange") {
                    ex.remove("response");
                }
                // The userName lookup check's requests and responses.
                if let Some(Value::Array(exs)) = m.get_mut("exchanges") {
                    for ex in exs.iter_mut().filter_map(Value::as_object_mut) {
                        ex.remove("response");
                    }
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).expect("JSON report");
    strip(&mut v);
    normalise(&serde_json::to_string_pretty(&v).expect("serialise"))
}

fn run_jobs(root: &Path, extra: &Suites, jobs: &str) -> (String, String, i32) {
    let json = extra.root().join(format!("run-{jobs}.json"));
    let junit = extra.root().join(format!("run-{jobs}.xml"));
    // Each run records its snapshots apart, never into the checkout.
    let snapshots = extra.root().join(format!("snapshots-{jobs}"));
    let out = scimitar(
        root,
        &[
            "run",
            "--embedded",
            "--suite",
            "suites",
            "--suite",
            extra.path().to_str().expect("utf-8"),
            "--jobs",
            jobs,
            "--json",
            json.to_str().expect("utf-8"),
            "--junit",
            junit.to_str().expect("utf-8"),
            "--snapshots",
            snapshots.to_str().expect("utf-8"),
            "-q",
        ],
    );
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}\n{}", p.display(), out.all()))
    };
    (read(&json), read(&junit), out.code)
}

#[test]
fn jobs_1_and_jobs_8_report_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let extra = extra_suites();
    let (json1, junit1, code1) = run_jobs(root, &extra, "1");
    let (json8, junit8, code8) = run_jobs(root, &extra, "8");
    assert_eq!(code1, 1, "the extra suites fail on purpose");
    assert_eq!(code1, code8);

    // The reports hold what this test is about: a failure, skips, an advisory.
    let report: Value = serde_json::from_str(&json1).expect("JSON");
    let outcomes: Vec<&str> = report["suites"]
        .as_array()
        .expect("suites")
        .iter()
        .flat_map(|s| s["steps"].as_array().into_iter().flatten())
        .filter_map(|st| st["outcome"].as_str())
        .collect();
    for o in ["passed", "failed", "skipped", "advisory"] {
        assert!(outcomes.contains(&o), "no {o} step in the run");
    }

    let (j1, j8) = (comparable_json(&json1), comparable_json(&json8));
    if j1 != j8 {
        let diff = similar::TextDiff::from_lines(&j1, &j8);
        panic!(
            "JSON reports differ between --jobs 1 and --jobs 8:\n{}",
            diff.unified_diff().context_radius(3)
        );
    }
    let (x1, x8) = (normalise(&junit1), normalise(&junit8));
    if x1 != x8 {
        let diff = similar::TextDiff::from_lines(&x1, &x8);
        panic!(
            "JUnit reports differ between --jobs 1 and --jobs 8:\n{}",
            diff.unified_diff().context_radius(3)
        );
    }
}

#[test]
fn discovery_once_and_each_created_resource_deleted_once() {
    let f = fake(true);
    // The shared fake numbers users by count, which repeats an id once one
    // is deleted; here ids must be unique, so creation is overridden.
    let next = Arc::new(AtomicUsize::new(0));
    let (users, base) = (f.users.clone(), f.url());
    f.mount(
        Mock::given(method("POST"))
            .and(path("/scim/v2/Users"))
            .respond_with(move |r: &wiremock::Request| {
                let mut body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let id = format!("x{}", next.fetch_add(1, Ordering::SeqCst));
                body["id"] = Value::String(id.clone());
                body["meta"] = serde_json::json!({"resourceType": "User",
                    "location": format!("{base}/Users/{id}")});
                users.lock().expect("lock").push(body.clone());
                scim_json(201, body)
            })
            .with_priority(1),
    );
    let create = |n: usize, delete_itself: bool| {
        let mut y = format!(
            r#"
name: s{n}
idp: rfc
steps:
  - name: create-a
    request:
      method: POST
      path: /Users
      body: {{ userName: "{{{{prefix}}}}-a" }}
    expect: {{ status: 201 }}
    capture: {{ a: "$.id" }}
  - name: create-b
    request:
      method: POST
      path: /Users
      body: {{ userName: "{{{{prefix}}}}-b" }}
    expect: {{ status: 201 }}
    capture: {{ b: "$.id" }}
  - name: read-a
    request: {{ method: GET, path: "/Users/{{{{a}}}}" }}
    expect: {{ status: 200 }}
"#
        );
        if delete_itself {
            y.push_str(
                r#"  - name: delete-a
    request: { method: DELETE, path: "/Users/{{a}}" }
    expect: { status: 204 }
"#,
            );
        }
        y
    };
    let mut s = Suites::new();
    for n in 1..=6 {
        s = s.suite(&format!("s{n}"), &create(n, n % 2 == 0));
    }
    let out = scimitar(
        s.root(),
        &["run", "--url", &f.url(), "--jobs", "8", "--suite", "suites"],
    );
    assert_eq!(out.code, 0, "{}", out.all());

    let received = f.received();
    let count = |what: &str| received.iter().filter(|r| *r == what).count();
    assert_eq!(
        count("GET /scim/v2/ServiceProviderConfig"),
        1,
        "{received:#?}"
    );
    assert_eq!(count("GET /scim/v2/ResourceTypes"), 1, "{received:#?}");
    assert_eq!(count("POST /scim/v2/Users"), 12);

    let mut deletes: HashMap<&str, usize> = HashMap::new();
    for r in received.iter().filter(|r| r.starts_with("DELETE ")) {
        *deletes.entry(r.as_str()).or_default() += 1;
    }
    assert_eq!(
        deletes.len(),
        12,
        "every created user deleted: {deletes:#?}"
    );
    assert!(
        deletes.values().all(|&n| n == 1),
        "a user deleted more than once: {deletes:#?}"
    );
    assert!(f.users.lock().expect("lock").is_empty());
}

/// A minimal HTTP/1.0 server that closes every connection, like Python's
/// wsgiref (scim2-server); it records the most requests it had in flight.
/// Each request is held briefly so that concurrent requests overlap.
fn closing_server() -> (String, Arc<AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/scim/v2",
        listener.local_addr().expect("local addr")
    );
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let max_out = max.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (in_flight, max) = (in_flight.clone(), max.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf).to_string();
                let body = if head.starts_with("GET /scim/v2/ServiceProviderConfig") {
                    crate::support::spc(false).to_string()
                } else {
                    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#.to_string()
                };
                std::thread::sleep(std::time::Duration::from_millis(30));
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.0 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (url, max_out)
}

#[test]
fn a_target_closing_every_connection_gets_few_requests_at_once() {
    let (url, max) = closing_server();
    let mut s = Suites::new();
    for n in 1..=8 {
        s = s.suite(
            &format!("list-{n}"),
            &format!(
                "name: list-{n}\nidp: rfc\nsteps:\n{}",
                (1..=4)
                    .map(|i| format!(
                        "  - name: list-{i}\n    request: {{ method: GET, path: /Users }}\n    expect: {{ status: 200 }}\n"
                    ))
                    .collect::<String>()
            ),
        );
    }
    let out = scimitar(
        s.root(),
        &["run", "--url", &url, "--jobs", "8", "--suite", "suites"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let max = max.load(Ordering::SeqCst);
    // Python's socketserver listens with a backlog of 5: more connections
    // at once than that and the kernel drops SYNs (1 s retransmits).
    assert!(max <= 4, "{max} requests in flight at once");
    assert!(
        max >= 2,
        "suites no longer run concurrently ({max} in flight)"
    );
}

fn scim_reply(
    status: axum::http::StatusCode,
    v: Value,
) -> (
    axum::http::StatusCode,
    [(&'static str, &'static str); 1],
    String,
) {
    (
        status,
        [("content-type", "application/scim+json")],
        v.to_string(),
    )
}

/// A server that answers 500 to a create that overlaps another one (each
/// create takes a moment), and otherwise stores users in memory.
fn overlap_500_server() -> (
    String,
    Arc<std::sync::Mutex<HashMap<String, Value>>>,
    tokio::runtime::Runtime,
) {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    type Users = Arc<std::sync::Mutex<HashMap<String, Value>>>;
    #[derive(Clone)]
    struct St {
        users: Users,
        creating: Arc<AtomicUsize>,
        next: Arc<AtomicUsize>,
    }
    let st = St {
        users: Arc::default(),
        creating: Arc::default(),
        next: Arc::default(),
    };
    let users = st.users.clone();
    let app = axum::Router::new()
        .route(
            "/scim/v2/Users",
            post(move |State(st): State<St>, body: String| async move {
                if st.creating.fetch_add(1, Ordering::SeqCst) > 0 {
                    st.creating.fetch_sub(1, Ordering::SeqCst);
                    return scim_reply(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        serde_json::json!({"detail": "deadlock"}),
                    );
                }
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                let mut u: Value = serde_json::from_str(&body).unwrap_or_default();
                let id = format!("u{}", st.next.fetch_add(1, Ordering::SeqCst));
                u["id"] = Value::String(id.clone());
                st.users.lock().unwrap().insert(id, u.clone());
                st.creating.fetch_sub(1, Ordering::SeqCst);
                scim_reply(StatusCode::CREATED, u)
            }),
        )
        .route(
            "/scim/v2/Users/{id}",
            get(
                |State(st): State<St>, UrlPath(id): UrlPath<String>| async move {
                    match st.users.lock().unwrap().get(&id) {
                        Some(u) => scim_reply(StatusCode::OK, u.clone()),
                        None => scim_reply(
                            StatusCode::NOT_FOUND,
                            serde_json::json!({"detail": "not found"}),
                        ),
                    }
                },
            )
            .delete(
                |State(st): State<St>, UrlPath(id): UrlPath<String>| async move {
                    match st.users.lock().unwrap().remove(&id) {
                        Some(_) => (
                            StatusCode::NO_CONTENT,
                            [("content-type", "application/scim+json")],
                            String::new(),
                        ),
                        None => scim_reply(
                            StatusCode::NOT_FOUND,
                            serde_json::json!({"detail": "not found"}),
                        ),
                    }
                },
            ),
        )
        .with_state(st);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/scim/v2", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    (url, users, rt)
}

#[test]
fn a_failure_only_under_concurrency_is_named_as_such() {
    let (url, users, _rt) = overlap_500_server();
    let mut s = Suites::new();
    for n in 1..=3 {
        s = s.suite(
            &format!("par-{n}"),
            &format!(
                r#"
name: par-{n}
idp: rfc
steps:
  - name: create
    request: {{ method: POST, path: /Users, body: {{ schemas: [urn:ietf:params:scim:schemas:core:2.0:User], userName: "{{{{prefix}}}}-u" }} }}
    expect: {{ status: 201 }}
    capture: {{ id: "$.id" }}
  - name: read
    request: {{ method: GET, path: "/Users/{{{{id}}}}" }}
    expect: {{ status: 200 }}
"#
            ),
        );
    }
    let json = s.root().join("r.json");
    let out = scimitar(
        s.root(),
        &[
            "run",
            "--url",
            &url,
            "--jobs",
            "3",
            "--json",
            json.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut concurrency = 0;
    for suite in report["suites"].as_array().unwrap() {
        let steps = suite["steps"].as_array().unwrap();
        let subjects: Vec<&str> = steps[0]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["subject"].as_str())
            .collect();
        if subjects.contains(&"concurrency") {
            concurrency += 1;
            // One distinct finding, not the 500 and what follows from it.
            assert_eq!(subjects, ["concurrency"], "{suite}");
            assert_eq!(steps[1]["outcome"], "passed", "{suite}");
        } else {
            assert_eq!(steps[0]["outcome"], "passed", "{suite}");
        }
    }
    // The creates overlapped: all but the first were refused, then passed alone.
    assert!(concurrency >= 1, "{}", out.all());
    assert!(
        out.stderr.contains("passed when the suite ran alone"),
        "{}",
        out.stderr
    );
    assert!(
        users.lock().unwrap().is_empty(),
        "left behind: {:?}",
        users.lock().unwrap()
    );
}
