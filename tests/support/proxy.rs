//! The fault-injecting proxy: the reference server behind a small axum
//! proxy. A fault is a name and two hooks: one may rewrite each request
//! before it reaches the server (or answer it itself), the other may rewrite
//! the response on its way back. The RFC and the IdP fault catalogues
//! (tests/faults/) are both built from it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use scimitar::server::{RunningServer, ServerConfig, spawn};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::SCIM;

/// A request as the proxy sees it, before it is forwarded.
pub struct Req {
    /// The method the client sent (a fault may forward another).
    pub original: Method,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The query string exactly as the client sent it (`+` still `+`).
    pub raw_query: Option<String>,
    pub headers: HeaderMap,
    pub body: Option<Value>,
}

impl Req {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn drop_param(&mut self, name: &str) {
        self.query.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    pub fn set_param(&mut self, name: &str, value: String) {
        self.drop_param(name);
        self.query.push((name.to_string(), value));
    }

    /// `/Users`, `/Groups/abc`, … below the SCIM base.
    pub fn scim_path(&self) -> &str {
        self.path.strip_prefix("/scim/v2").unwrap_or(&self.path)
    }

    pub fn is_item(&self, collection: &str) -> bool {
        self.scim_path()
            .strip_prefix(collection)
            .is_some_and(|rest| rest.len() > 1 && rest[1..].split('/').count() == 1)
    }

    pub fn patch_ops(&self) -> Vec<&Value> {
        self.body
            .as_ref()
            .and_then(|b| b.get("Operations"))
            .and_then(Value::as_array)
            .map(|ops| ops.iter().collect())
            .unwrap_or_default()
    }

    /// The PATCH operations of the request, to rewrite (none for other methods).
    pub fn patch_ops_mut(&mut self) -> Option<&mut Vec<Value>> {
        if self.method != Method::PATCH {
            return None;
        }
        self.body
            .as_mut()
            .and_then(|b| b.get_mut("Operations"))
            .and_then(Value::as_array_mut)
    }
}

/// A response on its way back to the client.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Option<Value>,
    /// A body that is not JSON (set by a fault).
    pub raw: Option<(String, &'static str)>,
}

impl Resp {
    pub fn scim(status: u16, body: Option<Value>) -> Resp {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM));
        Resp {
            status,
            headers,
            body,
            raw: None,
        }
    }

    /// A response with no body and no headers.
    pub fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: HeaderMap::new(),
            body: None,
            raw: None,
        }
    }

    pub fn is_list(&self) -> bool {
        self.body
            .as_ref()
            .is_some_and(|b| b.get("totalResults").is_some())
    }
}

/// Rewrites the request, or answers it without forwarding it.
pub type OnRequest = fn(&mut Req) -> Option<Resp>;
/// Rewrites the response.
pub type OnResponse = fn(&Req, &mut Resp);

/// What a faulty server gets wrong, as hooks on each exchange.
#[derive(Clone, Copy)]
pub struct Fault {
    /// What the faulty server gets wrong (the trial's name comes from it).
    pub what: &'static str,
    pub on_request: OnRequest,
    pub on_response: OnResponse,
}

impl Fault {
    /// Only rewrites requests.
    pub const fn request(what: &'static str, on_request: OnRequest) -> Fault {
        Fault {
            what,
            on_request,
            on_response: pass_resp,
        }
    }

    /// Only rewrites responses.
    pub const fn response(what: &'static str, on_response: OnResponse) -> Fault {
        Fault {
            what,
            on_request: pass_req,
            on_response,
        }
    }
}

/// The same two hooks as closures, for a test that keeps state or
/// captures values. A [`Fault`] converts into these.
pub struct Hooks {
    pub on_request: RequestHook,
    pub on_response: ResponseHook,
}

/// [`OnRequest`] as a closure.
pub type RequestHook = Box<dyn Fn(&mut Req) -> Option<Resp> + Send + Sync>;
/// [`OnResponse`] as a closure.
pub type ResponseHook = Box<dyn Fn(&Req, &mut Resp) + Send + Sync>;

impl Hooks {
    /// Only rewrites (or answers) requests.
    pub fn request(f: impl Fn(&mut Req) -> Option<Resp> + Send + Sync + 'static) -> Hooks {
        Hooks {
            on_request: Box::new(f),
            on_response: Box::new(pass_resp),
        }
    }

    /// Only rewrites responses.
    pub fn response(f: impl Fn(&Req, &mut Resp) + Send + Sync + 'static) -> Hooks {
        Hooks {
            on_request: Box::new(pass_req),
            on_response: Box::new(f),
        }
    }
}

impl From<Fault> for Hooks {
    fn from(f: Fault) -> Hooks {
        Hooks {
            on_request: Box::new(f.on_request),
            on_response: Box::new(f.on_response),
        }
    }
}

pub fn pass_req(_: &mut Req) -> Option<Resp> {
    None
}

pub fn pass_resp(_: &Req, _: &mut Resp) {}

/// A SCIM error response.
pub fn error(status: u16, scim_type: &str) -> Resp {
    Resp::scim(
        status,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(), "scimType": scim_type, "detail": "fault"
        })),
    )
}

struct Proxy {
    hooks: Hooks,
    upstream: String,
    http: reqwest::Client,
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> = uri.query().map(url_pairs).unwrap_or_default();
    let mut req = Req {
        original: method.clone(),
        method,
        path: uri.path().to_string(),
        query,
        raw_query: uri.query().map(str::to_string),
        headers,
        body: serde_json::from_slice(&body).ok(),
    };
    let mut resp = match (p.hooks.on_request)(&mut req) {
        Some(r) => r,
        None => send(&p, &req, &body).await,
    };
    (p.hooks.on_response)(&req, &mut resp);
    to_response(resp)
}

/// Decodes a query string (`+` and percent escapes).
fn url_pairs(q: &str) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://x/?{q}")).expect("a query string");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn send(p: &Proxy, req: &Req, original_body: &Bytes) -> Resp {
    let mut url = reqwest::Url::parse(&format!("{}{}", p.upstream, req.path)).expect("url");
    if !req.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&req.query);
    }
    let mut b = p.http.request(req.method.clone(), url);
    for (k, v) in &req.headers {
        if k != header::HOST && k != header::CONTENT_LENGTH {
            b = b.header(k, v);
        }
    }
    let body = match &req.body {
        Some(v) => Bytes::from(serde_json::to_vec(v).expect("json")),
        None => original_body.clone(),
    };
    if !body.is_empty() {
        b = b.header(header::CONTENT_TYPE, SCIM).body(body);
    }
    let r = b.send().await.expect("the reference server answers");
    let status = r.status().as_u16();
    let mut headers = r.headers().clone();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    let bytes = r.bytes().await.unwrap_or_default();
    Resp {
        status,
        headers,
        body: serde_json::from_slice(&bytes).ok(),
        raw: None,
    }
}

fn to_response(r: Resp) -> Response {
    let (bytes, ct) = match (&r.raw, &r.body) {
        (Some((text, ct)), _) => (text.clone().into_bytes(), Some(*ct)),
        (None, Some(v)) => (serde_json::to_vec(v).expect("json"), None),
        (None, None) => (Vec::new(), None),
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(r.status).expect("status");
    *resp.headers_mut() = r.headers;
    if let Some(ct) = ct {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    resp
}

/// The reference server behind a proxy that injects a fault; both stop
/// when this drops.
pub struct Proxied {
    /// The proxy's SCIM base URL.
    pub url: String,
    /// The reference server's own SCIM base URL, behind the proxy.
    pub upstream: String,
    stop: Option<oneshot::Sender<()>>,
    _server: RunningServer,
}

impl Drop for Proxied {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a reference server (asking for `token`, if given) and a proxy
/// with `fault` in front of it, on the current tokio runtime.
pub async fn start(fault: Fault, token: Option<&str>) -> Proxied {
    start_with(fault.into(), token).await
}

/// [`start`] with closures for hooks.
pub async fn start_with(hooks: Hooks, token: Option<&str>) -> Proxied {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = spawn(
        addr,
        ServerConfig {
            token: token.map(str::to_string),
            ..Default::default()
        },
    )
    .await
    .expect("reference server");
    let proxy = Arc::new(Proxy {
        hooks,
        upstream: format!("http://{}", server.addr),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let url = format!("http://{}/scim/v2", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Proxied {
        url,
        upstream: format!("http://{}/scim/v2", server.addr),
        stop: Some(stop),
        _server: server,
    }
}
