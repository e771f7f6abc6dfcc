//! `scimitar load` against the reference server (in-process and as the
//! binary's target), against fault-injecting fakes (the reference router
//! behind an axum layer that answers 429 or 500), Ctrl-C mid-load, and the
//! exported locustfile under Locust. Counts are exact; nothing is timed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use scimitar::http::{Auth, Client, HttpConfig};
use scimitar::load::{self, Live, LoadConfig, LoadReport};
use scimitar::server::ServerConfig;
use serde_json::Value;

const TOKEN: &str = "load-test-token";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_scimitar"))
}

/// What the fault layer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Every `n`th request: 429, with `Retry-After: 0` on odd ones, none on even.
    Throttle(u64),
    /// Every `n`th write (POST, PATCH, PUT, DELETE): 500.
    ServerError(u64),
}

struct Faults {
    fault: Fault,
    requests: AtomicU64,
    writes: AtomicU64,
    with_retry_after: AtomicU64,
    without_retry_after: AtomicU64,
    errors_500: AtomicU64,
}

async fn inject(State(f): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    let n = f.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let scim = |status: u16| {
        Response::builder()
            .status(status)
            .header("content-type", "application/scim+json")
    };
    match f.fault {
        Fault::Throttle(every) if n % every == 0 => {
            let b = scim(429);
            let b = if (n / every) % 2 == 1 {
                f.with_retry_after.fetch_add(1, Ordering::SeqCst);
                b.header("retry-after", "0")
            } else {
                f.without_retry_after.fetch_add(1, Ordering::SeqCst);
                b
            };
            return b.body(Body::from("{}")).unwrap();
        }
        Fault::ServerError(every) if req.method() != axum::http::Method::GET => {
            let w = f.writes.fetch_add(1, Ordering::SeqCst) + 1;
            if w % every == 0 {
                f.errors_500.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"injected"}"#;
                return scim(500).body(Body::from(body)).unwrap();
            }
        }
        _ => {}
    }
    next.run(req).await
}

/// The reference server, optionally behind the fault layer, on 127.0.0.1.
async fn serve(fault: Option<Fault>) -> (String, Option<Arc<Faults>>) {
    let mut app = scimitar::server::router(ServerConfig {
        token: Some(TOKEN.into()),
        ..Default::default()
    });
    let faults = fault.map(|fault| {
        Arc::new(Faults {
            fault,
            requests: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            with_retry_after: AtomicU64::new(0),
            without_retry_after: AtomicU64::new(0),
            errors_500: AtomicU64::new(0),
        })
    });
    if let Some(f) = &faults {
        app = app.layer(axum::middleware::from_fn_with_state(f.clone(), inject));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/scim/v2"), faults)
}

fn client(base: &str) -> Arc<Client> {
    let mut cfg = HttpConfig::new(reqwest::Url::parse(base).unwrap());
    cfg.auth = Auth::Bearer(TOKEN.into());
    cfg.max_retries = 0;
    cfg.down_after_timeout = false;
    Arc::new(Client::new(cfg).unwrap())
}

fn small() -> LoadConfig {
    LoadConfig {
        users: 300,
        groups: 6,
        members: 20,
        member_batch: 10,
        concurrency: 8,
        default_retry_wait: Duration::from_millis(1),
        ..LoadConfig::default()
    }
}

async fn run(base: &str, cfg: LoadConfig) -> LoadReport {
    load::run(
        client(base),
        cfg,
        Arc::new(AtomicBool::new(false)),
        Arc::new(Live::default()),
    )
    .await
    .expect("the load run starts")
}

/// `totalResults` of a listing (past the fault layer's 429s).
async fn total(base: &str, endpoint: &str) -> u64 {
    loop {
        let resp = reqwest::Client::new()
            .get(format!("{base}{endpoint}?count=0"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            continue;
        }
        let v: Value = resp.json().await.unwrap();
        return v["totalResults"].as_u64().expect("a ListResponse");
    }
}

fn count(r: &LoadReport, name: &str) -> u64 {
    r.operations
        .iter()
        .find(|o| o.name == name)
        .map_or(0, |o| o.count)
}

fn counts(r: &LoadReport) -> Vec<(&str, u64)> {
    r.operations
        .iter()
        .map(|o| (o.name.as_str(), o.count))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_against_the_reference_server_gives_exact_counts_and_no_errors() {
    let (base, _) = serve(None).await;
    let r = run(&base, small()).await;
    // 300 users; 6 groups of 20 in batches of 10; 10/5/5% incremental
    // shares; 285 users left to import in pages of 100; 8 duplicate probes;
    // cleanup of 6 groups, 285 users and the one duplicate that was created.
    assert_eq!(
        counts(&r),
        [
            ("match-user", 300),
            ("create-user", 300),
            ("match-group", 6),
            ("create-group", 6),
            ("add-members", 12),
            ("update-user", 30),
            ("disable-user", 15),
            ("delete-user", 15),
            ("import-users", 3),
            ("verify-count", 1),
            ("verify-group", 6),
            ("verify-duplicate", 8),
            ("cleanup", 292),
        ]
    );
    assert_eq!(r.errors, 0, "{r:#?}");
    assert_eq!(r.requests, counts(&r).iter().map(|(_, n)| n).sum::<u64>());
    assert_eq!(r.throttled, 0);
    assert!(r.correct(), "{:#?}", r.correctness);
    assert_eq!(r.correctness.len(), 3);
    assert!(!r.quarantine.would_quarantine);
    assert_eq!((r.quarantine.failures, r.quarantine.successes), (0, 672));
    assert_eq!(r.leftovers, 0);
    assert_eq!(total(&base, "/Users").await, 0);
    assert_eq!(total(&base, "/Groups").await, 0);
    // The JSON CI reads carries the fields it needs.
    let json: Value = serde_json::from_str(&load::report::json(&r, &[])).unwrap();
    for key in ["requests", "duration_s", "rps", "errors", "throttled"] {
        assert!(json[key].is_number(), "{key} missing: {json}");
    }
    let op = &json["operations"][1];
    assert_eq!(op["name"], "create-user");
    assert_eq!(op["count"], 300);
    for key in ["errors", "p50_ms", "p95_ms", "p99_ms"] {
        assert!(op[key].is_number(), "{key} missing: {op}");
    }
    assert_eq!(json["pass"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_counted_honoured_and_leaves_nothing_behind() {
    let (base, faults) = serve(Some(Fault::Throttle(7))).await;
    let faults = faults.unwrap();
    let r = run(&base, small()).await;
    let with = faults.with_retry_after.load(Ordering::SeqCst);
    let without = faults.without_retry_after.load(Ordering::SeqCst);
    assert!(
        with > 0 && without > 0,
        "the fake throttled: {with}/{without}"
    );
    let t = &r.throttling;
    assert_eq!(r.throttled, with + without, "{t:#?}");
    assert_eq!((t.with_retry_after, t.without_retry_after), (with, without));
    assert_eq!(t.honoured, with, "Retry-After: 0 is always honoured");
    assert_eq!((t.capped, t.gave_up), (0, 0));
    assert_eq!(t.max_retry_after_s, Some(0.0));
    // Every 429 was retried to success: no errors, the same operations as
    // without throttling, and every request the fake saw (but the preflight).
    assert_eq!(r.errors, 0, "{r:#?}");
    assert_eq!(count(&r, "create-user"), 300);
    assert_eq!(count(&r, "cleanup"), 292);
    assert_eq!(r.requests, faults.requests.load(Ordering::SeqCst) - 1);
    assert!(r.correct(), "{:#?}", r.correctness);
    assert_eq!(r.leftovers, 0);
    assert_eq!(total(&base, "/Users").await, 0);
    assert_eq!(total(&base, "/Groups").await, 0);
    let text = load::report::text(&r, &[], "scimitar cleanup");
    assert!(
        text.contains(&format!(
            "{} × 429: {with} with Retry-After",
            with + without
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_on_one_write_in_ten_are_classed_and_forecast() {
    let (base, faults) = serve(Some(Fault::ServerError(10))).await;
    let faults = faults.unwrap();
    // One worker: a retried cleanup DELETE never meets two faults in a row.
    let cfg = LoadConfig {
        concurrency: 1,
        ..small()
    };
    let r = run(&base, cfg).await;
    let injected = faults.errors_500.load(Ordering::SeqCst);
    assert!(injected > 30, "{injected}");
    // Each injected 500 is exactly one failed operation, classed as 5xx.
    assert_eq!(r.errors, injected, "{r:#?}");
    let by_500: u64 = r
        .operations
        .iter()
        .map(|o| o.by_status.get(&500).copied().unwrap_or(0))
        .sum();
    assert_eq!(by_500, injected);
    let create = r
        .operations
        .iter()
        .find(|o| o.name == "create-user")
        .unwrap();
    assert_eq!(create.error_classes(), format!("5xx×{}", create.errors));
    assert_eq!(count(&r, "match-user"), 300);
    // The forecast counts object operations only, and stays below escrow.
    let object_errors: u64 = r
        .operations
        .iter()
        .filter(|o| {
            [
                "match-user",
                "create-user",
                "match-group",
                "create-group",
                "update-user",
                "disable-user",
                "delete-user",
            ]
            .contains(&o.name.as_str())
        })
        .map(|o| o.errors)
        .sum();
    let q = &r.quarantine;
    assert_eq!(q.failures, object_errors);
    assert!(q.failures > 0);
    assert!(!q.would_quarantine);
    assert!(q.reason.contains("below the 5,000"), "{}", q.reason);
    assert!(q.tenant_objects_at_risk.is_some_and(|n| n > 40_000));
    let members = r
        .operations
        .iter()
        .find(|o| o.name == "add-members")
        .unwrap();
    assert_eq!(q.reference_failures, members.errors);
    // What the server acknowledged is what it holds, and nothing is left.
    let check = |name: &str| r.correctness.iter().find(|c| c.name == name).unwrap().pass;
    assert!(check("user-count"), "{:#?}", r.correctness);
    assert!(check("group-members"), "{:#?}", r.correctness);
    assert_eq!(r.leftovers, 0);
    assert_eq!(total(&base, "/Users").await, 0);
    assert_eq!(total(&base, "/Groups").await, 0);
}

/// Kills (and reaps) a child when dropped, so a failing test leaves nothing.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < until, "the child did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_mid_load_deletes_what_the_run_created() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (base, _) = rt.block_on(serve(None));
    let mut child = Child(
        Command::new(bin())
            .args(["load", "--url", &base, "--token", TOKEN, "-q"])
            .args(["--users", "100000", "--concurrency", "4"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Mid-load: once the target holds some of the run's users.
    let until = Instant::now() + Duration::from_secs(120);
    while rt.block_on(total(&base, "/Users")) < 200 {
        assert!(Instant::now() < until, "the load did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    let status = wait_exit(&mut child, Duration::from_secs(300));
    let mut err = String::new();
    let mut out = String::new();
    use std::io::Read;
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}\nstdout: {out}");
    assert!(err.contains("interrupted: no new requests"), "{err}");
    assert!(out.contains("(interrupted: stopped early)"), "{out}");
    assert!(
        out.contains("Cleanup: everything this run created was deleted"),
        "{out}"
    );
    assert_eq!(rt.block_on(total(&base, "/Users")), 0);
    assert_eq!(rt.block_on(total(&base, "/Groups")), 0);
}

#[test]
fn the_binary_loads_the_embedded_server_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let out = Command::new(bin())
        .args(["load", "--embedded", "-q", "--users", "50", "--groups", "2"])
        .args([
            "--members",
            "5",
            "--max-error-rate",
            "0",
            "--require-rps",
            "1",
        ])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "Throttling (429 Too Many Requests)",
        "Entra app gallery: at least 25 requests/s on /Users, sustained",
        "Entra quarantine forecast",
        "PASS user-count",
        "PASS max-error-rate",
        "Cleanup: everything this run created was deleted",
    ] {
        assert!(stdout.contains(line), "{line} missing:\n{stdout}");
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["operations"][0]["count"], 50);
    assert_eq!(v["thresholds"][0]["name"], "require-rps");
    assert_eq!(v["pass"], true);
}

#[test]
fn a_failed_threshold_fails_the_run() {
    let out = Command::new(bin())
        .args(["load", "--embedded", "-q", "--users", "20", "--groups", "1"])
        .args(["--members", "2", "--max-p99", "0.001ms"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL max-p99-ms"), "{stdout}");
}

#[test]
fn bad_flags_give_one_error_line_and_exit_2() {
    for (args, says) in [
        (
            &["--embedded", "--users", "0"][..],
            "--users must be at least 1",
        ),
        (
            &["--embedded", "--max-error-rate", "2"][..],
            "--max-error-rate",
        ),
        (&["--users", "5"][..], "no target"),
    ] {
        let out = Command::new(bin())
            .arg("load")
            .args(args)
            .env_remove("SCIM_URL")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// The venv with Locust (.ci/run installs it), or None when absent outside CI.
fn locust() -> Option<PathBuf> {
    let dir = std::env::var_os("SCIMITAR_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv"));
    let bin = dir.join("bin/locust");
    if bin.is_file() {
        return Some(bin);
    }
    let msg = format!("locust not found in {} (run `bash .ci/run`)", dir.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}; CI must install it");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_exported_locustfile_runs_under_locust_master_and_worker() {
    let Some(locust) = locust() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("locustfile.py");
    let out = Command::new(bin())
        .args([
            "load",
            "--members",
            "5",
            "--member-batch",
            "2",
            "--export-locust",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (base, _) = rt.block_on(serve(None));
    let port = free_port().to_string();
    let stats = dir.path().join("stats");
    let master = Command::new(&locust)
        .arg("-f")
        .arg(&file)
        .args([
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            &port,
        ])
        .args([
            "--headless",
            "--expect-workers",
            "1",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "4s",
        ])
        .args(["--stop-timeout", "30", "--host", &base, "--only-summary"])
        .arg("--json-file")
        .arg(&stats)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut master = Child(master);
    let worker = Command::new(&locust)
        .arg("-f")
        .arg(&file)
        .args([
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            &port,
        ])
        .env("SCIM_TOKEN", TOKEN)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut worker = Child(worker);
    let status = wait_exit(&mut master, Duration::from_secs(120));
    let mut err = String::new();
    use std::io::Read;
    master
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "locust master: {status}\n{err}");
    let _ = wait_exit(&mut worker, Duration::from_secs(60));

    let entries: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(stats.with_extension("json")).unwrap())
            .unwrap();
    let sum = |k: &str| {
        entries
            .iter()
            .map(|e| e[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert!(sum("num_requests") > 0, "{entries:?}");
    assert_eq!(sum("num_failures"), 0, "{entries:?}");
    let names: Vec<&str> = entries.iter().filter_map(|e| e["name"].as_str()).collect();
    for name in ["match-user", "create-user", "cleanup"] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    // on_stop deleted what each Locust user still had.
    assert_eq!(rt.block_on(total(&base, "/Users")), 0);
    assert_eq!(rt.block_on(total(&base, "/Groups")), 0);
}
