//! The HTTP side of a run: one shared reqwest client with auth, timeouts,
//! a body cap, 429 handling and secret redaction. Every exchange is recorded
//! as plain data with secrets already removed, so nothing downstream
//! (console, reports, snapshots) can leak a token.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;

pub mod auth;
pub mod contact;
pub mod limit;
pub mod oauth;

pub use auth::{Auth, AuthMode, Credential, CredentialError, CredentialProvider};
pub use contact::ContactProblem;
pub use limit::Throttling;

#[derive(Clone)]
pub struct HttpConfig {
    /// The SCIM base URL, e.g. `https://api.example.com/scim/v2`.
    pub base_url: reqwest::Url,
    pub auth: Auth,
    /// Extra headers sent on every request (custom-header auth); their values
    /// are treated as secrets.
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Bodies larger than this are cut off and reported.
    pub max_body: usize,
    /// The total a request may wait on 429s before it gives up.
    pub max_retry_wait: Duration,
    pub cacert: Option<std::path::PathBuf>,
    pub insecure: bool,
    /// PEM file with the client certificate chain and its key (mTLS).
    pub client_identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// After one timeout, fail every later request at once (a conformance
    /// run); `load` turns this off and counts each timeout instead.
    pub down_after_timeout: bool,
    /// Idle connections kept per host: at least the requests in flight, so
    /// a busy client does not reconnect.
    pub max_idle_per_host: usize,
}

// By hand: header values may be credentials.
impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| format!("{k}: ***"))
                    .collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_body", &self.max_body)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("cacert", &self.cacert)
            .field("insecure", &self.insecure)
            .field("client_identity", &self.client_identity)
            .finish()
    }
}

impl HttpConfig {
    pub fn new(base_url: reqwest::Url) -> HttpConfig {
        HttpConfig {
            base_url,
            auth: Auth::None,
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 10 * 1024 * 1024,
            max_retry_wait: Duration::from_secs(60),
            cacert: None,
            insecure: false,
            client_identity: None,
            down_after_timeout: true,
            max_idle_per_host: 32,
        }
    }
}

/// Why an exchange did not produce a response. Each reads as one line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("invalid client setup: {0}")]
    Setup(String),
    #[error("invalid request: {0}")]
    Request(String),
    #[error(
        "no response from {url} within {} (--timeout); the target is treated as down for the rest of this run",
        secs(*timeout)
    )]
    Timeout { url: String, timeout: Duration },
    #[error(
        "the body from {url} did not arrive in full within {} (--timeout); the target is treated as down for the rest of this run",
        secs(*timeout)
    )]
    BodyTimeout { url: String, timeout: Duration },
    #[error(
        "cannot connect to {url} within {} (the connect timeout: --timeout, at most 10s); the target is treated as down for the rest of this run",
        secs(*timeout)
    )]
    ConnectTimeout { url: String, timeout: Duration },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("TLS error talking to {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("not sent: the target stopped answering earlier in this run ({0})")]
    TargetDown(String),
    #[error("cannot get credentials: {0}")]
    Credentials(String),
    #[error(
        "still rate limited (429 Too Many Requests) after {retries} retries and {} of waiting (--max-retry-wait {}); not checked",
        secs(*waited),
        secs(*budget)
    )]
    RateLimited {
        retries: u32,
        waited: Duration,
        budget: Duration,
    },
    #[error("HTTP error talking to {url}: {reason}")]
    Other { url: String, reason: String },
}

/// A request about to be sent, already templated.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    /// Path below the base URL, possibly with a query string.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub auth: AuthMode,
}

impl Request {
    pub fn new(method: reqwest::Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            auth: AuthMode::Default,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl RecordedRequest {
    /// `PATCH https://host/scim/v2/Users/123`
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    /// A curl command that sends this request again. Credentials are never
    /// in it: the `Authorization` value becomes `$SCIM_TOKEN` (set it
    /// before pasting), other redacted values stay `***`.
    pub fn curl(&self) -> String {
        let mut parts = vec!["curl".to_string(), "-sS".into(), "-i".into()];
        if self.method != "GET" {
            parts.push(format!("-X {}", self.method));
        }
        parts.push(shell_quote(&self.url));
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("authorization") {
                let scheme = v.split_once(' ').map_or("Bearer", |(s, _)| s);
                // Double quotes: the shell expands the variable.
                parts.push(format!("-H \"Authorization: {scheme} $SCIM_TOKEN\""));
            } else if !k.eq_ignore_ascii_case("user-agent") {
                parts.push(format!("-H {}", shell_quote(&format!("{k}: {v}"))));
            }
        }
        if let Some(b) = &self.body {
            parts.push(format!("--data-binary {}", shell_quote(&b.to_string())));
        }
        parts.join(" ")
    }
}

/// `s` in single quotes for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), secrets redacted.
    pub body: String,
    /// The body was larger than the cap and was cut off.
    pub truncated: bool,
    #[serde(skip)]
    pub json: Option<Value>,
}

impl RecordedResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Why the body is not usable JSON, if it is not.
    pub fn json_problem(&self) -> Option<String> {
        if self.truncated {
            return Some("the body was cut off at the size cap (--max-body)".into());
        }
        if self.body.trim().is_empty() {
            return Some("the body is empty".into());
        }
        match serde_json::from_str::<Value>(&self.body) {
            Ok(_) => None,
            Err(e) => Some(format!("the body is not valid JSON: {e}")),
        }
    }

    /// The first part of the body, for failure messages.
    pub fn excerpt(&self, max: usize) -> String {
        let body = match &self.json {
            Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            None => self.body.clone(),
        };
        if body.chars().count() > max {
            let cut: String = body.chars().take(max).collect();
            format!("{cut}\n… ({} bytes in all)", self.body.len())
        } else {
            body
        }
    }
}

/// One request and its response.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    pub response: RecordedResponse,
    /// One line per 429 retry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<String>,
    #[serde(serialize_with = "crate::http::ser_ms")]
    pub elapsed: Duration,
}

pub(crate) fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

/// Values that must never be shown. Shared and growable: a credential
/// provider adds each token it fetches.
#[derive(Debug, Clone, Default)]
pub struct Secrets(std::sync::Arc<std::sync::RwLock<Vec<String>>>);

impl Secrets {
    /// Never shows `s` again.
    pub fn add(&self, s: &str) {
        // Very short values would redact ordinary text; they are still kept
        // out of recorded headers.
        if let Ok(mut v) = self.0.write()
            && s.len() >= 4
            && !v.iter().any(|x| x == s)
        {
            v.push(s.to_string());
        }
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        let Ok(secrets) = self.0.read() else {
            return "***".into();
        };
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

pub struct Client {
    inner: reqwest::Client,
    config: HttpConfig,
    secrets: Secrets,
    /// Set when the target timed out: later requests fail at once, so a hung
    /// server ends the run in about one timeout, not one per step.
    down: Mutex<Option<String>>,
    sent: AtomicU64,
    /// Set once the target closes connections after each response (HTTP/1.0
    /// or `Connection: close`): every request then costs a new connection,
    /// and such servers often have tiny listen backlogs (Python's
    /// socketserver: 5). Past the backlog the kernel drops SYNs and each
    /// costs a 1 s retransmit, so requests then go through `close_gate`.
    closes: AtomicBool,
    close_gate: tokio::sync::Semaphore,
    /// One per target: how many requests go at once, cut on 429s.
    limiter: limit::Limiter,
}

/// How a request is sent: a suite's step, or the first contact's probe.
#[derive(Debug, Clone, Copy)]
struct Sending {
    /// A timeout marks the target as down for the rest of the run.
    mark_down: bool,
    /// A smaller body cap than `--max-body`.
    max_body: Option<usize>,
    /// 429s are retried within `--max-retry-wait` (else returned as they are).
    retry_429: bool,
    /// The request takes a place from the target's shared limiter.
    limited: bool,
}

impl Sending {
    const STEP: Sending = Sending {
        mark_down: true,
        max_body: None,
        retry_429: true,
        limited: true,
    };
    const PROBE: Sending = Sending {
        mark_down: false,
        max_body: Some(64 * 1024),
        retry_429: true,
        limited: true,
    };
    const ONCE: Sending = Sending {
        mark_down: true,
        max_body: None,
        retry_429: false,
        limited: false,
    };
}

/// Requests in flight at once to a target that closes every connection;
/// below Python's default listen backlog of 5.
const CLOSING_TARGET_IN_FLIGHT: usize = 4;

impl Client {
    pub fn new(config: HttpConfig) -> Result<Client, HttpError> {
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("scimitar/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            // A conformance check must see redirects, not follow them.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(config.max_idle_per_host);
        if let Some(ca) = &config.cacert {
            let pem = std::fs::read(ca)
                .map_err(|e| HttpError::Setup(format!("--cacert {}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| HttpError::Setup(format!("--cacert {}: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(HttpError::Setup(format!(
                    "--cacert {}: no PEM certificate in the file",
                    ca.display()
                )));
            }
            b = b.tls_certs_merge(certs);
        }
        if config.insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        if let Some((cert, key)) = &config.client_identity {
            let mut pem = std::fs::read(cert)
                .map_err(|e| HttpError::Setup(format!("--cert {}: {e}", cert.display())))?;
            pem.push(b'\n');
            pem.extend(
                std::fs::read(key)
                    .map_err(|e| HttpError::Setup(format!("--key {}: {e}", key.display())))?,
            );
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| HttpError::Setup(format!("--cert/--key: {}", chain(&e))))?;
            b = b.identity(id);
        }
        let inner = b.build().map_err(|e| HttpError::Setup(chain(&e)))?;
        let secrets = Secrets::default();
        for s in config.auth.static_secrets() {
            secrets.add(&s);
        }
        for (_, v) in &config.headers {
            secrets.add(v);
        }
        Ok(Client {
            inner,
            config,
            secrets,
            down: Mutex::new(None),
            sent: AtomicU64::new(0),
            closes: AtomicBool::new(false),
            close_gate: tokio::sync::Semaphore::new(CLOSING_TARGET_IN_FLIGHT),
            limiter: limit::Limiter::default(),
        })
    }

    pub fn base_url(&self) -> &reqwest::Url {
        &self.config.base_url
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// What 429s did so far: how often, how long the run waited, how many
    /// requests were let in flight.
    pub fn throttling(&self) -> Throttling {
        self.limiter.stats()
    }

    /// Requests put on the wire so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Joins a path (and query) to the base URL.
    pub fn url_for(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<reqwest::Url, HttpError> {
        let base = self.config.base_url.as_str().trim_end_matches('/');
        let mut url = reqwest::Url::parse(&format!("{base}{path}"))
            .map_err(|e| HttpError::Request(format!("{path}: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// The `Authorization` value of the run's credentials, if any.
    async fn authorization(&self) -> Result<Option<String>, HttpError> {
        match &self.config.auth {
            Auth::Provider(p) => {
                let c = p
                    .credential()
                    .await
                    .map_err(|e| HttpError::Credentials(e.to_string()))?;
                for s in &c.secrets {
                    self.secrets.add(s);
                }
                Ok(Some(c.authorization))
            }
            other => Ok(other.static_header()),
        }
    }

    fn headers_for(
        &self,
        req: &Request,
        authorization: Option<&str>,
    ) -> Result<HeaderMap, HttpError> {
        let mut h = HeaderMap::new();
        let mut put = |k: &str, v: &str| -> Result<(), HttpError> {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| HttpError::Request(format!("invalid header name {k:?}")))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| HttpError::Request(format!("invalid value for header {k}")))?;
            h.insert(name, value);
            Ok(())
        };
        put("accept", crate::scim::urn::MEDIA_TYPE)?;
        if req.body.is_some() {
            put("content-type", crate::scim::urn::MEDIA_TYPE)?;
        }
        match req.auth {
            AuthMode::Default => {
                if let Some(a) = authorization {
                    put("authorization", a)?;
                }
                for (k, v) in &self.config.headers {
                    put(k, v)?;
                }
            }
            AuthMode::None => {}
            AuthMode::Invalid => put("authorization", "Bearer scimitar-deliberately-wrong-token")?,
        }
        for (k, v) in &req.headers {
            put(k, v)?;
        }
        Ok(h)
    }

    /// Sends a request (retrying on 429 as the server asks, within limits)
    /// and records the exchange.
    pub async fn send(&self, req: &Request) -> Result<Exchange, HttpError> {
        self.send_with(req, Sending::STEP).await
    }

    /// Sends a request once: a 429 comes back as an ordinary exchange, for
    /// callers that pace retries themselves (`load` pauses every worker);
    /// the run's shared limiter does not apply.
    pub async fn send_once(&self, req: &Request) -> Result<Exchange, HttpError> {
        self.send_with(req, Sending::ONCE).await
    }

    /// [`Client::send`] for a look at the target before the run (the first
    /// contact): the body is read only up to 64 KiB, and a timeout does not
    /// mark the target as down, so the suites still get their chance.
    pub async fn probe(&self, req: &Request) -> Result<Exchange, HttpError> {
        self.send_with(req, Sending::PROBE).await
    }

    async fn send_with(&self, req: &Request, how: Sending) -> Result<Exchange, HttpError> {
        if let Some(why) = self.down.lock().map(|d| d.clone()).unwrap_or_default() {
            return Err(HttpError::TargetDown(why));
        }
        let url = self.url_for(&req.path, &req.query)?;
        let mut authorization = match req.auth {
            AuthMode::Default => self.authorization().await?,
            _ => None,
        };
        let mut headers = self.headers_for(req, authorization.as_deref())?;
        let mut refreshed = false;
        let body = match &req.body {
            Some(v) => Some(serde_json::to_vec(v).map_err(|e| HttpError::Request(e.to_string()))?),
            None => None,
        };
        let recorded_req = RecordedRequest {
            method: req.method.to_string(),
            url: self.secrets.redact(url.as_str()),
            headers: self.record_headers(&headers),
            body: req.body.as_ref().map(|b| redact_value(b, &self.secrets)),
        };
        let started = Instant::now();
        let mut retries = Vec::new();
        let mut waited = Duration::ZERO;
        // 429s of this request so far (`retries` also holds a 401 refresh).
        let mut throttled_tries: u32 = 0;
        loop {
            let mut rb = self
                .inner
                .request(req.method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(b) = &body {
                rb = rb.body(b.clone());
            }
            // Held until the body is read: the connection lives until then.
            let gate = if self.closes.load(Ordering::Relaxed) {
                self.close_gate.acquire().await.ok()
            } else {
                None
            };
            let permit = if how.limited {
                Some(self.limiter.acquire().await)
            } else {
                None
            };
            self.sent.fetch_add(1, Ordering::Relaxed);
            let resp = rb.send().await.map_err(|e| self.classify(&url, e, how))?;
            if closes_connection(&resp) {
                self.closes.store(true, Ordering::Relaxed);
            }
            let status = resp.status().as_u16();
            // A provider's token may have been revoked or expired early:
            // fetch a new one and retry once (OAuth client credentials).
            if status == 401
                && !refreshed
                && let Auth::Provider(p) = &self.config.auth
                && let Some(stale) = authorization.clone()
            {
                refreshed = true;
                drop(resp);
                drop(gate);
                let fresh = p
                    .refresh(&Credential {
                        authorization: stale,
                        secrets: Vec::new(),
                    })
                    .await
                    .map_err(|e| HttpError::Credentials(e.to_string()))?;
                for s in &fresh.secrets {
                    self.secrets.add(s);
                }
                headers = self.headers_for(req, Some(&fresh.authorization))?;
                authorization = Some(fresh.authorization);
                retries.push(
                    "401 Unauthorized with the current token: fetched a new one, retried once"
                        .into(),
                );
                continue;
            }
            if status == 429 && how.retry_429 {
                let asked = retry_after(resp.headers());
                drop(resp);
                drop(permit);
                drop(gate);
                throttled_tries += 1;
                let n = throttled_tries;
                let plan = retry_plan(asked, n, waited, self.config.max_retry_wait);
                // Every request to the target holds off as long as this one
                // waits: never longer than its budget (a Retry-After of an
                // hour must not stall the run).
                self.limiter
                    .throttled(plan.as_ref().map_or(Duration::ZERO, |(w, _)| *w));
                let Some((wait, line)) = plan else {
                    self.limiter.gave_up();
                    return Err(HttpError::RateLimited {
                        retries: n - 1,
                        waited,
                        budget: self.config.max_retry_wait,
                    });
                };
                retries.push(line);
                tokio::time::sleep(wait).await;
                waited += wait;
                self.limiter.waited(wait);
                continue;
            }
            if how.limited {
                self.limiter.success();
            }
            let resp_headers = self.record_headers(resp.headers());
            let (bytes, truncated) = self.read_capped(resp, &url, how).await?;
            let text = self.secrets.redact(&String::from_utf8_lossy(&bytes));
            let json = if truncated {
                None
            } else {
                serde_json::from_str(&text).ok()
            };
            return Ok(Exchange {
                request: recorded_req,
                response: RecordedResponse {
                    status,
                    headers: resp_headers,
                    body: text,
                    truncated,
                    json,
                },
                retries,
                elapsed: started.elapsed(),
            });
        }
    }

    /// Reads at most `max_body` bytes, so a huge answer cannot exhaust memory.
    async fn read_capped(
        &self,
        mut resp: reqwest::Response,
        url: &reqwest::Url,
        how: Sending,
    ) -> Result<(Vec<u8>, bool), HttpError> {
        let cap = how.max_body.unwrap_or(self.config.max_body);
        let mut buf = Vec::new();
        let body_error = |e| match self.classify(url, e, how) {
            HttpError::Timeout { url, timeout } => HttpError::BodyTimeout { url, timeout },
            other => other,
        };
        while let Some(chunk) = resp.chunk().await.map_err(body_error)? {
            let room = cap.saturating_sub(buf.len());
            if chunk.len() > room {
                buf.extend_from_slice(&chunk[..room]);
                return Ok((buf, true));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((buf, false))
    }

    fn record_headers(&self, h: &HeaderMap) -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes());
                let shown = if k == reqwest::header::AUTHORIZATION {
                    match v.split_once(' ') {
                        Some((scheme, _)) => format!("{scheme} ***"),
                        None => "***".to_string(),
                    }
                } else {
                    self.secrets.redact(&v)
                };
                (k.as_str().to_string(), shown)
            })
            .collect()
    }

    fn classify(&self, url: &reqwest::Url, e: reqwest::Error, how: Sending) -> HttpError {
        let url_s = self.secrets.redact(url.as_str());
        let reason = self.secrets.redact(&reason(&e));
        if e.is_timeout() {
            if let (true, Ok(mut d)) = (
                how.mark_down && self.config.down_after_timeout,
                self.down.lock(),
            ) {
                d.get_or_insert_with(|| {
                    format!("{url_s} timed out after {}", secs(self.config.timeout))
                });
            }
            return if e.is_connect() {
                HttpError::ConnectTimeout {
                    url: url_s,
                    timeout: self.config.connect_timeout,
                }
            } else {
                HttpError::Timeout {
                    url: url_s,
                    timeout: self.config.timeout,
                }
            };
        }
        let lower = reason.to_lowercase();
        if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("corrupt message")
        {
            let hint = if reason.contains("UnknownIssuer") {
                " (the certificate is not signed by a CA this machine trusts: give --cacert FILE, or --insecure for a throwaway test server)"
            } else if reason.contains("NotValidForName") {
                " (the certificate does not name this host: check --url)"
            } else if reason.contains("InvalidContentType") || lower.contains("corrupt message") {
                " (the server answers in plain HTTP on this port, not TLS: try http:// instead of https://, or the TLS port)"
            } else if lower.contains("certificate required")
                || lower.contains("certificaterequired")
            {
                " (the server wants a client certificate: give --cert and --key)"
            } else {
                ""
            };
            return HttpError::Tls {
                url: url_s,
                reason: format!("{reason}{hint}"),
            };
        }
        // TLS 1.3 finishes the client's handshake before the server checks
        // its certificate: a server that wants one then drops the
        // connection, and hyper may report that as a connection that was
        // closed or never ready instead of the server's alert.
        if url.scheme() == "https"
            && self.config.client_identity.is_none()
            && (lower.contains("connection was not ready")
                || lower.contains("connection closed before message completed"))
        {
            return HttpError::Tls {
                url: url_s,
                reason: format!(
                    "{reason} (the server closed the TLS connection after the handshake: if it wants a client certificate, give --cert and --key)"
                ),
            };
        }
        if e.is_connect() {
            return HttpError::Connect { url: url_s, reason };
        }
        HttpError::Other { url: url_s, reason }
    }
}

/// What went wrong with a request, on one line. reqwest's own top line
/// repeats the URL the message already names; its causes say what happened.
fn reason(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    match e.source() {
        Some(src) if e.to_string().starts_with("error sending request") => chain(src),
        _ => chain(e),
    }
}

/// An error and its causes on one line, without repeats.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

fn redact_value(v: &Value, secrets: &Secrets) -> Value {
    match v {
        Value::String(s) => Value::String(secrets.redact(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| redact_value(x, secrets)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), redact_value(x, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// How long to wait before retry `n` after a 429, and the line that says
/// so; `None` once the request has used up its budget (`--max-retry-wait`,
/// the total a request may wait on 429s). The server's `Retry-After` is
/// honoured (with jitter, so requests told the same time do not return at
/// once) up to what is left of the budget; without one (or zero), 0.5 s
/// doubling.
pub fn retry_plan(
    asked: Option<Duration>,
    n: u32,
    used: Duration,
    budget: Duration,
) -> Option<(Duration, String)> {
    let left = budget.saturating_sub(used);
    if left.is_zero() {
        return None;
    }
    let base = asked
        .filter(|a| !a.is_zero())
        .unwrap_or_else(|| limit::backoff(n));
    let wait = limit::jitter(base).min(left);
    let why = match asked {
        Some(a) if a > left => format!(
            "Retry-After {}, more than the {} left of --max-retry-wait {}",
            secs(a),
            secs(left),
            secs(budget)
        ),
        Some(a) => format!("Retry-After {}", secs(a)),
        None => "no Retry-After".to_string(),
    };
    Some((
        wait,
        format!(
            "429 Too Many Requests ({why}): retry {n} after {} ({} of --max-retry-wait {} used)",
            secs(wait),
            secs(used + wait),
            secs(budget)
        ),
    ))
}

/// Whether the server will close this connection after the response.
fn closes_connection(resp: &reqwest::Response) -> bool {
    let connection = resp
        .headers()
        .get_all(reqwest::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect::<Vec<_>>();
    if connection.iter().any(|t| t == "close") {
        return true;
    }
    resp.version() <= reqwest::Version::HTTP_10 && !connection.iter().any(|t| t == "keep-alive")
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s}s")
    } else {
        format!("{s:.1}s")
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    retry_after_value(h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?)
}

/// A `Retry-After` value: seconds or an HTTP date.
pub fn retry_after_value(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Percent-encodes an id for use as one path segment.
pub fn encode_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::auth::base64;
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(""), "");
        assert_eq!(base64("f"), "Zg==");
        assert_eq!(base64("fo"), "Zm8=");
        assert_eq!(base64("foo"), "Zm9v");
        assert_eq!(base64("foobar"), "Zm9vYmFy");
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn retry_plan_honours_retry_after_within_the_budget() {
        let budget = Duration::from_secs(30);
        let (w, line) =
            retry_plan(Some(Duration::from_secs(2)), 1, Duration::ZERO, budget).unwrap();
        assert!(
            w >= Duration::from_secs(2) && w <= Duration::from_millis(2500),
            "{w:?}"
        );
        assert!(
            line.starts_with("429 Too Many Requests (Retry-After 2s): retry 1 after 2"),
            "{line}"
        );
        // More than is left: wait what is left, and say so.
        let used = Duration::from_secs(28);
        let (w, line) = retry_plan(Some(Duration::from_secs(3600)), 2, used, budget).unwrap();
        assert_eq!(w, Duration::from_secs(2));
        assert!(
            line.contains("more than the 2s left of --max-retry-wait 30s"),
            "{line}"
        );
        // No Retry-After: a short backoff.
        let (w, line) = retry_plan(None, 1, Duration::ZERO, budget).unwrap();
        assert!(w < Duration::from_secs(1), "{w:?}");
        assert!(line.contains("no Retry-After"), "{line}");
        // The budget used up: give up.
        assert!(retry_plan(None, 9, budget, budget).is_none());
    }

    #[test]
    fn config_debug_hides_credentials() {
        let mut c = HttpConfig::new(reqwest::Url::parse("https://h/scim").unwrap());
        c.auth = Auth::Bearer("tok-abcdef".into());
        c.headers.push(("X-Api-Key".into(), "key-123456".into()));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("tok-abcdef") && !shown.contains("key-123456"),
            "{shown}"
        );
        assert!(shown.contains("X-Api-Key: ***"), "{shown}");
    }

    #[test]
    fn secrets_are_redacted_everywhere_in_text() {
        let s = Secrets::default();
        s.add("s3cr3t-token");
        s.add("abc"); // too short to redact in free text
        assert_eq!(
            s.redact("echo s3cr3t-token and s3cr3t-token"),
            "echo *** and ***"
        );
        assert_eq!(s.redact("abc"), "abc");
    }
}
