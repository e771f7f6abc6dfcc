//! Reaching the target: credentials and HTTP settings from the connection
//! flags (shared by `run` and `cleanup`).

use std::time::Duration;

use scimitar::http::{Auth, HttpConfig};

use super::CmdError;
use super::cli::ConnArgs;

fn token(args: &ConnArgs) -> Result<Option<String>, CmdError> {
    let from_env = |var: &str| -> Result<Option<String>, CmdError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
            _ => Ok(None),
        }
    };
    if let Some(t) = &args.token {
        return Ok(Some(t.clone()));
    }
    if let Some(var) = &args.token_env {
        return match from_env(var)? {
            Some(t) => Ok(Some(t)),
            None => Err(CmdError::Usage(format!(
                "--token-env {var}: that environment variable is not set or empty"
            ))),
        };
    }
    if let Some(f) = &args.token_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| CmdError::Io(format!("--token-file {}: {e}", f.display())))?;
        let t = text.lines().next().unwrap_or("").trim().to_string();
        if t.is_empty() {
            return Err(CmdError::Usage(format!(
                "--token-file {}: the file is empty",
                f.display()
            )));
        }
        return Ok(Some(t));
    }
    if args.basic.is_some() {
        return Ok(None);
    }
    from_env("SCIM_TOKEN")
}

/// The credentials the connection flags give (OAuth client credentials,
/// token, basic, or none).
pub fn auth(args: &ConnArgs) -> Result<Auth, CmdError> {
    if let Some(url) = &args.oauth_token_url {
        return oauth(args, url);
    }
    Ok(match (&args.basic, token(args)?) {
        (Some(b), _) => {
            let (user, password) = b
                .split_once(':')
                .ok_or_else(|| CmdError::Usage("--basic takes user:password".into()))?;
            Auth::Basic {
                user: user.to_string(),
                password: password.to_string(),
            }
        }
        (None, Some(t)) => Auth::Bearer(t),
        (None, None) => Auth::None,
    })
}

/// OAuth 2.0 client credentials from the flags; the secret only from an
/// environment variable or a file.
fn oauth(args: &ConnArgs, url: &str) -> Result<Auth, CmdError> {
    use scimitar::http::oauth::{ClientCredentials, ClientCredentialsConfig};
    let token_url = reqwest::Url::parse(url)
        .map_err(|e| CmdError::Usage(format!("--oauth-token-url {url:?} is not a URL: {e}")))?;
    if !matches!(token_url.scheme(), "http" | "https") {
        return Err(CmdError::Usage(format!(
            "--oauth-token-url {url:?}: give an http:// or https:// URL"
        )));
    }
    let client_id = args.client_id.clone().unwrap_or_default();
    let secret = match (&args.client_secret_env, &args.client_secret_file) {
        (Some(var), _) => std::env::var(var)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                CmdError::Usage(format!(
                    "--client-secret-env {var}: that environment variable is not set or empty"
                ))
            })?,
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| CmdError::Io(format!("--client-secret-file {}: {e}", f.display())))?;
            let t = text.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                return Err(CmdError::Usage(format!(
                    "--client-secret-file {}: the file is empty",
                    f.display()
                )));
            }
            t
        }
        (None, None) => {
            return Err(CmdError::Usage(
                "--oauth-token-url needs the client secret: give --client-secret-env VAR or --client-secret-file FILE (never on the command line)".into(),
            ));
        }
    };
    let provider = ClientCredentials::new(ClientCredentialsConfig {
        token_url,
        client_id,
        client_secret: secret,
        scope: args.scope.clone(),
        timeout: Duration::from_secs_f64(args.timeout.clamp(1.0, 60.0)),
    })
    .map_err(|e| CmdError::Usage(e.to_string()))?;
    Ok(Auth::Provider(std::sync::Arc::new(provider)))
}

/// The HTTP client settings the connection flags give, for `base`.
pub fn http_config(args: &ConnArgs, base: &str, auth: Auth) -> Result<HttpConfig, CmdError> {
    let url = reqwest::Url::parse(base)
        .map_err(|e| CmdError::Usage(format!("--url {base:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CmdError::Usage(format!(
            "--url {base:?}: give an http:// or https:// URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CmdError::Usage(
            "--url must not carry credentials; use --basic or a token option".into(),
        ));
    }
    let mut cfg = HttpConfig::new(url);
    cfg.auth = auth;
    for h in &args.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| CmdError::Usage(format!("-H {h:?}: write headers as 'Name: value'")))?;
        cfg.headers
            .push((k.trim().to_string(), v.trim().to_string()));
    }
    let secs = |name: &str, v: f64| -> Result<Duration, CmdError> {
        if v.is_finite() && v > 0.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(CmdError::Usage(format!(
                "{name} must be a positive number of seconds"
            )))
        }
    };
    cfg.timeout = secs("--timeout", args.timeout)?;
    cfg.connect_timeout = cfg.timeout.min(Duration::from_secs(10));
    cfg.max_retry_wait = secs("--max-retry-wait", args.max_retry_wait)?;
    cfg.max_body = args.max_body;
    cfg.cacert = args.cacert.clone();
    cfg.insecure = args.insecure;
    cfg.client_identity = args.cert.clone().zip(args.key.clone());
    if args.insecure {
        eprintln!(
            "warning: --insecure: TLS certificates are NOT verified; anyone on the network path can read and change this traffic, token included. Use --cacert FILE instead."
        );
    }
    Ok(cfg)
}

/// Discovery once before a run; a failure is a usage error naming the
/// target (or the credentials, when they could not be had).
pub fn discover(
    rt: &tokio::runtime::Runtime,
    client: &scimitar::http::Client,
    base: &str,
) -> Result<scimitar::runner::Capabilities, CmdError> {
    rt.block_on(scimitar::runner::discover(client))
        .map_err(|e| match e {
            scimitar::http::HttpError::Credentials(why) => {
                CmdError::Usage(format!("cannot get credentials: {why}"))
            }
            e => CmdError::Usage(format!("cannot reach the SCIM endpoint at {base}: {e}")),
        })
}

/// Where a command sends its requests: the reference server started
/// in-process for `--embedded` (with a fresh token), or `--url` with the
/// connection flags' credentials. Neither is an error, never a silent run;
/// `no_target` ends the message that says so.
pub fn resolve_target(
    conn_args: &ConnArgs,
    embedded: bool,
    rt: &tokio::runtime::Runtime,
    no_target: &str,
) -> Result<(Option<scimitar::server::RunningServer>, String, Auth), CmdError> {
    if embedded {
        let token = format!("scimitar-embedded-{}", uuid::Uuid::new_v4().simple());
        let server = rt
            .block_on(scimitar::server::spawn(
                ([127, 0, 0, 1], 0).into(),
                scimitar::server::ServerConfig {
                    token: Some(token.clone()),
                    ..Default::default()
                },
            ))
            .map_err(|e| CmdError::Io(format!("cannot start the embedded server: {e}")))?;
        let base = server.base_url.clone();
        return Ok((Some(server), base, Auth::Bearer(token)));
    }
    match &conn_args.url {
        Some(url) => Ok((None, url.clone(), auth(conn_args)?)),
        None => Err(CmdError::Usage(format!(
            "no target: give --url URL (or set SCIM_URL){no_target}"
        ))),
    }
}
