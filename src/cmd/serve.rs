//! `scimitar serve`: the reference server alone.

use std::process::ExitCode;

use super::cli::ServeArgs;
use super::{CmdError, EXIT_OK};

/// `scimitar serve`
pub fn command(args: &ServeArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    if args.token.is_none() {
        eprintln!(
            "warning: no --token given: the server accepts every request without authentication"
        );
    }
    rt.block_on(async {
        let server = scimitar::server::spawn(
            (args.host, args.port).into(),
            scimitar::server::ServerConfig {
                token: args.token.clone(),
            },
        )
        .await
        .map_err(|e| CmdError::Io(format!("cannot listen on {}:{}: {e}", args.host, args.port)))?;
        println!("{}", server.base_url);
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown().await;
        Ok(ExitCode::from(EXIT_OK))
    })
}
