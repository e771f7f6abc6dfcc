//! `scimitar load`: the command layer over [`scimitar::load`]: flags, the
//! target and credentials (as for `run`), Ctrl-C, progress, the report and
//! the exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use scimitar::http::Client;
use scimitar::load::{self, Live, LoadConfig, report};

use super::cli::ConnArgs;
use super::signals::StopSignals;
use super::{CmdError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, conn};

pub const LOAD_EXAMPLES: &str = "Examples:
  scimitar load --embedded --users 10000
  scimitar load --url URL --token-env TOKEN --users 10000 --groups 200 \\
      --members 50 --concurrency 16 --json load.json
  scimitar load --url URL --rate 25 --require-rps 25 --max-p99 500ms
  scimitar load --users 100000 --export-locust locustfile.py

Exit codes: 0 passed, 1 a threshold or correctness check failed or data
was left behind, 2 could not start, 130 interrupted (after cleanup).";

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Load the built-in reference server, started in-process.
    #[arg(long, conflicts_with = "url")]
    pub embedded: bool,

    /// Users to sync (each: a userName match, then a create).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub users: usize,
    /// Groups to sync (each: a displayName match, a create, member PATCHes).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub groups: usize,
    /// Members per group.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub members: usize,
    /// Members added per PATCH.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub member_batch: usize,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// At most this many requests per second.
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// Keep what the run created (no cleanup at the end).
    #[arg(long)]
    pub keep: bool,

    /// Write the results as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the scenario as a Locust locustfile here and exit (no target needed).
    #[arg(long, value_name = "FILE")]
    pub export_locust: Option<PathBuf>,

    /// Fail unless the run sustains at least this many requests/s.
    #[arg(long, value_name = "RPS")]
    pub require_rps: Option<f64>,
    /// Fail if more than this share of operations fail (0.01 = 1%).
    #[arg(long, value_name = "SHARE")]
    pub max_error_rate: Option<f64>,
    /// Fail if p99 latency is above this (500ms, 2s; a bare number is ms).
    #[arg(long, value_name = "TIME", value_parser = parse_ms)]
    pub max_p99: Option<f64>,

    /// No progress display.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `500ms`, `2s`, `1.5s` or `250` (milliseconds) as milliseconds.
fn parse_ms(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!("{s:?}: give a time such as 500ms or 2s")),
    }
}

/// `scimitar load`
pub fn command(args: &LoadArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let config = LoadConfig {
        users: args.users,
        groups: args.groups,
        members: args.members,
        member_batch: args.member_batch,
        concurrency: args.concurrency,
        rate: args.rate,
        keep: args.keep,
        // Checked with the other connection flags below; never a panic here.
        max_retry_wait: Duration::try_from_secs_f64(args.conn.max_retry_wait)
            .unwrap_or(Duration::from_secs(30)),
        ..LoadConfig::default()
    };
    if let Some(path) = &args.export_locust {
        std::fs::write(path, load::locust::locustfile(&config))
            .map_err(|e| CmdError::Io(format!("cannot write {}: {e}", path.display())))?;
        println!(
            "wrote {}: SCIM_TOKEN=… locust -f {} --host URL --headless -u {} -r {} -t 5m",
            path.display(),
            path.display(),
            args.concurrency,
            args.concurrency.min(16)
        );
        return Ok(ExitCode::from(EXIT_OK));
    }
    if let Some(r) = args.max_error_rate
        && !(0.0..=1.0).contains(&r)
    {
        return Err(CmdError::Usage(
            "--max-error-rate is a share between 0 and 1 (0.01 = 1%)".into(),
        ));
    }
    let thresholds = report::Thresholds {
        require_rps: args.require_rps,
        max_error_rate: args.max_error_rate,
        max_p99_ms: args.max_p99,
    };

    let (embedded, base, auth) = conn::resolve_target(
        &args.conn,
        args.embedded,
        rt,
        ", or --embedded for the built-in reference server",
    )?;
    let mut http = conn::http_config(&args.conn, &base, auth)?;
    // The load driver paces 429s itself (every worker pauses), counts each
    // timeout, and keeps a connection per worker.
    http.down_after_timeout = false;
    http.max_idle_per_host = args.concurrency.max(1);
    let client = Arc::new(Client::new(http)?);

    let cleanup_hint = format!(
        "scimitar cleanup --url {base} --prefix {}{}-",
        scimitar::cleanup::HARNESS_PREFIX,
        config.run_id
    );
    let cancel = Arc::new(AtomicBool::new(false));
    let live = Arc::new(Live::default());
    let progress = (!args.quiet).then(|| Progress::start(rt, live.clone()));
    let result = rt.block_on(async {
        // Listen before the first request, so no signal finds the default handler.
        let signals = StopSignals::new();
        let watcher = tokio::spawn(watch_signals(signals, cancel.clone(), cleanup_hint.clone()));
        let r = load::run(client.clone(), config, cancel.clone(), live).await;
        watcher.abort();
        r
    });
    if let Some(p) = progress {
        p.finish(rt);
    }
    if let Some(server) = embedded {
        rt.block_on(server.shutdown());
    }
    let report = result.map_err(|e| CmdError::Usage(e.to_string()))?;
    let checked = thresholds.check(&report);
    print!("{}", report::text(&report, &checked, &cleanup_hint));
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(&report, &checked))
            .map_err(|e| CmdError::Io(format!("cannot write {}: {e}", path.display())))?;
    }
    if report.interrupted {
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let failed = !report.correct() || checked.iter().any(|t| !t.pass) || report.leftovers > 0;
    Ok(ExitCode::from(if failed { EXIT_FAILED } else { EXIT_OK }))
}

/// First Ctrl-C (or SIGTERM): stop sending new work, clean up. Second: quit.
async fn watch_signals(mut signals: StopSignals, cancel: Arc<AtomicBool>, cleanup_hint: String) {
    signals.recv().await;
    eprintln!(
        "\ninterrupted: no new requests; finishing the ones in flight, then deleting what this run created (press Ctrl-C again to quit at once)"
    );
    cancel.store(true, Ordering::SeqCst);
    signals.recv().await;
    eprintln!(
        "interrupted again: quitting without cleanup; `{cleanup_hint}` removes what this run created"
    );
    std::process::exit(EXIT_INTERRUPTED as i32);
}

/// A progress bar on a terminal; a line every 10 s otherwise (CI logs).
struct Progress {
    ticker: tokio::task::JoinHandle<()>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(rt: &tokio::runtime::Runtime, live: Arc<Live>) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = tty.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        let b = bar.clone();
        let ticker = rt.spawn(async move {
            let started = Instant::now();
            let mut last_line = Instant::now();
            loop {
                let ops = live.operations.load(Ordering::Relaxed);
                let errors = live.errors.load(Ordering::Relaxed);
                let (done, total) = (
                    live.done.load(Ordering::Relaxed),
                    live.total.load(Ordering::Relaxed),
                );
                let rate = ops as f64 / started.elapsed().as_secs_f64().max(0.001);
                match &b {
                    // Nothing to show before the first phase starts.
                    _ if total == 0 => {}
                    Some(bar) => {
                        bar.set_prefix(live.phase());
                        bar.set_length(total);
                        bar.set_position(done);
                        bar.set_message(format!("{ops} ops, {errors} errors, {rate:.0} ops/s"));
                    }
                    None if last_line.elapsed() >= Duration::from_secs(10) => {
                        eprintln!(
                            "load: {} {done}/{total}; {ops} operations, {errors} errors, {rate:.0} ops/s",
                            live.phase()
                        );
                        last_line = Instant::now();
                    }
                    None => {}
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Progress { ticker, bar }
    }

    fn finish(self, rt: &tokio::runtime::Runtime) {
        self.ticker.abort();
        let _ = rt.block_on(self.ticker);
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_milliseconds() {
        assert_eq!(parse_ms("500ms"), Ok(500.0));
        assert_eq!(parse_ms("2s"), Ok(2000.0));
        assert_eq!(parse_ms("1.5s"), Ok(1500.0));
        assert_eq!(parse_ms("250"), Ok(250.0));
        assert!(parse_ms("fast").is_err());
        assert!(parse_ms("-1s").is_err());
    }
}
