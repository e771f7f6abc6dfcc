//! The `scimitar` binary: the command layer over the library.

mod cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cmd::EXIT_CANNOT_START;
use cmd::cli::Cli;

fn main() -> ExitCode {
    // Any panic left is a bug: say so in one line and exit 2, never a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error (a bug in scimitar, please report it): {msg}{at}; if a run was under way, `scimitar cleanup --url URL --dry-run` lists what it left"
        );
        std::process::exit(EXIT_CANNOT_START as i32);
    }));

    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // scimitar.toml fills in what the flags did not give (issue 20).
    if let Err(e) = cmd::merge_config(&mut cli, &matches) {
        eprintln!("error: {e}");
        return e.exit_code();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_CANNOT_START);
        }
    };
    match cmd::dispatch(&cli, &rt) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
