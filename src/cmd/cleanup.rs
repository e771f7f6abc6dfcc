//! `scimitar cleanup`: remove what crashed runs left behind.

use std::process::ExitCode;

use scimitar::cleanup::{check_prefix, delete, find};
use scimitar::http::Client;

use super::cli::CleanupArgs;
use super::{CmdError, EXIT_FAILED, EXIT_OK, conn};

/// `scimitar cleanup`
pub fn command(args: &CleanupArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    check_prefix(&args.prefix).map_err(|e| CmdError::Usage(e.to_string()))?;
    let base = args
        .conn
        .url
        .clone()
        .ok_or_else(|| CmdError::Usage("no target: give --url URL (or set SCIM_URL)".into()))?;
    let auth = conn::auth(&args.conn)?;
    let client = Client::new(conn::http_config(&args.conn, &base, auth)?)?;
    rt.block_on(async {
        let found = find(&client, &args.prefix)
            .await
            .map_err(|e| CmdError::Usage(format!("cleanup of {base}: {e}")))?;
        for n in &found.notes {
            eprintln!("note: {n}");
        }
        let show = |s: &str| client.secrets().redact(s);
        if found.leftovers.is_empty() {
            println!(
                "nothing to clean up: no User or Group name starts with {:?}",
                args.prefix
            );
            return Ok(ExitCode::from(EXIT_OK));
        }
        let mut failed = 0;
        for l in &found.leftovers {
            let what = format!("{} {} {}", l.kind.name, show(&l.id), show(&l.name));
            if args.dry_run {
                println!("would delete {what}");
                continue;
            }
            match delete(&client, l).await {
                Ok(s) if (200..300).contains(&s) || s == 404 => {
                    println!("deleted {what} ({s})")
                }
                Ok(s) => {
                    failed += 1;
                    println!("NOT deleted {what}: DELETE answered {s}");
                }
                Err(e) => {
                    failed += 1;
                    println!("NOT deleted {what}: {e}");
                }
            }
        }
        let n = found.leftovers.len();
        if args.dry_run {
            println!("\n{n} leftovers (dry run: nothing deleted)");
            Ok(ExitCode::from(EXIT_OK))
        } else if failed > 0 {
            println!("\n{} of {n} leftovers deleted; {failed} remain", n - failed);
            Ok(ExitCode::from(EXIT_FAILED))
        } else {
            println!("\n{n} leftovers deleted");
            Ok(ExitCode::from(EXIT_OK))
        }
    })
}
