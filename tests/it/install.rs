//! Install paths that CI cannot run end to end here: the GitHub Action's run
//! script (scripts/action-run.sh) is run for real against the embedded
//! server; action.yml and the Dockerfile are read and checked against the
//! repository (no Docker daemon is available to these tests, so the image
//! itself is not built here).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct ActionRun {
    code: i32,
    stderr: String,
    out: PathBuf,
    summary: String,
    outputs: String,
    _dir: tempfile::TempDir,
}

/// Runs the action's script from an empty folder (so the binary uses its
/// built-in suites, as an installed one does), with `env` as the inputs.
fn action(env: &[(&str, &str)]) -> ActionRun {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/action-run.sh"))
        .current_dir(dir.path())
        .env("SCIMITAR", env!("CARGO_BIN_EXE_scimitar"))
        .env("INPUT_OUT", "reports")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("NO_COLOR", "1")
        .env_remove("SCIM_URL")
        .env_remove("SCIM_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    ActionRun {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out: dir.path().join("reports"),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
        _dir: dir,
    }
}

#[test]
fn the_action_script_runs_and_writes_reports_summary_and_outputs() {
    let r = action(&[("INPUT_EMBEDDED", "true"), ("INPUT_IDP", "rfc, okta")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("--idp rfc --idp okta"), "{}", r.stderr);
    for f in [
        "junit.xml",
        "scim.json",
        "scim-report.html",
        "scim-report.md",
    ] {
        assert!(r.out.join(f).is_file(), "{f} missing: {}", r.stderr);
    }
    let junit = std::fs::read_to_string(r.out.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase")));
    let md = std::fs::read_to_string(r.out.join("scim-report.md")).unwrap();
    assert_eq!(r.summary, md, "the job summary is the Markdown report");
    assert!(r.outputs.contains("exit-code=0\n"), "{}", r.outputs);
    assert!(
        r.outputs.contains("junit=reports/junit.xml\n"),
        "{}",
        r.outputs
    );
}

#[test]
fn the_action_script_passes_scimitars_exit_code_on() {
    // Nothing listens on port 9: the run cannot start (exit 2), and says so.
    let r = action(&[("INPUT_URL", "http://127.0.0.1:9/scim/v2")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.outputs.contains("exit-code=2\n"), "{}", r.outputs);
}

#[test]
fn the_action_script_runs_a_certification_precheck() {
    let r = action(&[("INPUT_EMBEDDED", "true"), ("INPUT_CERTIFY", "okta-oin")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.out.join("certify-okta-oin.html").is_file());
    assert!(
        r.summary.contains("Certification pre-check"),
        "{}",
        r.summary
    );
    assert!(
        r.outputs
            .contains("junit=reports/certify-okta-oin.junit.xml\n"),
        "{}",
        r.outputs
    );
}

fn action_yml() -> Value {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn action_yml_is_a_composite_action_wired_to_the_script() {
    let a = action_yml();
    assert_eq!(a["runs"]["using"], "composite");
    let steps = a["runs"]["steps"].as_array().unwrap();
    let run = steps
        .iter()
        .find(|s| s["id"] == "run")
        .expect("a step with id run");
    assert!(
        run["run"]
            .as_str()
            .unwrap()
            .contains("$GITHUB_ACTION_PATH/scripts/action-run.sh")
    );
    // Every input reaches the script (or another step), and every INPUT_
    // variable the script reads is set by the action.
    let script = std::fs::read_to_string(repo().join("scripts/action-run.sh")).unwrap();
    let env = run["env"].as_object().unwrap();
    let whole = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    for (name, _) in a["inputs"].as_object().unwrap() {
        assert!(
            whole.contains(&format!("inputs.{name}")),
            "input {name} is never used"
        );
    }
    for var in env.keys() {
        assert!(
            script.contains(var.as_str()) || run["run"].as_str().unwrap().contains(var.as_str()),
            "{var} is set but never read"
        );
    }
    let mut rest = script.as_str();
    while let Some(i) = rest.find("${INPUT_") {
        let name: String = rest[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        assert!(
            env.contains_key(&name),
            "the script reads {name}; action.yml never sets it"
        );
        rest = &rest[i + 2..];
    }
    // Outputs come from the run step's $GITHUB_OUTPUT lines.
    for (name, o) in a["outputs"].as_object().unwrap() {
        assert_eq!(o["value"], format!("${{{{ steps.run.outputs.{name} }}}}"));
        assert!(
            script.contains(&format!("echo \"{name}=")),
            "{name} never written"
        );
    }
}

/// `(instruction, arguments)` of each Dockerfile line, continuations joined.
fn dockerfile() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => cur.push_str(head),
            None => {
                cur.push_str(t);
                let (ins, args) = cur.split_once(' ').unwrap_or((&cur, ""));
                out.push((ins.to_uppercase(), args.trim().to_string()));
                cur.clear();
            }
        }
    }
    out
}

#[test]
fn dockerfile_builds_in_one_stage_and_ships_only_the_binary() {
    let lines = dockerfile();
    let froms: Vec<&String> = lines
        .iter()
        .filter(|(i, _)| i == "FROM")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(froms.len(), 2, "a build stage and a final stage: {froms:?}");
    assert!(froms[0].ends_with(" AS build"), "{}", froms[0]);
    assert!(froms[0].starts_with("rust:"), "{}", froms[0]);
    // The final stage takes exactly one file from the build stage: the binary.
    let last_from = lines.iter().rposition(|(i, _)| i == "FROM").unwrap();
    let final_copies: Vec<&String> = lines[last_from..]
        .iter()
        .filter(|(i, _)| i == "COPY")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        final_copies,
        vec!["--from=build /src/target/release/scimitar /usr/local/bin/scimitar"]
    );
    let build_cmd = lines[..last_from]
        .iter()
        .find(|(i, _)| i == "RUN")
        .map(|(_, a)| a.as_str())
        .unwrap_or("");
    assert!(
        build_cmd.contains("cargo build --release --locked"),
        "{build_cmd}"
    );
    assert!(
        lines
            .iter()
            .any(|(i, a)| i == "ENTRYPOINT" && a.contains("scimitar"))
    );
}

#[test]
fn dockerfile_copies_everything_the_build_reads() {
    let lines = dockerfile();
    let mut copied: Vec<String> = Vec::new();
    for (_, args) in lines
        .iter()
        .filter(|(i, a)| i == "COPY" && !a.starts_with("--from"))
    {
        let parts: Vec<&str> = args.split_whitespace().collect();
        for src in &parts[..parts.len() - 1] {
            assert!(
                repo().join(src).exists(),
                "COPY {src}: not in the repository"
            );
            copied.push(src.to_string());
        }
    }
    // The manifest, the build script, the sources; every folder build.rs
    // embeds; every folder the sources include_str! from.
    let mut needed = vec![
        "Cargo.toml".to_string(),
        "Cargo.lock".into(),
        "build.rs".into(),
        "src".into(),
    ];
    let build_rs = std::fs::read_to_string(repo().join("build.rs")).unwrap();
    let dirs = build_rs
        .split("const DIRS")
        .nth(1)
        .and_then(|r| r.split_once("= ["))
        .and_then(|(_, r)| r.split_once("];"))
        .map(|(list, _)| list)
        .expect("build.rs declares DIRS");
    needed.extend(
        dirs.split(',')
            .map(|d| d.trim().trim_matches('"').to_string()),
    );
    for f in rust_files(&repo().join("src")) {
        let text = std::fs::read_to_string(&f).unwrap();
        for part in text.split("include_str!(\"").skip(1) {
            let rel = part.split('"').next().unwrap();
            let abs = f.parent().unwrap().join(rel).canonicalize().unwrap();
            let top = abs.strip_prefix(repo().canonicalize().unwrap()).unwrap();
            let first = top
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            needed.push(first.into_owned());
        }
    }
    needed.retain(|n| !n.is_empty());
    for n in &needed {
        assert!(
            copied.contains(n),
            "the build reads {n}; the Dockerfile does not COPY it"
        );
    }
    // .dockerignore must not drop what is copied, and keeps target/ out.
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    assert!(ignored.contains(&"target"));
    for n in &copied {
        assert!(
            !ignored.contains(&n.as_str()),
            "{n} is copied but .dockerignore drops it"
        );
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Every YAML example in docs/ci.md parses, and a GitHub job that publishes
/// JUnit annotations asks for `checks: write` (without it the check run is
/// refused on pull requests).
#[test]
fn ci_examples_parse_and_ask_for_the_permissions_they_need() {
    let doc = std::fs::read_to_string(repo().join("docs/ci.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("\n```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 3, "{} YAML examples", blocks.len());
    let mut checked = 0;
    for b in &blocks {
        // A fragment (steps only) is indented; whole files start at column 0.
        if b.starts_with(' ') {
            continue;
        }
        let v: Value = serde_saphyr::from_str(b).unwrap_or_else(|e| panic!("{e}\n{b}"));
        for (name, job) in v["jobs"].as_object().into_iter().flatten() {
            let steps = job["steps"].as_array().cloned().unwrap_or_default();
            let annotates = steps.iter().any(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("mikepenz/action-junit-report"))
            });
            if annotates {
                assert_eq!(job["permissions"]["checks"], "write", "job {name}");
                checked += 1;
            }
            for s in &steps {
                if s["uses"].as_str().is_some_and(|u| u.contains("/scimitar@")) {
                    let a = action_yml();
                    for k in s["with"].as_object().into_iter().flatten().map(|(k, _)| k) {
                        assert!(a["inputs"].get(k).is_some(), "job {name}: no input {k}");
                    }
                }
            }
        }
    }
    assert!(checked >= 2, "{checked} jobs with JUnit annotations");
}
