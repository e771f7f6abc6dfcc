//! `scimitar serve`: the reference server alone.

use std::process::ExitCode;

use super::cli::ServeArgs;
use super::{CmdError, EXIT_OK};

/// `scimitar serve`
pub fn command(args: &ServeArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let mut oauth_clients = Vec::new();
    for c in &args.oauth_client {
        let (id, secret) = c
            .split_once(':')
            .filter(|(i, s)| !i.is_empty() && !s.is_empty())
            .ok_or_else(|| {
                CmdError::Usage(format!(
                    "--oauth-client {:?}: write it as ID:SECRET",
                    c.split(':').next().unwrap_or("")
                ))
            })?;
        oauth_clients.push((id.to_string(), secret.to_string()));
    }
    if args.oauth_token_ttl == 0 {
        return Err(CmdError::Usage(
            "--oauth-token-ttl must be at least 1 second".into(),
        ));
    }
    if args.token.is_none() && oauth_clients.is_empty() {
        eprintln!(
            "warning: no --token or --oauth-client given: the server accepts every request without authentication"
        );
    }
    rt.block_on(async {
        let server = scimitar::server::spawn(
            (args.host, args.port).into(),
            scimitar::server::ServerConfig {
                token: args.token.clone(),
                oauth_clients: oauth_clients.clone(),
                oauth_token_ttl: std::time::Duration::from_secs(args.oauth_token_ttl),
            },
        )
        .await
        .map_err(|e| CmdError::Io(format!("cannot listen on {}:{}: {e}", args.host, args.port)))?;
        println!("{}", server.base_url);
        if !oauth_clients.is_empty() {
            let root = server.base_url.trim_end_matches("/scim/v2");
            eprintln!(
                "OAuth 2.0 client credentials: POST {root}/oauth/token ({} client(s), tokens live {} s)",
                oauth_clients.len(),
                args.oauth_token_ttl
            );
        }
        let _ = tokio::signal::ctrl_c().await;
        server.shutdown().await;
        Ok(ExitCode::from(EXIT_OK))
    })
}
