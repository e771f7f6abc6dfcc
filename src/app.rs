//! The commands, end to end: what `main` dispatches to. Errors that stop a
//! run from starting come back as [`StartError`] (exit code 2).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libtest_mimic::{Completion, Failed, Trial};

use crate::cli::{ConnArgs, RunArgs, ServeArgs, SuiteArgs};
use crate::http::{Auth, Client, HttpConfig};
use crate::report;
use crate::runner::{self, Outcome, RunOptions, RunResult};
use crate::suite::{self, Suite};

/// Exit codes (documented in the README).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CANNOT_START: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

/// Why a command could not start. Printed as `error: …` lines, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Usage(String),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\nerror: "))]
    Suites(Vec<suite::LoadError>),
    #[error("{0}")]
    Http(#[from] crate::http::HttpError),
    #[error("{0}")]
    Io(String),
}

/// Loads the suites the flags select.
pub fn load_suites(args: &SuiteArgs) -> Result<Vec<Suite>, StartError> {
    let paths = if args.suites.is_empty() {
        let default = PathBuf::from("suites");
        if default.is_dir() {
            vec![default]
        } else if crate::embedded::has_suites() {
            // Outside a checkout (an installed binary): the suites built in.
            let root = crate::embedded::extract()
                .map_err(|e| StartError::Io(format!("cannot unpack the built-in suites: {e}")))?;
            eprintln!(
                "note: no ./suites here: using the suites built into scimitar ({})",
                root.join("suites").display()
            );
            vec![root.join("suites")]
        } else {
            return Err(StartError::Usage(
                "no suites: ./suites does not exist here; give --suite PATH (a file or folder)"
                    .into(),
            ));
        }
    } else {
        args.suites.clone()
    };
    let mut suites = suite::load_paths(&paths).map_err(StartError::Suites)?;
    if !args.idps.is_empty() {
        let known: HashSet<&str> = suites.iter().map(|s| s.idp.as_str()).collect();
        for idp in &args.idps {
            if !known.contains(idp.as_str()) {
                let mut k: Vec<&str> = known.iter().copied().collect();
                k.sort();
                return Err(StartError::Usage(format!(
                    "--idp {idp}: no suite has that profile (profiles here: {})",
                    k.join(", ")
                )));
            }
        }
        suites.retain(|s| args.idps.contains(&s.idp));
    }
    Ok(suites)
}

/// `scimitar list`
pub fn list(args: &SuiteArgs) -> Result<ExitCode, StartError> {
    let suites = load_suites(args)?;
    let mut steps = 0;
    for s in &suites {
        let req = if s.requires.is_empty() {
            String::new()
        } else {
            format!(
                "  requires: {}",
                s.requires
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!("{} [{}]{req}  ({})", s.name, s.idp, s.file.display());
        if let Some(d) = &s.description {
            println!("    {}", d.trim());
        }
        for st in &s.steps {
            let adv = if st.advisory { "  (advisory)" } else { "" };
            println!(
                "  {} {} {}{adv}",
                st.name, st.request.method, st.request.path
            );
            steps += 1;
        }
    }
    println!("\n{} suites, {steps} steps", suites.len());
    Ok(ExitCode::from(EXIT_OK))
}

fn trial_name(suite: &Suite, step: &str) -> String {
    format!("{}::{step}", suite.name)
}

/// Which steps the filter flags select, by libtest-mimic's own rules.
fn selection(args: &libtest_mimic::Arguments, suites: &[Suite]) -> runner::Selection {
    let mut sel = HashSet::new();
    for s in suites {
        for st in &s.steps {
            let probe = Trial::test(trial_name(s, &st.name), || Ok(())).with_kind(s.idp.clone());
            if !args.is_filtered_out(&probe) {
                sel.insert((s.name.clone(), st.name.clone()));
            }
        }
    }
    Some(sel)
}

fn token(args: &ConnArgs) -> Result<Option<String>, StartError> {
    let from_env = |var: &str| -> Result<Option<String>, StartError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
            _ => Ok(None),
        }
    };
    if let Some(t) = &args.token {
        return Ok(Some(t.clone()));
    }
    if let Some(var) = &args.token_env {
        return match from_env(var)? {
            Some(t) => Ok(Some(t)),
            None => Err(StartError::Usage(format!(
                "--token-env {var}: that environment variable is not set or empty"
            ))),
        };
    }
    if let Some(f) = &args.token_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| StartError::Io(format!("--token-file {}: {e}", f.display())))?;
        let t = text.lines().next().unwrap_or("").trim().to_string();
        if t.is_empty() {
            return Err(StartError::Usage(format!(
                "--token-file {}: the file is empty",
                f.display()
            )));
        }
        return Ok(Some(t));
    }
    if args.basic.is_some() {
        return Ok(None);
    }
    from_env("SCIM_TOKEN")
}

/// The credentials the connection flags give (token, basic, or none).
pub fn auth(args: &ConnArgs) -> Result<Auth, StartError> {
    Ok(match (&args.basic, token(args)?) {
        (Some(b), _) => {
            let (user, password) = b
                .split_once(':')
                .ok_or_else(|| StartError::Usage("--basic takes user:password".into()))?;
            Auth::Basic {
                user: user.to_string(),
                password: password.to_string(),
            }
        }
        (None, Some(t)) => Auth::Bearer(t),
        (None, None) => Auth::None,
    })
}

/// The HTTP client settings the connection flags give, for `base`.
pub fn http_config(args: &ConnArgs, base: &str, auth: Auth) -> Result<HttpConfig, StartError> {
    let url = reqwest::Url::parse(base)
        .map_err(|e| StartError::Usage(format!("--url {base:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(StartError::Usage(format!(
            "--url {base:?}: give an http:// or https:// URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(StartError::Usage(
            "--url must not carry credentials; use --basic or a token option".into(),
        ));
    }
    let mut cfg = HttpConfig::new(url);
    cfg.auth = auth;
    for h in &args.headers {
        let (k, v) = h.split_once(':').ok_or_else(|| {
            StartError::Usage(format!("-H {h:?}: write headers as 'Name: value'"))
        })?;
        cfg.headers
            .push((k.trim().to_string(), v.trim().to_string()));
    }
    let secs = |name: &str, v: f64| -> Result<Duration, StartError> {
        if v.is_finite() && v > 0.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(StartError::Usage(format!(
                "{name} must be a positive number of seconds"
            )))
        }
    };
    cfg.timeout = secs("--timeout", args.timeout)?;
    cfg.connect_timeout = cfg.timeout.min(Duration::from_secs(10));
    cfg.max_retry_wait = secs("--max-retry-wait", args.max_retry_wait)?;
    cfg.max_body = args.max_body;
    cfg.cacert = args.cacert.clone();
    cfg.insecure = args.insecure;
    cfg.client_identity = args.cert.clone().zip(args.key.clone());
    if args.insecure {
        eprintln!(
            "warning: --insecure: TLS certificates are NOT verified; anyone on the network path can read and change this traffic, token included. Use --cacert FILE instead."
        );
    }
    Ok(cfg)
}

/// `scimitar run`
pub fn run(args: &RunArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, StartError> {
    let test_args = args.test_args();
    let suites = load_suites(&args.suite)?;
    if args.list {
        let trials = suites
            .iter()
            .flat_map(|s| {
                s.steps.iter().map(|st| {
                    Trial::test(trial_name(s, &st.name), || Ok(())).with_kind(s.idp.clone())
                })
            })
            .collect();
        let _listed = libtest_mimic::run(&test_args, trials);
        return Ok(ExitCode::from(EXIT_OK));
    }
    if args.jobs == 0 {
        return Err(StartError::Usage("--jobs must be at least 1".into()));
    }
    report_formats(args)?;
    let selection = selection(&test_args, &suites);
    let all_suites = suites.clone();

    // The target: exactly one of --url/SCIM_URL and --embedded; never a silent green run.
    let embedded = if args.embedded {
        let token = format!("scimitar-embedded-{}", uuid::Uuid::new_v4().simple());
        let server = rt
            .block_on(crate::server::spawn(
                ([127, 0, 0, 1], 0).into(),
                crate::server::ServerConfig {
                    token: Some(token.clone()),
                },
            ))
            .map_err(|e| StartError::Io(format!("cannot start the embedded server: {e}")))?;
        Some((server, token))
    } else {
        None
    };
    let (base, auth) = match (&embedded, &args.conn.url) {
        (Some((server, token)), _) => (server.base_url.clone(), Auth::Bearer(token.clone())),
        (None, Some(url)) => (url.clone(), auth(&args.conn)?),
        (None, None) => {
            return Err(StartError::Usage(
                "no target: give --url URL (or set SCIM_URL) to test your endpoint, or --embedded for the built-in reference server".into(),
            ));
        }
    };
    let client = Arc::new(Client::new(http_config(&args.conn, &base, auth)?)?);

    let caps = rt
        .block_on(runner::discover(&client))
        .map_err(|e| StartError::Usage(format!("cannot reach the SCIM endpoint at {base}: {e}")))?;
    if let Some(note) = &caps.note {
        eprintln!("note: {note}");
    }

    let cancel = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(snapshot_store(args, &base));
    let progress = Progress::start(args, rt, suites.len());
    let opts = RunOptions {
        run_id: runner::new_run_id(),
        keep: args.keep,
        strict: args.strict,
        jobs: args.jobs,
        snapshots: Some(snapshots.clone()),
        progress: progress.as_ref().map(|p| p.done.clone()),
    };
    let run_id = opts.run_id.clone();
    let cleanup_cmd = format!("scimitar cleanup --url {base} --prefix scimitar-{run_id}-");
    let result = rt.block_on(async {
        // Listen before the first request, so no signal finds the default handler.
        let mut signals = StopSignals::new();
        let c = cancel.clone();
        let cleanup_cmd = cleanup_cmd.clone();
        let watcher = tokio::spawn(async move {
            signals.recv().await;
            eprintln!(
                "\ninterrupted: no new requests; finishing the ones in flight, then deleting what this run created (press Ctrl-C again to quit at once)"
            );
            c.store(true, Ordering::SeqCst);
            signals.recv().await;
            eprintln!(
                "interrupted again: quitting without cleanup; `{cleanup_cmd}` removes what this run created"
            );
            std::process::exit(EXIT_INTERRUPTED as i32);
        });
        let r = runner::run(suites, client.clone(), Arc::new(caps), opts, selection, cancel.clone()).await;
        watcher.abort();
        r
    });
    if let Some(p) = progress {
        p.finish(rt);
    }
    let embedded_run = embedded.is_some();
    if let Some((server, _)) = embedded {
        rt.block_on(server.shutdown());
    }

    let color = crate::snapshot::args::color_enabled(args.color);
    let failed = if args.quiet {
        // Only what needs attention: the failures, then the summary.
        print_failures(&result)
    } else {
        libtest_mimic::run(&test_args, result_trials(&all_suites, &result, color)).has_failed()
    };
    print!("{}", report::summary::render(&result));
    if let Some(line) = snapshots.summary() {
        println!("{line}");
    }
    write_reports(args, &result)?;
    for line in rate_limit_notes(&result, args.quiet) {
        eprintln!("{line}");
    }

    let leftovers = result
        .suites
        .iter()
        .any(|s| s.cleanup.iter().any(|c| !c.ok()));
    if leftovers && !embedded_run {
        eprintln!(
            "hint: `{cleanup_cmd}` removes what this run left (add --dry-run to see it first)"
        );
    }
    if cancel.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::from(if failed || leftovers {
        EXIT_FAILED
    } else {
        EXIT_OK
    }))
}

/// The snapshot store for this run: `--snapshots DIR`, else
/// `snapshots/<target>`; the mode from the flags and `CI`.
fn snapshot_store(args: &RunArgs, base: &str) -> crate::snapshot::Store {
    use crate::snapshot::{Mode, SnapshotOptions, Store, target_dir_name};
    let s = &args.snap;
    let dir = s.dir.clone().unwrap_or_else(|| {
        PathBuf::from("snapshots").join(target_dir_name(
            s.target_name.as_deref(),
            args.embedded,
            base,
        ))
    });
    Store::new(SnapshotOptions {
        dir,
        mode: Mode::detect(s.update_snapshots),
        require: s.require_snapshots,
    })
}

/// What the server's rate limiting did to the run: each retry (unless quiet)
/// and each step left unchecked. A 429 is never a finding, but never silent.
fn rate_limit_notes(result: &RunResult, quiet: bool) -> Vec<String> {
    let mut out = Vec::new();
    for s in &result.suites {
        for st in &s.steps {
            if let Some(ex) = st.exchange.as_ref().filter(|_| !quiet) {
                for r in &ex.retries {
                    out.push(format!("note: {}::{}: {r}", s.name, st.name));
                }
            }
            if let Some(why) = st.skip_reason.as_deref().filter(|w| w.contains("(429")) {
                out.push(format!(
                    "warning: {}::{} not checked: {why}",
                    s.name, st.name
                ));
            }
        }
    }
    out
}

/// SIGINT (Ctrl-C) and SIGTERM, as one stream of stop requests.
struct StopSignals {
    #[cfg(unix)]
    unix: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl StopSignals {
    /// Must be called inside the runtime.
    fn new() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            StopSignals {
                unix: signal(SignalKind::interrupt())
                    .and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.unix {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            // No way to listen: never report a stop.
            std::future::pending::<()>().await;
        }
    }
}

fn write_reports(args: &RunArgs, result: &RunResult) -> Result<(), StartError> {
    let write = |path: &PathBuf, text: String| {
        std::fs::write(path, text)
            .map_err(|e| StartError::Io(format!("cannot write {}: {e}", path.display())))
    };
    if let Some(p) = &args.junit {
        let xml = report::junit::render(result)
            .map_err(|e| StartError::Io(format!("cannot render JUnit XML: {e}")))?;
        write(p, xml)?;
    }
    if let Some(p) = &args.json {
        write(p, report::json::render(result))?;
    }
    for (p, format) in report_formats(args)? {
        // `--report reports/scim.html` in CI: make the folder.
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StartError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        write(p, format.render(result))?;
    }
    Ok(())
}

/// Each `--report` file with its format; checked before the run starts.
fn report_formats(args: &RunArgs) -> Result<Vec<(&PathBuf, report::ReportFormat)>, StartError> {
    args.reports
        .iter()
        .map(|p| {
            report::ReportFormat::from_path(p)
                .map(|f| (p, f))
                .ok_or_else(|| {
                    StartError::Usage(format!(
                        "--report {}: name the file .md (Markdown) or .html (HTML)",
                        p.display()
                    ))
                })
        })
        .collect()
}

/// `--quiet`: each failed step's explanation; whether there was any.
fn print_failures(result: &RunResult) -> bool {
    let mut any = false;
    for s in &result.suites {
        for st in s.steps.iter().filter(|st| st.selected) {
            if st.outcome == Outcome::Failed {
                println!("FAILED {}", st.explain(&s.name).trim_end());
                println!();
                any = true;
            }
        }
    }
    any
}

/// `suites done/total` on stderr while the run goes, only when stderr is a
/// terminal (never in logs or CI output) and not with `--quiet`.
struct Progress {
    done: Arc<std::sync::atomic::AtomicUsize>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    fn start(args: &RunArgs, rt: &tokio::runtime::Runtime, total: usize) -> Option<Progress> {
        use std::io::IsTerminal;
        if args.quiet || total == 0 || !std::io::stderr().is_terminal() {
            return None;
        }
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let d = done.clone();
        let ticker = rt.spawn(async move {
            let mut shown = usize::MAX;
            loop {
                let now = d.load(Ordering::Relaxed);
                if now != shown {
                    eprint!("\r\x1b[2Kscimitar: {now}/{total} suites done");
                    shown = now;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Some(Progress { done, ticker })
    }

    fn finish(self, rt: &tokio::runtime::Runtime) {
        self.ticker.abort();
        let _ = rt.block_on(self.ticker);
        // Clear the line so the results start on a clean one.
        eprint!("\r\x1b[2K");
    }
}

/// Each step as a libtest-mimic trial carrying its recorded outcome; steps
/// that did not run are there too, so the filter counts them.
fn result_trials(suites: &[Suite], result: &RunResult, color: bool) -> Vec<Trial> {
    let mut trials = Vec::new();
    for (def, s) in suites.iter().zip(&result.suites) {
        for step in &def.steps[s.steps.len()..] {
            // Not selected (the run stops after the last selected step).
            trials.push(
                Trial::test(trial_name(def, &step.name), || Ok(())).with_kind(def.idp.clone()),
            );
        }
        for st in &s.steps {
            let name = format!("{}::{}", s.name, st.name);
            let outcome = st.outcome;
            let explain = st.explain(&s.name);
            let explain = if color && st.snapshot_diff.is_some() {
                crate::snapshot::colorize(&explain)
            } else {
                explain
            };
            let reason = st.skip_reason.clone().unwrap_or_default();
            let advisory = st
                .findings
                .first()
                .map(|f| format!("advisory: {}: {}", f.subject, f.message))
                .unwrap_or_default();
            trials.push(
                Trial::ignorable_test(name, move || match outcome {
                    Outcome::Passed => Ok(Completion::Completed),
                    Outcome::Failed => Err(Failed::from(explain)),
                    Outcome::Skipped => Ok(Completion::ignored_with(reason)),
                    Outcome::Advisory => Ok(Completion::ignored_with(advisory)),
                })
                .with_kind(s.idp.clone()),
            );
        }
    }
    trials
}

/// `scimitar serve`
pub fn serve(args: &ServeArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, StartError> {
    if args.token.is_none() {
        eprintln!(
            "warning: no --token given: the server accepts every request without authentication"
        );
    }
    rt.block_on(async {
        let server = crate::server::spawn(
            (args.host, args.port).into(),
            crate::server::ServerConfig {
                token: args.token.clone(),
            },
        )
        .await
        .map_err(|e| {
            StartError::Io(format!("cannot listen on {}:{}: {e}", args.host, args.port))
        })?;
        println!("{}", server.base_url);
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown().await;
        Ok(ExitCode::from(EXIT_OK))
    })
}
