//! OAuth 2.0 client credentials (RFC 6749 §4.4): a [`CredentialProvider`]
//! that fetches a bearer token before the run, shares it between all
//! suites, fetches a new one shortly before it expires, and once more when
//! the target answers 401 to it. The client secret and the tokens never
//! leave this module except in the `Authorization` header, and are handed
//! to the client's redaction as secrets.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::auth::{Credential, CredentialError, CredentialFuture, CredentialProvider};

/// A token is renewed this long before its `expires_in` runs out (at most;
/// a fifth of the lifetime for short-lived ones), so a request never
/// leaves with a token that expires on the way.
const RENEW_BEFORE: Duration = Duration::from_secs(30);

/// Settings of the client credentials grant.
#[derive(Clone)]
pub struct ClientCredentialsConfig {
    /// The authorization server's token endpoint.
    pub token_url: reqwest::Url,
    /// The client id.
    pub client_id: String,
    /// The client secret (never printed).
    pub client_secret: String,
    /// The `scope` parameter, if the server wants one (Entra: `api://…/.default`).
    pub scope: Option<String>,
    /// How long to wait for the token endpoint.
    pub timeout: Duration,
}

impl std::fmt::Debug for ClientCredentialsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentialsConfig")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scope", &self.scope)
            .finish()
    }
}

/// A cached token and when it stops being used.
struct Cached {
    credential: Credential,
    renew_at: Instant,
}

/// Fetches and caches bearer tokens by the client credentials grant.
pub struct ClientCredentials {
    config: ClientCredentialsConfig,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<Cached>>,
    fetched: std::sync::atomic::AtomicU32,
}

impl ClientCredentials {
    /// A provider for these settings; nothing is fetched yet.
    pub fn new(config: ClientCredentialsConfig) -> Result<ClientCredentials, CredentialError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("scimitar/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CredentialError(format!("cannot set up the OAuth client: {e}")))?;
        Ok(ClientCredentials {
            config,
            http,
            cache: tokio::sync::Mutex::new(None),
            fetched: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// Tokens fetched so far.
    pub fn tokens_fetched(&self) -> u32 {
        self.fetched.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One token request. Client authentication by HTTP Basic (RFC 6749
    /// §2.3.1, which servers must support); if the server refuses it as
    /// `invalid_client`, once more with the credentials in the form body.
    async fn fetch(&self) -> Result<Cached, CredentialError> {
        match self.request(true).await {
            Err(Refused::InvalidClient(_)) => self.request(false).await,
            other => other,
        }
        .map_err(|r| CredentialError(r.message(&self.config)))
    }

    async fn request(&self, basic: bool) -> Result<Cached, Refused> {
        let c = &self.config;
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(s) = &c.scope {
            form.push(("scope", s));
        }
        if !basic {
            form.push(("client_id", &c.client_id));
            form.push(("client_secret", &c.client_secret));
        }
        let body = form_encode(&form);
        let mut rb = self
            .http
            .post(c.token_url.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        if basic {
            // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
            let user = form_encode_value(&c.client_id);
            let pass = form_encode_value(&c.client_secret);
            rb = rb.header(
                "authorization",
                format!("Basic {}", super::auth::base64(&format!("{user}:{pass}"))),
            );
        }
        self.fetched
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let resp = rb
            .send()
            .await
            .map_err(|e| Refused::Transport(super::chain(&e)))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| Refused::Transport(super::chain(&e)))?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if !(200..300).contains(&status) {
            let err = json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let desc = json
                .as_ref()
                .and_then(|j| j.get("error_description"))
                .and_then(Value::as_str)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            let what = format!("{status} {err}{desc}");
            return Err(
                if err == "invalid_client" || (status == 401 && err.is_empty()) {
                    Refused::InvalidClient(what)
                } else {
                    Refused::Other(what)
                },
            );
        }
        let Some(json) = json else {
            return Err(Refused::Other(format!(
                "{status} with a body that is not JSON"
            )));
        };
        let token = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Refused::Other(format!("{status} without an access_token")))?;
        let kind = json
            .get("token_type")
            .and_then(Value::as_str)
            .unwrap_or("Bearer");
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(Refused::Other(format!(
                "a token of type {kind:?}; SCIM endpoints take bearer tokens (RFC 6750)"
            )));
        }
        // RFC 6749 §5.1: expires_in is RECOMMENDED; without it, renew on 401 only.
        let lifetime = json
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(24 * 3600));
        Ok(Cached {
            credential: Credential {
                authorization: format!("Bearer {token}"),
                secrets: vec![token.to_string(), c.client_secret.clone()],
            },
            renew_at: Instant::now() + lifetime.saturating_sub(RENEW_BEFORE.min(lifetime / 5)),
        })
    }
}

/// Why the token endpoint gave no token.
enum Refused {
    InvalidClient(String),
    Other(String),
    Transport(String),
}

impl Refused {
    fn message(&self, c: &ClientCredentialsConfig) -> String {
        let url = c.token_url.as_str();
        match self {
            Refused::InvalidClient(w) => format!(
                "the token endpoint {url} refused client id {:?} ({w}); check --client-id and the secret",
                c.client_id
            ),
            Refused::Other(w) => format!("the token endpoint {url} answered {w}"),
            Refused::Transport(w) => format!("cannot reach the token endpoint {url}: {w}"),
        }
    }
}

impl CredentialProvider for ClientCredentials {
    fn credential(&self) -> CredentialFuture<'_> {
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            if let Some(c) = cache.as_ref().filter(|c| Instant::now() < c.renew_at) {
                return Ok(c.credential.clone());
            }
            let fresh = self.fetch().await?;
            let cred = fresh.credential.clone();
            *cache = Some(fresh);
            Ok(cred)
        })
    }

    fn refresh(&self, stale: &Credential) -> CredentialFuture<'_> {
        let stale = stale.authorization.clone();
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            // Another request may have renewed it already.
            if let Some(c) = cache
                .as_ref()
                .filter(|c| c.credential.authorization != stale && Instant::now() < c.renew_at)
            {
                return Ok(c.credential.clone());
            }
            let fresh = self.fetch().await?;
            let cred = fresh.credential.clone();
            *cache = Some(fresh);
            Ok(cred)
        })
    }

    fn describe(&self) -> String {
        format!(
            "OAuth 2.0 client credentials (client id {:?}, token endpoint {})",
            self.config.client_id,
            self.config.token_url.as_str()
        )
    }
}

/// `application/x-www-form-urlencoded` (the URL standard's serializer).
fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode_value(k), form_encode_value(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_encode_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_follows_the_url_standard() {
        assert_eq!(
            form_encode(&[
                ("grant_type", "client_credentials"),
                ("scope", "api://x/.default a+b")
            ]),
            "grant_type=client_credentials&scope=api%3A%2F%2Fx%2F.default+a%2Bb"
        );
    }

    #[test]
    fn the_secret_never_reaches_a_debug_print() {
        let c = ClientCredentialsConfig {
            token_url: "http://127.0.0.1:1/token".parse().unwrap(),
            client_id: "id".into(),
            client_secret: "s3cr3t-value".into(),
            scope: None,
            timeout: Duration::from_secs(1),
        };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
