//! `scimitar record`: the Entra fixtures' request sequence is driven through
//! the recording proxy (the binary) in front of the reference server; the
//! recorded suite must replay green against a fresh server, leave nothing
//! behind, contain no credential, come out the same from a HAR file of the
//! same traffic, and fail exactly the step a fault hits.
//!
//! Everything talks HTTP on 127.0.0.1 only.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scimitar::server::{RunningServer, ServerConfig, spawn};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_scimitar");
const TOKEN: &str = "entra-secret-token-8f2c41d9";
const COOKIE: &str = "ARRAffinity=cookie-value-77ab12";
/// A stand-in: the sources in shared/reference do not quote Entra's User-Agent.
const USER_AGENT: &str = "Microsoft Azure AD SCIM provisioning (scimitar test)";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn reference(rt: &tokio::runtime::Runtime) -> RunningServer {
    rt.block_on(spawn(
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig {
            token: Some(TOKEN.into()),
            ..Default::default()
        },
    ))
    .unwrap()
}

/// A running `scimitar record`, with what it printed so far.
struct Recorder {
    child: Child,
    listen: String,
    stderr: Arc<Mutex<String>>,
}

impl Recorder {
    fn start(args: &[&str]) -> Recorder {
        let mut child = Command::new(BIN)
            .arg("record")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut listen = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            stderr.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(rest) = line.strip_prefix("recording: ") {
                listen = rest.split_whitespace().next().map(str::to_string);
                break;
            }
        }
        let Some(listen) = listen else {
            let _ = child.kill();
            panic!("no 'recording:' line: {}", stderr.lock().unwrap());
        };
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Recorder {
            child,
            listen,
            stderr,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, sig) },
            0
        );
    }

    /// Waits for the exit; returns the code and stdout.
    fn wait(mut self) -> (i32, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "scimitar record did not stop: {}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        std::io::Read::read_to_string(&mut self.child.stdout.take().unwrap(), &mut out).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let err = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), out, err)
    }
}

/// One exchange as the client saw it, for the HAR file.
struct Seen {
    method: String,
    url: String,
    req_headers: Vec<(String, String)>,
    req_body: Option<String>,
    status: u16,
    resp_headers: Vec<(String, String)>,
    resp_body: String,
}

/// The IdP: sends what Entra sends, with its credentials, and keeps what it saw.
struct Idp {
    http: reqwest::Client,
    base: String,
    seen: Vec<Seen>,
}

impl Idp {
    async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut headers = vec![
            ("Authorization".to_string(), format!("Bearer {TOKEN}")),
            ("Cookie".to_string(), COOKIE.to_string()),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
            ("Accept".to_string(), "application/scim+json".to_string()),
        ];
        if body.is_some() {
            headers.push(("Content-Type".into(), "application/scim+json".into()));
        }
        let mut rb = self
            .http
            .request(method.parse().unwrap(), reqwest::Url::parse(&url).unwrap());
        for (k, v) in &headers {
            rb = rb.header(k, v);
        }
        let text = body.as_ref().map(Value::to_string);
        if let Some(t) = &text {
            rb = rb.body(t.clone());
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let resp_headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let resp_body = resp.text().await.unwrap();
        let json = serde_json::from_str(&resp_body).unwrap_or(Value::Null);
        self.seen.push(Seen {
            method: method.into(),
            url: resp_url(&url),
            req_headers: headers,
            req_body: text,
            status,
            resp_headers,
            resp_body,
        });
        (status, json)
    }
}

fn resp_url(u: &str) -> String {
    reqwest::Url::parse(u).unwrap().to_string()
}

/// A fixture of suites/entra with the values a tenant would send.
fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/entra")
        .join(name);
    let text = std::fs::read_to_string(path).unwrap();
    let text = text
        .replace("{{prefix}}-1001", "E1001")
        .replace("{{userName}}", "adele.vance@contoso.example")
        .replace("{{workEmail}}", "adele.vance@contoso.example")
        .replace("{{externalId}}", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
        .replace("{{groupName}}", "Sales EMEA")
        .replace(
            "{{groupExternalId}}",
            "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        );
    assert!(!text.contains("{{"), "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The Entra sequence of suites/entra (legacy dialect for the disable):
/// test connection, match, create, match, disable, group match, create,
/// member add, read, delete group, delete user.
async fn entra_sync(idp: &mut Idp) {
    let filter = |f: &str| format!("?filter={}", urlencode(f));
    let (s, _) = idp
        .send(
            "GET",
            &format!(
                "/Users{}",
                filter("userName eq \"6a1e2d56-4c9b-4f5e-9a53-0c1f4b1e2f77\"")
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = idp
        .send(
            "GET",
            &format!(
                "/Users{}",
                filter("userName eq \"adele.vance@contoso.example\"")
            ),
            None,
        )
        .await;
    assert_eq!((s, &body["totalResults"]), (200, &json!(0)));
    let (s, user) = idp
        .send("POST", "/Users", Some(fixture("create-user.json")))
        .await;
    assert_eq!(s, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_string();
    let (s, body) = idp
        .send(
            "GET",
            &format!(
                "/Users{}",
                filter("userName eq \"adele.vance@contoso.example\"")
            ),
            None,
        )
        .await;
    assert_eq!((s, &body["totalResults"]), (200, &json!(1)));
    let (s, _) = idp
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
            ),
        )
        .await;
    assert!(matches!(s, 200 | 204));
    let (s, _) = idp
        .send(
            "GET",
            &format!(
                "/Groups?excludedAttributes=members&filter={}",
                urlencode("displayName eq \"Sales EMEA\"")
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, group) = idp
        .send("POST", "/Groups", Some(fixture("create-group.json")))
        .await;
    assert_eq!(s, 201, "{group}");
    let gid = group["id"].as_str().unwrap().to_string();
    let (s, _) = idp
        .send(
            "PATCH",
            &format!("/Groups/{gid}"),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}]})),
        )
        .await;
    assert!(matches!(s, 200 | 204));
    let (s, _) = idp
        .send(
            "GET",
            &format!("/Groups/{gid}?excludedAttributes=members"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        idp.send("DELETE", &format!("/Groups/{gid}"), None).await.0,
        204
    );
    assert_eq!(
        idp.send("DELETE", &format!("/Users/{id}"), None).await.0,
        204
    );
}

fn urlencode(s: &str) -> String {
    let mut u = reqwest::Url::parse("http://x/").unwrap();
    u.query_pairs_mut().append_pair("v", s);
    u.query().unwrap()[2..].to_string()
}

/// Every file under `dir`, as text.
fn all_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

fn assert_no_credential(dir: &Path) {
    let files = all_files(dir);
    assert!(!files.is_empty());
    for (p, text) in files {
        for secret in [TOKEN, "cookie-value-77ab12", "Bearer", "ARRAffinity"] {
            assert!(
                !text.contains(secret),
                "{} contains {secret:?}",
                p.display()
            );
        }
    }
}

/// Lines that are not comments: the suite without its provenance.
fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `scimitar run` with a JSON report; returns the exit code, the report and the output.
fn replay(suite_dir: &Path, target: &[&str], work: &Path) -> (i32, Value, String) {
    let report = work.join(format!("report-{}.json", uuid::Uuid::new_v4()));
    let out = Command::new(BIN)
        .arg("run")
        .arg("--suite")
        .arg(suite_dir)
        .args(target)
        .arg("--snapshots")
        .arg(work.join("snapshots"))
        .arg("--json")
        .arg(&report)
        .arg("--color")
        .arg("never")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, text)
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["suites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Records the Entra sequence through the proxy; returns the suite folder
/// and what the client saw.
fn record_entra(rt: &tokio::runtime::Runtime, work: &Path) -> (PathBuf, Vec<Seen>, String) {
    let upstream = reference(rt);
    let out = work.join("recorded");
    let rec = Recorder::start(&[
        "--upstream",
        &upstream.base_url,
        "--listen",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "entra-sync",
    ]);
    let mut idp = Idp {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: rec.listen.clone(),
        seen: Vec::new(),
    };
    rt.block_on(entra_sync(&mut idp));
    rec.signal(libc::SIGINT);
    let (code, stdout, stderr) = rec.wait();
    assert_eq!(code, 0, "{stdout}{stderr}");
    // One line says where the suite went.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("wrote {}", out.join("entra-sync.yaml").display())),
        "{stdout}"
    );
    assert!(lines[0].contains("(11 steps"), "{stdout}");
    let yaml = std::fs::read_to_string(out.join("entra-sync.yaml")).unwrap();
    (out, idp.seen, yaml)
}

#[test]
fn recorded_entra_traffic_replays_green_and_leaves_nothing() {
    let rt = rt();
    let work = tempfile::tempdir().unwrap();
    let (out, _, yaml) = record_entra(&rt, work.path());

    // The suite loads as written, with captures and prefixed names.
    let suite = scimitar::suite::load_file(&out.join("entra-sync.yaml")).unwrap();
    assert_eq!(suite.idp, "recorded-entra-legacy");
    let create = suite
        .steps
        .iter()
        .find(|s| s.name == "create-user")
        .unwrap();
    assert_eq!(create.captures[0].var, "userId");
    assert!(
        yaml.contains("userName: \"{{prefix}}-adele.vance@contoso.example\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("groupExternalId: \"{{prefix}}-8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\""),
        "{yaml}"
    );
    assert!(yaml.contains("path: \"/Users/{{userId}}\""), "{yaml}");
    assert!(yaml.contains("value: \"{{userId}}\""), "{yaml}");
    assert!(yaml.contains("status: [200, 204]"), "{yaml}");
    assert!(
        suite
            .steps
            .iter()
            .all(|s| s.snapshot.is_some() && s.why.is_some())
    );
    // The create body was long: it went to a fixture the suite names.
    assert!(out.join("fixtures/entra-sync/create-user.json").is_file());
    assert_no_credential(&out);

    // Against a fresh embedded server: every step passes.
    let (code, report, text) = replay(&out, &["--embedded"], work.path());
    assert_eq!(code, 0, "{text}");
    let steps = outcomes(&report);
    assert_eq!(steps.len(), 11);
    assert!(steps.iter().all(|(_, o)| o == "passed"), "{steps:?}");

    // Twice against one server (no name collides), and nothing is left.
    let server = reference(&rt);
    for _ in 0..2 {
        let (code, report, text) = replay(
            &out,
            &["--url", &server.base_url, "--token", TOKEN],
            work.path(),
        );
        assert_eq!(code, 0, "{text}");
        let cleanup = report["suites"][0]["cleanup"].as_array().unwrap();
        assert!(
            cleanup
                .iter()
                .all(|c| c["status"].as_u64().is_some_and(|s| s < 300 || s == 404)),
            "{cleanup:?}"
        );
    }
    let http = reqwest::Client::new();
    for endpoint in ["Users", "Groups"] {
        let body: Value = rt
            .block_on(async {
                http.get(format!("{}/{endpoint}", server.base_url))
                    .bearer_auth(TOKEN)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
            })
            .unwrap();
        assert_eq!(
            body["totalResults"],
            json!(0),
            "{endpoint} left behind: {body}"
        );
    }
}

/// A HAR file of the same traffic, with the token and cookies in it.
fn write_har(seen: &[Seen], path: &Path) {
    let t0 = time::OffsetDateTime::now_utc();
    let entries: Vec<Value> = seen
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let started = (t0 + time::Duration::milliseconds(i as i64 * 10))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let nv = |h: &[(String, String)]| -> Vec<Value> {
                h.iter().map(|(k, v)| json!({"name": k, "value": v})).collect()
            };
            let mut resp_headers = nv(&s.resp_headers);
            resp_headers.push(json!({"name": "Set-Cookie", "value": format!("{COOKIE}; Path=/; HttpOnly")}));
            json!({
                "startedDateTime": started,
                "time": 3,
                "request": {
                    "method": s.method, "url": s.url, "httpVersion": "HTTP/1.1",
                    "headers": nv(&s.req_headers),
                    "cookies": [{"name": "ARRAffinity", "value": "cookie-value-77ab12"}],
                    "queryString": [],
                    "postData": s.req_body.as_ref().map(|b| json!({"mimeType": "application/scim+json", "text": b})),
                    "headersSize": -1, "bodySize": -1
                },
                "response": {
                    "status": s.status, "statusText": "", "httpVersion": "HTTP/1.1",
                    "headers": resp_headers, "cookies": [],
                    "content": {"size": s.resp_body.len(), "mimeType": "application/scim+json", "text": s.resp_body},
                    "redirectURL": "", "headersSize": -1, "bodySize": -1
                },
                "cache": {}, "timings": {"send": 0, "wait": 3, "receive": 0}
            })
        })
        .collect();
    // The file's order is not the requests' order: readers sort by time.
    let mut shuffled = entries;
    shuffled.reverse();
    let har = json!({"log": {"version": "1.2", "creator": {"name": "scimitar test", "version": "1"}, "entries": shuffled}});
    std::fs::write(path, serde_json::to_string_pretty(&har).unwrap()).unwrap();
}

#[test]
fn a_har_file_of_the_same_traffic_gives_the_same_suite_without_credentials() {
    let rt = rt();
    let work = tempfile::tempdir().unwrap();
    let (_, seen, proxied) = record_entra(&rt, work.path());
    let har = work.path().join("sync.har");
    write_har(&seen, &har);
    assert!(std::fs::read_to_string(&har).unwrap().contains(TOKEN));
    let out = work.path().join("from-har");
    let run = Command::new(BIN)
        .args(["record", "--from-har"])
        .arg(&har)
        .arg("--out")
        .arg(&out)
        .args(["--name", "entra-sync"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let from_har = std::fs::read_to_string(out.join("entra-sync.yaml")).unwrap();
    assert_eq!(without_comments(&from_har), without_comments(&proxied));
    assert!(from_har.contains("from the HAR file sync.har (written by scimitar test 1)"));
    assert_eq!(
        std::fs::read_to_string(out.join("fixtures/entra-sync/create-user.json")).unwrap(),
        std::fs::read_to_string(
            work.path()
                .join("recorded/fixtures/entra-sync/create-user.json")
        )
        .unwrap()
    );
    assert_no_credential(&out);
}

/// A proxy in front of a reference server that answers one request with a
/// 500 instead of forwarding it.
async fn fault_proxy(
    upstream: String,
    breaks: fn(&str, &str) -> bool,
) -> (String, tokio::task::JoinHandle<()>) {
    use axum::response::IntoResponse;
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (http, upstream) = (http.clone(), upstream.clone());
        async move {
            let (parts, body) = req.into_parts();
            let path = parts.uri.path().to_string();
            if breaks(parts.method.as_str(), &path) {
                let err = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500", "detail": "injected fault"});
                return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, [("content-type", "application/scim+json")], err.to_string()).into_response();
            }
            let rest = path.strip_prefix("/scim/v2").unwrap_or(&path);
            let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let mut rb = http.request(parts.method.clone(), format!("{upstream}{rest}{query}"));
            for (k, v) in &parts.headers {
                if k != "host" {
                    rb = rb.header(k, v);
                }
            }
            let resp = rb.body(body).send().await.unwrap();
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await.unwrap();
            let mut out = axum::response::Response::builder().status(status);
            for (k, v) in &headers {
                if k != "transfer-encoding" && k != "content-length" {
                    out = out.header(k, v);
                }
            }
            out.body(axum::body::Body::from(bytes)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/scim/v2"), task)
}

#[test]
fn a_replay_through_a_fault_fails_exactly_the_step_it_hits() {
    let rt = rt();
    let work = tempfile::tempdir().unwrap();
    let (out, _, _) = record_entra(&rt, work.path());
    let server = reference(&rt);
    // The member add (PATCH on a group) answers 500.
    let (url, task) = rt.block_on(fault_proxy(server.base_url.clone(), |m, p| {
        m == "PATCH" && p.starts_with("/scim/v2/Groups/")
    }));
    let (code, report, text) = replay(&out, &["--url", &url, "--token", TOKEN], work.path());
    assert_eq!(code, 1, "{text}");
    let steps = outcomes(&report);
    let failed: Vec<&str> = steps
        .iter()
        .filter(|(_, o)| o == "failed")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(failed, vec!["add-members"], "{steps:?}");
    let at = steps.iter().position(|(n, _)| n == "add-members").unwrap();
    assert!(steps[..at].iter().all(|(_, o)| o == "passed"), "{steps:?}");
    // The read of the group depends on the refused write: skipped, not
    // failed again; the rest of the replay still runs and passes.
    let after: Vec<(&str, &str)> = steps[at + 1..]
        .iter()
        .map(|(n, o)| (n.as_str(), o.as_str()))
        .collect();
    assert_eq!(after[0], ("read-group", "skipped"), "{steps:?}");
    assert!(after[1..].iter().all(|(_, o)| *o == "passed"), "{steps:?}");
    let finding = &report["suites"][0]["steps"][at]["findings"][0];
    assert_eq!(finding["subject"], json!("status"), "{finding}");
    task.abort();
}

#[test]
fn https_listener_records_and_sigterm_writes_the_suite() {
    let rt = rt();
    let work = tempfile::tempdir().unwrap();
    let upstream = reference(&rt);
    // A CA and a certificate for 127.0.0.1, as a tunnel or load balancer would have.
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let (cert, key) = (work.path().join("cert.pem"), work.path().join("key.pem"));
    std::fs::write(&cert, leaf_cert.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();

    let out = work.path().join("tls");
    let rec = Recorder::start(&[
        "--upstream",
        &upstream.base_url,
        "--listen",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "over-tls",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(
        rec.listen.starts_with("https://127.0.0.1:"),
        "{}",
        rec.listen
    );
    let http = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(ca_cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let created: (u16, Value) = rt.block_on(async {
        let r = http
            .post(format!("{}/Users", rec.listen))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "tls@example.com"}).to_string())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    });
    assert_eq!(created.0, 201, "{}", created.1);
    // Forwarded unchanged: the upstream holds the user.
    assert_eq!(created.1["userName"], json!("tls@example.com"));
    rec.signal(libc::SIGTERM);
    let (code, stdout, stderr) = rec.wait();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("terminated: stopping"), "{stderr}");
    let suite = scimitar::suite::load_file(&out.join("over-tls.yaml")).unwrap();
    assert_eq!(suite.steps.len(), 1);
    assert_no_credential(&out);
}

#[test]
fn duration_ends_a_recording_and_nothing_recorded_writes_nothing() {
    let rt = rt();
    let work = tempfile::tempdir().unwrap();
    let upstream = reference(&rt);
    let out = work.path().join("empty");
    let rec = Recorder::start(&[
        "--upstream",
        &upstream.base_url,
        "--listen",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "empty",
        "--duration",
        "0.5",
    ]);
    let (code, stdout, stderr) = rec.wait();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("--duration reached: stopping"), "{stderr}");
    assert!(
        stderr.contains("error: nothing to write: no SCIM request was recorded"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
    assert!(!out.join("empty.yaml").exists());
}

#[test]
fn bad_input_is_one_error_line_and_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let not_har = work.path().join("x.har");
    std::fs::write(&not_har, "{\"log\": {\"entries\": 3}}").unwrap();
    let existing = work.path().join("taken");
    std::fs::create_dir_all(&existing).unwrap();
    std::fs::write(existing.join("dup.yaml"), "x").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--from-har".into(), not_har.display().to_string()],
            "not a HAR file",
        ),
        (
            vec!["--upstream".into(), "not a url".into()],
            "--upstream not a url",
        ),
        (
            vec![
                "--upstream".into(),
                "http://127.0.0.1:9/scim".into(),
                "--name".into(),
                "../x".into(),
            ],
            "--name",
        ),
        (
            vec![
                "--upstream".into(),
                "http://127.0.0.1:9/scim".into(),
                "--out".into(),
                existing.display().to_string(),
                "--name".into(),
                "dup".into(),
            ],
            "already exists",
        ),
        (
            vec![
                "--upstream".into(),
                "http://127.0.0.1:9/scim".into(),
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--tls-cert".into(),
                "/nonexistent.pem".into(),
                "--tls-key".into(),
                "/nonexistent.key".into(),
            ],
            "/nonexistent.pem: cannot read",
        ),
    ];
    for (args, want) in cases {
        let out = Command::new(BIN)
            .arg("record")
            .args(&args)
            .current_dir(work.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(want),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn the_proxy_forwards_requests_and_answers_unchanged_whatever_it_keeps() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let rt = rt();
    let upstream = rt.block_on(MockServer::start());
    // A body well above --max-body, both ways.
    let big = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-1",
                     "userName": "big@example.com", "title": "x".repeat(5000)})
    .to_string();
    rt.block_on(
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(201)
                    .insert_header("X-Upstream", "kept")
                    .insert_header("ETag", "W/\"7\"")
                    .set_body_raw(big.clone(), "application/scim+json"),
            )
            .mount(&upstream),
    );
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("big");
    let rec = Recorder::start(&[
        "--upstream",
        &format!("{}/scim/v2", upstream.uri()),
        "--listen",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
        "--name",
        "big",
        "--max-body",
        "1000",
    ]);
    let (status, headers, body) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/Users?attributes=userName&x=a%20b", rec.listen))
            .bearer_auth(TOKEN)
            .header("X-Custom", "as-sent")
            .header("Content-Type", "application/scim+json; charset=utf-8")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let headers = r.headers().clone();
        (r.status().as_u16(), headers, r.text().await.unwrap())
    });
    assert_eq!(status, 201);
    assert_eq!(headers["x-upstream"], "kept");
    assert_eq!(headers["etag"], "W/\"7\"");
    assert_eq!(headers["content-type"], "application/scim+json");
    assert_eq!(body, big, "the answer's body reached the client whole");
    let got = rt.block_on(upstream.received_requests()).unwrap();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(r.url.path(), "/scim/v2/Users");
    assert_eq!(r.url.query(), Some("attributes=userName&x=a%20b"));
    assert_eq!(
        r.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert_eq!(r.headers["x-custom"], "as-sent");
    assert_eq!(
        r.headers["content-type"],
        "application/scim+json; charset=utf-8"
    );
    assert_eq!(
        r.body,
        big.as_bytes(),
        "the request's body reached the upstream whole"
    );

    rec.signal(libc::SIGINT);
    let (code, stdout, stderr) = rec.wait();
    // The one exchange had a body above the cap: nothing a replay could send.
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "POST /Users was left out: its body is not JSON (or was cut at the recording cap)"
        ),
        "{stderr}"
    );
    assert!(!out.join("big.yaml").exists());
}
