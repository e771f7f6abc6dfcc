//! `scimitar.toml` on the command line: `--config FILE`, `--no-config`, and
//! merging the file under the flags. A flag (or its environment variable,
//! like SCIM_URL) always wins; the file fills in what was not given.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use scimitar::config::{self, Baseline, Config};

use super::CmdError;
use super::cli::{ConnArgs, RunArgs, SuiteArgs};

/// Which config file to read.
#[derive(Debug, Default, Args)]
pub struct ConfigArgs {
    /// Read settings from this file instead of ./scimitar.toml or ./.config/scimitar.toml.
    #[arg(long = "config", value_name = "FILE", conflicts_with = "no_config")]
    pub file: Option<PathBuf>,
    /// Read no config file.
    #[arg(long)]
    pub no_config: bool,
    /// The known failures of the file that was read (set after parsing).
    #[arg(skip)]
    pub baseline: Option<Arc<Baseline>>,
}

/// Whether `id` was given on the command line or by its environment variable.
fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Reads the config file the flags name (or the default one) and says so
/// on stderr; `None` when there is none.
pub fn read(args: &ConfigArgs) -> Result<Option<Config>, CmdError> {
    let Some(path) = config::find(args.file.as_deref(), args.no_config, Path::new(".")) else {
        return Ok(None);
    };
    let cfg = config::load(&path).map_err(|e| CmdError::Usage(e.to_string()))?;
    eprintln!("config: {}", path.display());
    Ok(Some(cfg))
}

/// Fills the connection flags the user did not give from `[target]`.
pub fn merge_conn(conn: &mut ConnArgs, m: &ArgMatches, cfg: &Config) {
    let t = &cfg.target;
    if !given(m, "url") && conn.url.is_none() {
        conn.url = t.url.clone();
    }
    // Credentials come as a whole: any auth flag replaces the file's method.
    let auth_ids = [
        "token",
        "token_env",
        "token_file",
        "basic",
        "oauth_token_url",
        "client_id",
        "client_secret_env",
        "client_secret_file",
    ];
    if !auth_ids.iter().any(|id| given(m, id)) {
        conn.token_env = t.token_env.clone();
        conn.token_file = t.token_file.clone();
        conn.oauth_token_url = t.oauth_token_url.clone();
        conn.client_id = t.client_id.clone();
        conn.client_secret_env = t.client_secret_env.clone();
        conn.client_secret_file = t.client_secret_file.clone();
        if !given(m, "scope") {
            conn.scope = t.scope.clone();
        }
    }
    if let Some(v) = t.timeout.filter(|_| !given(m, "timeout")) {
        conn.timeout = v;
    }
    if let Some(v) = t.max_retry_wait.filter(|_| !given(m, "max_retry_wait")) {
        conn.max_retry_wait = v;
    }
    if !given(m, "cacert") && conn.cacert.is_none() {
        conn.cacert = t.cacert.clone();
    }
}

/// Fills the suite flags the user did not give from `[run]`.
pub fn merge_suites(suite: &mut SuiteArgs, m: &ArgMatches, cfg: &Config) {
    if !given(m, "suites") {
        suite.suites = cfg.run.suites.clone();
    }
    if !given(m, "idps") {
        suite.idps = cfg.run.idp.clone();
    }
}

/// `scimitar run`: the file under the flags, and its baseline.
pub fn merge_run(args: &mut RunArgs, m: &ArgMatches) -> Result<(), CmdError> {
    let Some(cfg) = read(&args.config)? else {
        return Ok(());
    };
    merge_conn(&mut args.conn, m, &cfg);
    merge_suites(&mut args.suite, m, &cfg);
    if let Some(j) = cfg.run.jobs.filter(|_| !given(m, "jobs")) {
        args.jobs = j;
    }
    if let Some(s) = cfg.run.strict.filter(|_| !given(m, "strict")) {
        args.strict = s;
    }
    if !given(m, "dir") && args.snap.dir.is_none() {
        args.snap.dir = cfg.run.snapshots.clone();
    }
    if !cfg.known.is_empty() {
        args.config.baseline = Some(Arc::new(Baseline::new(cfg.known, config::today())));
    }
    Ok(())
}
