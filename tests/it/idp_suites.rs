//! The shipped IdP suites (Entra ID, Okta, Google Workspace, PingFederate,
//! JumpCloud, OneLogin), end to end: they pass against the
//! reference server, and every step says why it matters. The faults they
//! must catch and the variations they must tolerate are in the fault
//! catalogue (tests/faults/idp.rs).

use std::path::Path;

use crate::support::*;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs the binary from the repository root with `--json`, returning the
/// output and the parsed report.
fn run(args: &[&str]) -> (Output, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("report.json");
    let mut all: Vec<&str> = vec!["run"];
    all.extend_from_slice(args);
    let jp = json_path.to_string_lossy().to_string();
    all.extend_from_slice(&["--json", &jp]);
    let out = scimitar(Path::new(ROOT), &all);
    let report = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out, report)
}

/// `(suite, step) -> outcome` for every step in the report.
fn outcomes(report: &Value) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for s in report["suites"].as_array().into_iter().flatten() {
        for st in s["steps"].as_array().into_iter().flatten() {
            v.push((
                s["name"].as_str().unwrap_or("").to_string(),
                st["name"].as_str().unwrap_or("").to_string(),
                st["outcome"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    v
}

fn not_passed(got: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    got.iter().filter(|(_, _, o)| o != "passed").collect()
}

fn idp_suite_args() -> Vec<&'static str> {
    IDP_DIRS.iter().flat_map(|d| ["--suite", *d]).collect()
}

#[test]
fn every_idp_suite_passes_against_the_reference_server() {
    let mut args = vec!["--embedded"];
    args.extend(idp_suite_args());
    let (out, report) = run(&args);
    assert_eq!(out.code, 0, "{}", out.all());
    let got = outcomes(&report);
    for (suite, steps) in IDP_SUITES {
        let passed = got
            .iter()
            .filter(|(s, _, o)| s == suite && o == "passed")
            .count();
        assert_eq!(passed, steps, "{suite}: {:?}", not_passed(&got));
    }
    let total: usize = IDP_SUITES.iter().map(|(_, n)| n).sum();
    assert_eq!(got.len(), total);
    assert!(
        out.stdout.contains(&format!("{total} passed; 0 failed")),
        "{}",
        out.stdout
    );
    // Nothing the run created is left behind.
    for s in report["suites"].as_array().into_iter().flatten() {
        for c in s["cleanup"].as_array().into_iter().flatten() {
            let status = c["status"].as_u64();
            assert!(matches!(status, Some(204 | 404)), "{c}");
        }
    }
}

#[test]
fn every_step_says_why_it_matters_and_every_name_carries_the_prefix() {
    for dir in IDP_DIRS {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let steps = text.matches("\n  - name: ").count();
            let whys = text.matches("\n    why: ").count();
            assert_eq!(steps, whys, "{}: a step without why", path.display());
            assert!(text.contains("\nidp: "), "{}: no idp", path.display());
            // Every name the suite creates is built from a template ({{prefix}}).
            for line in text.lines() {
                let Some((key, value)) = line.trim_start().split_once(": ") else {
                    continue;
                };
                let key = key.trim_start_matches("- ");
                let named = key == "userName"
                    || key.ends_with("UserName")
                    || key.ends_with("roupName")
                    || key.ends_with("xternalId");
                if named && !value.starts_with('{') {
                    assert!(value.contains("{{"), "{}: {line}", path.display());
                }
            }
        }
    }
    for dir in IDP_DIRS {
        let dir = dir.replace("suites/", "fixtures/");
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let body: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for key in ["userName", "externalId"] {
                if let Some(v) = body.get(key) {
                    assert!(
                        v.as_str().is_some_and(|s| s.contains("{{")),
                        "{}",
                        path.display()
                    );
                }
            }
        }
    }
}
