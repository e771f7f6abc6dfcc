//! `scimitar run`: load, discover, run with live console output, then the
//! summary, reports and exit code.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libtest_mimic::Trial;
use scimitar::http::{Auth, Client};
use scimitar::report::{self, ReportFormat};
use scimitar::results::RunResult;
use scimitar::runner::{self, Run, RunOptions};
use scimitar::suite::Suite;

use super::cli::RunArgs;
use super::console::{Live, live_trials, print_failures, trial_name};
use super::signals::StopSignals;
use super::snapshot_args::color_enabled;
use super::{CmdError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, conn, load_suites};

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

/// The steps `--skip` names, by libtest's rules (substring, or whole name
/// with `--exact`): they are not run unless a later step needs their state.
fn excluded(args: &RunArgs, suites: &[Suite]) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for s in suites {
        for st in &s.steps {
            let name = trial_name(s, &st.name);
            let hit = args.skip.iter().any(|p| {
                if args.exact {
                    name == *p
                } else {
                    name.contains(p.as_str())
                }
            });
            if hit {
                out.insert((s.name.clone(), st.name.clone()));
            }
        }
    }
    out
}

/// `scimitar run`
pub fn command(args: &RunArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let test_args = args.test_args();
    let loaded = load_suites(&args.suite)?;
    let mut suites = loaded.suites;
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
        return Err(CmdError::Usage("--jobs must be at least 1".into()));
    }
    report_formats(args)?;
    let to_stdout = args
        .junit
        .iter()
        .chain(&args.json)
        .chain(&args.reports)
        .filter(|p| is_stdout(p))
        .count();
    if to_stdout > 1 {
        return Err(CmdError::Usage(
            "only one of --junit, --json and --report can be - (standard output)".into(),
        ));
    }
    // The step lines would mix with a report on standard output.
    let quiet = args.quiet || to_stdout == 1;
    let schema_wanted = super::schema_suite::wanted(&args.suite);
    if !schema_wanted {
        // Before any request: a filter that matches nothing fails fast.
        no_steps_selected(args, &selection(&test_args, &suites))?;
    }
    let (mut builtin, mut builtin_files) = super::builtin_plan(&suites);

    // The target: exactly one of --url/SCIM_URL and --embedded; never a silent green run.
    let (embedded, base, auth) = conn::resolve_target(
        &args.conn,
        args.embedded,
        rt,
        " to test your endpoint, or --embedded for the built-in reference server",
    )?;
    let auth_described = auth.describe();
    let unauthenticated = matches!(auth, Auth::None) && args.conn.headers.is_empty();
    let client = Arc::new(Client::new(conn::http_config(&args.conn, &base, auth)?)?);

    let caps = conn::discover(rt, &client, &base)?;
    rt.block_on(super::contact::check(
        &client,
        caps.contact.as_ref(),
        &base,
        &auth_described,
        unauthenticated,
    ))?;
    for n in &loaded.notes {
        eprintln!("{n}");
    }
    if unauthenticated && embedded.is_none() {
        eprintln!(
            "warning: no credentials given (no --token, --token-env, --token-file, --basic or -H, and SCIM_TOKEN is not set): every request goes unauthenticated"
        );
    }
    if let Some(note) = &caps.note {
        eprintln!("note: {note}");
    }
    if schema_wanted {
        let generated = super::schema_suite::generated(&client, &caps, rt)?;
        // Written by scimitar for this target: they speak for the schema
        // profile, and its coverage is measured against them.
        for g in &generated {
            builtin.push(scimitar::results::BuiltinSuite {
                idp: g.idp.clone(),
                name: g.name.clone(),
                steps: g.steps.len(),
            });
            builtin_files.push(g.file.display().to_string());
        }
        suites.extend(generated);
    }
    let selection = selection(&test_args, &suites);
    no_steps_selected(args, &selection)?;
    let every_step = selection
        .as_ref()
        .is_none_or(|sel| sel.len() == suites.iter().map(|s| s.steps.len()).sum::<usize>());
    let all_suites = suites.clone();

    let cancel = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(snapshot_store(args, &base));
    // Orphans are judged against every loaded suite, before the run takes them.
    let orphan_note = every_step
        .then(|| orphan_note(args, &suites, snapshots.options()))
        .flatten();
    let live = Live::new(&suites);
    let progress = if quiet {
        Progress::start(rt, live.clone(), suites.len())
    } else {
        None
    };
    let color = color_enabled(args.color);
    let trials = live_trials(&suites, &live, color, args.verbose);
    let run = Run::new(suites)
        .options(RunOptions {
            keep: args.keep,
            strict: args.strict,
            jobs: args.jobs,
            ..RunOptions::default()
        })
        .select(selection)
        .profile_suites(builtin_files.clone())
        .exclude(excluded(args, &all_suites))
        .sink(live.clone())
        .hook(snapshots.clone())
        .cancel_flag(cancel.clone());
    // The baseline judges last, after snapshots may have failed a step.
    let run = match &args.config.baseline {
        Some(b) => run.hook(b.clone()),
        None => run,
    };
    let run_id = run.run_id().to_string();
    let cleanup_cmd = format!("scimitar cleanup --url {base} --prefix scimitar-{run_id}-");
    let caps = Arc::new(caps);
    let watch_cmd = cleanup_cmd.clone();
    let c = cancel.clone();
    let client2 = client.clone();
    let handle = rt.spawn(async move {
        // Listen before the first request, so no signal finds the default handler.
        let mut signals = StopSignals::new();
        let watcher = tokio::spawn(async move {
            signals.recv().await;
            eprintln!(
                "\ninterrupted: no new requests; finishing the ones in flight, then deleting what this run created (press Ctrl-C again to quit at once)"
            );
            c.store(true, Ordering::SeqCst);
            signals.recv().await;
            eprintln!(
                "interrupted again: quitting without cleanup; `{watch_cmd}` removes what this run created"
            );
            std::process::exit(EXIT_INTERRUPTED as i32);
        });
        let r = run.execute_with(client2, caps).await;
        watcher.abort();
        r
    });
    // Each step's line as it finishes, while the run goes on the runtime.
    let failed_live = if quiet {
        None
    } else {
        Some(libtest_mimic::run(&test_args, trials).has_failed())
    };
    let mut result = rt
        .block_on(handle)
        .map_err(|e| CmdError::Io(format!("the run stopped unexpectedly: {e}")))?;
    let interrupted = cancel.load(Ordering::SeqCst);
    result.invocation = scimitar::results::Invocation {
        command_line: redacted_command_line(client.secrets()),
        filters: scimitar::results::Filters {
            filter: args.filter.clone(),
            exact: args.exact,
            skip: args.skip.clone(),
            idps: args.suite.idps.clone(),
            suites: args
                .suite
                .suites
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        },
        suite_source: loaded.source,
        builtin,
        builtin_files,
        interrupted,
    };
    if let Some(p) = progress {
        p.finish(rt);
    }
    let embedded_run = embedded.is_some();
    if let Some(server) = embedded {
        rt.block_on(server.shutdown());
    }

    // Only what needs attention with --quiet: the failures, then the summary.
    let failed = failed_live.unwrap_or_else(|| {
        let (text, any) = print_failures(&result, args.verbose);
        if to_stdout == 1 {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        any
    });
    for line in rate_limit_notes(&result, quiet) {
        eprintln!("{line}");
    }
    // With a report on stdout (`--json -`), the summary goes to stderr.
    let summary = report::summary::render(&result);
    if to_stdout == 1 {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    for n in &result.notes {
        eprintln!("note: {n}");
    }
    if let Some(line) = snapshots.summary() {
        if to_stdout == 1 {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    if let Some(line) = orphan_note {
        println!("{line}");
    }
    write_reports(args, &result)?;
    let unfinished = report::compat::Compat::new(&result).unfinished();

    if let Some(b) = &args.config.baseline {
        b.notes().iter().for_each(|n| eprintln!("note: {n}"));
    }
    let leftovers = result.has_leftovers();
    for s in &result.suites {
        for c in &s.cleanup {
            if let Some(why) = c.problem() {
                eprintln!("left behind: {}::{}: {why}", s.name, c.path);
            }
        }
    }
    for c in result.lookup.iter().flat_map(|l| &l.cleanup) {
        if let Some(why) = c.problem() {
            eprintln!("left behind: userName lookup check: {}: {why}", c.path);
        }
    }
    // A broken lookup fails every IdP profile it speaks for, even when no
    // selected step happened to trip over it.
    let lookup_broken = result
        .lookup
        .as_ref()
        .is_some_and(|l| l.outcome == scimitar::results::LookupOutcome::Broken);
    if leftovers && !embedded_run {
        eprintln!(
            "hint: `{cleanup_cmd}` removes what this run left (add --dry-run to see it first)"
        );
    }
    if interrupted {
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(ExitCode::from(
        if failed || lookup_broken || leftovers || unfinished {
            EXIT_FAILED
        } else {
            EXIT_OK
        },
    ))
}

/// As nextest says "no tests to run": a green run of nothing is no answer.
fn no_steps_selected(args: &RunArgs, selection: &runner::Selection) -> Result<(), CmdError> {
    if !selection.as_ref().is_some_and(|s| s.is_empty()) {
        return Ok(());
    }
    let what = match (&args.filter, args.skip.is_empty()) {
        (Some(f), _) => format!("no steps match {f:?}"),
        (None, false) => "no steps left after --skip".to_string(),
        (None, true) => "no steps to run: the suites have none".to_string(),
    };
    Err(CmdError::Usage(format!(
        "{what} (`scimitar list` shows every suite and step)"
    )))
}

/// The snapshot store for this run: `--snapshots DIR`, else
/// `snapshots/<target>`; the mode from the flags and `CI`. A plain run
/// leaves no files the user did not ask for: without a snapshot flag the
/// default folder is only used when it exists (an earlier run was asked to
/// record there), else nothing is compared or written and the summary says
/// how to record.
fn snapshot_store(args: &RunArgs, base: &str) -> scimitar::snapshot::Store {
    use scimitar::snapshot::{Mode, SnapshotOptions, Store, target_dir_name};
    let s = &args.snap;
    let asked =
        s.dir.is_some() || s.target_name.is_some() || s.update_snapshots || s.require_snapshots;
    let dir = s.dir.clone().unwrap_or_else(|| {
        PathBuf::from("snapshots").join(target_dir_name(
            s.target_name.as_deref(),
            args.embedded,
            base,
        ))
    });
    let mode = if asked || dir.is_dir() {
        Mode::detect(s.update_snapshots)
    } else {
        Mode::Off
    };
    Store::new(SnapshotOptions {
        dir,
        mode,
        require: s.require_snapshots,
    })
}

/// One line naming the snapshots in the run's folder that no step of the
/// loaded suites declares, with the command that removes them; only for a
/// run of every step, when a missing owner means an orphan. With `--suite`
/// or `--idp` only the folders of the suites that ran are judged.
fn orphan_note(
    args: &RunArgs,
    suites: &[Suite],
    opts: &scimitar::snapshot::SnapshotOptions,
) -> Option<String> {
    if opts.mode == scimitar::snapshot::Mode::Off {
        return None;
    }
    use scimitar::snapshot::review::{OrphanScope, orphans};
    let scope = if args.suite.suites.is_empty() && args.suite.idps.is_empty() {
        OrphanScope::All
    } else {
        OrphanScope::TheseSuites
    };
    let list = orphans(&opts.dir, suites, scope).ok()?;
    if list.is_empty() {
        return None;
    }
    let mut cmd = format!(
        "scimitar snapshots orphans --snapshots {}",
        super::snapshots::shell_word(&opts.dir.to_string_lossy())
    );
    for s in &args.suite.suites {
        cmd.push_str(&format!(
            " --suite {}",
            super::snapshots::shell_word(&s.to_string_lossy())
        ));
    }
    let n = list.len();
    let (what, verb) = if n == 1 {
        ("snapshot", "belongs")
    } else {
        ("snapshots", "belong")
    };
    Some(format!(
        "snapshots: {n} {what} in {} {verb} to no step (orphans); `{cmd}` lists them, add --remove to delete them",
        opts.dir.display()
    ))
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
            if let Some(why) = st.skip_reason.as_ref().filter(|w| w.is_rate_limited()) {
                out.push(format!(
                    "warning: {}::{} not checked: {why}",
                    s.name, st.name
                ));
            }
        }
    }
    out
}

/// The command line as typed, with every secret replaced by `***`: the
/// values of --token and --basic, the value part of -H, and any value the
/// client knows as a secret.
fn redacted_command_line(secrets: &scimitar::http::Secrets) -> Vec<String> {
    let mut out = Vec::new();
    let mut hide_next: Option<&str> = None;
    for a in std::env::args() {
        if let Some(flag) = hide_next.take() {
            out.push(if flag == "header" {
                match a.split_once(':') {
                    Some((k, _)) => format!("{k}: ***"),
                    None => "***".into(),
                }
            } else {
                "***".into()
            });
            continue;
        }
        match a.as_str() {
            "--token" | "--basic" => hide_next = Some("secret"),
            "-H" | "--header" => hide_next = Some("header"),
            _ => {}
        }
        let shown = if let Some((flag, _)) = a
            .split_once('=')
            .filter(|(f, _)| matches!(*f, "--token" | "--basic" | "--header"))
        {
            format!("{flag}=***")
        } else {
            secrets.redact(&a)
        };
        out.push(shown);
    }
    if let Some(first) = out.first_mut() {
        // The program as its name, not the path it was started from.
        *first = "scimitar".into();
    }
    out
}

/// `-` as a file name: the report goes to standard output.
fn is_stdout(p: &std::path::Path) -> bool {
    p.as_os_str() == "-"
}

fn write_reports(args: &RunArgs, result: &RunResult) -> Result<(), CmdError> {
    let write = |path: &PathBuf, text: String| {
        if is_stdout(path) {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            return out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| CmdError::Io(format!("cannot write to standard output: {e}")));
        }
        std::fs::write(path, text)
            .map_err(|e| CmdError::Io(format!("cannot write {}: {e}", path.display())))
    };
    let render = |f: ReportFormat| f.render(result).map_err(|e| CmdError::Io(e.to_string()));
    if let Some(p) = &args.junit {
        write(p, render(ReportFormat::Junit)?)?;
    }
    if let Some(p) = &args.json {
        write(p, render(ReportFormat::Json)?)?;
    }
    for (p, format) in report_formats(args)? {
        // `--report reports/scim.html` in CI: make the folder.
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CmdError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        write(p, render(format)?)?;
    }
    Ok(())
}

/// Each `--report` file with its format; checked before the run starts.
fn report_formats(args: &RunArgs) -> Result<Vec<(&PathBuf, report::ReportFormat)>, CmdError> {
    args.reports
        .iter()
        .map(|p| {
            // `--report -`: Markdown on standard output.
            let format = if is_stdout(p) {
                Some(report::ReportFormat::Markdown)
            } else {
                report::ReportFormat::from_path(p)
            };
            format
                .map(|f| (p, f))
                .ok_or_else(|| {
                    CmdError::Usage(format!(
                        "--report {}: name the file .md (Markdown) or .html (HTML), or - for Markdown on standard output",
                        p.display()
                    ))
                })
        })
        .collect()
}

/// `suites done/total` on stderr while a `--quiet` run goes, only when
/// stderr is a terminal (never in logs or CI output). Without `--quiet`
/// each step's line is the progress.
struct Progress {
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    fn start(rt: &tokio::runtime::Runtime, live: Arc<Live>, total: usize) -> Option<Progress> {
        use std::io::IsTerminal;
        if total == 0 || !std::io::stderr().is_terminal() {
            return None;
        }
        let ticker = rt.spawn(async move {
            let mut shown = usize::MAX;
            loop {
                let now = live.suites_done.load(Ordering::Relaxed);
                if now != shown {
                    eprint!("\r\x1b[2Kscimitar: {now}/{total} suites done");
                    shown = now;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Some(Progress { ticker })
    }

    fn finish(self, rt: &tokio::runtime::Runtime) {
        self.ticker.abort();
        let _ = rt.block_on(self.ticker);
        // Clear the line so the results start on a clean one.
        eprint!("\r\x1b[2K");
    }
}
