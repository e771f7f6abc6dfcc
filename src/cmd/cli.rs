//! Command-line definitions (clap). Our own flags, turned into
//! libtest-mimic's `Arguments` for filtering and output.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

// Kept under 80 columns: clap wraps help text to the terminal's width.
const MAIN_EXAMPLES: &str = "Examples:
  scimitar run --embedded
  SCIM_URL=https://api.example.com/scim/v2 SCIM_TOKEN=… scimitar run --idp entra
  scimitar run --url URL --token-env MY_TOKEN --junit junit.xml --report r.html
  scimitar list --idp okta
  scimitar serve --port 8080 --token secret
  scimitar record --upstream https://api.example.com/scim/v2 --out recorded/
  scimitar completions bash > /etc/bash_completion.d/scimitar";

const RUN_EXAMPLES: &str = "Examples:
  scimitar run --embedded                    # the suites vs the reference server
  scimitar run --url URL --token-env TOKEN   # your endpoint
  scimitar run --url URL --idp entra --idp okta
  scimitar run --url URL deactivate          # steps whose name has 'deactivate'
  scimitar run --url URL --strict --junit junit.xml --report report.html

Exit codes: 0 all checked and passed, 1 failures, leftovers or steps left
unchecked (rate limited; a partial run you asked for is fine), 2 could not
start (refused credentials, not a SCIM endpoint, no step matches), 130
interrupted. SCIM_URL and SCIM_TOKEN are read from the environment.";

#[derive(Debug, Parser)]
#[command(
    name = "scimitar",
    version,
    about = "SCIM 2.0 conformance harness: replays Entra ID and Okta provisioning against your endpoint",
    after_help = MAIN_EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against a SCIM endpoint (or the built-in reference server).
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// List every suite with its IdP profile, requirements and steps.
    List(Box<ListArgs>),
    /// Serve the built-in reference SCIM server.
    Serve(ServeArgs),
    /// Review snapshots: pending, accept, reject, orphans (without cargo-insta).
    Snapshots(super::snapshot_args::SnapshotsArgs),
    /// Remove Users and Groups left behind by crashed runs (names starting with the run prefix).
    Cleanup(Box<CleanupArgs>),
    /// Entra-style initial sync at scale: latency, throttling, the gallery's 25 requests/s.
    #[command(after_help = super::load::LOAD_EXAMPLES)]
    Load(Box<super::load::LoadArgs>),
    /// Record real IdP traffic (or convert a HAR file) into a replayable suite.
    Record(Box<super::record::RecordArgs>),
    /// Certification pre-check (Entra app gallery, Okta OIN): an evidence bundle for a reviewer.
    Certify(Box<super::certify::CertifyArgs>),
    /// Write the suites generated from a server's /Schemas and /ResourceTypes as YAML.
    SchemaSuite(Box<super::schema_suite::SchemaSuiteArgs>),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Args)]
pub struct SuiteArgs {
    /// Suite file or folder (repeatable); `builtin` names the suites built into scimitar. Default: ./suites (with a note), else the built-in suites
    #[arg(long = "suite", value_name = "PATH")]
    pub suites: Vec<PathBuf>,
    // The help lists the profile table (idp_help).
    #[arg(long = "idp", value_name = "NAME", help = idp_help())]
    pub idps: Vec<String>,
}

/// `--idp` help: the built-in profiles from `scimitar::profile::PROFILES`,
/// so a new profile shows up without editing this file.
fn idp_help() -> String {
    format!(
        "Only suites of this IdP profile (repeatable): {}, or a profile of your own",
        scimitar::profile::ids()
    )
}

/// `scimitar list`: the suites; with `--idp schema`, a target to generate from.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
    /// With --idp schema: the server whose /Schemas the generated steps come from.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// With --idp schema: generate from the built-in reference server.
    #[arg(long, conflicts_with = "url")]
    pub embedded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,

    #[command(flatten)]
    pub conn: ConnArgs,
    /// Run against the built-in reference server, started in-process.
    #[arg(long, conflicts_with = "url")]
    pub embedded: bool,

    /// Run only steps whose name contains this (like cargo test).
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,
    /// Match FILTER and --skip exactly.
    #[arg(long)]
    pub exact: bool,
    /// Skip steps whose name contains this (repeatable).
    #[arg(long, value_name = "FILTER")]
    pub skip: Vec<String>,
    /// List the steps that would run, and run nothing.
    #[arg(long)]
    pub list: bool,

    /// Write JUnit XML here (- for standard output).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the results as JSON here (- for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a compatibility report here: FILE.md (Markdown) or FILE.html, - for Markdown on standard output (repeatable).
    #[arg(long = "report", value_name = "FILE")]
    pub reports: Vec<PathBuf>,

    /// Advisory findings fail the run too (for release gating).
    #[arg(long)]
    pub strict: bool,
    /// Keep what the run created (no cleanup at the end).
    #[arg(long)]
    pub keep: bool,
    /// Suites run at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub jobs: usize,

    /// Print only failures and the summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show failing steps' full requests and responses (headers and bodies).
    #[arg(short, long)]
    pub verbose: bool,
    /// Coloured output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub snap: super::snapshot_args::RunSnapshotArgs,

    // scimitar.toml (issue 20): --config FILE / --no-config; see cmd/config_args.rs.
    #[command(flatten)]
    pub config: super::config_args::ConfigArgs,
}

/// How to reach and authenticate to a SCIM endpoint (shared by `run` and `cleanup`).
#[derive(Args)]
pub struct ConnArgs {
    /// SCIM base URL, e.g. https://api.example.com/scim/v2
    #[arg(long, env = "SCIM_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Bearer token (prefer --token-env or --token-file: they stay out of shell history).
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["token_env", "token_file", "basic"])]
    pub token: Option<String>,
    /// Read the bearer token from this environment variable. Default: SCIM_TOKEN, if set.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["token_file", "basic"])]
    pub token_env: Option<String>,
    /// Read the bearer token from this file (first line).
    #[arg(long, value_name = "FILE", conflicts_with = "basic")]
    pub token_file: Option<PathBuf>,
    /// HTTP basic credentials, user:password.
    #[arg(long, value_name = "USER:PASS")]
    pub basic: Option<String>,
    /// OAuth 2.0 client credentials: the token endpoint (with --client-id and a secret option).
    #[arg(long, value_name = "URL", requires = "client_id", conflicts_with_all = ["token", "token_env", "token_file", "basic"])]
    pub oauth_token_url: Option<String>,
    /// OAuth 2.0 client id.
    #[arg(long, value_name = "ID", requires = "oauth_token_url")]
    pub client_id: Option<String>,
    /// Read the OAuth client secret from this environment variable (never give it on the command line).
    #[arg(
        long,
        value_name = "VAR",
        requires = "oauth_token_url",
        conflicts_with = "client_secret_file"
    )]
    pub client_secret_env: Option<String>,
    /// Read the OAuth client secret from this file (first line).
    #[arg(long, value_name = "FILE", requires = "oauth_token_url")]
    pub client_secret_file: Option<PathBuf>,
    /// OAuth scope to ask for (Entra: api://APP-ID/.default).
    #[arg(long, value_name = "SCOPE", requires = "oauth_token_url")]
    pub scope: Option<String>,
    /// Extra header on every request, 'Name: value' (repeatable; for custom-header auth).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Largest response body read, in bytes; larger ones are cut off and reported.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body: usize,
    /// Longest a request may wait on 429s in all (Retry-After honoured, with jitter) before its step is reported as not checked, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub max_retry_wait: f64,
    /// Extra CA certificates (PEM) to trust.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Accept any TLS certificate (dangerous; for test servers only).
    #[arg(long)]
    pub insecure: bool,
    /// Client certificate chain (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

// By hand, so a token never reaches a debug print.
impl std::fmt::Debug for ConnArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("token_env", &self.token_env)
            .field("token_file", &self.token_file)
            .field("basic", &self.basic.as_ref().map(|_| "***"))
            .field("oauth_token_url", &self.oauth_token_url)
            .field("client_id", &self.client_id)
            .field("headers", &self.headers.len())
            .field("timeout", &self.timeout)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Remove Users and Groups whose name starts with this. Must start with `scimitar-`.
    #[arg(long, value_name = "PREFIX", default_value = "scimitar-")]
    pub prefix: String,
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Require this bearer token on every request. Without it, auth is off.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Also issue short-lived bearer tokens by OAuth 2.0 client credentials at
    /// /oauth/token to this client (ID:SECRET; repeatable; for testing clients).
    #[arg(long, value_name = "ID:SECRET")]
    pub oauth_client: Vec<String>,
    /// Lifetime of the tokens /oauth/token issues, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub oauth_token_ttl: u64,
}

impl RunArgs {
    /// The libtest-mimic arguments that filter and print the steps.
    pub fn test_args(&self) -> libtest_mimic::Arguments {
        libtest_mimic::Arguments {
            filter: self.filter.clone(),
            exact: self.exact,
            skip: self.skip.clone(),
            list: self.list,
            quiet: self.quiet,
            // Results are printed in the suites' order; the steps already ran.
            test_threads: Some(1),
            color: Some(match self.color {
                ColorChoice::Auto => libtest_mimic::ColorSetting::Auto,
                ColorChoice::Always => libtest_mimic::ColorSetting::Always,
                ColorChoice::Never => libtest_mimic::ColorSetting::Never,
            }),
            ..Default::default()
        }
    }
}
