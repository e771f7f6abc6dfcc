//! Never hang, never crash, never leak, never leave data behind: the binary
//! against fakes that misbehave (wiremock, and a raw TCP/TLS server on
//! 127.0.0.1 for what wiremock cannot do: hangs, resets, huge bodies, TLS).
//! No assertion here is about wall time; a generous guard only turns a hang
//! into a failure instead of a stuck test run.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

// ---------------------------------------------------------------------------
// Running the binary

/// A scimitar run that cannot hang the test suite.
struct Run {
    child: Child,
    stdout: std::thread::JoinHandle<String>,
    stderr_buf: Arc<Mutex<String>>,
    stderr: std::thread::JoinHandle<()>,
}

/// Longest a run may take before it counts as hung (never reached when
/// things work; the runs here take seconds).
const HANG_GUARD: Duration = Duration::from_secs(120);

fn spawn(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimitar"));
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in [
        "SCIM_URL",
        "SCIM_TOKEN",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn scimitar");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr_buf = Arc::new(Mutex::new(String::new()));
    let buf = stderr_buf.clone();
    let stderr = std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = err.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    Run {
        child,
        stdout,
        stderr_buf,
        stderr,
    }
}

impl Run {
    /// Waits like [`Run::wait`], and also returns the highest resident
    /// memory seen in this child, in bytes: `VmHWM` of its own address space,
    /// polled from /proc while it runs. (wait4's `ru_maxrss` would not do: a
    /// spawned child inherits the test binary's high-water mark at exec, and
    /// this binary runs many big tests at once.) Polling can only miss a peak
    /// in the last moments before exit; the huge-body read happens long
    /// before that.
    fn wait_with_peak_rss(mut self) -> (Output, u64) {
        let start = Instant::now();
        let status_path = format!("/proc/{}/status", self.pid());
        let mut peak = 0u64;
        let status = loop {
            if let Ok(text) = std::fs::read_to_string(&status_path)
                && let Some(kb) = text
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(start.elapsed() < HANG_GUARD, "scimitar did not end (hung)");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(peak > 0, "never read the child's memory from {status_path}");
        let stdout = self.stdout.join().unwrap_or_default();
        let _ = self.stderr.join();
        let stderr = self.stderr_buf.lock().unwrap().clone();
        (
            Output {
                code: status.code().unwrap_or(-1),
                stdout,
                stderr,
            },
            peak,
        )
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn stderr_so_far(&self) -> String {
        self.stderr_buf.lock().unwrap().clone()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill failed");
    }

    fn wait(mut self) -> Output {
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > HANG_GUARD {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "scimitar did not end (hung); stderr so far:\n{}",
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.join().unwrap_or_default();
        let _ = self.stderr.join();
        let stderr = self.stderr_buf.lock().unwrap().clone();
        Output {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    spawn(cwd, args, &[]).wait()
}

/// Polls `cond` until it holds (guarded against hangs).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG_GUARD, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn one_step_suite(name: &str, path: &str) -> String {
    format!(
        r#"
name: {name}
idp: rfc
steps:
  - name: read
    request: {{ method: GET, path: {path} }}
    expect: {{ status: 200, json: {{ "$.id": {{ exists: true }} }} }}
"#
    )
}

/// The step's findings and error in the JSON report, as one string.
fn report_step(report: &Value, suite: &str, step: &str) -> Value {
    report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["name"] == suite)
        .flat_map(|s| s["steps"].as_array().cloned().unwrap_or_default())
        .find(|s| s["name"] == step)
        .unwrap_or(Value::Null)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("report written")).expect("JSON")
}

// ---------------------------------------------------------------------------
// A raw HTTP/1.1 server on 127.0.0.1, for behaviour wiremock cannot fake.

#[derive(Debug, Clone)]
struct RawRequest {
    method: String,
    /// The request target as sent (absolute-form through a proxy).
    target: String,
    headers: Vec<(String, String)>,
}

impl RawRequest {
    fn path(&self) -> &str {
        let t = self.target.as_str();
        let t = match t.find("://") {
            Some(i) => t[i + 3..].find('/').map(|j| &t[i + 3 + j..]).unwrap_or("/"),
            None => t,
        };
        t.split('?').next().unwrap_or(t)
    }
}

enum Reply {
    Json(u16, Value),
    /// Never answers; holds the connection until the client gives up.
    Hang,
    /// Closes the connection with a TCP reset.
    Reset,
    /// Streams this many bytes of body (with a Content-Length).
    Stream(u64),
    /// Sends the headers and part of the body, then stops answering.
    Stall,
}

type Handler = Arc<dyn Fn(&RawRequest) -> Reply + Send + Sync>;

struct Raw {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<RawRequest>>>,
    streamed: Arc<AtomicU64>,
}

impl Raw {
    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/scim/v2", self.addr)
    }

    /// Requests received, as `METHOD /path`.
    fn received(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path()))
            .collect()
    }
}

fn discovery(r: &RawRequest) -> Option<Reply> {
    match r.path() {
        "/scim/v2/ServiceProviderConfig" => Some(Reply::Json(200, spc(true))),
        "/scim/v2/ResourceTypes" => Some(Reply::Json(
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                   "totalResults": 1, "Resources": [{"name": "User", "endpoint": "/Users",
                   "schema": "urn:ietf:params:scim:schemas:core:2.0:User"}]}),
        )),
        // No /Schemas: judged by RFC 7643's (discovery asks once per run).
        "/scim/v2/Schemas" => Some(Reply::Json(
            404,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}),
        )),
        _ => None,
    }
}

fn raw(handler: impl Fn(&RawRequest) -> Reply + Send + Sync + 'static) -> Raw {
    raw_with(handler, None)
}

fn raw_with(
    handler: impl Fn(&RawRequest) -> Reply + Send + Sync + 'static,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Raw {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let log: Arc<Mutex<Vec<RawRequest>>> = Arc::default();
    let streamed = Arc::new(AtomicU64::new(0));
    let handler: Handler = Arc::new(handler);
    let (l, s) = (log.clone(), streamed.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(tcp) = conn else { continue };
            let (handler, log, streamed, tls) =
                (handler.clone(), l.clone(), s.clone(), tls.clone());
            std::thread::spawn(move || {
                let reset_handle = tcp.try_clone().ok();
                let reset = move || {
                    if let Some(t) = &reset_handle {
                        set_linger_zero(t);
                    }
                };
                match tls {
                    None => {
                        let mut tcp = tcp;
                        serve_conn(&mut tcp, &handler, &log, &streamed, &reset);
                    }
                    Some(cfg) => {
                        let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                            return;
                        };
                        let mut stream = rustls::StreamOwned::new(conn, tcp);
                        serve_conn(&mut stream, &handler, &log, &streamed, &reset);
                    }
                }
            });
        }
    });
    Raw {
        addr,
        log,
        streamed,
    }
}

fn set_linger_zero(t: &TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized value.
    unsafe {
        libc::setsockopt(
            t.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn serve_conn<S: Read + Write>(
    s: &mut S,
    handler: &Handler,
    log: &Mutex<Vec<RawRequest>>,
    streamed: &AtomicU64,
    reset: &dyn Fn(),
) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(s, &mut buf) {
        log.lock().unwrap().push(req.clone());
        match handler(&req) {
            Reply::Json(status, body) => {
                let body = body.to_string();
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if s.write_all(head.as_bytes()).is_err()
                    || s.write_all(body.as_bytes()).is_err()
                    || s.flush().is_err()
                {
                    return;
                }
            }
            Reply::Hang => {
                // Read until the client closes; never answer.
                let mut sink = [0u8; 1024];
                while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
            Reply::Reset => {
                reset();
                return;
            }
            Reply::Stall => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: 1000\r\n\r\n{\"id\": ";
                if s.write_all(head.as_bytes()).is_err() || s.flush().is_err() {
                    return;
                }
                let mut sink = [0u8; 1024];
                while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
            Reply::Stream(len) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: {len}\r\n\r\n"
                );
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0u64;
                while sent < len {
                    let n = chunk.len().min((len - sent) as usize);
                    if s.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n as u64;
                    streamed.store(sent, Ordering::SeqCst);
                }
                return;
            }
        }
    }
}

fn read_request<S: Read>(s: &mut S, buf: &mut Vec<u8>) -> Option<RawRequest> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let mut first = lines.next()?.split(' ');
            let method = first.next()?.to_string();
            let target = first.next()?.to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut tmp = [0u8; 8192];
                let n = s.read(&mut tmp).ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&tmp[..n]);
            }
            buf.drain(..end + 4 + len);
            return Some(RawRequest {
                method,
                target,
                headers,
            });
        }
        let mut tmp = [0u8; 8192];
        let n = s.read(&mut tmp).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&tmp[..n]);
    }
}

// ---------------------------------------------------------------------------
// 429 and 5xx

fn mount_read_user(f: &Fake) {
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(scim_json(
                200,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "x", "userName": "x"}),
            ))
            .with_priority(4),
    );
}

#[test]
fn rate_limits_are_retried_after_retry_after_and_reported() {
    let f = fake(true);
    // Three 429s (an HTTP date, seconds, and far longer than what is left
    // of --max-retry-wait, the total a request may wait), then a 200.
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", soon.as_str()))
            .up_to_n_times(1)
            .with_priority(1),
    );
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(2),
    );
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
            .up_to_n_times(1)
            .with_priority(3),
    );
    mount_read_user(&f);
    let s = Suites::new().suite("limited", &one_step_suite("limited", "/Users/x"));
    let report = s.root().join("report.json");
    let out = run(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--max-retry-wait",
            "5",
            "--json",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let gets = f
        .received()
        .iter()
        .filter(|r| *r == "GET /scim/v2/Users/x")
        .count();
    assert_eq!(gets, 4, "three retries then success");
    // The retries are in the console (stderr) and in the report.
    assert!(
        out.stderr.contains(
            "note: limited::read: 429 Too Many Requests (Retry-After 1s): retry 2 after 1"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("429 Too Many Requests (Retry-After 3600s, more than the "),
        "{}",
        out.stderr
    );
    // The HTTP date was understood (a wait was read from it).
    let first = out
        .stderr
        .lines()
        .find(|l| l.contains("retry 1 after"))
        .unwrap_or("");
    assert!(
        first.contains("(Retry-After ") && !first.contains("no Retry-After"),
        "{}",
        out.stderr
    );
    let step = report_step(&read_json(&report), "limited", "read");
    assert_eq!(step["outcome"], "passed");
    assert_eq!(
        step["exchange"]["retries"].as_array().map(Vec::len),
        Some(3),
        "{step}"
    );
}

#[test]
fn endless_rate_limiting_is_bounded_and_never_a_failed_check() {
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
            .with_priority(1),
    );
    let yaml = r#"
name: limited
idp: rfc
steps:
  - name: read
    request: { method: GET, path: /Users/x }
    expect: { status: 200 }
  - name: read-again
    request: { method: GET, path: /Users/x }
    expect: { status: 200 }
"#;
    let s = Suites::new().suite("limited", yaml);
    let report = s.root().join("report.json");
    let out = run(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--max-retry-wait",
            "1",
            "--json",
            report.to_str().unwrap(),
        ],
    );
    // Not a failed check: the step is reported as not checked, and a run
    // that could not check everything is not a success (exit 1).
    assert_eq!(out.code, 1, "{}", out.all());
    let gets = f
        .received()
        .iter()
        .filter(|r| *r == "GET /scim/v2/Users/x")
        .count();
    // Per step: waits of 0.5 s, then the 0.5 s left of the 1 s budget, so
    // three tries (a rate-limited step does not stop its suite).
    assert_eq!(gets, 6, "each step stops once --max-retry-wait is used up");
    assert!(
        out.stderr.contains("warning: limited::read not checked: GET /Users/x: still rate limited (429 Too Many Requests) after 2 retries and 1s of waiting (--max-retry-wait 1s)"),
        "{}",
        out.stderr
    );
    let r = read_json(&report);
    assert_eq!(report_step(&r, "limited", "read")["outcome"], "skipped");
    let again = report_step(&r, "limited", "read-again");
    assert_eq!(again["outcome"], "skipped");
    assert!(
        again["skip_reason"]
            .as_str()
            .unwrap_or("")
            .contains("still rate limited"),
        "{again}"
    );
}

#[test]
fn server_errors_are_findings_and_not_retried() {
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
            .with_priority(1),
    );
    let s = Suites::new().suite("broken", &one_step_suite("broken", "/Users/x"));
    let out = run(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("status: expected 200, got 503"),
        "{}",
        out.stdout
    );
    let gets = f
        .received()
        .iter()
        .filter(|r| *r == "GET /scim/v2/Users/x")
        .count();
    assert_eq!(gets, 1, "a 503 is not retried");
}

// ---------------------------------------------------------------------------
// Timeouts

#[test]
fn a_hung_server_ends_the_run_after_one_timeout_and_cleanup_does_not_wait() {
    let server = raw(|r| {
        if let Some(d) = discovery(r) {
            return d;
        }
        match (r.method.as_str(), r.path()) {
            ("POST", "/scim/v2/Users") => Reply::Json(
                201,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "x"}),
            ),
            _ => Reply::Hang,
        }
    });
    // Three suites, each creating a user then reading: whichever runs first
    // meets the hang; the others must not each wait a timeout too.
    let mut s = Suites::new();
    for name in ["one", "two", "three"] {
        s = s.suite(
            name,
            &format!(
                r#"
name: {name}
idp: rfc
steps:
  - name: create
    request: {{ method: POST, path: /Users, body: {{ userName: "{{{{prefix}}}}-x" }} }}
    expect: {{ status: 201 }}
    capture: {{ id: "$.id" }}
  - name: read
    request: {{ method: GET, path: "/Users/{{{{id}}}}" }}
    expect: {{ status: 200 }}
"#
            ),
        );
    }
    let out = run(
        s.root(),
        &[
            "run",
            "--url",
            &server.url("http"),
            "--timeout",
            "1",
            "--jobs",
            "1",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let got = server.received();
    let hung: Vec<_> = got
        .iter()
        .filter(|r| r.starts_with("GET /scim/v2/Users/"))
        .collect();
    assert_eq!(
        hung.len(),
        1,
        "only one request waited on the hung server: {got:?}"
    );
    assert_eq!(
        got.iter().filter(|r| r.starts_with("POST")).count(),
        1,
        "later suites sent nothing: {got:?}"
    );
    assert!(!got.iter().any(|r| r.starts_with("DELETE")), "{got:?}");
    let all = out.all();
    assert!(
        all.contains(
            "within 1s (--timeout); the target is treated as down for the rest of this run"
        ),
        "{all}"
    );
    assert!(
        all.contains("not sent: the target stopped answering earlier in this run"),
        "{all}"
    );
    // The created user is listed as left behind, with the way to remove it.
    assert!(all.contains("/Users/u1"), "{all}");
    assert!(
        out.stderr.contains("scimitar cleanup --url"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_body_that_stalls_midway_times_out() {
    let server = raw(|r| discovery(r).unwrap_or(Reply::Stall));
    let s = Suites::new().suite("stall", &one_step_suite("stall", "/Users/x"));
    let out = run(
        s.root(),
        &["run", "--url", &server.url("http"), "--timeout", "1"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "error:    GET /Users/x: the body from {}/Users/x did not arrive in full within 1s (--timeout)",
            server.url("http")
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn a_redirected_discovery_says_so() {
    let f = fake(true);
    let elsewhere = format!("{}/v2/ServiceProviderConfig", f.server.uri());
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/ServiceProviderConfig"))
            .respond_with(ResponseTemplate::new(301).insert_header("Location", elsewhere.as_str()))
            .with_priority(1),
    );
    mount_read_user(&f);
    let s = Suites::new().suite("x", &one_step_suite("x", "/Users/x"));
    let out = run(s.root(), &["run", "--url", &f.url()]);
    assert!(
        out.stderr.contains(&format!(
            "note: GET /ServiceProviderConfig was redirected (301) to {elsewhere}; scimitar does not follow redirects: check --url"
        )),
        "{}",
        out.stderr
    );
    assert!(
        !f.received()
            .iter()
            .any(|r| r == "GET /v2/ServiceProviderConfig")
    );
}

#[test]
fn a_target_that_never_accepts_the_connection_is_a_connect_timeout() {
    use std::os::fd::AsRawFd;
    // A listener whose accept queue is full: the kernel drops further SYNs,
    // so connecting hangs until the connect timeout.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    // SAFETY: listen(2) on our own socket, shrinking its backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let _queued = TcpStream::connect(addr).expect("fills the queue");
    let s = Suites::new().suite("x", &one_step_suite("x", "/Users/x"));
    let url = format!("http://{addr}/scim/v2");
    let out = run(s.root(), &["run", "--url", &url, "--timeout", "1"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    // The connect and the total timeout are both 1s here; either may fire.
    let target = format!("{url}/ServiceProviderConfig within 1s");
    assert!(
        errors[0].contains(&format!("cannot connect to {target}"))
            || errors[0].contains(&format!("no response from {target}")),
        "{}",
        errors[0]
    );
    drop(listener);
}

// ---------------------------------------------------------------------------
// Bodies

#[test]
fn garbage_json_empty_bodies_and_wrong_content_types_fail_clearly() {
    let f = fake(true);
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "x", "userName": "x"});
    for (p, t) in [
        (
            "/scim/v2/Users/garbage",
            ResponseTemplate::new(200).set_body_raw("{\"id\": \"x\", oops", SCIM),
        ),
        (
            "/scim/v2/Users/empty",
            ResponseTemplate::new(200).set_body_raw("", SCIM),
        ),
        (
            "/scim/v2/Users/html",
            ResponseTemplate::new(200).set_body_raw(user.to_string(), "text/html"),
        ),
    ] {
        f.mount(
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(t)
                .with_priority(1),
        );
    }
    let mut s = Suites::new();
    for name in ["garbage", "empty"] {
        s = s.suite(name, &one_step_suite(name, &format!("/Users/{name}")));
    }
    s = s.suite(
        "html",
        r#"
name: html
idp: rfc
steps:
  - name: read
    request: { method: GET, path: /Users/html }
    expect: { status: 200, check: [media-type] }
"#,
    );
    let out = run(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("0 passed; 3 failed"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "✗ body: the body is not valid JSON: key must be a string at line 1 column 13"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("✗ body: the body is empty"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "check media-type (RFC 7644 §3.1): Content-Type is \"text/html\", expected application/scim+json"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_300_mb_body_is_cut_off_and_memory_stays_bounded() {
    const HUGE: u64 = 300 * 1024 * 1024;
    let server = raw(|r| discovery(r).unwrap_or(Reply::Stream(HUGE)));
    let s = Suites::new().suite("huge", &one_step_suite("huge", "/Users/huge"));
    let report = s.root().join("report.json");
    let (out, peak) = spawn(
        s.root(),
        &[
            "run",
            "--url",
            &server.url("http"),
            "--json",
            report.to_str().unwrap(),
        ],
        &[],
    )
    .wait_with_peak_rss();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("✗ body: the body was cut off at the size cap (--max-body)"),
        "{}",
        out.stdout
    );
    // The client stopped reading: the server could not send it all.
    let sent = server.streamed.load(Ordering::SeqCst);
    assert!(sent < HUGE, "the server sent all {sent} bytes");
    // This scimitar stayed far below the body size (the cap is 10 MiB; the
    // process keeps a few copies at most).
    assert!(
        peak < 100 * 1024 * 1024,
        "peak RSS {} MiB",
        peak / 1024 / 1024
    );
    let step = report_step(&read_json(&report), "huge", "read");
    assert_eq!(step["exchange"]["response"]["truncated"], true);
    assert_eq!(
        step["exchange"]["response"]["body"].as_str().map(str::len),
        Some(10 * 1024 * 1024)
    );
}

#[test]
fn a_connection_reset_is_one_clear_error_not_a_crash() {
    let server = raw(|r| discovery(r).unwrap_or(Reply::Reset));
    let s = Suites::new().suite("reset", &one_step_suite("reset", "/Users/x"));
    let out = run(s.root(), &["run", "--url", &server.url("http")]);
    assert_eq!(out.code, 1, "{}", out.all());
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("error:"))
        .unwrap_or("");
    assert!(
        line.contains("GET /Users/x: HTTP error talking to http://127.0.0.1")
            && line.contains("Connection reset by peer"),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains("panicked"), "{}", out.all());
}

#[test]
fn redirects_are_reported_and_never_followed() {
    let f = fake(true);
    let elsewhere = format!("{}/scim/v2/Users/elsewhere", f.server.uri());
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/x"))
            .respond_with(ResponseTemplate::new(302).insert_header("Location", elsewhere.as_str()))
            .with_priority(1),
    );
    let s = Suites::new().suite("moved", &one_step_suite("moved", "/Users/x"));
    let out = run(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(&format!(
            "status: expected 200, got 302 (a redirect to {elsewhere}, not followed)"
        )),
        "{}",
        out.stdout
    );
    assert!(
        !f.received().iter().any(|r| r.ends_with("/elsewhere")),
        "{:?}",
        f.received()
    );
}

// ---------------------------------------------------------------------------
// Interrupts

/// Creates a user, then waits on a slow endpoint (so a signal lands mid-run),
/// then would read the user.
const SLOW: &str = r#"
name: slow
idp: rfc
steps:
  - name: create
    request: { method: POST, path: /Users, body: { userName: "{{prefix}}-ada" } }
    expect: { status: 201 }
    capture: { id: "$.id" }
  - name: slow
    request: { method: GET, path: /Slow }
    expect: { status: 200, body: optional }
  - name: read
    request: { method: GET, path: "/Users/{{id}}" }
    expect: { status: 200 }
"#;

fn slow_fake(delay: Duration) -> Fake {
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(delay)),
    );
    f
}

fn interrupted_run_cleans_up(sig: i32) {
    let f = slow_fake(Duration::from_secs(2));
    let s = Suites::new().suite("slow", SLOW);
    let child = spawn(s.root(), &["run", "--url", &f.url()], &[]);
    wait_for("the slow request", || {
        f.received().iter().any(|r| r == "GET /scim/v2/Slow")
    });
    child.signal(sig);
    let out = child.wait();
    assert_eq!(out.code, 130, "{}", out.all());
    assert!(
        out.stderr.contains("interrupted: no new requests"),
        "{}",
        out.stderr
    );
    let got = f.received();
    assert!(
        got.contains(&"DELETE /scim/v2/Users/u1".to_string()),
        "the run deleted what it created: {got:?}"
    );
    // No new step after the interrupt: the only read of the user is the
    // cleanup's check that the DELETE took (RFC 7644 §3.6).
    let del = got.iter().position(|r| r == "DELETE /scim/v2/Users/u1");
    let reads: Vec<usize> = got
        .iter()
        .enumerate()
        .filter(|(_, r)| *r == "GET /scim/v2/Users/u1")
        .map(|(i, _)| i)
        .collect();
    assert!(
        reads.iter().all(|i| Some(*i) > del) && reads.len() <= 1,
        "no new step after the interrupt: {got:?}"
    );
    assert!(f.users.lock().unwrap().is_empty());
}

#[test]
fn sigint_stops_new_requests_and_deletes_what_the_run_created() {
    interrupted_run_cleans_up(libc::SIGINT);
}

#[test]
fn sigterm_stops_new_requests_and_deletes_what_the_run_created() {
    interrupted_run_cleans_up(libc::SIGTERM);
}

#[test]
fn a_second_ctrl_c_quits_at_once() {
    // Long enough that a cleanup DELETE cannot happen before the second signal.
    let f = slow_fake(Duration::from_secs(20));
    let s = Suites::new().suite("slow", SLOW);
    let child = spawn(s.root(), &["run", "--url", &f.url()], &[]);
    wait_for("the slow request", || {
        f.received().iter().any(|r| r == "GET /scim/v2/Slow")
    });
    child.signal(libc::SIGINT);
    wait_for("the first interrupt to be seen", || {
        child
            .stderr_so_far()
            .contains("interrupted: no new requests")
    });
    child.signal(libc::SIGINT);
    let out = child.wait();
    assert_eq!(out.code, 130, "{}", out.all());
    assert!(
        out.stderr
            .contains("interrupted again: quitting without cleanup"),
        "{}",
        out.stderr
    );
    assert!(
        !f.received().iter().any(|r| r.starts_with("DELETE")),
        "{:?}",
        f.received()
    );
}

// ---------------------------------------------------------------------------
// Data safety

#[test]
fn a_name_without_the_run_prefix_is_never_sent() {
    let f = fake(true);
    let yaml = r#"
name: unsafe
idp: rfc
steps:
  - name: create
    request: { method: POST, path: /Users, body: { userName: alice@example.com } }
    expect: { status: 201 }
"#;
    let s = Suites::new().suite("unsafe", yaml);
    let out = run(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "not sent: POST /Users would name a resource \"alice@example.com\"; every name a suite creates must start with {{prefix}}"
        ),
        "{}",
        out.stdout
    );
    assert!(
        !f.received().iter().any(|r| r.starts_with("POST")),
        "{:?}",
        f.received()
    );
}

// ---------------------------------------------------------------------------
// Secrets

const TOKEN: &str = "tok-Sup3rSecret-9f8e7d";

#[test]
fn the_token_never_appears_in_any_output_or_report() {
    let f = fake(true);
    // A server that echoes the Authorization header in bodies and headers.
    let echo = |r: &Request| {
        r.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/echo-fail"))
            .respond_with(move |r: &Request| {
                let a = echo(r);
                scim_json(
                    401,
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                           "status": "401", "detail": format!("token {a} is not accepted")}),
                )
                .insert_header("X-Echo", a.as_str())
                .insert_header("Location", format!("https://x/{a}").as_str())
            })
            .with_priority(1),
    );
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/echo-ok"))
            .respond_with(move |r: &Request| {
                let a = echo(r);
                scim_json(
                    200,
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                           "id": "x", "userName": "x", "nickName": a}),
                )
                .insert_header("X-Echo", a.as_str())
            })
            .with_priority(1),
    );
    let snap =
        |name: &str, path: &str| format!("{}    snapshot: true\n", one_step_suite(name, path));
    let s = Suites::new()
        .suite("fail", &snap("fail", "/Users/echo-fail"))
        .suite("ok", &snap("ok", "/Users/echo-ok"));
    let snapshots = s.root().join("snaps");
    let (md_p, html_p) = (s.root().join("r.md"), s.root().join("r.html"));
    let token_file = s.root().join("token.txt");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let (json_p, junit_p) = (s.root().join("r.json"), s.root().join("r.xml"));
    let common = [
        "run",
        "--url",
        &f.url(),
        "--json",
        json_p.to_str().unwrap(),
        "--junit",
        junit_p.to_str().unwrap(),
        "--color",
        "always",
        "--report",
        md_p.to_str().unwrap(),
        "--report",
        html_p.to_str().unwrap(),
        "--snapshots",
        snapshots.to_str().unwrap(),
        "--update-snapshots",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        common.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    type Env<'a> = Vec<(&'a str, &'a str)>;
    let variants: Vec<(Vec<String>, Env)> = vec![
        (with(&["--token", TOKEN]), vec![]),
        (with(&[]), vec![("SCIM_TOKEN", TOKEN)]),
        (
            with(&["--token-file", token_file.to_str().unwrap()]),
            vec![],
        ),
        (
            with(&["--token-env", "MY_TOKEN"]),
            vec![("MY_TOKEN", TOKEN)],
        ),
    ];
    for (args, env) in variants {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = spawn(s.root(), &args, &env).wait();
        assert_eq!(out.code, 1, "{args:?}: {}", out.all());
        let mut written = vec![
            ("stdout".to_string(), out.stdout.clone()),
            ("stderr".to_string(), out.stderr.clone()),
        ];
        for p in [&json_p, &junit_p, &md_p, &html_p] {
            written.push((p.display().to_string(), std::fs::read_to_string(p).unwrap()));
        }
        let snaps = files_under(&snapshots);
        assert!(snaps.len() >= 2, "snapshots written: {snaps:?}");
        assert!(
            snaps.iter().any(|p| std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("\"Bearer ***\"")),
            "the echoed token reached a snapshot, redacted"
        );
        for p in snaps {
            written.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
        for (what, text) in &written {
            assert!(
                !text.contains(TOKEN),
                "{args:?}: the token is in {what}:\n{text}"
            );
        }
        let json = std::fs::read_to_string(&json_p).unwrap();
        // Not vacuous: the echo reached the output, redacted.
        assert!(
            out.stdout.contains("token Bearer *** is not accepted"),
            "{}",
            out.stdout
        );
        assert!(json.contains("Bearer ***"), "{json}");
    }
    // The server did get the real token every time.
    let sent = f
        .received_requests()
        .iter()
        .filter(|r| {
            r.headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some(&format!("Bearer {TOKEN}"))
        })
        .count();
    assert!(sent >= 4 * 4, "{sent}");
}

#[test]
fn basic_credentials_and_custom_header_values_are_secrets_too() {
    const PASSWORD: &str = "pa55-w0rd-Basic";
    const API_KEY: &str = "key-4b1d-custom";
    // base64("robot:pa55-w0rd-Basic")
    const B64: &str = "cm9ib3Q6cGE1NS13MHJkLUJhc2lj";
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users/echo"))
            .respond_with(|r: &Request| {
                let h = |n: &str| {
                    r.headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                scim_json(
                    400,
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                           "detail": format!("got {} and {}", h("authorization"), h("x-api-key"))}),
                )
            })
            .with_priority(1),
    );
    let s = Suites::new().suite("echo", &one_step_suite("echo", "/Users/echo"));
    let json_p = s.root().join("r.json");
    let out = run(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--basic",
            &format!("robot:{PASSWORD}"),
            "-H",
            &format!("X-Api-Key: {API_KEY}"),
            "--json",
            json_p.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let json = std::fs::read_to_string(&json_p).unwrap();
    for secret in [PASSWORD, API_KEY, B64] {
        assert!(
            !out.all().contains(secret),
            "{secret} in output:\n{}",
            out.all()
        );
        assert!(!json.contains(secret), "{secret} in the report");
    }
    assert!(
        out.stdout.contains("got Basic *** and ***"),
        "{}",
        out.stdout
    );
    let r = f
        .received_requests()
        .into_iter()
        .find(|r| r.url.path() == "/scim/v2/Users/echo")
        .expect("sent");
    assert_eq!(
        r.headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(format!("Basic {B64}").as_str())
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn the_token_stays_out_of_start_errors() {
    // A TLS/connect failure message names the URL, never the token.
    let s = Suites::new().suite("x", &one_step_suite("x", "/Users/x"));
    let out = run(
        s.root(),
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/scim/v2",
            "--token",
            TOKEN,
        ],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("cannot reach the SCIM endpoint"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(TOKEN));
}

// ---------------------------------------------------------------------------
// `scimitar cleanup`

/// A fake with Users and Groups that pages (startIndex/count) and, when
/// `honour_filter`, applies `sw` filters; otherwise it ignores them.
fn leftovers_fake(users: &[&str], groups: &[&str], honour_filter: bool) -> Fake {
    let f = fake(true);
    let store: Arc<Mutex<Vec<(String, String, String)>>> = Arc::new(Mutex::new(
        users
            .iter()
            .enumerate()
            .map(|(i, n)| ("Users".to_string(), format!("u{i}"), n.to_string()))
            .chain(
                groups
                    .iter()
                    .enumerate()
                    .map(|(i, n)| ("Groups".to_string(), format!("g{i}"), n.to_string())),
            )
            .collect(),
    ));
    for (kind, attr) in [("Users", "userName"), ("Groups", "displayName")] {
        let st = store.clone();
        f.mount(
            Mock::given(method("GET"))
                .and(path(format!("/scim/v2/{kind}")))
                .respond_with(move |r: &Request| {
                    let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
                    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    let start: usize = get("startIndex").and_then(|v| v.parse().ok()).unwrap_or(1);
                    let count: usize = get("count").and_then(|v| v.parse().ok()).unwrap_or(100);
                    let prefix = get("filter").filter(|_| honour_filter).and_then(|f| {
                        f.split_once(" sw \"")
                            .map(|(_, p)| p.trim_end_matches('"').to_string())
                    });
                    let all: Vec<Value> = st
                        .lock()
                        .unwrap()
                        .iter()
                        .filter(|(k, _, n)| k == kind && prefix.as_ref().is_none_or(|p| n.starts_with(p.as_str())))
                        .map(|(_, id, n)| json!({"id": id, attr: n}))
                        .collect();
                    let page: Vec<Value> = all.iter().skip(start - 1).take(count.min(2)).cloned().collect();
                    scim_json(200, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": all.len(), "startIndex": start, "itemsPerPage": page.len(), "Resources": page}))
                })
                .with_priority(1),
        );
        let st = store.clone();
        f.mount(
            Mock::given(method("DELETE"))
                .and(wiremock::matchers::path_regex(format!(
                    "^/scim/v2/{kind}/[^/]+$"
                )))
                .respond_with(move |r: &Request| {
                    let id = r.url.path().rsplit('/').next().unwrap_or("").to_string();
                    let mut s = st.lock().unwrap();
                    let before = s.len();
                    s.retain(|(k, i, _)| !(k == kind && *i == id));
                    if s.len() < before {
                        ResponseTemplate::new(204)
                    } else {
                        not_found()
                    }
                })
                .with_priority(1),
        );
    }
    f
}

fn deletes(f: &Fake) -> Vec<String> {
    let mut d: Vec<String> = f
        .received()
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .collect();
    d.sort();
    d
}

#[test]
fn cleanup_removes_only_names_with_the_prefix_paging_through_results() {
    let users = [
        "scimitar-1a2b-1-ada",
        "alice@example.com",
        "scimitar-1a2b-2-bob",
        "bob-scimitar-1a2b",
        "scimitar-ffff-1-eve",
    ];
    let groups = ["scimitar-1a2b-1-admins", "Admins"];
    // The fake ignores the filter: matching must happen in scimitar.
    let f = leftovers_fake(&users, &groups, false);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["cleanup", "--url", &f.url(), "--prefix", "scimitar-1a2b-"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        deletes(&f),
        [
            "DELETE /scim/v2/Groups/g0",
            "DELETE /scim/v2/Users/u0",
            "DELETE /scim/v2/Users/u2"
        ]
    );
    assert!(out.stdout.contains("3 leftovers deleted"), "{}", out.stdout);
    assert!(
        out.stderr.contains("note: GET /Users with filter userName sw \"scimitar-1a2b-\" also returned 3 User(s) whose name does not start with it; those were left alone"),
        "{}",
        out.stderr
    );
    // Pages of two: it read past the first page.
    let pages = f
        .received()
        .iter()
        .filter(|r| *r == "GET /scim/v2/Users")
        .count();
    assert_eq!(pages, 3, "{:?}", f.received());

    // The default prefix catches the rest of the harness's names.
    let out = run(dir.path(), &["cleanup", "--url", &f.url()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        deletes(&f).contains(&"DELETE /scim/v2/Users/u4".to_string()),
        "{:?}",
        deletes(&f)
    );
    assert_eq!(deletes(&f).len(), 4);
}

#[test]
fn cleanup_sends_the_prefix_filter_and_dry_run_deletes_nothing() {
    let f = leftovers_fake(&["scimitar-aa-1-x", "carol"], &[], true);
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["cleanup", "--url", &f.url(), "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("would delete User u0 scimitar-aa-1-x"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("carol"), "{}", out.stdout);
    assert!(deletes(&f).is_empty());
    let filters: Vec<String> = f
        .received_requests()
        .iter()
        .filter(|r| r.url.path() == "/scim/v2/Users")
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(filters, ["userName sw \"scimitar-\""]);
}

#[test]
fn cleanup_refuses_a_prefix_that_is_not_the_harness_prefix() {
    let f = leftovers_fake(&["alice"], &[], false);
    let dir = tempfile::tempdir().unwrap();
    for bad in ["alice", "", "scim", "x-scimitar-"] {
        let out = run(dir.path(), &["cleanup", "--url", &f.url(), "--prefix", bad]);
        assert_eq!(out.code, 2, "{bad}: {}", out.all());
        assert!(
            out.stderr.contains("must start with \"scimitar-\""),
            "{}",
            out.stderr
        );
    }
    assert!(f.received().is_empty(), "{:?}", f.received());
}

// ---------------------------------------------------------------------------
// TLS

struct Pki {
    dir: tempfile::TempDir,
    ca_pem: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: Vec<u8>,
    ca_der: rustls::pki_types::CertificateDer<'static>,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "scimitar test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let mut sp = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    sp.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let server_key = KeyPair::generate().unwrap();
    let server_cert = sp.signed_by(&server_key, &issuer).unwrap();
    let cp = CertificateParams::new(vec!["client.test".to_string()]).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = cp.signed_by(&client_key, &issuer).unwrap();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
    let (cc, ck) = (dir.path().join("client.pem"), dir.path().join("client.key"));
    std::fs::write(&cc, client_cert.pem()).unwrap();
    std::fs::write(&ck, client_key.serialize_pem()).unwrap();
    Pki {
        ca_pem,
        client_cert: cc,
        client_key: ck,
        server_cert: server_cert.der().clone(),
        server_key: server_key.serialize_der(),
        ca_der: ca_cert.der().clone(),
        dir,
    }
}

fn tls_server(p: &Pki, require_client_cert: bool) -> Raw {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(p.ca_der.clone()).unwrap();
        let v =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(v)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder
        .with_single_cert(
            vec![p.server_cert.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p.server_key.clone())),
        )
        .unwrap();
    raw_with(
        |r| {
            discovery(r).unwrap_or(Reply::Json(
                200,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "x", "userName": "x"}),
            ))
        },
        Some(Arc::new(cfg)),
    )
}

#[test]
fn tls_with_an_unknown_ca_is_one_clear_error_and_cacert_or_insecure_fix_it() {
    let p = pki();
    let server = tls_server(&p, false);
    let s = Suites::new().suite("tls", &one_step_suite("tls", "/Users/x"));
    let url = server.url("https");

    let out = run(s.root(), &["run", "--url", &url]);
    assert_eq!(out.code, 2, "{}", out.all());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].contains(&format!("TLS error talking to {url}/ServiceProviderConfig")),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("invalid peer certificate: UnknownIssuer (the certificate is not signed by a CA this machine trusts: give --cacert FILE"),
        "{}",
        errors[0]
    );

    let out = run(
        s.root(),
        &["run", "--url", &url, "--cacert", p.ca_pem.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.stderr.contains("--insecure"), "{}", out.stderr);

    let out = run(s.root(), &["run", "--url", &url, "--insecure"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("warning: --insecure: TLS certificates are NOT verified"),
        "{}",
        out.stderr
    );
    assert!(server.received().len() >= 6, "{:?}", server.received());

    // A --cacert file without a certificate is refused, not silently ignored.
    let junk = s.root().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let out = run(
        s.root(),
        &["run", "--url", &url, "--cacert", junk.to_str().unwrap()],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("no PEM certificate in the file"),
        "{}",
        out.stderr
    );
    drop(p.dir);
}

#[test]
fn client_certificates_give_mutual_tls() {
    let p = pki();
    let server = tls_server(&p, true);
    let s = Suites::new().suite("mtls", &one_step_suite("mtls", "/Users/x"));
    let url = server.url("https");
    let ca = p.ca_pem.to_str().unwrap();

    let out = run(s.root(), &["run", "--url", &url, "--cacert", ca]);
    assert_eq!(out.code, 2, "without a client certificate: {}", out.all());
    // TLS 1.3 reports the missing certificate either as the server's alert
    // or as a connection dropped after the handshake: both lines say what to do.
    assert!(
        out.stderr
            .contains("(the server wants a client certificate: give --cert and --key)")
            || out.stderr.contains(
                "(the server closed the TLS connection after the handshake: if it wants a client certificate, give --cert and --key)"
            ),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(server.received().is_empty(), "{:?}", server.received());

    let out = run(
        s.root(),
        &[
            "run",
            "--url",
            &url,
            "--cacert",
            ca,
            "--cert",
            p.client_cert.to_str().unwrap(),
            "--key",
            p.client_key.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        server
            .received()
            .contains(&"GET /scim/v2/Users/x".to_string()),
        "{:?}",
        server.received()
    );
}

// ---------------------------------------------------------------------------
// Proxies

#[test]
fn proxies_come_from_the_environment() {
    // The target host does not exist: only the proxy can answer.
    let proxy = raw(|r| {
        discovery(r).unwrap_or(Reply::Json(
            200,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "x", "userName": "x"}),
        ))
    });
    let s = Suites::new().suite("proxied", &one_step_suite("proxied", "/Users/x"));
    let proxy_url = format!("http://{}", proxy.addr);
    let out = spawn(
        s.root(),
        &["run", "--url", "http://scim.example.invalid/scim/v2"],
        &[("HTTP_PROXY", &proxy_url), ("http_proxy", &proxy_url)],
    )
    .wait();
    assert_eq!(out.code, 0, "{}", out.all());
    let targets: Vec<String> = proxy
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert!(
        targets.contains(&"http://scim.example.invalid/scim/v2/Users/x".to_string()),
        "{targets:?}"
    );
    let host = proxy.log.lock().unwrap().last().and_then(|r| {
        r.headers
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone())
    });
    assert_eq!(host.as_deref(), Some("scim.example.invalid"));
}
