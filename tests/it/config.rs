//! scimitar.toml end to end: the file is read and named, flags override it,
//! the baseline turns a failure into "known" until its date, then fails.

use crate::support::*;

/// One step that passes on the reference server and one that fails (the
/// server answers 200, the suite wants 418).
const SUITE: &str = r#"
name: cfg
idp: rfc
steps:
  - name: spc
    request: { method: GET, path: /ServiceProviderConfig }
    expect: { status: 200 }
  - name: teapot
    request: { method: GET, path: /ServiceProviderConfig }
    expect: { status: 418 }
"#;

fn project(toml: &str) -> Suites {
    let s = Suites::new().suite("cfg", SUITE);
    std::fs::write(s.root().join("scimitar.toml"), toml).unwrap();
    s
}

#[test]
fn known_failure_is_reported_not_failed_until_it_expires() {
    let p = project(
        "[run]\njobs = 1\n\n[[known]]\ntest = \"cfg::teapot\"\nreason = \"ticket 42\"\nuntil = 2999-12-31\n",
    );
    let out = scimitar(p.root(), &["run", "--embedded"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("config: scimitar.toml"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("known: ticket 42 (known until 2999-12-31)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("known failures"), "{}", out.stdout);

    let p =
        project("[[known]]\ntest = \"cfg::teapot\"\nreason = \"ticket 42\"\nuntil = 2020-01-01\n");
    let out = scimitar(p.root(), &["run", "--embedded"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("expired on 2020-01-01"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("expired on 2020-01-01"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_config_and_explicit_config() {
    let p = project("[[known]]\ntest = \"cfg::teapot\"\nreason = \"r\"\nuntil = 2999-01-01\n");
    let out = scimitar(p.root(), &["run", "--embedded", "--no-config"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.stderr.contains("config:"), "{}", out.stderr);

    std::fs::write(p.root().join("other.toml"), "[run]\nidp = [\"nope\"]\n").unwrap();
    let out = scimitar(p.root(), &["run", "--embedded", "--config", "other.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("config: other.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("--idp nope"), "{}", out.stderr);
    // The flag overrides the file.
    let out = scimitar(
        p.root(),
        &[
            "run",
            "--embedded",
            "--config",
            "other.toml",
            "--idp",
            "rfc",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
}

#[test]
fn bad_file_is_one_line_with_position() {
    let p = project("[target]\nurl = \"http://127.0.0.1:9/scim\"\ntokn_env = \"X\"\n");
    let out = scimitar(p.root(), &["run"]);
    assert_eq!(out.code, 2, "{}", out.all());
    let first = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("");
    assert!(
        first.starts_with("error: scimitar.toml:3:1: "),
        "{}",
        out.stderr
    );
    assert!(first.contains("tokn_env"), "{}", out.stderr);
}

#[test]
fn target_comes_from_the_file() {
    // The URL from the file is used (nothing listens on port 9: cannot reach).
    let p =
        project("[target]\nurl = \"http://127.0.0.1:9/scim\"\ntoken_env = \"UNSET_FOR_TEST\"\n");
    let out = scimitar(p.root(), &["run"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("--token-env UNSET_FOR_TEST"),
        "{}",
        out.stderr
    );
}
