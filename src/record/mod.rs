//! Recording real IdP traffic and turning it into a suite.
//!
//! Two ways in, one way out:
//! - [`proxy`]: a reverse proxy in front of a SCIM server; every exchange is
//!   forwarded unchanged and remembered.
//! - [`har`]: a HAR 1.2 file (devtools, mitmproxy, an API gateway).
//!
//! Both give a [`Recording`], which [`generate`] turns into a suite in the
//! project's own format (ids become captures, unique names `{{prefix}}`-based
//! vars, expectations what the server answered) and [`output`] writes, after
//! checking that no secret is in it and that the suite loads.
//!
//! Secrets never reach a [`Recording`]'s exchanges: only the headers a replay
//! needs are kept ([`secrets::kept_request_header`]); the secret values seen
//! are held in memory only, to check the output against them.

pub mod generate;
pub mod har;
pub mod output;
pub mod proxy;
pub mod secrets;
mod tls;
pub mod yaml;

use std::path::PathBuf;

pub use generate::{Generated, generate};
pub use output::write;
pub use secrets::Secrets;

/// Why recording or writing a recorded suite failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The upstream URL (or a flag about reaching it) is unusable.
    #[error("--upstream {url}: {reason}")]
    Upstream {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The listener's certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// A file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// A `--from-har` file is not a HAR file we can use.
    #[error("{}: not a HAR file: {reason}", path.display())]
    Har {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and column when it is the JSON.
        reason: String,
    },
    /// A file of the suite could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// A file of the suite is there already.
    #[error(
        "{} already exists; give another --name or move it away (a recording never overwrites one)",
        .0.display()
    )]
    Exists(PathBuf),
    /// `--name` is not usable as a suite and file name.
    #[error(
        "--name {0:?}: use letters, digits, '-', '_' and '.' only (it names the suite and its file)"
    )]
    BadName(String),
    /// The recording holds no request a suite can replay.
    #[error("nothing to write: {0}")]
    Empty(String),
    /// The safety net: a secret seen in the traffic is in the output.
    #[error(
        "refusing to write {}: it would contain a credential seen in the traffic ({what}); this is a bug in the recorder, please report it",
        path.display()
    )]
    SecretInOutput {
        /// The file that would have held it.
        path: PathBuf,
        /// Which kind of credential, never the value.
        what: String,
    },
    /// The generated suite does not load: a bug in the generator.
    #[error("the generated suite does not load (a bug in the recorder, please report it): {0}")]
    Invalid(String),
}

/// Where a recording came from, for the suite's header comment.
#[derive(Debug, Clone)]
pub enum Source {
    /// The proxy, in front of this SCIM base URL.
    Proxy {
        /// The upstream SCIM base URL.
        upstream: String,
    },
    /// A HAR file, with its `log.creator` when it names one.
    Har {
        /// The file as given.
        file: PathBuf,
        /// `name version` of the program that wrote it.
        creator: Option<String>,
    },
}

/// One request and its response, as a replay needs them: paths relative to
/// the SCIM base URL, and only the headers that are not secret.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// RFC 3339, when known.
    pub started: Option<String>,
    /// The HTTP method, upper case.
    pub method: String,
    /// Below the SCIM base, e.g. `/Users/2819c223`; percent-encoded as sent.
    pub path: String,
    /// The raw query string without `?`, secret parameters already removed.
    pub query: String,
    /// The kept request headers ([`secrets::kept_request_header`]).
    pub request_headers: Vec<(String, String)>,
    /// The request body, when there was one.
    pub request_body: Option<Body>,
    /// The response status.
    pub status: u16,
    /// The kept response headers ([`secrets::kept_response_header`]).
    pub response_headers: Vec<(String, String)>,
    /// The response body, when there was one.
    pub response_body: Option<Body>,
}

impl Entry {
    /// A kept request header, by name (any case).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    /// A kept response header, by name (any case).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A recorded body: its bytes (up to the recording cap) and whether it was cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// The bytes, up to the recording cap.
    pub bytes: Vec<u8>,
    /// The body was longer than the cap, or ended early.
    pub truncated: bool,
}

impl Body {
    /// The body as JSON, when it is complete JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.truncated || self.bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        serde_json::from_slice(&self.bytes).ok()
    }

    /// No bytes but whitespace, and not cut.
    pub fn is_empty(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace) && !self.truncated
    }
}

/// Everything recorded in one session.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Where it came from.
    pub source: Source,
    /// When the recording started, RFC 3339.
    pub started: String,
    /// Requests in the order they arrived.
    pub entries: Vec<Entry>,
    /// URLs that mean "the SCIM base" in bodies (the upstream's, the one the
    /// IdP was given); they become `{{base_url}}`.
    pub base_urls: Vec<String>,
    /// Credentials seen in the traffic, kept in memory only, so the output
    /// can be checked against them.
    pub secrets: Secrets,
    /// Things the user should know (dropped entries, …), one line each.
    pub notes: Vec<String>,
}

/// The current time, RFC 3339 in UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The SCIM endpoints whose first path segment marks where the base URL ends
/// (RFC 7644 §3.2 and the discovery endpoints of §4).
pub(crate) const SCIM_ENDPOINTS: [&str; 7] = [
    "Users",
    "Groups",
    "Schemas",
    "ServiceProviderConfig",
    "ResourceTypes",
    "Bulk",
    "Me",
];
