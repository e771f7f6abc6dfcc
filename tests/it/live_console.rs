//! The console prints each step when it finishes, not when the run ends:
//! a step's line must appear while a later step is still waiting for its
//! response. The slow endpoint only answers once the test has read the
//! first step's line, so a console that buffered until the end would never
//! print it (the test would then fail on its deadlock guard).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::sync::Notify;

#[test]
fn a_step_line_is_printed_before_the_run_ends() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let release = Arc::new(Notify::new());
    let r = release.clone();
    let app = Router::new()
        .route("/scim/v2/fast", get(|| async { "{}" }))
        .route(
            "/scim/v2/slow",
            get(move || {
                let r = r.clone();
                async move {
                    r.notified().await;
                    "{}"
                }
            }),
        );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("live.yaml");
    std::fs::write(
        &suite,
        "name: live\nsteps:\n  - name: first\n    request: { method: GET, path: /fast }\n    expect: { status: 200 }\n  - name: second\n    request: { method: GET, path: /slow }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .args(["run", "--color", "never", "--suite"])
        .arg(&suite)
        .arg("--url")
        .arg(format!("http://{addr}/scim/v2"))
        .env("CI", "true")
        .env_remove("SCIM_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Deadlock guard only: the line comes at once on a live console.
    let mut seen = Vec::new();
    let first = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l.contains("live::first") => break l,
            Ok(l) => seen.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("no line for live::first while live::second waits; saw {seen:?}");
            }
        }
    };
    assert!(first.ends_with("ok"), "{first}");
    // Only now may the second step get its answer.
    release.notify_waiters();
    release.notify_one();
    let rest: Vec<String> = rx.iter().collect();
    let status = child.wait().unwrap();
    assert!(
        rest.iter()
            .any(|l| l.contains("live::second") && l.ends_with("ok")),
        "{rest:?}"
    );
    assert_eq!(status.code(), Some(0), "{rest:?}");
}
