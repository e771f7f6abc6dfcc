//! The binary's command layer: clap definitions ([`cli`]), one module per
//! command, the console, signals and exit codes. The library never imports
//! anything from here.

pub mod certify;
pub mod cleanup;
pub mod cli;
pub mod config_args;
pub mod conn;
pub mod console;
pub mod list;
pub mod load;
pub mod record;
pub mod run;
pub mod schema_suite;
pub mod serve;
pub mod signals;
pub mod snapshot_args;
pub mod snapshots;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use scimitar::suite::{self, Suite};

use cli::{Cli, Command, SuiteArgs};

/// Exit codes (documented in the README).
pub const EXIT_OK: u8 = 0;
/// A check failed, or something was left behind.
pub const EXIT_FAILED: u8 = 1;
/// The command could not start.
pub const EXIT_CANNOT_START: u8 = 2;
/// The user stopped the run.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Why a command could not do its job. Printed as `error: …` lines.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("{0}")]
    Usage(String),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\nerror: "))]
    Suites(Vec<suite::LoadError>),
    #[error("{0}")]
    Http(#[from] scimitar::http::HttpError),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Snapshot(#[from] scimitar::snapshot::SnapshotError),
    #[error("{0}")]
    Record(#[from] scimitar::record::RecordError),
}

impl CmdError {
    /// The process exit code for this error: every one means the command
    /// could not start or finish its setup.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(EXIT_CANNOT_START)
    }
}

/// Runs the parsed command line.
pub fn dispatch(cli: &Cli, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    match &cli.command {
        Command::Run(args) => run::command(args, rt),
        Command::List(args) => list::command(args, rt),
        Command::Serve(args) => serve::command(args, rt),
        Command::Snapshots(args) => Ok(snapshots::command(args)?),
        Command::Cleanup(args) => cleanup::command(args, rt),
        Command::Load(args) => load::command(args, rt),
        Command::Record(args) => record::command(args, rt),
        Command::Certify(args) => certify::command(args, rt),
        Command::SchemaSuite(args) => schema_suite::command(args, rt),
        Command::Completions { shell } => Ok(completions(*shell)),
    }
}

/// Merges scimitar.toml under the flags of the commands that read it.
pub fn merge_config(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<(), CmdError> {
    match (&mut cli.command, matches.subcommand()) {
        (Command::Run(args), Some(("run", m))) => config_args::merge_run(args, m)?,
        (Command::Certify(args), Some(("certify", m))) => {
            if let Some(cfg) = config_args::read(&args.config)? {
                config_args::merge_conn(&mut args.conn, m, &cfg);
            }
        }
        _ => {}
    }
    Ok(())
}

fn completions(shell: clap_complete::Shell) -> ExitCode {
    use clap::CommandFactory;
    use std::io::Write;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "scimitar", &mut script);
    // A closed pipe (`| head`) is the reader's choice, not an error.
    match std::io::stdout().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write the completions: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// Loads the suites the flags select.
pub fn load_suites(args: &SuiteArgs) -> Result<Vec<Suite>, CmdError> {
    // The schema profile's suites are generated from the target, not loaded.
    let generated = scimitar::schema_suite::PROFILE;
    if args.suites.is_empty() && !args.idps.is_empty() && args.idps.iter().all(|i| i == generated) {
        return Ok(Vec::new());
    }
    let paths = if args.suites.is_empty() {
        let default = PathBuf::from("suites");
        if default.is_dir() {
            vec![default]
        } else if scimitar::embedded::has_suites() {
            // Outside a checkout (an installed binary): the suites built in.
            let root = scimitar::embedded::extract()
                .map_err(|e| CmdError::Io(format!("cannot unpack the built-in suites: {e}")))?;
            eprintln!(
                "note: no ./suites here: using the suites built into scimitar ({})",
                root.join("suites").display()
            );
            vec![root.join("suites")]
        } else {
            return Err(CmdError::Usage(
                "no suites: ./suites does not exist here; give --suite PATH (a file or folder)"
                    .into(),
            ));
        }
    } else {
        args.suites.clone()
    };
    let mut suites = suite::load_paths(&paths).map_err(CmdError::Suites)?;
    if !args.idps.is_empty() {
        let known: HashSet<&str> = suites.iter().map(|s| s.idp.as_str()).collect();
        for idp in &args.idps {
            if !known.contains(idp.as_str()) && idp != generated {
                let mut k: Vec<&str> = known.iter().copied().collect();
                k.sort();
                return Err(CmdError::Usage(format!(
                    "--idp {idp}: no suite has that profile (profiles here: {})",
                    k.join(", ")
                )));
            }
        }
        suites.retain(|s| args.idps.contains(&s.idp));
    }
    Ok(suites)
}
