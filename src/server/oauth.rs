//! A token endpoint for testing OAuth 2.0 clients: `POST /oauth/token` with
//! the client credentials grant (RFC 6749 §4.4) issues short-lived random
//! bearer tokens, which the SCIM endpoints then accept until they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

/// Where the token endpoint lives.
pub(crate) const TOKEN_PATH: &str = "/oauth/token";

/// Issues and remembers tokens.
pub(crate) struct Issuer {
    clients: Vec<(String, String)>,
    ttl: Duration,
    issued: Mutex<HashMap<String, Instant>>,
}

impl Issuer {
    pub(crate) fn new(clients: Vec<(String, String)>, ttl: Duration) -> Issuer {
        Issuer {
            clients,
            ttl,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `token` was issued here and has not expired.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        issued.retain(|_, until| *until > now);
        issued.contains_key(token)
    }

    fn known(&self, id: &str, secret: &str) -> bool {
        self.clients
            .iter()
            .any(|(i, s)| i == id && super::http::constant_time_eq(s.as_bytes(), secret.as_bytes()))
    }

    /// Answers one token request.
    pub(crate) fn token(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            );
        }
        // RFC 6749 §2.3.1: HTTP Basic, or the credentials in the body.
        let (id, secret) = match basic(headers) {
            Some(pair) => pair,
            None => (
                form.get("client_id").cloned().unwrap_or_default(),
                form.get("client_secret").cloned().unwrap_or_default(),
            ),
        };
        if !self.known(&id, &secret) {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client or wrong secret",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"scimitar\""),
            );
            return r;
        }
        let token = format!("scimitar-oauth-{}", uuid::Uuid::new_v4().simple());
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), Instant::now() + self.ttl);
        let body = json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl.as_secs(),
        });
        let mut r = (StatusCode::OK, body.to_string()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // RFC 6749 §5.1: tokens must not be cached.
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((dec(id), dec(secret)))
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut r = Response::new(Body::from(
        json!({"error": code, "error_description": description}).to_string(),
    ));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
