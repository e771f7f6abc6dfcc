use std::process::ExitCode;

use clap::Parser;
use scimitar::app::{self, EXIT_CANNOT_START};
use scimitar::cli::{Cli, Command};

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

    let cli = Cli::parse();
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
    let result = match &cli.command {
        Command::Run(args) => app::run(args, &rt),
        Command::List(args) => app::list(args),
        Command::Serve(args) => app::serve(args, &rt),
        Command::Snapshots(args) => scimitar::snapshot::review::command(args)
            .map_err(|e| app::StartError::Io(e.to_string())),
        Command::Cleanup(args) => scimitar::cleanup::command(args, &rt),
        Command::Load(args) => scimitar::cli::load_cmd::command(args, &rt),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "scimitar", &mut script);
            // A closed pipe (`| head`) is the reader's choice, not an error.
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write the completions: {e}");
                    Ok(ExitCode::from(EXIT_CANNOT_START))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
    }
}
