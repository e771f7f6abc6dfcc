//! `scimitar certify entra-gallery|okta-oin`: runs the suites a programme's
//! requirement table names, judges each requirement and writes the evidence
//! bundle (Markdown, HTML, JSON, JUnit) into `--out DIR`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use scimitar::certify::{self, AuthInfo, Status, render};
use scimitar::http::{Auth, Client};
use scimitar::runner::{Run, RunOptions};

use super::cli::{ConnArgs, SuiteArgs};
use super::config_args::ConfigArgs;
use super::{CmdError, EXIT_FAILED, EXIT_OK, conn, load_suites};

const EXAMPLES: &str = "Examples:
  scimitar certify entra-gallery --url URL --oauth-token-url TOKEN_URL \\
      --client-id ID --client-secret-env SECRET --out evidence/
  scimitar certify okta-oin --url URL --token-env SCIM_TOKEN --out evidence/
  scimitar certify entra-gallery --embedded --out /tmp/evidence   # try it

Writes DIR/certify-<programme>.md, .html, .json and .junit.xml. Exit codes:
0 no mandatory requirement failed, 1 one failed or something was left
behind, 2 could not start.";

/// `scimitar certify` arguments.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct CertifyArgs {
    /// The programme whose pre-submission checks to run.
    #[arg(value_parser = ["entra-gallery", "okta-oin"])]
    pub programme: String,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Run against the built-in reference server (with OAuth client credentials), to see a bundle.
    #[arg(long, conflicts_with = "url")]
    pub embedded: bool,
    /// Write the evidence bundle into this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Suite file or folder (repeatable). Default: ./suites, else the suites built into scimitar
    #[arg(long = "suite", value_name = "PATH")]
    pub suites: Vec<PathBuf>,
    /// Keep what the run created (no cleanup at the end).
    #[arg(long)]
    pub keep: bool,
    /// Suites run at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `scimitar certify`
pub fn command(args: &CertifyArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let table = certify::table(&args.programme).map_err(|e| CmdError::Usage(e.to_string()))?;
    if args.jobs == 0 {
        return Err(CmdError::Usage("--jobs must be at least 1".into()));
    }
    let mut suites = load_suites(&SuiteArgs {
        suites: args.suites.clone(),
        idps: Vec::new(),
    })?
    .suites;
    suites.retain(|s| table.suites.contains(&s.name));
    let missing: Vec<&str> = table
        .suites
        .iter()
        .filter(|n| !suites.iter().any(|s| &&s.name == n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(CmdError::Usage(format!(
            "the {} pre-check needs the suites {}; they are not in the suites loaded (drop --suite to use the built-in ones)",
            args.programme,
            missing.join(", ")
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CmdError::Io(format!("--out {}: {e}", args.out.display())))?;

    let (server, base, auth, info) = target(args, rt)?;
    let client = Arc::new(Client::new(conn::http_config(&args.conn, &base, auth)?)?);
    let caps = conn::discover(rt, &client, &base)?;
    eprintln!(
        "certify {}: running {} suites against {base}",
        args.programme,
        suites.len()
    );
    let run = Run::new(suites).options(RunOptions {
        keep: args.keep,
        jobs: args.jobs,
        ..RunOptions::default()
    });
    let result = rt.block_on(run.execute_with(client, Arc::new(caps)));
    if let Some(s) = server {
        rt.block_on(s.shutdown());
    }

    let evidence = certify::judge(&table, &result, &info);
    for j in &evidence.requirements {
        println!(
            "{:<22} {:<18} {}",
            j.status.label(),
            j.requirement.id,
            j.requirement.text
        );
        if j.status == Status::Fail || j.status == Status::NotChecked {
            println!("{:<22} {:<18} {}", "", "", j.note);
        }
    }
    println!("\n{}", evidence.verdict());
    let written = write_bundle(&args.out, &evidence)?;
    println!("evidence: {}", written.join(", "));
    for s in &result.suites {
        for c in &s.cleanup {
            if let Some(why) = c.problem() {
                eprintln!("left behind: {}::{}: {why}", s.name, c.path);
            }
        }
    }
    Ok(ExitCode::from(
        if evidence.failed() || result.has_leftovers() {
            EXIT_FAILED
        } else {
            EXIT_OK
        },
    ))
}

/// The target, its credentials and how they are described; with
/// `--embedded`, the reference server issuing OAuth client-credential
/// tokens, so the bundle shows what a real run shows.
#[allow(clippy::type_complexity)]
fn target(
    args: &CertifyArgs,
    rt: &tokio::runtime::Runtime,
) -> Result<
    (
        Option<scimitar::server::RunningServer>,
        String,
        Auth,
        AuthInfo,
    ),
    CmdError,
> {
    if args.embedded {
        let id = "scimitar-certify".to_string();
        let secret = format!("scimitar-{}", uuid::Uuid::new_v4().simple());
        let server = rt
            .block_on(scimitar::server::spawn(
                ([127, 0, 0, 1], 0).into(),
                scimitar::server::ServerConfig {
                    oauth_clients: vec![(id.clone(), secret.clone())],
                    oauth_token_ttl: std::time::Duration::from_secs(3600),
                    ..Default::default()
                },
            ))
            .map_err(|e| CmdError::Io(format!("cannot start the embedded server: {e}")))?;
        let base = server.base_url.clone();
        let token_url = format!("{}/oauth/token", base.trim_end_matches("/scim/v2"));
        let provider = scimitar::http::oauth::ClientCredentials::new(
            scimitar::http::oauth::ClientCredentialsConfig {
                token_url: token_url
                    .parse()
                    .map_err(|e| CmdError::Io(format!("{token_url}: {e}")))?,
                client_id: id,
                client_secret: secret,
                scope: None,
                timeout: std::time::Duration::from_secs(10),
            },
        )
        .map_err(|e| CmdError::Usage(e.to_string()))?;
        let info = AuthInfo {
            method: format!("OAuth 2.0 client credentials ({token_url})"),
            oauth_client_credentials: true,
        };
        return Ok((Some(server), base, Auth::Provider(Arc::new(provider)), info));
    }
    let Some(base) = args.conn.url.clone() else {
        return Err(CmdError::Usage(
            "no target: give --url URL (or set SCIM_URL), or --embedded to see a bundle from the built-in reference server".into(),
        ));
    };
    let auth = conn::auth(&args.conn)?;
    let info = AuthInfo {
        method: match (&args.conn.oauth_token_url, &auth) {
            (Some(u), _) => format!("OAuth 2.0 client credentials ({u})"),
            (None, Auth::None) => "none".into(),
            (None, Auth::Basic { .. }) => "HTTP Basic".into(),
            (None, _) => "a static bearer token".into(),
        },
        oauth_client_credentials: args.conn.oauth_token_url.is_some(),
    };
    Ok((None, base, auth, info))
}

/// Writes the four files; their paths.
fn write_bundle(dir: &Path, e: &certify::Evidence) -> Result<Vec<String>, CmdError> {
    let stem = format!("certify-{}", e.programme);
    let json = render::json(e).map_err(|x| CmdError::Io(x.to_string()))?;
    let junit = render::junit(e);
    let files = [
        (format!("{stem}.md"), render::markdown(e)),
        (format!("{stem}.html"), render::html(e)),
        (format!("{stem}.json"), json),
        (format!("{stem}.junit.xml"), junit),
    ];
    let mut out = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::write(&p, text)
            .map_err(|x| CmdError::Io(format!("cannot write {}: {x}", p.display())))?;
        out.push(p.display().to_string());
    }
    Ok(out)
}
