//! Issue 15 (verdicts), end to end through the binary: verdicts that say what was
//! checked, a first contact that fails fast, selection and output files,
//! JUnit and JSON that validate against their schemas, and rate limiting
//! that adapts. Every target is on 127.0.0.1: the reference server (in
//! process), a proxy in front of it (rate limits, latency, refusals), and
//! wiremock fakes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::response::Response;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "verdicts-token-never-shown-51e2";

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The binary, without SCIM_* or CI from the environment.
fn scimitar(cwd: &Path, args: &[&str]) -> Output {
    scimitar_env(cwd, args, &[])
}

fn scimitar_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimitar"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("SCIM_URL")
        .env_remove("SCIM_TOKEN")
        .env_remove("CI")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run scimitar");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The reference server, with `TOKEN` required.
fn reference(rt: &tokio::runtime::Runtime) -> scimitar::server::RunningServer {
    rt.block_on(scimitar::server::spawn(
        ([127, 0, 0, 1], 0).into(),
        scimitar::server::ServerConfig {
            token: Some(TOKEN.into()),
            ..Default::default()
        },
    ))
    .unwrap()
}

/// What the proxy does to each request before passing it on.
#[derive(Clone, Default)]
struct Policy {
    /// Requests per second let through (token bucket, burst of the same);
    /// the rest get 429 with `Retry-After: 1`.
    rate: Option<f64>,
    /// Added before every answer.
    latency: Duration,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A proxy in front of `target` (`http://127.0.0.1:P/scim/v2`); returns
/// its base URL and how many 429s it sent.
fn proxy(rt: &tokio::runtime::Runtime, target: &str, policy: Policy) -> (String, Arc<Mutex<u64>>) {
    let target = target.trim_end_matches("/scim/v2").to_string();
    let client = reqwest::Client::new();
    let bucket = Arc::new(Mutex::new(Bucket {
        tokens: policy.rate.unwrap_or(0.0),
        at: Instant::now(),
    }));
    let refused = Arc::new(Mutex::new(0u64));
    let r2 = refused.clone();
    let handler = move |req: Request| {
        let (client, target, policy, bucket, refused) = (
            client.clone(),
            target.clone(),
            policy.clone(),
            bucket.clone(),
            r2.clone(),
        );
        async move {
            tokio::time::sleep(policy.latency).await;
            if let Some(rate) = policy.rate {
                let ok = {
                    let mut b = bucket.lock().unwrap();
                    let now = Instant::now();
                    b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(rate);
                    b.at = now;
                    if b.tokens >= 1.0 {
                        b.tokens -= 1.0;
                        true
                    } else {
                        false
                    }
                };
                if !ok {
                    *refused.lock().unwrap() += 1;
                    return Response::builder()
                        .status(429)
                        .header("Retry-After", "1")
                        .body(axum::body::Body::from("slow down"))
                        .unwrap();
                }
            }
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 24)
                .await
                .unwrap_or_default();
            let url = format!(
                "{target}{}",
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
            );
            let mut rb = client.request(parts.method.clone(), url).body(bytes);
            for (k, v) in &parts.headers {
                if k != "host" {
                    rb = rb.header(k, v);
                }
            }
            match rb.send().await {
                Ok(resp) => {
                    let mut b = Response::builder().status(resp.status());
                    for (k, v) in resp.headers() {
                        b = b.header(k, v);
                    }
                    let body = resp.bytes().await.unwrap_or_default();
                    b.body(axum::body::Body::from(body)).unwrap()
                }
                Err(e) => Response::builder()
                    .status(502)
                    .body(axum::body::Body::from(e.to_string()))
                    .unwrap(),
            }
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/scim/v2"), refused)
}

/// A folder with `suites/NAME.yaml` files.
fn suites(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mine")).unwrap();
    for (name, yaml) in files {
        std::fs::write(dir.path().join("mine").join(format!("{name}.yaml")), yaml).unwrap();
    }
    dir
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_default()).unwrap_or(Value::Null)
}

fn verdict<'a>(doc: &'a Value, idp: &str) -> &'a Value {
    doc["verdicts"]
        .as_array()
        .and_then(|v| v.iter().find(|x| x["idp"] == idp))
        .unwrap_or(&Value::Null)
}

/// The summary row of a profile, cells split on runs of spaces.
fn row<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or("")
        .trim()
}

const CUSTOM_ENTRA: &str = r#"
name: my-entra-check
idp: entra
steps:
  - name: list
    request: { method: GET, path: /Users }
    expect: { status: 200, check: [list-response] }
"#;

// ---- 1. verdicts ----------------------------------------------------------

/// The built-in Okta (AIW) suites against the embedded server, `-q`.
fn builtin_aiw(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--embedded",
        "--suite",
        "builtin",
        "--idp",
        "okta-aiw",
        "-q",
    ];
    args.extend_from_slice(extra);
    scimitar(dir, &args)
}

#[test]
fn a_whole_builtin_profile_is_compatible_with_full_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = builtin_aiw(dir.path(), &["--json", json.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.all());
    let r = row(&out.stdout, "Okta (AIW, PUT)");
    assert!(
        r.contains("18/18") && r.ends_with("compatible"),
        "{}",
        out.stdout
    );
    let doc = read_json(&json);
    let v = verdict(&doc, "okta-aiw");
    assert_eq!(v["verdict"], "compatible", "{v}");
    assert_eq!(v["coverage"]["checked"], 18);
    assert_eq!(v["coverage"]["total"], 18);
    // Profiles not asked for are not tested, not compatible.
    assert_eq!(verdict(&doc, "entra")["verdict"], "not-tested");
    assert!(
        doc["invocation"]["suite_source"]["builtin"].is_string(),
        "{doc}"
    );
    assert_eq!(doc["invocation"]["filters"]["idps"], json!(["okta-aiw"]));
}

#[test]
fn skip_and_filters_leave_a_profile_incomplete_never_compatible() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("r.md");
    let out = builtin_aiw(
        dir.path(),
        &[
            "--skip",
            "verify-no-members",
            "--report",
            md.to_str().unwrap(),
        ],
    );
    // Asked for explicitly: not a failure, but said so.
    assert_eq!(out.code, 0, "{}", out.all());
    let r = row(&out.stdout, "Okta (AIW, PUT)");
    assert!(
        r.contains("17/18") && r.contains("incomplete: 17/18 steps checked (1 not selected)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "partial run, as asked (--skip verify-no-members, --idp okta-aiw, --suite builtin)"
        ),
        "{}",
        out.stdout
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(!md.contains("Compatible with"), "{md}");
    assert!(
        md.contains("Incomplete: Okta (AIW, PUT) (17/18 steps checked)"),
        "{md}"
    );

    // A filter selecting two steps: no verdict claims the profile either.
    let out = builtin_aiw(dir.path(), &["okta-aiw-users::match"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        row(&out.stdout, "Okta (AIW, PUT)").contains("incomplete: 2/18"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(" compatible\n"), "{}", out.stdout);
}

#[test]
fn a_custom_suite_declaring_an_idp_is_reported_as_custom() {
    let dir = suites(&[("mine", CUSTOM_ENTRA)]);
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let out = scimitar(
        dir.path(),
        &[
            "run",
            "--embedded",
            "--suite",
            "mine",
            "--json",
            json.to_str().unwrap(),
            "--report",
            md.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        row(&out.stdout, "Custom suites (idp: entra)").ends_with("passed (not an IdP verdict)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Microsoft Entra ID"), "{}", out.stdout);
    let doc = read_json(&json);
    assert_eq!(verdict(&doc, "entra")["verdict"], "not-tested", "{doc}");
    assert_eq!(verdict(&doc, "custom-entra")["verdict"], "custom-passed");
    assert_eq!(verdict(&doc, "custom-entra")["custom"], true);
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(!md.contains("Compatible with"), "{md}");
    assert!(
        md.contains("Custom suites (not an IdP verdict): 1 passed"),
        "{md}"
    );
}

#[test]
fn rate_limited_steps_make_the_run_incomplete_and_fail() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
            .mount(&server),
    );
    let dir = suites(&[(
        "limited",
        "name: limited\nsteps:\n  - name: read\n    request: { method: GET, path: /Users/x }\n    expect: { status: 200 }\n",
    )]);
    let json = dir.path().join("r.json");
    let url = format!("{}/scim/v2", server.uri());
    let out = scimitar(
        dir.path(),
        &[
            "run",
            "--url",
            &url,
            "--token",
            TOKEN,
            "--suite",
            "mine",
            "-q",
            "--max-retry-wait",
            "1",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "not checked is not success: {}", out.all());
    assert!(
        row(&out.stdout, "Custom suites").contains("incomplete: 0/1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("incomplete: steps were left unchecked (rate limited"),
        "{}",
        out.stdout
    );
    // Also with -q: the throttling is summarised.
    assert!(
        out.stdout.contains("rate limiting: throttled "),
        "{}",
        out.stdout
    );
    let doc = read_json(&json);
    assert!(
        doc["throttling"]["throttled"].as_u64().unwrap_or(0) >= 1,
        "{doc}"
    );
    assert_eq!(doc["throttling"]["gave_up"], 1, "{doc}");
    assert_eq!(
        verdict(&doc, "custom")["coverage"]["not_checked"]["rate_limited"],
        1
    );
}

#[test]
fn after_ctrl_c_nothing_is_compatible() {
    let rt = rt();
    let server = reference(&rt);
    let (url, _) = proxy(
        &rt,
        &server.base_url,
        Policy {
            latency: Duration::from_millis(150),
            ..Policy::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .args([
            "run", "--suite", "builtin", "--idp", "okta-aiw", "--jobs", "1", "--url", &url,
            "--token", TOKEN,
        ])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a first step line");
        let first = l.starts_with("test ");
        seen.push(l);
        if first {
            break;
        }
    }
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    seen.extend(rx.iter());
    let status = child.wait().unwrap();
    let out = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{out}");
    let r = row(&out, "Okta (AIW, PUT)");
    assert!(r.contains("incomplete"), "{out}");
    assert!(
        !out.contains(" compatible\n") && !r.ends_with(" compatible"),
        "{out}"
    );
}

#[test]
fn a_snapshot_difference_is_its_own_line_not_a_verdict() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(move |_: &wiremock::Request| {
                let v = *n2.lock().unwrap();
                ResponseTemplate::new(200).set_body_raw(
                    json!({"id": "x", "displayName": format!("v{v}")}).to_string(),
                    "application/scim+json",
                )
            })
            .mount(&server),
    );
    let dir = suites(&[(
        "snap",
        "name: snap\nsteps:\n  - name: read\n    request: { method: GET, path: /Users/x }\n    expect: { status: 200 }\n    snapshot: true\n",
    )]);
    let url = format!("{}/scim/v2", server.uri());
    let args = [
        "run",
        "--url",
        &url,
        "--token",
        TOKEN,
        "--suite",
        "mine",
        "-q",
        "--snapshots",
        "snaps",
    ];
    let first = scimitar(dir.path(), &args);
    assert_eq!(first.code, 0, "{}", first.all());
    *n.lock().unwrap() = 1;
    let second = scimitar(dir.path(), &args);
    assert!(
        second.stdout.contains(
            "\n1 response changed since the accepted snapshots (not a compatibility verdict)"
        ),
        "{}",
        second.all()
    );
    assert!(
        row(&second.stdout, "Custom suites").ends_with("passed (not an IdP verdict)"),
        "{}",
        second.stdout
    );
}

// ---- 2. first contact -------------------------------------------------------

/// A fake where every path answers `t`.
fn answering(rt: &tokio::runtime::Runtime, t: ResponseTemplate) -> MockServer {
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(t)
            .mount(&server),
    );
    server
}

fn first_contact(server: &MockServer, extra: &[&str]) -> Output {
    let dir = suites(&[("mine", CUSTOM_ENTRA)]);
    let url = format!("{}/scim/v2", server.uri());
    let mut args = vec!["run", "--url", url.as_str(), "--suite", "mine"];
    args.extend_from_slice(extra);
    scimitar(dir.path(), &args)
}

#[test]
fn a_refused_token_is_one_line_naming_the_auth_method() {
    let rt = rt();
    let s = answering(
        &rt,
        ResponseTemplate::new(401).set_body_raw("{\"detail\":\"no\"}", "application/scim+json"),
    );
    let out = first_contact(&s, &["--token", TOKEN]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("refused a bearer token (401 to GET /ServiceProviderConfig)"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(TOKEN));
    assert!(!out.stdout.contains("test "), "no step ran: {}", out.stdout);
    // Without credentials it says what to set.
    let out = first_contact(&s, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("none were given; set SCIM_TOKEN"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_public_discovery_endpoint_does_not_hide_a_wrong_token() {
    let rt = rt();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/scim/v2/ServiceProviderConfig"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw("{\"patch\":{\"supported\":true}}", "application/scim+json"),
            )
            .mount(&server),
    );
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users"))
            .respond_with(ResponseTemplate::new(403))
            .mount(&server),
    );
    let out = first_contact(&server, &["--basic", "ada:wrong-password-1"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("refused HTTP basic credentials (403 to GET /Users?count=1)"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_html_page_or_a_redirect_is_not_a_scim_endpoint() {
    let rt = rt();
    let html = answering(
        &rt,
        ResponseTemplate::new(200).set_body_raw("<html><body>Sign in</body></html>", "text/html"),
    );
    let out = first_contact(&html, &["--token", TOKEN]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("is not a SCIM endpoint: got text/html"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("check the base URL, e.g. https://host/scim/v2"),
        "{}",
        out.stderr
    );

    let sso = answering(
        &rt,
        ResponseTemplate::new(302).insert_header("Location", "https://sso.example/login"),
    );
    let out = first_contact(&sso, &["--token", TOKEN]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("was redirected (302) to https://sso.example/login"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_credentials_is_a_warning_and_tls_to_plain_http_a_hint() {
    let rt = rt();
    let server = rt
        .block_on(scimitar::server::spawn(
            ([127, 0, 0, 1], 0).into(),
            scimitar::server::ServerConfig::default(),
        ))
        .unwrap();
    let dir = suites(&[("mine", CUSTOM_ENTRA)]);
    let out = scimitar(
        dir.path(),
        &["run", "--url", &server.base_url, "--suite", "mine"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("warning: no credentials given"),
        "{}",
        out.stderr
    );

    let https = server.base_url.replace("http://", "https://");
    let out = scimitar(
        dir.path(),
        &["run", "--url", &https, "--suite", "mine", "--token", TOKEN],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("plain HTTP on this port"),
        "{}",
        out.stderr
    );
}

// ---- 3. selection and files -------------------------------------------------

#[test]
fn no_matching_step_is_exit_two() {
    let dir = suites(&[("mine", CUSTOM_ENTRA)]);
    let out = scimitar(
        dir.path(),
        &["run", "--embedded", "--suite", "mine", "no-such-step"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("no steps match \"no-such-step\""),
        "{}",
        out.stderr
    );
}

#[test]
fn dash_writes_a_report_to_stdout() {
    let dir = suites(&[("mine", CUSTOM_ENTRA)]);
    let out = scimitar(
        dir.path(),
        &["run", "--embedded", "--suite", "mine", "--json", "-"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let doc: Value = serde_json::from_str(&out.stdout).expect("stdout is the JSON alone");
    assert_eq!(doc["schema_version"], 2);
    assert!(!dir.path().join("-").exists());
    // The summary went to stderr.
    assert!(
        out.stderr.contains("Custom suites (idp: entra)"),
        "{}",
        out.stderr
    );
}

#[test]
fn builtin_names_the_built_in_suites_next_to_ones_own() {
    let dir = suites(&[("mine", CUSTOM_ENTRA)]);
    let out = scimitar(
        dir.path(),
        &[
            "run", "--suite", "builtin", "--suite", "mine", "--idp", "entra", "--list",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("my-entra-check::list"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("entra-users::"), "{}", out.stdout);
    // A ./suites folder is used, but never silently.
    std::fs::rename(dir.path().join("mine"), dir.path().join("suites")).unwrap();
    let out = scimitar(dir.path(), &["run", "--embedded"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("note: using ./suites in this folder, not the suites built into scimitar"),
        "{}",
        out.stderr
    );
}

#[test]
fn verbose_shows_the_exchange_and_every_failure_a_curl_without_the_token() {
    let rt = rt();
    let server = reference(&rt);
    let dir = suites(&[(
        "fails",
        "name: fails\nsteps:\n  - name: create\n    request:\n      method: POST\n      path: /Users\n      body: { schemas: [\"urn:ietf:params:scim:schemas:core:2.0:User\"], userName: \"{{prefix}}-o'neil@example.com\" }\n    expect: { status: 200 }\n",
    )]);
    let out = scimitar(
        dir.path(),
        &[
            "run",
            "--url",
            &server.base_url,
            "--token",
            TOKEN,
            "--suite",
            "mine",
            "-v",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("full response: 201"), "{}", out.stdout);
    assert!(out.stdout.contains("    location: "), "{}", out.stdout);
    let curl = out
        .stdout
        .lines()
        .find(|l| l.contains("reproduce: curl"))
        .unwrap_or("");
    assert!(
        curl.contains("-X POST") && curl.contains("\"Authorization: Bearer $SCIM_TOKEN\""),
        "{curl}"
    );
    assert!(curl.contains("o'\\''neil"), "quoted for the shell: {curl}");
    assert!(!out.all().contains(TOKEN));
}

#[test]
fn a_misspelled_predicate_or_method_is_a_load_error_with_its_place() {
    let dir = suites(&[(
        "typo",
        "name: typo\nsteps:\n  - name: a\n    request: { method: GET, path: /Users }\n    expect:\n      status: 200\n      json: { \"$.id\": { exist: true } }\n  - name: b\n    request: { method: GTE, path: /Users }\n    expect: { status: 200 }\n",
    )]);
    let out = scimitar(dir.path(), &["run", "--embedded", "--suite", "mine"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("typo.yaml:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("'exist' is not a predicate; did you mean 'exists'?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("'GTE' is not an HTTP method SCIM uses"),
        "{}",
        out.stderr
    );
}

// ---- 4. JUnit and JSON against their schemas ----------------------------------

/// A run with a pass, a failure, an advisory finding and a skip.
fn mixed_run(dir: &Path, junit: &Path, json: &Path) -> Output {
    std::fs::create_dir_all(dir.join("mine")).unwrap();
    std::fs::write(
        dir.join("mine/mixed.yaml"),
        r#"name: mixed
idp: rfc
steps:
  - name: passes
    request: { method: POST, path: /Users, body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "{{prefix}}-x@example.com" } }
    expect: { status: 201 }
  - name: advisory
    advisory: true
    request: { method: GET, path: /Users }
    expect: { status: 200, json: { "$.totalResults": -1 } }
  - name: fails <&>
    request: { method: GET, path: "/Users/{{prefix}}-missing" }
    expect: { status: 200 }
    capture: { gone: "$.id" }
  - name: skipped
    request: { method: GET, path: "/Users/{{gone}}" }
    expect: { status: 200 }
"#,
    )
    .unwrap();
    scimitar(
        dir,
        &[
            "run",
            "--embedded",
            "--suite",
            "mine",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
    )
}

#[test]
fn junit_validates_against_the_schema_with_file_line_and_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let (junit, json) = (dir.path().join("j.xml"), dir.path().join("r.json"));
    let out = mixed_run(dir.path(), &junit, &json);
    assert_eq!(out.code, 1, "{}", out.all());
    let xml = std::fs::read_to_string(&junit).unwrap();
    let xsd =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd"))
            .unwrap();
    if let Err(e) = xsd::validate(&xsd, &xml) {
        panic!("JUnit does not validate: {e}\n{xml}");
    }
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let case = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no testcase {name}: {xml}"))
    };
    let passes = case("passes");
    assert_eq!(passes.attribute("file"), Some("mine/mixed.yaml"), "{xml}");
    assert_eq!(passes.attribute("line"), Some("4"), "{xml}");
    assert!(
        case("fails <&>")
            .children()
            .any(|c| c.has_tag_name("failure"))
    );
    let skipped = case("skipped")
        .children()
        .find(|c| c.has_tag_name("skipped"))
        .unwrap();
    assert!(
        skipped
            .attribute("message")
            .unwrap_or("")
            .contains("failed to produce {{gone}}"),
        "{xml}"
    );
    let adv = case("advisory");
    assert!(
        adv.children().any(|c| c.has_tag_name("system-out")),
        "{xml}"
    );
    assert!(
        doc.descendants().any(
            |n| n.has_tag_name("property") && n.attribute("name") == Some("advisory: advisory")
        ),
        "{xml}"
    );
    // The schema is not a rubber stamp: what the issue saw fails it.
    let bad = xml.replacen("<testsuites ", "<testsuites skipped=\"1\" ", 1);
    assert!(xsd::validate(&xsd, &bad).is_err());
    let bad = xml.replacen("<skipped message", "<skipped reason=\"x\" message", 1);
    assert!(xsd::validate(&xsd, &bad).is_err());
}

#[test]
fn json_validates_against_the_published_schema_without_rust_enums() {
    let dir = tempfile::tempdir().unwrap();
    let (junit, json) = (dir.path().join("j.xml"), dir.path().join("r.json"));
    let out = mixed_run(dir.path(), &junit, &json);
    assert_eq!(out.code, 1, "{}", out.all());
    let doc = read_json(&json);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scimitar-run.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    if let Err(e) = jschema::validate(&schema, &doc) {
        panic!("the JSON report does not validate: {e}\n{doc:#}");
    }
    let cleanup = &doc["suites"][0]["cleanup"];
    assert!(
        cleanup.as_array().is_some_and(|c| !c.is_empty()),
        "the run created something to delete: {cleanup}"
    );
    assert!(
        cleanup.as_array().is_some_and(|c| c
            .iter()
            .all(|c| c.get("Ok").is_none() && c["status"].is_u64())),
        "{cleanup}"
    );
    assert!(
        doc["invocation"]["command_line"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    // And the schema says no to what it must refuse.
    let mut bad = doc.clone();
    bad["suites"][0]["cleanup"] = json!([{"path": "/Users/1", "outcome": {"Ok": 204}}]);
    assert!(jschema::validate(&schema, &bad).is_err());
}

// ---- 5. rate limiting -------------------------------------------------------

/// `suite::step → outcome` of a JSON report.
fn outcomes(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in doc["suites"].as_array().into_iter().flatten() {
        for st in s["steps"].as_array().into_iter().flatten() {
            out.push((
                format!(
                    "{}::{}",
                    s["name"].as_str().unwrap_or(""),
                    st["name"].as_str().unwrap_or("")
                ),
                st["outcome"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

#[test]
fn a_target_limited_to_five_requests_a_second_gives_the_same_outcomes() {
    let rt = rt();
    let server = reference(&rt);
    let dir = tempfile::tempdir().unwrap();
    let run = |url: &str, name: &str| {
        let json = dir.path().join(name);
        let out = scimitar(
            dir.path(),
            &[
                "run",
                "--suite",
                "builtin",
                "--idp",
                "okta-aiw",
                "--idp",
                "entra",
                "--url",
                url,
                "--token",
                TOKEN,
                "-q",
                "--json",
                json.to_str().unwrap(),
            ],
        );
        (out, read_json(&json))
    };
    let (plain, plain_doc) = run(&server.base_url, "plain.json");
    assert_eq!(plain.code, 0, "{}", plain.all());
    let (url, refused) = proxy(
        &rt,
        &server.base_url,
        Policy {
            rate: Some(5.0),
            ..Policy::default()
        },
    );
    let (limited, doc) = run(&url, "limited.json");
    assert_eq!(limited.code, 0, "{}", limited.all());
    assert!(
        *refused.lock().unwrap() > 0,
        "the proxy never limited: the test proves nothing"
    );
    assert_eq!(outcomes(&doc), outcomes(&plain_doc));
    assert_eq!(verdict(&doc, "okta-aiw")["verdict"], "compatible");
    assert_eq!(verdict(&doc, "entra")["verdict"], "compatible");
    // The throttling is summarised even with -q, and kept in the JSON.
    let t = &doc["throttling"];
    assert!(t["throttled"].as_u64().unwrap_or(0) > 0, "{t}");
    assert!(
        t["min_limit"].as_u64().unwrap_or(99) < t["max_in_flight"].as_u64().unwrap_or(0),
        "the limiter cut the requests in flight: {t}"
    );
    assert!(
        limited.stdout.contains("rate limiting: throttled "),
        "{}",
        limited.stdout
    );
}

// ---- schema checkers ----------------------------------------------------------

/// The XSD subset `tests/data/junit.xsd` uses, read from the file itself:
/// global elements with their attributes (required ones, and the
/// `SUREFIRE_TIME` pattern) and the children they allow. An element, an
/// attribute or a child the schema does not declare is an error.
pub(crate) mod xsd {
    use roxmltree::{Document, Node};
    use std::collections::HashMap;

    struct Decl {
        attrs: Vec<(String, bool, Option<String>)>,
        children: Vec<String>,
        text_only: bool,
    }

    pub fn validate(xsd: &str, xml: &str) -> Result<(), String> {
        let schema = Document::parse(xsd).map_err(|e| e.to_string())?;
        let root = schema.root_element();
        let mut patterns = HashMap::new();
        for t in root.children().filter(|n| n.has_tag_name("simpleType")) {
            if let Some(p) = t.descendants().find(|n| n.has_tag_name("pattern")) {
                let re = format!("^(?:{})$", p.attribute("value").unwrap_or(""));
                patterns.insert(
                    t.attribute("name").unwrap_or("").to_string(),
                    regex::Regex::new(&re).map_err(|e| e.to_string())?,
                );
            }
        }
        let mut decls = HashMap::new();
        for e in root.children().filter(|n| n.has_tag_name("element")) {
            let name = e.attribute("name").unwrap_or("").to_string();
            let text_only = e.attribute("type") == Some("xs:string");
            let attrs = e
                .descendants()
                .filter(|n| n.has_tag_name("attribute"))
                .map(|a| {
                    let ty = a
                        .attribute("type")
                        .filter(|t| !t.starts_with("xs:"))
                        .map(str::to_string);
                    (
                        a.attribute("name").unwrap_or("").to_string(),
                        a.attribute("use") == Some("required"),
                        ty,
                    )
                })
                .collect();
            let children = e
                .descendants()
                .filter(|n| n.has_tag_name("element"))
                .filter_map(|n| n.attribute("ref").map(str::to_string))
                .collect();
            decls.insert(
                name,
                Decl {
                    attrs,
                    children,
                    text_only,
                },
            );
        }
        check(xml_root(xml)?.root_element(), &decls, &patterns)
    }

    fn xml_root(xml: &str) -> Result<Document<'_>, String> {
        Document::parse(xml).map_err(|e| format!("not well-formed: {e}"))
    }

    fn check(
        n: Node,
        decls: &HashMap<String, Decl>,
        patterns: &HashMap<String, regex::Regex>,
    ) -> Result<(), String> {
        let name = n.tag_name().name();
        let d = decls
            .get(name)
            .ok_or_else(|| format!("<{name}> is not declared"))?;
        for a in n.attributes() {
            let decl = d
                .attrs
                .iter()
                .find(|(k, _, _)| k == a.name())
                .ok_or_else(|| format!("<{name} {}> is not declared", a.name()))?;
            if let Some(ty) = &decl.2 {
                let re = patterns
                    .get(ty)
                    .ok_or_else(|| format!("type {ty} unknown"))?;
                if !re.is_match(a.value()) {
                    return Err(format!(
                        "<{name} {}=\"{}\"> does not match {ty}",
                        a.name(),
                        a.value()
                    ));
                }
            }
        }
        for (k, required, _) in &d.attrs {
            if *required && n.attribute(k.as_str()).is_none() {
                return Err(format!("<{name}> lacks the required {k}"));
            }
        }
        for c in n.children().filter(|c| c.is_element()) {
            if d.text_only || !d.children.iter().any(|x| x == c.tag_name().name()) {
                return Err(format!(
                    "<{}> is not allowed in <{name}>",
                    c.tag_name().name()
                ));
            }
            check(c, decls, patterns)?;
        }
        Ok(())
    }
}

/// The JSON Schema keywords `docs/scimitar-run.schema.json` uses: type,
/// properties, required, additionalProperties, items, prefixItems, enum,
/// const, minimum, $ref to `#/$defs/…`. A keyword outside that list makes
/// the check fail rather than pass unread.
pub(crate) mod jschema {
    use serde_json::Value;

    const KNOWN: [&str; 15] = [
        "$schema",
        "$id",
        "$defs",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "enum",
        "const",
        "minimum",
        "$ref",
    ];

    pub fn validate(schema: &Value, v: &Value) -> Result<(), String> {
        check(schema, schema, v, "$")
    }

    fn check(root: &Value, s: &Value, v: &Value, at: &str) -> Result<(), String> {
        let Some(obj) = s.as_object() else {
            return if s == &Value::Bool(true) {
                Ok(())
            } else {
                Err(format!("{at}: not allowed"))
            };
        };
        for k in obj.keys() {
            if !KNOWN.contains(&k.as_str()) {
                return Err(format!(
                    "schema keyword {k} is not supported by this checker"
                ));
            }
        }
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let name = r
                .strip_prefix("#/$defs/")
                .ok_or_else(|| format!("$ref {r}"))?;
            return check(root, &root["$defs"][name], v, at);
        }
        if let Some(t) = obj.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let ok = types.iter().any(|t| match *t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_u64() || v.is_i64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                "null" => v.is_null(),
                _ => false,
            });
            if !ok {
                return Err(format!("{at}: expected {types:?}, got {v}"));
            }
        }
        if let Some(e) = obj.get("enum").and_then(Value::as_array)
            && !e.contains(v)
        {
            return Err(format!("{at}: {v} is not one of {e:?}"));
        }
        if let Some(c) = obj.get("const")
            && c != v
        {
            return Err(format!("{at}: {v} is not {c}"));
        }
        if let (Some(m), Some(n)) = (obj.get("minimum").and_then(Value::as_f64), v.as_f64())
            && n < m
        {
            return Err(format!("{at}: {n} < {m}"));
        }
        if let Some(o) = v.as_object() {
            let props = obj.get("properties").and_then(Value::as_object);
            for r in obj
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = r.as_str().unwrap_or("");
                if !o.contains_key(r) {
                    return Err(format!("{at}: lacks the required {r}"));
                }
            }
            for (k, x) in o {
                let sub = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => check(root, ps, x, &sub)?,
                    None => match obj.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            return Err(format!("{sub}: not in the schema"));
                        }
                        Some(ap) => check(root, ap, x, &sub)?,
                        None => {}
                    },
                }
            }
        }
        if let Some(a) = v.as_array() {
            let prefix = obj.get("prefixItems").and_then(Value::as_array);
            for (i, x) in a.iter().enumerate() {
                let sub = format!("{at}[{i}]");
                match (prefix.and_then(|p| p.get(i)), obj.get("items")) {
                    (Some(ps), _) => check(root, ps, x, &sub)?,
                    (None, Some(is)) => check(root, is, x, &sub)?,
                    (None, None) => {}
                }
            }
        }
        Ok(())
    }
}

// ---- the verdict rules, on results built by hand ------------------------------

mod rules {
    use scimitar::report::compat::{Compat, Verdict};
    use scimitar::results::{
        BuiltinSuite, Filters, Invocation, Outcome, RunResult, SkipReason, StepResult, SuiteResult,
    };
    use scimitar::suite::SourceLoc;

    fn step(name: &str, outcome: Outcome, skip: Option<SkipReason>) -> StepResult {
        let loc = SourceLoc {
            file: "suites/rfc/groups.yaml".into(),
            line: 1,
            column: 1,
        };
        let mut s = StepResult::skipped(name, None, loc, SkipReason::Interrupted);
        s.outcome = outcome;
        s.skip_reason = skip;
        s
    }

    /// A built-in `rfc` suite of three steps: one passed, then two with `last`.
    fn run(last: (Outcome, Option<SkipReason>), filters: Filters, interrupted: bool) -> RunResult {
        RunResult {
            target: "http://127.0.0.1:1/scim/v2".into(),
            started: String::new(),
            duration: std::time::Duration::ZERO,
            requests_sent: 0,
            capabilities: Vec::new(),
            schemas: Default::default(),
            lookup: None,
            suites: vec![SuiteResult {
                name: "rfc-groups".into(),
                idp: "rfc".into(),
                file: "suites/rfc/groups.yaml".into(),
                steps: vec![
                    step("a", Outcome::Passed, None),
                    step("b", last.0, last.1.clone()),
                    step("c", last.0, last.1),
                ],
                cleanup: Vec::new(),
            }],
            throttling: Default::default(),
            invocation: Invocation {
                filters,
                builtin: vec![BuiltinSuite {
                    idp: "rfc".into(),
                    name: "rfc-groups".into(),
                    steps: 3,
                }],
                builtin_files: vec!["suites/rfc/groups.yaml".into()],
                interrupted,
                ..Invocation::default()
            },
            notes: Vec::new(),
        }
    }

    fn rfc(c: &Compat) -> (Verdict, String) {
        let p = c.profiles.iter().find(|p| p.idp == "rfc").unwrap();
        (p.verdict, p.verdict_text())
    }

    #[test]
    fn every_step_checked_and_passed_is_compatible_and_nothing_less() {
        let all = run((Outcome::Passed, None), Filters::default(), false);
        let c = Compat::new(&all);
        assert_eq!(rfc(&c), (Verdict::Compatible, "compatible".into()));
        assert!(!c.unfinished());
        // The same results after Ctrl-C claim nothing.
        let stopped = run((Outcome::Passed, None), Filters::default(), true);
        let c = Compat::new(&stopped);
        assert_eq!(
            rfc(&c),
            (
                Verdict::Incomplete,
                "incomplete: the run was interrupted".into()
            )
        );
    }

    #[test]
    fn a_capability_the_server_lacks_narrows_the_claim() {
        let lacking = SkipReason::Unsupported {
            capabilities: vec!["groups".into()],
        };
        let r = run((Outcome::Skipped, Some(lacking)), Filters::default(), false);
        let c = Compat::new(&r);
        assert_eq!(
            rfc(&c),
            (
                Verdict::CompatibleWithout,
                "compatible without groups: the server does not support it".into()
            )
        );
        assert!(!c.unfinished(), "the server's own answer is not a failure");
    }

    #[test]
    fn rate_limited_steps_are_incomplete_and_unfinished_whatever_was_asked() {
        let limited = SkipReason::RateLimited {
            request: "GET /Groups".into(),
            detail: "still rate limited".into(),
        };
        let asked = Filters {
            skip: vec!["x".into()],
            ..Filters::default()
        };
        let r = run((Outcome::Skipped, Some(limited)), asked, false);
        let c = Compat::new(&r);
        assert_eq!(
            rfc(&c),
            (
                Verdict::Incomplete,
                "incomplete: 1/3 steps checked (2 rate limited)".into()
            )
        );
        assert!(c.unfinished());
    }

    #[test]
    fn a_selection_is_unfinished_only_when_not_asked_for() {
        let mut r = run((Outcome::Passed, None), Filters::default(), false);
        r.suites[0].steps[2].selected = false;
        assert!(Compat::new(&r).unfinished());
        r.invocation.filters.filter = Some("rfc-groups::a".into());
        let c = Compat::new(&r);
        assert!(!c.unfinished());
        assert_eq!(
            rfc(&c),
            (
                Verdict::Incomplete,
                "incomplete: 2/3 steps checked (1 not selected)".into()
            )
        );
    }

    #[test]
    fn a_suite_that_is_not_built_in_never_speaks_for_its_idp() {
        let mut r = run((Outcome::Passed, None), Filters::default(), false);
        r.invocation.builtin_files.clear();
        let c = Compat::new(&r);
        assert_eq!(rfc(&c).0, Verdict::NotTested);
        let custom = c.profiles.iter().find(|p| p.idp == "custom-rfc").unwrap();
        assert_eq!(custom.verdict, Verdict::CustomPassed);
        assert!(!c.in_short().contains("Compatible"), "{}", c.in_short());
    }
}

#[test]
fn suite_builtin_alone_is_not_a_partial_selection() {
    // `--suite builtin` runs every built-in suite: a profile left incomplete
    // for another reason must not be explained away as "as asked".
    use scimitar::results::Filters;
    let all = Filters {
        suites: vec!["builtin".into()],
        ..Filters::default()
    };
    assert!(!all.explicit());
    let mine = Filters {
        suites: vec!["builtin".into(), "mine".into()],
        ..Filters::default()
    };
    assert!(mine.explicit());
}

#[test]
fn built_in_suites_of_no_profile_are_named_built_in_never_an_idp_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = scimitar(
        dir.path(),
        &[
            "run",
            "--embedded",
            "--suite",
            "builtin",
            "certify-entra-pagination::",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let r = row(&out.stdout, "Built-in suites (idp: certify)");
    assert!(r.ends_with("passed (not an IdP verdict)"), "{r}");
    assert!(!out.stdout.contains("Custom suites"), "{}", out.stdout);
}
