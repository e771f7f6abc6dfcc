//! Snapshot diffing end to end: record against a fake, re-run clean against
//! a fresh one, see exactly a changed attribute, CI mode, review commands,
//! and the committed reference-server snapshots.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::support::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

/// A users fake whose responses change on every run the way real servers'
/// do: UUID ids, creation times, ETags, absolute locations (fresh port),
/// and list order. `title` is the attribute a test changes.
fn volatile_fake(title: &str) -> (Fake, Arc<Mutex<String>>) {
    let f = bare_fake(true);
    let title = Arc::new(Mutex::new(title.to_string()));
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/ResourceTypes"))
            .respond_with(scim_json(200, json!({"Resources": []}))),
    );
    let now = || {
        time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let (u, t, base) = (f.users.clone(), title.clone(), f.url());
    f.mount(
        Mock::given(method("POST"))
            .and(path("/scim/v2/Users"))
            .respond_with(move |r: &Request| {
                let mut body: Value = serde_json::from_slice(&r.body).unwrap_or(json!({}));
                let id = uuid::Uuid::new_v4().to_string();
                body["id"] = json!(id);
                body["title"] = json!(t.lock().unwrap().clone());
                body["meta"] = json!({"resourceType": "User", "created": now(), "lastModified": now(),
                    "version": format!("W/\"{}\"", uuid::Uuid::new_v4().simple()),
                    "location": format!("{base}/Users/{id}")});
                // A second, server-made user the list returns too, in either order.
                let mut users = u.lock().unwrap();
                users.push(body.clone());
                users.push(json!({"id": uuid::Uuid::new_v4().to_string(), "userName": "service-account",
                    "meta": {"resourceType": "User", "created": now(), "location": format!("{base}/Users/x")}}));
                if id.as_bytes()[0].is_multiple_of(2) {
                    users.reverse();
                }
                scim_json(201, body)
            }),
    );
    let (u, t) = (f.users.clone(), title.clone());
    f.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/scim/v2/Users/[^/]+$"))
            .respond_with(move |r: &Request| {
                let id = r.url.path().rsplit('/').next().unwrap_or("").to_string();
                match u.lock().unwrap().iter().find(|x| x["id"] == json!(id)) {
                    Some(user) => {
                        let mut user = user.clone();
                        user["title"] = json!(t.lock().unwrap().clone());
                        scim_json(200, user)
                    }
                    None => not_found(),
                }
            }),
    );
    let (u, t) = (f.users.clone(), title.clone());
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users"))
            .respond_with(move |_: &Request| {
                let users: Vec<Value> = u
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        let mut x = x.clone();
                        if x.get("title").is_some() {
                            x["title"] = json!(t.lock().unwrap().clone());
                        }
                        x
                    })
                    .collect();
                scim_json(
                    200,
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                        "totalResults": users.len(), "Resources": users}),
                )
            }),
    );
    // Cleanup of the one user a run creates empties the server.
    let u = f.users.clone();
    f.mount(
        Mock::given(method("DELETE"))
            .and(path_regex(r"^/scim/v2/Users/[^/]+$"))
            .respond_with(move |_: &Request| {
                u.lock().unwrap().clear();
                ResponseTemplate::new(204)
            }),
    );
    (f, title)
}

const SUITE: &str = r#"
name: shapes
idp: rfc
vars: { userName: "{{prefix}}-ada@example.com" }
steps:
  - name: create-user
    request:
      method: POST
      path: /Users
      body: { schemas: [urn:ietf:params:scim:schemas:core:2.0:User], userName: "{{userName}}", externalId: "{{uuid}}" }
    expect: { status: 201 }
    capture: { userId: "$.id" }
    snapshot: true
  - name: get-user
    request: { method: GET, path: "/Users/{{userId}}" }
    expect: { status: 200 }
    snapshot: true
  - name: list-users
    request: { method: GET, path: /Users }
    expect: { status: 200 }
    snapshot: { name: all-users, redact: ["$.totalResults"] }
"#;

/// Runs the binary with CI set or not (whatever the environment says).
fn run(cwd: &Path, args: &[&str], ci: bool) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_scimitar"));
    cmd.args(args)
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
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run_against(s: &Suites, f: &Fake, extra: &[&str], ci: bool) -> Output {
    let url = f.url();
    let mut args = vec!["run", "--url", url.as_str(), "--target-name", "fake"];
    args.extend_from_slice(extra);
    run(s.root(), &args, ci)
}

fn snap_dir(s: &Suites) -> PathBuf {
    s.root().join("snapshots").join("fake").join("shapes")
}

/// Every file below `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    walk(base, &e.path(), out);
                } else {
                    let rel = e.path().strip_prefix(base).unwrap().to_path_buf();
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The changed lines (`+`/`-`, not headers) of every step's snapshot diff,
/// from the JSON report.
fn diffs(report: &Path) -> Vec<(String, Vec<String>)> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let mut out = Vec::new();
    for st in v["suites"][0]["steps"].as_array().unwrap() {
        if let Some(d) = st["snapshot_diff"].as_str() {
            let lines = d
                .lines()
                .filter(|l| {
                    (l.starts_with('+') && !l.starts_with("+++"))
                        || (l.starts_with('-') && !l.starts_with("---"))
                })
                .map(str::to_string)
                .collect();
            out.push((st["name"].as_str().unwrap().to_string(), lines));
        }
    }
    out
}

#[test]
fn record_then_rerun_against_a_fresh_server_is_clean() {
    let s = Suites::new().suite("shapes", SUITE);
    let (f1, _) = volatile_fake("Engineer");
    let out = run_against(&s, &f1, &[], false);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("0 matched, 3 new, 0 changed; new ones recorded"),
        "{}",
        out.stdout
    );
    assert_eq!(
        files(&snap_dir(&s)),
        ["all-users.snap", "create-user.snap", "get-user.snap"]
    );
    // What varies is replaced by tokens: ids, location, times, versions,
    // the run prefix.
    let created = std::fs::read_to_string(snap_dir(&s).join("create-user.snap")).unwrap();
    insta::assert_snapshot!("recorded_create_user", created);
    // The same user keeps its token in the list; the service account (a new
    // id) comes after it whatever order the server used; the redacted
    // totalResults.
    let list = std::fs::read_to_string(snap_dir(&s).join("all-users.snap")).unwrap();
    insta::assert_snapshot!("recorded_all_users", list);

    // A filter that selects a later step still runs (but does not compare)
    // the earlier ones, so the id numbering is the same.
    let (f2, _) = volatile_fake("Engineer");
    let out2 = run_against(&s, &f2, &["list-users"], true);
    assert_eq!(out2.code, 0, "{}", out2.all());
    assert!(
        out2.stdout
            .contains("snapshots (snapshots/fake): 1 matched, 0 new, 0 changed"),
        "{}",
        out2.stdout
    );

    // Fresh server: new port, new ids, new times, new ETags, maybe another
    // list order. Nothing differs.
    for _ in 0..3 {
        let (f2, _) = volatile_fake("Engineer");
        let out = run_against(&s, &f2, &["--require-snapshots"], true);
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(
            out.stdout.contains("3 matched, 0 new, 0 changed"),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn a_changed_attribute_shows_exactly_that_change_and_accept_promotes_it() {
    let s = Suites::new().suite("shapes", SUITE);
    let (f, title) = volatile_fake("Engineer");
    assert_eq!(run_against(&s, &f, &[], false).code, 0);

    *title.lock().unwrap() = "Chief Engineer".into();
    let report = s.root().join("report.json");
    let junit = s.root().join("junit.xml");
    let out = run_against(
        &s,
        &f,
        &[
            "--json",
            report.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        false,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    // Every step's diff is the one line, and later steps still ran.
    let d = diffs(&report);
    assert_eq!(d.len(), 3, "{d:?}");
    for (step, lines) in &d {
        assert_eq!(lines.len(), 2, "{step}: {lines:?}");
        assert!(
            lines[0].starts_with('-')
                && lines[0]
                    .trim_end_matches(',')
                    .ends_with("\"title\": \"Engineer\""),
            "{step}: {lines:?}"
        );
        assert!(
            lines[1].starts_with('+')
                && lines[1]
                    .trim_end_matches(',')
                    .ends_with("\"title\": \"Chief Engineer\""),
            "{step}: {lines:?}"
        );
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("+      &quot;title&quot;: &quot;Chief Engineer&quot;")
            || xml.contains("+      \"title\": \"Chief Engineer\""),
        "{xml}"
    );
    // The console explains it with the diff, and names the finding. (Not a
    // snapshot: the response excerpts keep the fake's random ETags and list
    // order.)
    assert!(
        out.stdout.contains("✗ snapshot: the response differs from"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("snapshot diff:"), "{}", out.stdout);
    assert!(
        out.stdout.contains("+      \"title\": \"Chief Engineer\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("0 matched, 0 new, 3 changed"),
        "{}",
        out.stdout
    );
    assert_eq!(
        files(&snap_dir(&s)),
        [
            "all-users.snap",
            "all-users.snap.new",
            "create-user.snap",
            "create-user.snap.new",
            "get-user.snap",
            "get-user.snap.new"
        ]
    );

    // Review: pending lists them with the change, accept promotes them.
    let out = run(s.root(), &["snapshots", "pending"], false);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!("pending", redact(&out.stdout));

    let out = run(s.root(), &["snapshots", "accept", "get-user"], false);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 accepted"), "{}", out.stdout);
    let get = std::fs::read_to_string(snap_dir(&s).join("get-user.snap")).unwrap();
    assert!(get.contains("\"title\": \"Chief Engineer\""), "{get}");
    assert!(!snap_dir(&s).join("get-user.snap.new").exists());

    let out = run(s.root(), &["snapshots", "reject"], false);
    assert!(out.stdout.contains("2 rejected"), "{}", out.all());
    assert_eq!(
        files(&snap_dir(&s)),
        ["all-users.snap", "create-user.snap", "get-user.snap"]
    );

    // The accepted one now matches; the rejected ones still differ.
    let out = run_against(&s, &f, &[], true);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("1 matched, 0 new, 2 changed"),
        "{}",
        out.stdout
    );

    // --update-snapshots rewrites them; then everything matches.
    let out = run_against(&s, &f, &["--update-snapshots"], false);
    assert_eq!(out.code, 0, "{}", out.all());
    let out = run_against(&s, &f, &[], true);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("3 matched, 0 new, 0 changed"),
        "{}",
        out.stdout
    );
}

#[test]
fn ci_mode_writes_nothing() {
    let s = Suites::new().suite("shapes", SUITE);
    let (f, title) = volatile_fake("Engineer");
    // Missing snapshots: reported, not a failure, not written.
    let out = run_against(&s, &f, &[], true);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("0 matched, 3 new, 0 changed; nothing written (CI)"),
        "{}",
        out.stdout
    );
    assert!(!s.root().join("snapshots").exists());
    // … unless they are required.
    let out = run_against(&s, &f, &["--require-snapshots"], true);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains(
            "no snapshot at snapshots/fake/shapes/create-user.snap (--require-snapshots)"
        ),
        "{}",
        out.stdout
    );
    assert!(!s.root().join("snapshots").exists());

    // A difference fails with the diff, and leaves no .snap.new behind.
    assert_eq!(run_against(&s, &f, &[], false).code, 0);
    let before = files(&snap_dir(&s));
    *title.lock().unwrap() = "Boss".into();
    let out = run_against(&s, &f, &[], true);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("+  \"title\": \"Boss\""),
        "{}",
        out.stdout
    );
    assert_eq!(files(&snap_dir(&s)), before);
}

#[test]
fn missing_snapshots_can_be_required_and_then_accepted() {
    let s = Suites::new().suite("shapes", SUITE);
    let (f, _) = volatile_fake("Engineer");
    let out = run_against(&s, &f, &["--require-snapshots"], false);
    assert_eq!(out.code, 1, "{}", out.all());
    assert_eq!(
        files(&snap_dir(&s)),
        [
            "all-users.snap.new",
            "create-user.snap.new",
            "get-user.snap.new"
        ]
    );
    let out = run(
        s.root(),
        &["snapshots", "pending", "--snapshots", "snapshots/fake"],
        false,
    );
    assert!(
        out.stdout
            .contains("new: snapshots/fake/shapes/create-user.snap.new"),
        "{}",
        out.all()
    );
    let out = run(s.root(), &["snapshots", "accept"], false);
    assert!(out.stdout.contains("3 accepted"), "{}", out.all());
    let out = run_against(&s, &f, &["--require-snapshots"], true);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// The committed snapshots of the reference server (snapshots/reference/)
/// must match it exactly: a change to the server's responses shows up here
/// and in review. Re-record with
/// `cargo run -- run --embedded --suite suites/snapshots --update-snapshots`.
#[test]
fn reference_server_matches_its_committed_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let before = files(&root.join("snapshots").join("reference"));
    assert!(!before.is_empty(), "no committed reference snapshots");
    let out = run(
        root,
        &[
            "run",
            "--embedded",
            "--suite",
            "suites/snapshots",
            "--require-snapshots",
        ],
        true,
    );
    assert_eq!(
        out.code,
        0,
        "the reference server no longer answers as its committed snapshots say; if the change is \
         intended, re-record with `cargo run -- run --embedded --suite suites/snapshots \
         --update-snapshots` and commit snapshots/reference/\n{}",
        out.all()
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("snapshots ("))
        .unwrap_or_default();
    assert!(
        line.ends_with(" new, 0 changed") && line.contains(" 0 new,"),
        "{}",
        out.stdout
    );
    assert_eq!(files(&root.join("snapshots").join("reference")), before);
}

#[test]
fn two_steps_cannot_share_a_snapshot_name() {
    let s = Suites::new().suite(
        "dup",
        r#"
name: dup
idp: rfc
steps:
  - name: first
    request: { method: GET, path: /Users }
    snapshot: users
  - name: second
    request: { method: GET, path: /Users }
    snapshot: { name: users }
"#,
    );
    let (f, _) = volatile_fake("Engineer");
    let out = run_against(&s, &f, &[], false);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("✗ snapshot: snapshot name 'users' is used by another step of this suite"),
        "{}",
        out.stdout
    );
    assert_eq!(
        files(&s.root().join("snapshots").join("fake")),
        ["dup/users.snap"]
    );
}
