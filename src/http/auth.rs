//! Credentials for the target: none, a static bearer token, HTTP basic, or a
//! provider that fetches and refreshes them (OAuth 2.0 client credentials
//! plugs in there). Nothing here ever prints a secret.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What a [`CredentialProvider`] hands out: an `Authorization` header value
/// (e.g. `Bearer eyJ…`) and the secret parts to redact wherever they appear.
#[derive(Clone)]
pub struct Credential {
    /// The full `Authorization` header value.
    pub authorization: String,
    /// Values never to show (the token itself).
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential(***)")
    }
}

/// Why credentials could not be had; one line, no secret in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CredentialError(pub String);

/// A boxed future, so providers can be used as trait objects.
pub type CredentialFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credential, CredentialError>> + Send + 'a>>;

/// Credentials that are fetched, cached and refreshed asynchronously,
/// shared by every suite of a run.
pub trait CredentialProvider: Send + Sync {
    /// The credential to send now (cached until it is about to expire).
    fn credential(&self) -> CredentialFuture<'_>;
    /// The target answered 401 to `stale`: fetch a fresh credential.
    fn refresh(&self, stale: &Credential) -> CredentialFuture<'_>;
    /// How the provider is named in messages, e.g. `OAuth 2.0 client credentials`.
    fn describe(&self) -> String;
}

/// Credentials for the target.
#[derive(Clone, Default)]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// `Authorization: Basic …`.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// Fetched and refreshed by a provider.
    Provider(Arc<dyn CredentialProvider>),
}

impl Auth {
    /// How the credentials are named in messages (never their value).
    pub fn describe(&self) -> String {
        match self {
            Auth::None => "no credentials".into(),
            Auth::Bearer(_) => "a bearer token".into(),
            Auth::Basic { .. } => "HTTP basic credentials".into(),
            Auth::Provider(p) => p.describe(),
        }
    }

    /// The secrets known before any request.
    pub(crate) fn static_secrets(&self) -> Vec<String> {
        match self {
            Auth::None | Auth::Provider(_) => Vec::new(),
            Auth::Bearer(t) => vec![t.clone()],
            Auth::Basic { user, password } => {
                vec![password.clone(), base64(&format!("{user}:{password}"))]
            }
        }
    }

    /// The static `Authorization` value, if the credentials are static.
    pub(crate) fn static_header(&self) -> Option<String> {
        match self {
            Auth::None | Auth::Provider(_) => None,
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Basic { user, password } => {
                Some(format!("Basic {}", base64(&format!("{user}:{password}"))))
            }
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never let a token reach a debug print.
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Bearer(_) => "Auth::Bearer(***)",
            Auth::Basic { .. } => "Auth::Basic(***)",
            Auth::Provider(_) => "Auth::Provider(***)",
        })
    }
}

/// Which credentials one request carries: the run's, none, or a wrong token
/// (auth tests must never send the real token where it is not wanted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// The run's credentials.
    #[default]
    Default,
    /// No credentials at all.
    None,
    /// A deliberately wrong bearer token.
    Invalid,
}

/// Standard base64 (for HTTP basic auth), to avoid a crate for ten lines.
pub(crate) fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
