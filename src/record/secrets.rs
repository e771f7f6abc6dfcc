//! What is secret in recorded traffic, and the last check before writing.
//!
//! Headers are kept by an allow-list (what a replay needs), so a credential
//! in a header nobody thought of is dropped too. The values of credential
//! headers, cookies, secret query parameters and password-like body members
//! are remembered (in memory only) so the written files can be searched for
//! them: a recorder that leaked a token would be worse than none.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// Request headers a replay uses: the body's media type, the conditional
/// headers (RFC 7644 §3.14), and the User-Agent that names the IdP.
pub fn kept_request_header(name: &str) -> bool {
    [
        "content-type",
        "accept",
        "if-match",
        "if-none-match",
        "user-agent",
    ]
    .iter()
    .any(|k| name.eq_ignore_ascii_case(k))
}

/// Response headers the generator reads: the media type, where a created
/// resource lives, and its version.
pub fn kept_response_header(name: &str) -> bool {
    ["content-type", "location", "etag"]
        .iter()
        .any(|k| name.eq_ignore_ascii_case(k))
}

/// Headers whose values are credentials: the standard ones, cookies, and
/// anything named like a key or token (custom-header auth, e.g. `X-API-Key`).
pub fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "token",
        "secret",
        "key",
        "auth",
        "session",
        "password",
        "signature",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Query parameters that carry credentials (OAuth, signed URLs, API keys).
pub fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("token")
        || n.contains("secret")
        || n.contains("password")
        || n.ends_with("_key")
        || matches!(
            n.as_str(),
            "apikey" | "api_key" | "key" | "code" | "sig" | "signature"
        )
}

/// Removes credential parameters from a raw query string. Returns the query
/// to keep (as sent when nothing was removed) and the removed values.
pub fn clean_query(raw: &str) -> (String, Vec<String>) {
    if raw.is_empty() {
        return (String::new(), Vec::new());
    }
    let Ok(url) = reqwest::Url::parse(&format!("http://x/?{raw}")) else {
        return (raw.to_string(), Vec::new());
    };
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    if !pairs.iter().any(|(k, _)| is_secret_param(k)) {
        return (raw.to_string(), Vec::new());
    }
    let mut clean = reqwest::Url::parse("http://x/").expect("a constant URL");
    let mut removed = Vec::new();
    {
        let mut q = clean.query_pairs_mut();
        for (k, v) in &pairs {
            if is_secret_param(k) {
                removed.push(v.clone());
            } else {
                q.append_pair(k, v);
            }
        }
    }
    (clean.query().unwrap_or("").to_string(), removed)
}

/// JSON members whose values are secrets (SCIM `password`, RFC 7643 §4.1.1;
/// OAuth client secrets).
pub fn is_secret_member(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "password"
        || n.ends_with(":password")
        || n.contains("secret")
        || n.ends_with("token")
        || n == "apikey"
        || n == "api_key"
}

/// Credentials seen in the traffic. Only the values' presence matters; the
/// `Debug` output never shows them.
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeSet<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} values)", self.values.len())
    }
}

/// Values shorter than this are not searched for: they would match ordinary
/// text (and a credential that short protects nothing anyway).
const MIN_SECRET_LEN: usize = 6;

impl Secrets {
    /// Remembers a credential header's value, and its parts: the token after
    /// `Bearer`/`Basic`, each cookie's value.
    pub fn add_header(&mut self, name: &str, value: &str) {
        let lower = name.to_ascii_lowercase();
        if lower == "cookie" || lower == "set-cookie" {
            for pair in value.split(';') {
                if let Some((_, v)) = pair.split_once('=') {
                    self.add(v);
                }
            }
            // The Set-Cookie attributes after the first pair are not secret.
            if lower == "cookie" {
                self.add(value);
            }
            return;
        }
        self.add(value);
        if let Some((_scheme, cred)) = value.trim().split_once(' ') {
            self.add(cred);
        }
    }

    /// Remembers one credential value (short ones are not searched for).
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.len() >= MIN_SECRET_LEN {
            self.values.insert(v.to_string());
        }
    }

    /// Whether no credential was seen.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The first kind of credential found in `text`, described without the
    /// value itself.
    pub fn found_in(&self, text: &str) -> Option<String> {
        if self.values.iter().any(|s| text.contains(s.as_str())) {
            return Some("a value of an Authorization, cookie, API-key header, secret query parameter or password".into());
        }
        let re = regex::Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}").ok()?;
        re.find(text)
            .map(|_| "an Authorization header value (Bearer/Basic credentials)".to_string())
    }
}

/// Replaces the values of secret members (at any depth) with `replacement`,
/// remembering the originals; PATCH operations whose `path` names a secret
/// member have their `value` replaced too. Returns whether anything changed.
pub fn scrub_body(v: &mut Value, replacement: &str, secrets: &mut Secrets) -> bool {
    let mut changed = false;
    match v {
        Value::Object(map) => {
            let patch_secret = map
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(is_secret_member)
                && map.contains_key("op");
            for (k, val) in map.iter_mut() {
                if (is_secret_member(k) || (patch_secret && k == "value")) && !val.is_null() {
                    if let Some(s) = val.as_str() {
                        secrets.add(s);
                    }
                    *val = Value::String(replacement.to_string());
                    changed = true;
                } else {
                    changed |= scrub_body(val, replacement, secrets);
                }
            }
        }
        Value::Array(items) => {
            for i in items {
                changed |= scrub_body(i, replacement, secrets);
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_are_kept_by_allow_list() {
        assert!(kept_request_header("Content-Type"));
        assert!(kept_request_header("If-Match"));
        assert!(!kept_request_header("Authorization"));
        assert!(!kept_request_header("Cookie"));
        assert!(!kept_request_header("X-Api-Key"));
        assert!(!kept_request_header("X-Forwarded-For"));
        assert!(is_credential_header("X-API-Key"));
        assert!(is_credential_header("X-Auth-Token"));
        assert!(is_credential_header("Proxy-Authorization"));
        assert!(!is_credential_header("Content-Type"));
    }

    #[test]
    fn secret_params_and_members() {
        assert!(is_secret_param("access_token"));
        assert!(is_secret_param("client_secret"));
        assert!(is_secret_param("sig"));
        assert!(!is_secret_param("filter"));
        assert!(!is_secret_param("excludedAttributes"));
        assert!(!is_secret_param("startIndex"));
        assert!(is_secret_member("password"));
        assert!(is_secret_member("Password"));
        assert!(is_secret_member("client_secret"));
        assert!(!is_secret_member("userName"));
    }

    #[test]
    fn credential_parts_are_found_without_showing_them() {
        let mut s = Secrets::default();
        s.add_header("Authorization", "Bearer abcdef123456");
        s.add_header("Cookie", "session=zzzz9999; theme=dark-mode-on");
        assert!(s.found_in("token: abcdef123456").is_some());
        assert!(s.found_in("x zzzz9999 y").is_some());
        assert!(s.found_in("nothing here").is_none());
        assert!(!format!("{s:?}").contains("abcdef"));
        // Any bearer credential is caught, even one never seen.
        assert!(
            Secrets::default()
                .found_in("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9")
                .is_some()
        );
        // Short values are not searched for (they would match anything).
        let mut short = Secrets::default();
        short.add("abc");
        assert!(short.found_in("abc").is_none());
    }

    #[test]
    fn query_credentials_are_removed() {
        assert_eq!(clean_query(""), (String::new(), vec![]));
        let (q, r) = clean_query("filter=userName%20eq%20%22a%22&startIndex=1");
        assert_eq!(q, "filter=userName%20eq%20%22a%22&startIndex=1");
        assert!(r.is_empty());
        let (q, r) = clean_query("count=2&access_token=abc123456&api_key=k9");
        assert_eq!(q, "count=2");
        assert_eq!(r, vec!["abc123456", "k9"]);
    }

    #[test]
    fn bodies_lose_passwords() {
        let mut s = Secrets::default();
        let mut v = json!({"userName": "a", "password": "1mz050nq", "x": [{"client_secret": "shh-secret"}]});
        assert!(scrub_body(&mut v, "{{password}}", &mut s));
        assert_eq!(v["password"], json!("{{password}}"));
        assert_eq!(v["x"][0]["client_secret"], json!("{{password}}"));
        assert!(s.found_in("1mz050nq").is_some());
        let mut patch =
            json!({"Operations": [{"op": "replace", "path": "password", "value": "n3w-passw0rd"}]});
        assert!(scrub_body(&mut patch, "{{password}}", &mut s));
        assert_eq!(patch["Operations"][0]["value"], json!("{{password}}"));
    }
}
