//! `scimitar schema-suite`: writes the suites generated from a server's
//! `/Schemas` and `/ResourceTypes` as YAML; and the `schema` profile's part
//! in `run` and `list` (fetch the declarations, generate, add the suites).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use scimitar::http::Client;
use scimitar::runner::Capabilities;
use scimitar::schema_suite::{self, Options, PROFILE};
use scimitar::server::RunningServer;
use scimitar::suite::{Capability, Suite};

use super::cli::{ConnArgs, SuiteArgs};
use super::{CmdError, EXIT_OK, conn};

const EXAMPLES: &str = "Examples:
  scimitar schema-suite --url URL --token-env TOKEN --out schema-suites/
  scimitar schema-suite --embedded --resource-type User --out users.yaml
  scimitar run --url URL --suite schema-suites/";

/// `scimitar schema-suite`
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct SchemaSuiteArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Read the declarations of the built-in reference server.
    #[arg(long, conflicts_with = "url")]
    pub embedded: bool,
    /// Write here: a folder (one FILE per resource type), or FILE.yaml when
    /// one resource type is generated.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Only this resource type (repeatable), e.g. User.
    #[arg(long = "resource-type", value_name = "NAME")]
    pub resource_types: Vec<String>,
    /// Leave out the PATCH checks (for a server without PATCH).
    #[arg(long)]
    pub no_patch: bool,
    /// Leave out the caseExact checks, which filter (for a server without filters).
    #[arg(long)]
    pub no_filter: bool,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
}

/// Whether the flags ask for the generated profile.
pub fn wanted(args: &SuiteArgs) -> bool {
    args.idps.iter().any(|i| i == PROFILE)
}

/// The client for `--url` or a started reference server for `--embedded`
/// (kept alive by the returned handle).
pub fn target(
    conn_args: &ConnArgs,
    embedded: bool,
    rt: &tokio::runtime::Runtime,
) -> Result<(Arc<Client>, Option<RunningServer>), CmdError> {
    let (server, base, auth) = conn::resolve_target(
        conn_args,
        embedded,
        rt,
        ", or --embedded: the schema profile reads the server's /Schemas",
    )?;
    let client = Client::new(conn::http_config(conn_args, &base, auth)?)?;
    Ok((Arc::new(client), server))
}

/// The generated suites for `run --idp schema` and `list --idp schema`:
/// PATCH and filter checks unless discovery says they are unsupported.
pub fn generated(
    client: &Client,
    caps: &Capabilities,
    rt: &tokio::runtime::Runtime,
) -> Result<Vec<Suite>, CmdError> {
    rt.block_on(schema_suite::for_run(client, caps))
        .map_err(|e| CmdError::Usage(format!("cannot generate the schema profile: {e}")))
}

/// For `list --idp schema`: discovery, then the generated suites.
pub fn for_list(
    conn_args: &ConnArgs,
    embedded: bool,
    rt: &tokio::runtime::Runtime,
) -> Result<Vec<Suite>, CmdError> {
    let (client, server) = target(conn_args, embedded, rt)?;
    let caps = rt
        .block_on(scimitar::runner::discover(&client))
        .map_err(|e| CmdError::Usage(format!("cannot reach the SCIM endpoint: {e}")))?;
    let suites = generated(&client, &caps, rt);
    if let Some(s) = server {
        rt.block_on(s.shutdown());
    }
    suites
}

/// `scimitar schema-suite`
pub fn command(args: &SchemaSuiteArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let (client, server) = target(&args.conn, args.embedded, rt)?;
    let result = rt.block_on(async {
        let caps = scimitar::runner::discover(&client).await.ok();
        let supported = |c| caps.as_ref().and_then(|k| k.get(c)) != Some(false);
        let opts = Options {
            filter: !args.no_filter && supported(Capability::Filter),
            patch: !args.no_patch && supported(Capability::Patch),
            only: args.resource_types.clone(),
        };
        schema_suite::fetch_and_plan(&client, &opts).await
    });
    if let Some(s) = server {
        rt.block_on(s.shutdown());
    }
    let planned =
        result.map_err(|e| CmdError::Usage(format!("cannot generate the schema suites: {e}")))?;
    let to_file = matches!(
        args.out.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let files: Vec<(PathBuf, &schema_suite::Planned)> = if to_file {
        if planned.len() > 1 {
            let names: Vec<&str> = planned.iter().map(|p| p.resource_type.as_str()).collect();
            return Err(CmdError::Usage(format!(
                "--out {}: the server declares {} resource types ({}); give a folder, or one --resource-type",
                args.out.display(),
                planned.len(),
                names.join(", ")
            )));
        }
        planned.iter().map(|p| (args.out.clone(), p)).collect()
    } else {
        planned
            .iter()
            .map(|p| (args.out.join(format!("{}.yaml", p.name)), p))
            .collect()
    };
    for (path, _) in &files {
        if path.exists() && !args.force {
            return Err(CmdError::Usage(format!(
                "{} exists; give --force to overwrite it",
                path.display()
            )));
        }
    }
    for (path, p) in &files {
        write(path, &p.yaml)?;
        // What was written must load as the run loads it.
        p.load(path.clone())
            .map_err(|e| CmdError::Io(e.to_string()))?;
        let steps = p.yaml.matches("\n  - name: ").count();
        println!(
            "wrote {} ({}: {steps} steps)",
            path.display(),
            p.resource_type
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn write(path: &Path, text: &str) -> Result<(), CmdError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CmdError::Io(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| CmdError::Io(format!("cannot write {}: {e}", path.display())))
}
