//! The binary's command layer: clap definitions ([`cli`]), one module per
//! command, the console, signals and exit codes. The library never imports
//! anything from here.

pub mod certify;
pub mod cleanup;
pub mod cli;
pub mod config_args;
pub mod conn;
pub mod console;
pub mod contact;
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

/// The suites the flags select, with the notes to print once the target
/// answered (so a run that cannot start says one line, not three) and
/// where the suites came from.
pub struct Loaded {
    pub suites: Vec<Suite>,
    pub notes: Vec<String>,
    pub source: scimitar::results::SuiteSource,
}

/// `--suite builtin` names the suites built into scimitar.
pub const BUILTIN: &str = "builtin";

/// The folder the built-in suites are unpacked to.
fn builtin_dir() -> Result<PathBuf, CmdError> {
    if !scimitar::embedded::has_suites() {
        return Err(CmdError::Usage(
            "this scimitar was built without suites: give --suite PATH".into(),
        ));
    }
    let root = scimitar::embedded::extract()
        .map_err(|e| CmdError::Io(format!("cannot unpack the built-in suites: {e}")))?;
    Ok(root.join("suites"))
}

/// Loads the suites the flags select.
pub fn load_suites(args: &SuiteArgs) -> Result<Loaded, CmdError> {
    let mut notes = Vec::new();
    let mut source = scimitar::results::SuiteSource::default();
    let version = env!("CARGO_PKG_VERSION").to_string();
    let mut paths = Vec::new();
    // The schema profile's suites are generated from the target, not loaded.
    let generated = scimitar::schema_suite::PROFILE;
    if args.suites.is_empty() && !args.idps.is_empty() && args.idps.iter().all(|i| i == generated) {
        return Ok(Loaded {
            suites: Vec::new(),
            notes,
            source,
        });
    }
    if args.suites.is_empty() {
        let default = PathBuf::from("suites");
        if default.is_dir() {
            // Never silently: a vendor repository may hold unrelated YAML here.
            notes.push(
                "note: using ./suites in this folder, not the suites built into scimitar (`--suite builtin` runs those; `--suite suites` says this is meant)".into(),
            );
            source.paths.push("./suites".into());
            paths.push(default);
        } else {
            // Outside a checkout (an installed binary): the suites built in.
            let dir = builtin_dir()?;
            notes.push(format!(
                "note: no ./suites here: using the suites built into scimitar ({})",
                dir.display()
            ));
            source.builtin = Some(version.clone());
            paths.push(dir);
        }
    } else {
        for p in &args.suites {
            if p.as_os_str() == BUILTIN {
                source.builtin = Some(version.clone());
                paths.push(builtin_dir()?);
            } else {
                source.paths.push(p.display().to_string());
                paths.push(p.clone());
            }
        }
    }
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
    Ok(Loaded {
        suites,
        notes,
        source,
    })
}

/// The built-in suites (what each profile's coverage is measured
/// against), and which of `loaded` are built-in ones: same content as a
/// built-in suite file. Empty when the binary carries no suites.
pub fn builtin_plan(loaded: &[Suite]) -> (Vec<scimitar::results::BuiltinSuite>, Vec<String>) {
    let Ok(dir) = builtin_dir() else {
        return (Vec::new(), Vec::new());
    };
    let plan = suite::load_paths(&[dir])
        .map(|all| {
            all.iter()
                .map(|s| scimitar::results::BuiltinSuite {
                    idp: s.idp.clone(),
                    name: s.name.clone(),
                    steps: s.steps.len(),
                })
                .collect()
        })
        .unwrap_or_default();
    let builtin_bytes: Vec<&[u8]> = scimitar::embedded::files()
        .iter()
        .filter(|(p, _)| p.starts_with("suites/"))
        .map(|(_, b)| *b)
        .collect();
    let files = loaded
        .iter()
        .filter(|s| std::fs::read(&s.file).is_ok_and(|b| builtin_bytes.contains(&b.as_slice())))
        .map(|s| s.file.display().to_string())
        .collect();
    (plan, files)
}
