//! The built-in reference SCIM 2.0 server (in memory, RFC 7643/7644).
//!
//! [`router`] gives an axum [`Router`] serving everything under `/scim/v2`;
//! [`spawn`] binds it to an address and serves it in a background task.
//! State lives in memory and is lost when the server stops.
//!
//! Behaviour choices where the RFCs leave room:
//! - **Group `displayName` uniqueness:** not enforced. RFC 7643 declares it
//!   `uniqueness: none` and the server publishes that schema; Entra's wish for
//!   unique group names is a property of the application, which matches
//!   groups by filter either way. `userName` is unique case-insensitively
//!   (409 `uniqueness`).
//! - **Group members** must reference an existing User or Group id (400
//!   `invalidValue` otherwise, also through PATCH): a dangling member would
//!   make `$ref`, `type` and the user's `groups` untrue. A group may not
//!   contain itself. Members are stored as ids; `$ref`, `type` and `display`
//!   are computed when the group is read, and a deleted resource leaves every
//!   group it belonged to.
//! - **`/Me`** answers 501 Not Implemented (RFC 7644 §3.11 allows it): the
//!   bearer token is a shared secret that does not identify a SCIM user.
//! - **`schemas` in messages:** resources sent by POST/PUT must list their
//!   core schema (400 `invalidSyntax`). PatchOp, SearchRequest and
//!   BulkRequest bodies may omit `schemas` (the endpoint says what they are)
//!   but a `schemas` that names something else is 400 `invalidSyntax`.
//! - **`password`** is stored, never returned (`returned: never`) and kept
//!   by a PUT that omits it, since a client cannot read it back to resend.
//!   `changePassword` is therefore advertised as supported.
//! - Unknown schema URIs a client adds (Entra's ADSCIM group URI) are
//!   dropped; `schemas` in responses lists the core schema and the extensions
//!   in use. `null` values mean unassigned and are dropped.
//! - Every request body is limited to `bulk.maxPayloadSize` (413).
//! - ETags are weak (`W/"n"`), from a counter bumped on every change,
//!   including changes that alter a resource's representation from outside:
//!   membership changes (a user's `groups`) and renames (a member's
//!   `display`).
//! - Bulk runs operations in request order; one that refers to
//!   `bulkId:x` waits for x's creation. Unresolvable or circular references
//!   fail with 409 (RFC 7644 §3.7.1 allows giving up on cycles).
//! - Errors hyper produces before the handler runs (malformed HTTP, a URI
//!   too long) are hyper's plain responses, not SCIM error bodies.

mod bulk;
mod discovery;
mod http;
mod oauth;
mod projection;
mod query;
mod scim_glue;
mod store;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::scim::error::{ScimError, ScimType};

/// How the server is configured.
#[derive(Clone, Default)]
pub struct ServerConfig {
    /// The bearer token every request must carry; `None` turns auth off
    /// (unless `oauth_clients` is set).
    pub token: Option<String>,
    /// Clients (`id`, `secret`) that may get tokens by OAuth 2.0 client
    /// credentials at `POST /oauth/token`; the tokens it issues are accepted
    /// until they expire.
    pub oauth_clients: Vec<(String, String)>,
    /// Lifetime of issued tokens; zero means the default, 300 s.
    pub oauth_token_ttl: std::time::Duration,
}

// By hand: the token and the client secrets never reach a debug print.
impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field(
                "oauth_clients",
                &self
                    .oauth_clients
                    .iter()
                    .map(|(id, _)| id)
                    .collect::<Vec<_>>(),
            )
            .field("oauth_token_ttl", &self.oauth_token_ttl)
            .finish()
    }
}

/// The axum router serving the SCIM endpoints under `/scim/v2`, with a
/// fresh, empty store.
pub fn router(config: ServerConfig) -> Router {
    let oauth = (!config.oauth_clients.is_empty()).then(|| {
        oauth::Issuer::new(
            config.oauth_clients,
            if config.oauth_token_ttl.is_zero() {
                std::time::Duration::from_secs(300)
            } else {
                config.oauth_token_ttl
            },
        )
    });
    let app = Arc::new(http::App {
        token: config.token,
        oauth,
        store: Mutex::new(store::Store::default()),
    });
    Router::new().fallback(http::handle).with_state(app)
}

/// A server running in a background task. Dropping it also stops the
/// server, without waiting.
#[derive(Debug)]
pub struct RunningServer {
    /// `http://127.0.0.1:PORT/scim/v2`.
    pub base_url: String,
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Stops accepting connections, lets in-flight requests finish, and
    /// waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `addr` (port 0 picks a free port) and serves [`router`] in a
/// background task on the current tokio runtime.
pub async fn spawn(addr: SocketAddr, config: ServerConfig) -> std::io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(config);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender also means stop.
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer {
        base_url: format!("http://{addr}{}", http::PREFIX),
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Checks the `schemas` of a protocol message (PatchOp, SearchRequest,
/// BulkRequest): absent is accepted, present must list `expected`.
fn check_message_schema(obj: &Map<String, Value>, expected: &str) -> Result<(), ScimError> {
    match store::get_ci(obj, "schemas") {
        None => Ok(()),
        Some(Value::Array(s))
            if s.iter()
                .filter_map(Value::as_str)
                .any(|u| u.eq_ignore_ascii_case(expected)) =>
        {
            Ok(())
        }
        Some(_) => Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("schemas must be [\"{expected}\"]"),
        )),
    }
}
