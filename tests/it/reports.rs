//! Compatibility reports (`--report FILE.md|FILE.html`), the console
//! summary, `--quiet`, and the built-in suites, end to end through the binary.

use crate::support::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const TOKEN: &str = "t0ken-that-must-never-leak-7f3a";
const XSS: &str = "<script>alert('x')</script>";

/// Entra: create passes, read-back fails on a displayName the fake echoes
/// back (a hostile value, to test escaping).
const ENTRA: &str = r#"
name: entra-users
idp: entra
steps:
  - name: create
    request: { method: POST, path: /Users, body_file: user.json }
    expect: { status: 201, check: [scim-resource] }
    capture: { userId: "$.id" }
  - name: read-back
    why: Entra reads the user back to confirm the write took
    request: { method: GET, path: "/Users/{{userId}}" }
    expect:
      status: 200
      check: [list-response]
  - name: after-failure
    # Runs: a failure the server answered with 2xx does not stop the suite.
    request: { method: GET, path: "/Users/{{userId}}" }
    expect: { status: 200 }
"#;

/// Okta: passes, with one advisory finding.
const OKTA: &str = r#"
name: okta-list
idp: okta
steps:
  - name: list-users
    request: { method: GET, path: /Users }
    expect:
      status: 200
      check: [list-response]
  - name: unknown-user
    advisory: true
    request: { method: GET, path: /Users/nobody }
    expect: { status: 404, json: { "$.detail": "the advisory detail" } }
"#;

/// RFC: needs sort, which the fake says it lacks: every step skipped.
const RFC_SORT: &str = r#"
name: rfc-sort
idp: rfc
requires: [sort]
steps:
  - name: sorted
    request: { method: GET, path: /Users, query: { sortBy: userName } }
    expect: { status: 200 }
"#;

/// Echoes the Authorization header back in the body, then fails.
const LEAK: &str = r#"
name: okta-aiw-echo
idp: okta-aiw
steps:
  - name: echo
    request: { method: GET, path: /Echo }
    expect: { status: 200 }
"#;

fn suites() -> Suites {
    Suites::new()
        .suite("entra", ENTRA)
        .suite("okta", OKTA)
        .suite("rfc", RFC_SORT)
        .suite("leak", LEAK)
        .fixture(
            "user.json",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": "{{prefix}}-ada@example.com", "displayName": XSS})
            .to_string(),
        )
}

/// A fake whose /Echo answers 500 with the request's Authorization header.
fn echo_fake() -> Fake {
    let f = fake(true);
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Echo"))
            .respond_with(|r: &Request| {
                let auth = r
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                ResponseTemplate::new(500).set_body_raw(format!("you sent {auth}"), "text/plain")
            }),
    );
    f
}

struct Reports {
    out: Output,
    md: String,
    html: String,
    suites: Suites,
}

fn run_reports(extra: &[&str]) -> Reports {
    let f = echo_fake();
    let s = suites();
    let md = s.root().join("report.md");
    let html = s.root().join("report.html");
    let (md_s, html_s) = (md.display().to_string(), html.display().to_string());
    let url = f.url();
    let mut args = vec![
        "run", "--url", &url, "--token", TOKEN, "--report", &md_s, "--report", &html_s,
    ];
    args.extend_from_slice(extra);
    let out = scimitar(s.root(), &args);
    let md = std::fs::read_to_string(&md).unwrap_or_default();
    let html = std::fs::read_to_string(&html).unwrap_or_default();
    Reports {
        out,
        md,
        html,
        suites: s,
    }
}

/// The Markdown row of a profile in the verdict table, cells trimmed.
fn md_row(md: &str, label: &str) -> Vec<String> {
    md.lines()
        .find(|l| l.starts_with(&format!("| {label} |")))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Markdown with every fenced block removed: what a renderer treats as markup.
fn outside_fences(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(f) if line.trim_end() == f => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn markdown_report_has_a_verdict_per_profile_with_counts() {
    let r = run_reports(&[]);
    assert_eq!(r.out.code, 1, "{}", r.out.all());
    // stderr is a pipe here: no progress display.
    assert!(!r.out.stderr.contains("suites done"), "{}", r.out.stderr);
    // The layout: the verdict table (Profile | Verdict | Passed | Failed |
    // Advisory | Skipped), the one-line summary, each failing step with what
    // was sent, what came back, why and the RFC section, the skips with their
    // reason, and the advisory findings.
    insta::assert_snapshot!("markdown_report", redact(&r.md));
}

#[test]
fn reports_escape_server_text_and_never_carry_the_token() {
    let r = run_reports(&[]);
    assert_eq!(r.out.code, 1, "{}", r.out.all());
    for (name, text) in [("md", &r.md), ("html", &r.html)] {
        assert!(!text.is_empty(), "{name} report missing: {}", r.out.all());
        assert!(!text.contains(TOKEN), "{name} report leaks the token");
    }
    // The fake echoed the Authorization header: it shows redacted.
    assert!(r.html.contains("you sent Bearer "), "{}", r.html);
    // HTML: the hostile displayName appears only escaped; no script at all.
    assert!(!r.html.to_lowercase().contains("<script"), "{}", r.html);
    assert!(
        r.html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{}",
        r.html
    );
    // Markdown: server text only inside code fences.
    assert!(r.md.contains(XSS), "the body excerpt is in the report");
    assert!(!outside_fences(&r.md).contains("<script"), "{}", r.md);
}

#[test]
fn html_report_is_self_contained_and_printable() {
    let r = run_reports(&[]);
    let h = &r.html;
    assert!(h.starts_with("<!DOCTYPE html>"), "{h}");
    assert!(h.trim_end().ends_with("</html>"));
    assert!(h.contains("<style>") && h.contains("@media print"), "{h}");
    // Nothing external, nothing executable.
    for bad in ["<link", "src=", "http-equiv=\"refresh\"", "@import", "url("] {
        assert!(!h.contains(bad), "{bad} in {h}");
    }
    // The layout: verdicts, failing steps with why and the RFC section.
    insta::assert_snapshot!("html_report", redact(h));
    // Balanced structure for the elements the renderer opens.
    for tag in ["div", "table", "tr", "ul", "li", "pre", "h2", "h4"] {
        let open = h.matches(&format!("<{tag}>")).count() + h.matches(&format!("<{tag} ")).count();
        let close = h.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open}, closed {close}");
    }
}

#[test]
fn report_extension_is_checked_before_anything_is_sent() {
    let f = fake(true);
    let s = suites();
    let out = scimitar(
        s.root(),
        &["run", "--url", &f.url(), "--report", "report.txt"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("--report report.txt: name the file .md (Markdown) or .html (HTML)"),
        "{}",
        out.stderr
    );
    assert!(f.received().is_empty(), "{:?}", f.received());
}

#[test]
fn console_summary_has_a_verdict_per_profile_and_quiet_prints_only_failures() {
    let r = run_reports(&["--quiet"]);
    let out = &r.out.stdout;
    assert_eq!(r.out.code, 1, "{}", r.out.all());
    // Failures in full, no per-step lines for passing or skipped steps, and
    // the summary, one row per profile that ran (profiles not run stay out).
    assert!(!out.contains("... ok"), "{out}");
    insta::assert_snapshot!("quiet_console", redact(out));
    // Not a terminal: no progress display on stderr.
    assert!(!r.out.stderr.contains("suites done"), "{}", r.out.stderr);
}

#[test]
fn quiet_passing_run_prints_just_the_summary() {
    let f = fake(true);
    let s = Suites::new().suite("okta", OKTA);
    let out = scimitar(s.root(), &["run", "--url", &f.url(), "-q"]);
    assert_eq!(out.code, 0, "{}", out.all());
    insta::assert_snapshot!("quiet_passing_console", redact(&out.stdout));
}

#[test]
fn embedded_server_report_is_compatible() {
    let s = Suites::new().suite(
        "rfc-users",
        r#"
name: rfc-users
idp: rfc
steps:
  - name: create
    request:
      method: POST
      path: /Users
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "{{prefix}}-x@example.com" }
    expect: { status: 201, check: [scim-resource, location] }
  - name: list
    request: { method: GET, path: /Users }
    expect: { status: 200, check: [list-response] }
"#,
    );
    let out = scimitar(
        s.root(),
        &[
            "run",
            "--embedded",
            "--report",
            "out/r.md",
            "--report",
            "r.HTML",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let md = std::fs::read_to_string(s.root().join("out/r.md")).unwrap_or_default();
    let html = std::fs::read_to_string(s.root().join("r.HTML")).unwrap_or_default();
    // A custom suite (not the built-in ones): never an IdP's verdict.
    assert_eq!(
        md_row(&md, "Custom suites (idp: rfc)")[1..],
        [
            "✅ passed (not an IdP verdict)",
            "2/2 selected",
            "2",
            "0",
            "0",
            "0"
        ],
        "{md}"
    );
    insta::assert_snapshot!("embedded_markdown_report", redact(&md));
    assert!(html.contains("<span class=\"verdict pass\">passed (not an IdP verdict)</span>"));
    // The embedded server's token is per run and never shown.
    assert!(!md.contains("scimitar-embedded-") && !html.contains("scimitar-embedded-"));
}

/// The suites the repository ships, as `list` prints them (names and steps).
fn listed(out: &Output) -> Vec<String> {
    out.stdout
        .lines()
        .map(|l| match l.find("  (") {
            // Drop the file path: it differs between checkout and extraction.
            Some(i) if !l.starts_with(' ') => l[..i].to_string(),
            _ => l.to_string(),
        })
        .collect()
}

#[test]
fn installed_binary_uses_the_built_in_suites_outside_a_checkout() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let away = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let run_in = |cwd: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .args(args)
            .current_dir(cwd)
            .env_remove("SCIM_URL")
            .env_remove("SCIM_TOKEN")
            .env_remove("XDG_CACHE_HOME")
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run scimitar");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    if !repo.join("suites").is_dir() {
        // Built without suites: nothing to fall back on.
        let out = run_in(away.path(), &["list"]);
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(out.stderr.contains("./suites does not exist here"));
        return;
    }
    let here = run_in(repo, &["list"]);
    let there = run_in(away.path(), &["list"]);
    assert_eq!(here.code, 0, "{}", here.all());
    assert_eq!(there.code, 0, "{}", there.all());
    assert_eq!(listed(&here), listed(&there));
    assert!(
        there
            .stderr
            .contains("note: no ./suites here: using the suites built into scimitar"),
        "{}",
        there.stderr
    );
    // Extracted to the per-version cache, not to the working folder.
    assert!(!away.path().join("suites").exists());
    assert!(home.path().join(".cache/scimitar").is_dir());
    // And they run, fixtures included, against the embedded server.
    let out = run_in(
        away.path(),
        &["run", "--embedded", "-q", "--report", "r.md"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let md = std::fs::read_to_string(away.path().join("r.md")).unwrap_or_default();
    assert!(md.contains("## Verdicts"), "{md}");
    // Against a users-only fake, built-in steps fail; their locations name
    // the suite file in the repository, not the user's home folder.
    let f = fake(true);
    let out = run_in(
        away.path(),
        &["run", "--url", &f.url(), "-q", "--report", "r2.md"],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let md = std::fs::read_to_string(away.path().join("r2.md")).unwrap_or_default();
    assert!(md.contains("Suite file: `suites/"), "{md}");
    assert!(md.contains(" (built in)`"), "{md}");
    assert!(!md.contains(&home.path().display().to_string()), "{md}");
}

#[test]
fn version_help_and_completions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = scimitar(dir.path(), &["--version"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout.trim(),
        format!("scimitar {}", env!("CARGO_PKG_VERSION"))
    );
    let out = scimitar(dir.path(), &["run", "--help"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("--report <FILE>"), "{}", out.stdout);
    assert!(out.stdout.contains("Examples:\n  scimitar run --embedded"));
    for (shell, marker, flag) in [
        ("bash", "complete -F _scimitar", "--report"),
        ("zsh", "#compdef scimitar", "--report"),
        ("fish", "complete -c scimitar", "-l report"),
    ] {
        let out = scimitar(dir.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains(flag), "{shell}: {}", out.stdout);
    }
}

#[test]
fn json_report_carries_the_verdicts() {
    let r = run_reports(&["--json", "run.json"]);
    let text = std::fs::read_to_string(r.suites.root().join("run.json")).unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let verdicts = serde_json::to_string_pretty(&doc["verdicts"]).expect("json");
    insta::assert_snapshot!("json_verdicts", verdicts);
    assert!(!text.contains(TOKEN));
}
