//! The binary end to end, over HTTP against wiremock fakes.

use crate::support::*;
use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{method, path};

const LIFECYCLE: &str = r#"
name: lifecycle
idp: rfc
vars:
  userName: "{{prefix}}-ada@example.com"
steps:
  - name: create
    request: { method: POST, path: /Users, body_file: user.json }
    expect:
      status: 201
      check: [scim-resource, location]
      json:
        "$.userName": "{{userName}}"
        "$.id": { exists: true }
    capture: { userId: "$.id" }
  - name: read
    request: { method: GET, path: "/Users/{{userId}}" }
    expect:
      status: 200
      json: { "$.id": "{{userId}}", "$.name.givenName": Ada }
  - name: list
    request: { method: GET, path: /Users, query: { filter: 'userName eq "{{userName}}"' } }
    expect: { status: 200, check: [list-response] }
"#;

/// The console line that contains `needle`, trimmed (empty if none).
fn line<'a>(out: &'a str, needle: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(needle))
        .unwrap_or("")
        .trim_end()
}

const USER_FIXTURE: &str = r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": "{{userName}}", "name": {"givenName": "Ada"}}"#;

fn lifecycle() -> Suites {
    Suites::new()
        .suite("lifecycle", LIFECYCLE)
        .fixture("user.json", USER_FIXTURE)
}

#[test]
fn passing_lifecycle_exits_zero_and_cleans_up() {
    let f = fake(true);
    let s = lifecycle();
    let out = scimitar(
        s.root(),
        &["run", "--url", &f.url(), "--token", "t0ken-for-tests"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    // One line per step, then the summary.
    insta::assert_snapshot!("passing_console", redact(&out.stdout));
    let got = f.received();
    // Captured id flows into the next step's path; the run deletes what it made.
    assert!(
        got.contains(&"GET /scim/v2/Users/u1".to_string()),
        "{got:?}"
    );
    // Deleted, then read back to prove it is gone (RFC 7644 §3.6).
    let n = got.len();
    assert_eq!(
        &got[n - 2..],
        &["DELETE /scim/v2/Users/u1", "GET /scim/v2/Users/u1"],
        "{got:?}"
    );
    assert!(f.users.lock().unwrap().is_empty());
    // Every request carried the bearer token and SCIM media types.
    for r in f.received_requests() {
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            "Bearer t0ken-for-tests"
        );
        assert_eq!(r.headers.get("accept").unwrap(), SCIM);
    }
    // Names carry the run prefix.
    let post = f
        .received_requests()
        .into_iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    assert!(
        body["userName"].as_str().unwrap().starts_with("scimitar-"),
        "{body}"
    );
}

#[test]
fn failing_step_explains_itself_skips_its_verification_runs_the_rest_and_cleans_up() {
    let f = fake(true);
    let s = Suites::new().fixture("user.json", USER_FIXTURE).suite(
        "broken",
        r#"
name: broken
idp: entra
vars: { userName: "{{prefix}}-bob@example.com" }
steps:
  - name: create
    request: { method: POST, path: /Users, body_file: user.json }
    expect: { status: 201 }
  - name: expects-wrong-things
    why: "Entra reads the user back after creating it; a mismatch breaks matching"
    request: { method: GET, path: /Users/does-not-exist }
    expect:
      status: 200
      headers: { Content-Type: { contains: "scim+json" } }
      json: { "$.userName": "someone-else" }
  - name: never-runs
    depends_on: [expects-wrong-things]
    request: { method: GET, path: /Users }
    expect: { status: 200 }
  - name: still-runs
    request: { method: GET, path: /Users/u1 }
    expect: { status: 200 }
"#,
    );
    let out = scimitar(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 1, "{}", out.all());
    // The failing step: where it is, what was sent, each failed expectation
    // (a 404 body is not a user: that only follows from the status, so it is
    // counted, not listed), why it matters, the response excerpt; the step
    // that depends on it is skipped and the unrelated one after it runs.
    insta::assert_snapshot!("failing_console", redact(&out.stdout));
    let got = f.received();
    assert!(
        got.contains(&"DELETE /scim/v2/Users/u1".to_string()),
        "{got:?}"
    );
    // One GET /Users: the first-contact probe (?count=1), not the skipped step.
    assert_eq!(
        got.iter().filter(|r| *r == "GET /scim/v2/Users").count(),
        1,
        "skipped step was sent: {got:?}"
    );
}

#[test]
fn named_check_failures_cite_the_rfc() {
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Groups"))
            .respond_with(scim_json(
                200,
                json!({"totalResults": 2, "Resources": [{"id": "g"}]}),
            )),
    );
    let s = Suites::new().suite(
        "groups",
        "name: groups\nsteps:\n  - name: list\n    request: { method: GET, path: /Groups }\n    expect: { status: 200, check: [list-response, {name: media-type, advisory: true}] }\n",
    );
    let out = scimitar(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("✗ check list-response (RFC 7644 §3.4.2): 'schemas' must contain"),
        "{}",
        out.stdout
    );
}

#[test]
fn advisory_findings_do_not_fail_unless_strict() {
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Plain"))
            .respond_with(
                wiremock::ResponseTemplate::new(200).set_body_raw("{}", "application/json"),
            ),
    );
    let s = Suites::new().suite(
        "media",
        "name: media\nsteps:\n  - name: plain-json\n    request: { method: GET, path: /Plain }\n    expect: { status: 200, check: [{name: media-type, advisory: true}] }\n",
    );
    let out = scimitar(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        line(&out.stdout, "media::plain-json ")
            .contains("... ignored (advisory: check media-type: Content-Type is"),
        "{}",
        out.stdout
    );
    let strict = scimitar(s.root(), &["run", "--url", &f.url(), "--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.all());
}

#[test]
fn unmet_requirements_skip_the_suite_with_the_reason() {
    let f = fake(false);
    let s = Suites::new().suite(
        "patching",
        "name: patching\nrequires: [patch]\nsteps:\n  - name: p\n    request: { method: PATCH, path: /Users/x, body: {} }\n    expect: { status: 200 }\n",
    );
    let out = scimitar(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        line(&out.stdout, "patching::p ")
            .contains("... ignored (the server does not support patch"),
        "{}",
        out.stdout
    );
    assert!(!f.received().iter().any(|r| r.starts_with("PATCH")));
}

#[test]
fn filters_select_steps_like_cargo_test() {
    let f = fake(true);
    let s = lifecycle();
    let out = scimitar(s.root(), &["run", "--url", &f.url(), "lifecycle::read"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains("1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out"),
        "{}",
        out.stdout
    );
    // The earlier step ran to build state; the later one did not run at all.
    let got = f.received();
    assert!(got.contains(&"POST /scim/v2/Users".to_string()));
    // One GET /Users: the first-contact probe (?count=1), not the list step.
    assert_eq!(
        got.iter().filter(|r| *r == "GET /scim/v2/Users").count(),
        1,
        "{got:?}"
    );

    let listed = scimitar(s.root(), &["run", "--list"]);
    assert_eq!(listed.code, 0);
    assert!(
        listed.stdout.contains("[rfc] lifecycle::create: test"),
        "{}",
        listed.stdout
    );
    let skipped = scimitar(s.root(), &["run", "--url", &f.url(), "--skip", "list"]);
    assert!(
        skipped
            .stdout
            .contains("2 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out"),
        "{}",
        skipped.stdout
    );
}

#[test]
fn no_target_is_an_error_never_a_green_run() {
    let s = lifecycle();
    let out = scimitar(s.root(), &["run"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("error: no target: give --url URL"),
        "{}",
        out.stderr
    );
}

#[test]
fn unreachable_host_and_bad_urls_exit_two_with_one_line() {
    let s = lifecycle();
    // Port 9 on loopback: nothing listens there.
    let out = scimitar(s.root(), &["run", "--url", "http://127.0.0.1:9/scim/v2"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.starts_with(
            "error: cannot reach the SCIM endpoint at http://127.0.0.1:9/scim/v2: cannot connect"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let bad = scimitar(s.root(), &["run", "--url", "not a url"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("is not a URL"), "{}", bad.stderr);
}

#[test]
fn broken_suites_name_file_line_and_problem_before_any_request() {
    let f = fake(true);
    let s = Suites::new()
        .suite(
            "typo",
            "name: typo\nsteps:\n  - name: a\n    request: { method: GET, path: /Users }\n    expcet: { status: 200 }\n",
        )
        .suite(
            "undefined",
            "name: undefined\nsteps:\n  - name: a\n    request: { method: GET, path: /Users }\n  - name: b\n    request: { method: GET, path: \"/Users/{{nope}}\" }\n",
        )
        .suite(
            "nofixture",
            "name: nofixture\nsteps:\n  - name: a\n    request: { method: POST, path: /Users, body_file: missing.json }\n",
        );
    let out = scimitar(s.root(), &["run", "--url", &f.url()]);
    assert_eq!(out.code, 2, "{}", out.all());
    insta::assert_snapshot!("broken_suites_stderr", redact(&out.stderr));
    assert!(
        f.received().is_empty(),
        "requests were sent: {:?}",
        f.received()
    );
}

#[test]
fn junit_and_json_reports_agree_with_the_console() {
    let f = fake(true);
    let s = lifecycle().suite(
        "failing",
        "name: failing\nsteps:\n  - name: wrong-status\n    request: { method: GET, path: /Users/does-not-exist }\n    expect: { status: 200 }\n  - name: after\n    depends_on: [wrong-status]\n    request: { method: GET, path: /Users }\n",
    );
    let junit = s.root().join("report.xml");
    let json_path = s.root().join("report.json");
    let out = scimitar(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("3 passed; 1 failed; 1 ignored"),
        "{}",
        out.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 2);
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 5);
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].attribute("message"),
        Some("status: expected 200, got 404 (detail: not found)")
    );
    assert_eq!(
        failures[0].parent().unwrap().attribute("name"),
        Some("wrong-status")
    );
    let skipped: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .collect();
    assert_eq!(skipped.len(), 1);

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 2);
    let outcomes: Vec<&str> = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|st| st["outcome"].as_str().unwrap())
        })
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "passed").count(), 3);
    assert_eq!(outcomes.iter().filter(|o| **o == "failed").count(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o == "skipped").count(), 1);
}

#[test]
fn the_token_never_appears_in_output_or_reports() {
    let f = fake(true);
    let token = "very-secret-token-123";
    // A server that echoes the Authorization header back in its body.
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Echo"))
            .respond_with(|r: &wiremock::Request| {
                let auth = r
                    .headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap_or("").to_string());
                scim_json(500, json!({"echo": auth}))
            }),
    );
    let s = Suites::new().suite(
        "echo",
        "name: echo\nsteps:\n  - name: echo\n    request: { method: GET, path: /Echo }\n    expect: { status: 200 }\n",
    );
    let junit = s.root().join("r.xml");
    let js = s.root().join("r.json");
    let out = scimitar(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--token",
            token,
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            js.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("Bearer ***"),
        "the echo should show redacted: {}",
        out.stdout
    );
    for text in [
        out.all(),
        std::fs::read_to_string(&junit).unwrap(),
        std::fs::read_to_string(&js).unwrap(),
    ] {
        assert!(!text.contains(token), "token leaked: {text}");
    }
}

#[test]
fn basic_auth_and_extra_headers_are_sent_and_hidden() {
    let f = fake(true);
    let s = lifecycle();
    let out = scimitar(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--basic",
            "admin:pa55word-xyz",
            "-H",
            "X-Api-Key: key-abcdef",
            "lifecycle::create",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let reqs = f.received_requests();
    assert!(!reqs.is_empty());
    for r in reqs {
        // base64("admin:pa55word-xyz")
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            "Basic YWRtaW46cGE1NXdvcmQteHl6"
        );
        assert_eq!(r.headers.get("x-api-key").unwrap(), "key-abcdef");
    }
    assert!(!out.all().contains("pa55word-xyz") && !out.all().contains("key-abcdef"));
}

#[test]
fn token_comes_from_env_or_file() {
    let f = fake(true);
    let s = lifecycle();
    let file = s.root().join("token.txt");
    std::fs::write(&file, "from-file-token\n").unwrap();
    let out = scimitar(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--token-file",
            file.to_str().unwrap(),
            "lifecycle::create",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        f.received_requests()
            .iter()
            .all(|r| r.headers.get("authorization").unwrap() == "Bearer from-file-token")
    );

    let missing = scimitar(
        s.root(),
        &[
            "run",
            "--url",
            &f.url(),
            "--token-env",
            "SCIMITAR_NO_SUCH_VAR",
        ],
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("--token-env SCIMITAR_NO_SUCH_VAR: that environment variable is not set"),
        "{}",
        missing.stderr
    );
}
