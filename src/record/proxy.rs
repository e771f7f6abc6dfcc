//! The recording reverse proxy.
//!
//! Every request is forwarded to the upstream SCIM server as it came
//! (method, path, query, headers, body) and the upstream's answer goes back
//! as it came (status, headers, body), both streamed: a large body is not
//! held back. Only hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded,
//! and `Accept-Encoding`, so that the recorded body is readable JSON.
//!
//! While the bytes pass, a copy (up to a cap) is kept for the recording, with
//! the allow-listed headers only; credential values are remembered in memory
//! for the output check.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body as AxumBody, Bytes};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::secrets::{self, Secrets};
use super::{Body, Entry, RecordError, Recording, Source};

/// How to run the proxy.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The SCIM base URL requests go to, e.g. `https://api.example.com/scim/v2`.
    pub upstream: String,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate chain and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Largest body kept in the recording; the rest is forwarded, not kept.
    pub max_body: usize,
    /// Extra CA certificates (PEM) to trust for the upstream.
    pub cacert: Option<PathBuf>,
    /// Accept any upstream certificate (test servers only).
    pub insecure: bool,
}

/// What the proxy saw, for the console.
#[derive(Debug, Clone)]
pub enum ProxyEvent {
    /// An exchange was recorded.
    Recorded {
        /// The request's method.
        method: String,
        /// Its path below the SCIM base.
        path: String,
        /// The upstream's status.
        status: u16,
    },
    /// The upstream could not be reached; the client got a 502.
    UpstreamFailed {
        /// The request's method.
        method: String,
        /// Its path below the SCIM base.
        path: String,
        /// Why the upstream did not answer.
        reason: String,
    },
}

/// A running proxy.
pub struct Proxy {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    events: Option<mpsc::UnboundedReceiver<ProxyEvent>>,
}

struct State {
    client: reqwest::Client,
    /// The upstream base, without a trailing `/`.
    upstream: String,
    /// The upstream base's path, without a trailing `/` (may be empty).
    base_path: String,
    max_body: usize,
    seq: AtomicU64,
    entries: Mutex<Vec<(u64, Entry)>>,
    secrets: Mutex<Secrets>,
    base_urls: Mutex<BTreeSet<String>>,
    events: mpsc::UnboundedSender<ProxyEvent>,
}

impl Proxy {
    /// Binds the listener and starts forwarding, in a task on the current
    /// tokio runtime.
    pub async fn start(config: ProxyConfig) -> Result<Proxy, RecordError> {
        let upstream_err = |reason: String| RecordError::Upstream {
            url: config.upstream.clone(),
            reason,
        };
        let url = reqwest::Url::parse(&config.upstream).map_err(|e| upstream_err(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(upstream_err("give an http:// or https:// URL".into()));
        }
        if url.query().is_some() {
            return Err(upstream_err(
                "give the SCIM base URL without a query string".into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            // The client sees the upstream's redirects, as without the proxy.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            // Okta gives up after 60 s (idp-traffic.md §2); so do we.
            .read_timeout(Duration::from_secs(60));
        if let Some(ca) = &config.cacert {
            let pem = std::fs::read(ca).map_err(|source| RecordError::Read {
                path: ca.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| upstream_err(format!("--cacert {}: {e}", ca.display())))?;
            builder = builder.tls_certs_merge(certs);
        }
        if config.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(|e| upstream_err(e.to_string()))?;
        let acceptor = match &config.tls {
            Some((cert, key)) => Some(super::tls::acceptor(cert, key)?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| RecordError::Listen {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| RecordError::Listen {
                addr: config.listen,
                source,
            })?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            client,
            upstream: config.upstream.trim_end_matches('/').to_string(),
            base_path: url.path().trim_end_matches('/').to_string(),
            max_body: config.max_body,
            seq: AtomicU64::new(0),
            entries: Mutex::new(Vec::new()),
            secrets: Mutex::new(Secrets::default()),
            base_urls: Mutex::new(BTreeSet::from([config
                .upstream
                .trim_end_matches('/')
                .to_string()])),
            events: events_tx,
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let stop = async {
            let _ = rx.await;
        };
        let task = match acceptor {
            None => tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await
            }),
            Some(acceptor) => {
                let tls = super::tls::TlsListener::new(listener, acceptor);
                tokio::spawn(
                    async move { axum::serve(tls, app).with_graceful_shutdown(stop).await },
                )
            }
        };
        Ok(Proxy {
            local_addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
            events: Some(events_rx),
        })
    }

    /// The events, once (for the console).
    pub fn events(&mut self) -> Option<mpsc::UnboundedReceiver<ProxyEvent>> {
        self.events.take()
    }

    /// The path the IdP's Tenant URL should end with.
    pub fn base_path(&self) -> &str {
        &self.state.base_path
    }

    /// Stops accepting, gives in-flight exchanges up to `grace` to finish,
    /// and returns what was recorded, in the order requests arrived.
    pub async fn stop(mut self, grace: Duration) -> Recording {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(grace, task).await;
        }
        let mut entries = std::mem::take(&mut *lock(&self.state.entries));
        entries.sort_by_key(|(seq, _)| *seq);
        let secrets = lock(&self.state.secrets).clone();
        let mut base_urls: Vec<String> = lock(&self.state.base_urls).iter().cloned().collect();
        // Longest first: "https://tunnel/scim/v2" before "https://tunnel".
        base_urls.sort_by_key(|u| std::cmp::Reverse(u.len()));
        Recording {
            source: Source::Proxy {
                upstream: self.state.upstream.clone(),
            },
            started: String::new(),
            entries: entries.into_iter().map(|(_, e)| e).collect(),
            base_urls,
            secrets,
            notes: Vec::new(),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere must not lose the recording.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the
/// message's; `Host` is the upstream's.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

async fn forward(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    req: axum::extract::Request,
) -> Response {
    let seq = st.seq.fetch_add(1, Ordering::SeqCst);
    let started = super::now_rfc3339();
    let (parts, body) = req.into_parts();
    let full_path = parts.uri.path();
    // The IdP may be given the listener with the upstream's path
    // (`https://tunnel/scim/v2`) or without (`https://tunnel`).
    let rel = match full_path.strip_prefix(st.base_path.as_str()) {
        Some(rest) if !st.base_path.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
            rest
        }
        _ => full_path,
    };
    let rel = if rel.is_empty() { "/" } else { rel }.to_string();
    let raw_query = parts.uri.query().unwrap_or("");
    let tail = if rel == "/" { "" } else { rel.as_str() };
    let url = if raw_query.is_empty() {
        format!("{}{tail}", st.upstream)
    } else {
        format!("{}{tail}?{raw_query}", st.upstream)
    };

    let mut headers = HeaderMap::new();
    let mut kept = Vec::new();
    {
        let mut secrets = lock(&st.secrets);
        for (k, v) in &parts.headers {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if secrets::is_credential_header(k.as_str()) {
                secrets.add_header(k.as_str(), &value);
            }
            if secrets::kept_request_header(k.as_str()) {
                kept.push((k.as_str().to_string(), value));
            }
            if hop_by_hop(k) || k == "accept-encoding" {
                continue;
            }
            headers.append(k.clone(), v.clone());
        }
    }
    // How the IdP names this server in bodies (`$ref`s): the Host it called,
    // or the one a tunnel says it called; https even when we listen on http.
    for name in ["host", "x-forwarded-host"] {
        if let Some(host) = parts.headers.get(name).and_then(|h| h.to_str().ok()) {
            let mut urls = lock(&st.base_urls);
            for scheme in ["https", "http"] {
                urls.insert(format!("{scheme}://{host}{}", st.base_path));
                urls.insert(format!("{scheme}://{host}"));
            }
        }
    }
    let (query, removed) = secrets::clean_query(raw_query);
    if !removed.is_empty() {
        let mut secrets = lock(&st.secrets);
        for v in removed {
            secrets.add(&v);
        }
    }

    let req_copy = Arc::new(Mutex::new(Copy::default()));
    let method = parts.method.clone();
    let mut upstream_req = st.client.request(method.clone(), &url).headers(headers);
    // A request without a body is sent without one: a streamed empty body
    // would go out chunked, which is not what the client sent.
    let has_body = parts.headers.contains_key("transfer-encoding")
        || parts
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    if has_body {
        upstream_req = upstream_req.body(reqwest::Body::wrap_stream(Tee::new(
            Box::pin(body.into_data_stream()),
            req_copy.clone(),
            st.max_body,
            (content_length(&parts.headers), true),
            None,
        )));
    }
    let sent = upstream_req.send().await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            let reason = chain(&e);
            let _ = st.events.send(ProxyEvent::UpstreamFailed {
                method: method.to_string(),
                path: rel.clone(),
                reason: reason.clone(),
            });
            return (
                StatusCode::BAD_GATEWAY,
                format!("scimitar record: the upstream did not answer: {reason}\n"),
            )
                .into_response();
        }
    };
    let status = resp.status();
    let declared = content_length(resp.headers());
    let mut out = Response::builder().status(status);
    let mut resp_kept = Vec::new();
    {
        let mut secrets = lock(&st.secrets);
        for (k, v) in resp.headers() {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if secrets::is_credential_header(k.as_str()) {
                secrets.add_header(k.as_str(), &value);
            }
            if secrets::kept_response_header(k.as_str()) {
                resp_kept.push((k.as_str().to_string(), value));
            }
            if !hop_by_hop(k) {
                out = out.header(k, v);
            }
        }
    }
    let resp_copy = Arc::new(Mutex::new(Copy::default()));
    let expect_body = method != axum::http::Method::HEAD
        && !matches!(status.as_u16(), 204 | 304)
        && !status.is_informational();
    let finish = {
        let st = st.clone();
        let resp_copy = resp_copy.clone();
        let method = method.to_string();
        Box::new(move || {
            let body = |c: &Arc<Mutex<Copy>>| {
                let c = lock(c);
                (!c.bytes.is_empty() || c.truncated).then(|| Body {
                    bytes: c.bytes.clone(),
                    truncated: c.truncated,
                })
            };
            let entry = Entry {
                started: Some(started),
                method: method.clone(),
                path: rel.clone(),
                query,
                request_headers: kept,
                request_body: body(&req_copy),
                status: status.as_u16(),
                response_headers: resp_kept,
                response_body: body(&resp_copy),
            };
            lock(&st.entries).push((seq, entry));
            let _ = st.events.send(ProxyEvent::Recorded {
                method,
                path: rel,
                status: status.as_u16(),
            });
        }) as Box<dyn FnOnce() + Send>
    };
    let resp_body = Tee::new(
        Box::pin(resp.bytes_stream()),
        resp_copy,
        st.max_body,
        (declared, expect_body),
        Some(finish),
    );
    out.body(AxumBody::from_stream(resp_body))
        .unwrap_or_else(|e| {
            (StatusCode::BAD_GATEWAY, format!("scimitar record: {e}\n")).into_response()
        })
}

fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get("content-length")?.to_str().ok()?.trim().parse().ok()
}

/// An error with its sources, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The recorded copy of a body.
#[derive(Default)]
struct Copy {
    bytes: Vec<u8>,
    truncated: bool,
}

type ByteStream<E> = Pin<Box<dyn Stream<Item = Result<Bytes, E>> + Send>>;

/// Passes a body's chunks on unchanged while copying up to `limit` bytes;
/// runs `on_end` once, when the body ended or was dropped.
struct Tee<E> {
    inner: ByteStream<E>,
    copy: Arc<Mutex<Copy>>,
    limit: usize,
    /// The body's declared length (`Content-Length`): hyper stops reading
    /// there without waiting for the stream's end.
    declared: Option<u64>,
    /// Whether the message has a body, when no length is declared.
    expect_body: bool,
    seen: u64,
    finished: bool,
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl<E> Tee<E> {
    fn new(
        inner: ByteStream<E>,
        copy: Arc<Mutex<Copy>>,
        limit: usize,
        (declared, expect_body): (Option<u64>, bool),
        on_end: Option<Box<dyn FnOnce() + Send>>,
    ) -> Tee<E> {
        Tee {
            inner,
            copy,
            limit,
            declared,
            expect_body,
            seen: 0,
            finished: false,
            on_end,
        }
    }

    fn end(&mut self) {
        if let Some(f) = self.on_end.take() {
            f();
        }
    }
}

impl<E> Stream for Tee<E> {
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = this.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                this.seen += chunk.len() as u64;
                let mut c = lock(&this.copy);
                let room = this.limit.saturating_sub(c.bytes.len());
                if chunk.len() > room {
                    c.truncated = true;
                }
                c.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Poll::Ready(Some(Err(_))) => lock(&this.copy).truncated = true,
            Poll::Ready(None) => {
                this.finished = true;
                this.end();
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl<E> Drop for Tee<E> {
    fn drop(&mut self) {
        if !self.finished {
            let cut = match self.declared {
                Some(n) => self.seen < n,
                None => self.expect_body || self.seen > 0,
            };
            if cut {
                lock(&self.copy).truncated = true;
            }
        }
        self.end();
    }
}
