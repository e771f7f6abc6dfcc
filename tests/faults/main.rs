//! The fault catalogue, one trial per fault: each trial puts the reference
//! server behind the fault-injecting proxy (tests/support/proxy.rs), runs
//! the binary's suites through it and checks what the catalogue says must
//! happen: the step that catches the fault fails (or is advisory), the
//! steps it must not touch pass, and the console explains the failure.
//! Legal variants are trials too: an RFC-legal server raises no alarm.
//!
//! `cargo test --test faults <name>` runs the trials whose name contains
//! `<name>`; `cargo test --test faults -- --list` lists them.

#[path = "../support/mod.rs"]
mod support;

mod idp;
mod rfc;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use support::Output;
use support::proxy::{Fault, Proxied, start};

/// One entry of the catalogue: a fault, the run that meets it, and what
/// that run must show.
pub struct Case {
    /// `rfc` or `idp`: the first part of the trial's name.
    pub catalogue: &'static str,
    pub fault: Fault,
    /// The reference server's token, also given to the binary.
    pub token: Option<&'static str>,
    /// `--suite` paths, relative to the repository.
    pub suites: &'static [&'static str],
    /// More arguments to `scimitar run` (a step filter, `-q`).
    pub args: Vec<&'static str>,
    pub expect: Vec<Expect>,
}

/// What a run through a faulty proxy must show.
pub enum Expect {
    /// The run's exit code.
    Exit(i32),
    /// `suite::step` ends with this outcome.
    Step(&'static str, &'static str),
    /// Every step of this suite (`*`: of every suite) that no `Step` or
    /// `Skipped` names ends with this outcome.
    Others(&'static str, &'static str),
    /// Every step of this suite is skipped, with a reason containing the text.
    Skipped(&'static str, &'static str),
    /// The console's failure block of `suite::step` contains the text.
    Says(&'static str, &'static str),
    /// At least this many steps ran.
    AtLeastSteps(usize),
    /// Exactly this many steps ran.
    Steps(usize),
    /// Another run through the same proxy, with these `--suite` paths and
    /// extra arguments, exits with this code.
    Rerun(&'static [&'static str], &'static [&'static str], i32),
    /// A check of the JSON report beyond step outcomes: what it checks, and
    /// the check.
    Report(&'static str, fn(&Value) -> Result<(), String>),
}

/// A finished run: the binary's output and its JSON report.
struct Run {
    out: Output,
    report: Value,
}

impl Run {
    /// `(suite, step, outcome)` for every step in the report.
    fn outcomes(&self) -> Vec<(&str, &str, &str)> {
        let mut v = Vec::new();
        for s in self.report["suites"].as_array().into_iter().flatten() {
            for st in s["steps"].as_array().into_iter().flatten() {
                v.push((
                    s["name"].as_str().unwrap_or(""),
                    st["name"].as_str().unwrap_or(""),
                    st["outcome"].as_str().unwrap_or(""),
                ));
            }
        }
        v
    }

    fn outcome(&self, id: &str) -> Option<&str> {
        let (suite, step) = id.split_once("::")?;
        self.outcomes()
            .into_iter()
            .find(|(s, st, _)| *s == suite && *st == step)
            .map(|(_, _, o)| o)
    }

    /// The failure block of one step in the console output.
    fn failure_block(&self, step: &str) -> Option<&str> {
        let stdout = &self.out.stdout;
        let start = stdout.find(&format!("{step} failed ("))?;
        let rest = &stdout[start..];
        let end = rest[1..].find("\n\n").map(|i| i + 1).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary's suites through `url`, with a JSON report.
fn run_suites(url: &str, token: Option<&str>, suites: &[&str], args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("report.json");
    let paths: Vec<PathBuf> = suites.iter().map(|s| root().join(s)).collect();
    let mut all = vec!["run", "--url", url];
    if let Some(t) = token {
        all.extend(["--token", t]);
    }
    for p in &paths {
        all.extend(["--suite", p.to_str().expect("utf-8 path")]);
    }
    all.extend(["--json", json_path.to_str().expect("utf-8 path")]);
    all.extend_from_slice(args);
    let out = support::scimitar(dir.path(), &all);
    let report = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    Run { out, report }
}

/// One runtime for every trial's servers and proxies.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().expect("runtime"))
}

impl Case {
    /// The trial's name: the catalogue, then the fault in lowercase words.
    fn name(&self) -> String {
        let mut slug = String::new();
        for c in self.fault.what.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        format!("{}::{}", self.catalogue, slug.trim_matches('-'))
    }

    fn check(self) -> Result<(), Failed> {
        let proxied = runtime().block_on(start(self.fault, self.token));
        let run = run_suites(&proxied.url, self.token, self.suites, &self.args);
        let missed: Vec<String> = self
            .expect
            .iter()
            .filter_map(|e| self.missed(e, &run, &proxied))
            .collect();
        if missed.is_empty() {
            return Ok(());
        }
        Err(format!(
            "fault '{}':\n{}\n\n{}",
            self.fault.what,
            missed.join("\n"),
            run.out.all()
        )
        .into())
    }

    /// What `e` expected and the run did not show, if anything.
    fn missed(&self, e: &Expect, run: &Run, proxied: &Proxied) -> Option<String> {
        match *e {
            Expect::Exit(code) => (run.out.code != code)
                .then(|| format!("exit code {}, expected {code}", run.out.code)),
            Expect::Step(id, want) => {
                let got = run.outcome(id);
                (got != Some(want)).then(|| format!("{id} was {got:?}, expected {want}"))
            }
            Expect::Others(suite, want) => {
                let wrong: Vec<String> = run
                    .outcomes()
                    .into_iter()
                    .filter(|(s, st, o)| {
                        (suite == "*" || *s == suite) && !self.names(s, st) && *o != want
                    })
                    .map(|(s, st, o)| format!("{s}::{st} was {o}, expected {want}"))
                    .collect();
                (!wrong.is_empty()).then(|| wrong.join("\n"))
            }
            Expect::Skipped(suite, reason) => {
                let steps: Vec<&Value> = run.report["suites"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s["name"] == suite)
                    .flat_map(|s| s["steps"].as_array().into_iter().flatten())
                    .collect();
                if steps.is_empty() {
                    return Some(format!("{suite}: not in the report"));
                }
                let wrong: Vec<String> = steps
                    .iter()
                    .filter(|st| {
                        st["outcome"] != "skipped"
                            || !st["skip_reason"]
                                .as_str()
                                .is_some_and(|r| r.contains(reason))
                    })
                    .map(|st| {
                        format!(
                            "{suite}::{}: {st}, expected skipped for '{reason}'",
                            st["name"]
                        )
                    })
                    .collect();
                (!wrong.is_empty()).then(|| wrong.join("\n"))
            }
            Expect::Says(id, text) => match run.failure_block(id) {
                None => Some(format!("no failure block for {id} on the console")),
                Some(block) => (!block.contains(text))
                    .then(|| format!("the failure of {id} does not say '{text}':\n{block}")),
            },
            Expect::AtLeastSteps(n) => {
                let got = run.outcomes().len();
                (got < n).then(|| format!("only {got} steps ran, expected at least {n}"))
            }
            Expect::Steps(n) => {
                let got = run.outcomes().len();
                (got != n).then(|| format!("{got} steps ran, expected {n}"))
            }
            Expect::Rerun(suites, args, code) => {
                let again = run_suites(&proxied.url, self.token, suites, args);
                (again.out.code != code).then(|| {
                    format!(
                        "with {suites:?} {args:?}: exit code {}, expected {code}\n{}",
                        again.out.code,
                        again.out.all()
                    )
                })
            }
            Expect::Report(what, check) => check(&run.report).err().map(|e| format!("{what}: {e}")),
        }
    }

    /// Whether a `Step` or `Skipped` expectation names this step.
    fn names(&self, suite: &str, step: &str) -> bool {
        self.expect.iter().any(|e| match *e {
            Expect::Step(id, _) => id.split_once("::") == Some((suite, step)),
            Expect::Skipped(s, _) => s == suite,
            _ => false,
        })
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // A few binary runs at a time (the machine is shared), unless told.
    if args.test_threads.is_none() && std::env::var_os("RUST_TEST_THREADS").is_none() {
        args.test_threads = Some(4);
    }
    let mut names = std::collections::HashSet::new();
    let trials = rfc::cases()
        .into_iter()
        .chain(idp::cases())
        .map(|c| {
            let name = c.name();
            // Two faults described alike could not be run one at a time.
            assert!(names.insert(name.clone()), "two faults are named {name}");
            Trial::test(name, move || c.check())
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
