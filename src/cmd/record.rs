//! `scimitar record`: real IdP traffic (through the proxy) or a HAR file →
//! a suite in OUT/. The library part is `scimitar::record`; this is the
//! command: flags, console lines, signals, exit codes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use scimitar::record::generate::Options;
use scimitar::record::output::Layout;
use scimitar::record::proxy::{Proxy, ProxyConfig, ProxyEvent};
use scimitar::record::{RecordError, Recording, generate, har, write};

use super::{CmdError, EXIT_FAILED};

const RECORD_EXAMPLES: &str = "Examples:
  scimitar record --upstream https://api.example.com/scim/v2 --out recorded/
  scimitar record --upstream URL --listen 0.0.0.0:8443 \\
      --tls-cert cert.pem --tls-key key.pem --name my-entra-sync
  scimitar record --from-har provisioning.har --out recorded/
  scimitar run --suite recorded/ --url https://staging.example.com/scim/v2

Point the IdP's Tenant URL at the listener (through a tunnel for a cloud
IdP), provision, then stop with Ctrl-C: the suite is written then.
Exit codes: 0 written, 1 nothing to write or the write failed, 2 could
not start.";

/// Largest request body kept inline in the suite; longer ones go to fixtures.
const INLINE_LIMIT: usize = 400;
/// How long in-flight exchanges get to finish when the recording stops.
const GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
#[command(after_help = RECORD_EXAMPLES)]
pub struct RecordArgs {
    /// SCIM base URL to forward to, e.g. https://api.example.com/scim/v2. With --from-har: the base in the file's URLs (default: up to the first /Users, /Groups, …)
    #[arg(long, value_name = "URL", required_unless_present = "from_har")]
    pub upstream: Option<String>,
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8099")]
    pub listen: SocketAddr,
    /// Folder to write the suite in; fixtures go where the suite loader looks (OUT/fixtures/NAME, or fixtures/NAME beside a suites/ folder).
    #[arg(long, value_name = "DIR", default_value = "recorded")]
    pub out: PathBuf,
    /// The suite's name and file name. Default: recorded-YYYYMMDD-HHMMSS
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Convert this HAR file instead of listening.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tls_cert", "duration"])]
    pub from_har: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); IdPs call only https URLs.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Stop after this many seconds (Ctrl-C and SIGTERM stop it too).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Largest body kept in the recording, in bytes; larger ones are forwarded whole but not recorded.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body: usize,
    /// Extra CA certificates (PEM) to trust for the upstream.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Accept any upstream certificate (dangerous; for test servers only).
    #[arg(long)]
    pub insecure: bool,
    /// No line per recorded request.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `scimitar record`
pub fn command(args: &RecordArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let name = args.name.clone().unwrap_or_else(default_name);
    let layout = Layout::new(&args.out, &name)?;
    // Before recording: a session must never be lost to a name clash.
    layout.check_free()?;
    let recording = match &args.from_har {
        Some(file) => har::read(file, args.upstream.as_deref(), args.max_body)?,
        None => rt.block_on(record_live(args))?,
    };
    let options = Options {
        name,
        body_file_prefix: layout.body_file_prefix.clone(),
        inline_limit: INLINE_LIMIT,
    };
    // From here on the traffic is recorded: a failure is a failed command
    // (exit 1), not one that could not start.
    let written = generate(&recording, &options)
        .and_then(|g| write(&g, &layout, &recording.secrets).map(|()| g));
    match written {
        Ok(g) => {
            for n in &g.notes {
                eprintln!("note: {n}");
            }
            let fixtures = match g.fixtures.len() {
                0 => String::new(),
                1 => format!(", 1 fixture in {}", layout.fixtures_dir().display()),
                n => format!(", {n} fixtures in {}", layout.fixtures_dir().display()),
            };
            println!(
                "wrote {} ({} step{}{fixtures})",
                layout.suite_file.display(),
                g.steps,
                if g.steps == 1 { "" } else { "s" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

fn default_name() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    format!("recorded-{}", now.format(&fmt).unwrap_or_default())
}

async fn record_live(args: &RecordArgs) -> Result<Recording, RecordError> {
    let Some(upstream) = args.upstream.clone() else {
        return Err(RecordError::Upstream {
            url: String::new(),
            reason: "give --upstream URL or --from-har FILE".into(),
        });
    };
    if let Some(d) = args.duration
        && !(d.is_finite() && d > 0.0)
    {
        return Err(RecordError::Upstream {
            url: upstream,
            reason: format!("--duration {d}: give a number of seconds above 0"),
        });
    }
    // Listening for the signals before anything is printed: a signal right
    // after the first line must still end in a written suite.
    let stop = StopSignals::new();
    let started = scimitar::record::now_rfc3339();
    let tls = args.tls_cert.clone().zip(args.tls_key.clone());
    let https = tls.is_some();
    let mut proxy = Proxy::start(ProxyConfig {
        upstream: upstream.clone(),
        listen: args.listen,
        tls,
        max_body: args.max_body,
        cacert: args.cacert.clone(),
        insecure: args.insecure,
    })
    .await?;
    let scheme = if https { "https" } else { "http" };
    eprintln!(
        "recording: {scheme}://{}{} → {upstream}",
        proxy.local_addr,
        proxy.base_path()
    );
    eprintln!(
        "point the IdP's Tenant URL at it (through a tunnel for a cloud IdP), provision, then stop with Ctrl-C{}",
        args.duration
            .map(|d| format!(" (or wait {d} s)"))
            .unwrap_or_default()
    );
    let printer = proxy.events().map(|mut events| {
        let quiet = args.quiet;
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                match ev {
                    ProxyEvent::Recorded {
                        method,
                        path,
                        status,
                    } if !quiet => eprintln!("  {method} {path} → {status}"),
                    ProxyEvent::UpstreamFailed {
                        method,
                        path,
                        reason,
                    } => eprintln!("warning: {method} {path}: the upstream did not answer ({reason}); the client got 502"),
                    _ => {}
                }
            }
        })
    });
    let why = stop.wait(args.duration).await;
    eprintln!("{why}: stopping");
    let mut recording = proxy.stop(GRACE).await;
    if let Some(p) = printer {
        // Let the last lines out, then stop printing.
        tokio::time::sleep(Duration::from_millis(50)).await;
        p.abort();
    }
    recording.started = started;
    Ok(recording)
}

/// Ctrl-C (SIGINT) and SIGTERM, registered at once.
#[cfg(unix)]
struct StopSignals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl StopSignals {
    fn new() -> StopSignals {
        use tokio::signal::unix::{SignalKind, signal};
        StopSignals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn wait(mut self, duration: Option<f64>) -> &'static str {
        let int = async {
            match self.int.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        let term = async {
            match self.term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = int => "interrupted",
            _ = term => "terminated",
            _ = timer(duration) => "--duration reached",
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn new() -> StopSignals {
        StopSignals
    }

    async fn wait(self, duration: Option<f64>) -> &'static str {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "interrupted",
            _ = timer(duration) => "--duration reached",
        }
    }
}

async fn timer(duration: Option<f64>) {
    match duration {
        Some(d) => tokio::time::sleep(Duration::from_secs_f64(d)).await,
        None => std::future::pending().await,
    }
}
