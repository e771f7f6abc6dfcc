//! `--skip` means what it says: the step is not run, steps that depend on
//! it are skipped with that reason, and a skipped step still runs as setup
//! when a later step needs a variable it captures.

use std::process::Command;

use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--embedded", "--color", "never", "--json"])
        .arg(&json)
        .args(["--snapshots"])
        .arg(dir.path().join("snaps"))
        .args(args)
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (out.status.code().unwrap_or(-1), stdout, report)
}

fn step<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["suites"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
}

#[test]
fn a_skipped_step_is_not_run_and_its_dependants_say_why() {
    let (code, stdout, report) = run(&[
        "--suite",
        "suites/entra/users.yaml",
        "--skip",
        "patch-address-parts",
    ]);
    assert!(step(&report, "patch-address-parts").is_none(), "{stdout}");
    let verify = step(&report, "verify-address-merged").expect("verify-address-merged");
    assert_eq!(verify["outcome"], "skipped");
    assert_eq!(
        verify["skip_reason"],
        "it depends on 'patch-address-parts', which was skipped (--skip)"
    );
    // Everything else ran and passed against the reference server.
    assert_eq!(step(&report, "disable-user").unwrap()["outcome"], "passed");
    assert!(!stdout.contains("patch-address-parts "), "{stdout}");
    // A skip the user asked for is not a failure.
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_skipped_step_another_needs_runs_as_setup() {
    let (code, stdout, report) = run(&[
        "--suite",
        "suites/entra/users.yaml",
        "--skip",
        "create-user",
    ]);
    // read-user needs {{userId}}, so create-user ran, unreported.
    assert!(!stdout.contains("entra-users::create-user "), "{stdout}");
    assert_eq!(step(&report, "read-user").unwrap()["outcome"], "passed");
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn what_depends_on_an_advisory_refusal_is_skipped_not_judged_again() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("refused.yaml");
    std::fs::write(
        &suite,
        r#"
name: refused
steps:
  - name: tolerated-create
    advisory: true
    request: { method: POST, path: /Users, body: { schemas: [urn:ietf:params:scim:schemas:core:2.0:User] } }
    expect: { status: 201 }
  - name: verify-create
    depends_on: [tolerated-create]
    request: { method: GET, path: /Users }
    expect: { status: 200, json: { "$.totalResults": 1 } }
  - name: expected-error
    request: { method: GET, path: /Users/nobody }
    expect: { status: 404 }
  - name: after-expected-error
    depends_on: [expected-error]
    request: { method: GET, path: /Users }
    expect: { status: 200 }
"#,
    )
    .unwrap();
    let (_, stdout, report) = run(&["--suite", suite.to_str().unwrap()]);
    assert_eq!(
        step(&report, "tolerated-create").unwrap()["outcome"],
        "advisory",
        "{stdout}"
    );
    let verify = step(&report, "verify-create").unwrap();
    assert_eq!(verify["outcome"], "skipped", "{stdout}");
    assert_eq!(
        verify["skip_reason"],
        "it depends on 'tolerated-create', which the server refused (advisory)"
    );
    // A step that asked for an error and got it built what comes after it.
    assert_eq!(
        step(&report, "after-expected-error").unwrap()["outcome"],
        "passed"
    );
}
