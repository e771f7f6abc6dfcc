//! HAR 1.2 files (devtools, mitmproxy `hardump`, API gateways) → a
//! [`Recording`]. Only the fields a replay needs are read (`recording.md`
//! §1); credentials in headers, cookies and query strings are remembered
//! for the output check and never kept in the entries.

use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use super::secrets::{self, Secrets};
use super::{Body, Entry, RecordError, Recording, SCIM_ENDPOINTS, Source};

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    creator: Option<Creator>,
    entries: Vec<HarEntry>,
}

#[derive(Deserialize)]
struct Creator {
    name: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
struct HarEntry {
    #[serde(default, rename = "startedDateTime")]
    started: Option<String>,
    request: HarRequest,
    response: HarResponse,
}

#[derive(Deserialize)]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    cookies: Vec<NameValue>,
    #[serde(default, rename = "postData")]
    post_data: Option<Content>,
}

#[derive(Deserialize)]
struct HarResponse {
    status: i64,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    cookies: Vec<NameValue>,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Deserialize)]
struct NameValue {
    name: String,
    #[serde(default)]
    value: String,
}

/// `postData` and `response.content` share the fields we read.
#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    text: Option<String>,
    /// `base64` for binary content (HAR 1.2 `content.encoding`; 1.3 draft
    /// `postData.encoding`).
    #[serde(default)]
    encoding: Option<String>,
}

/// Reads a HAR file. `base` is the SCIM base URL (or just its path) in the
/// file's URLs; without it, the base ends before the first SCIM endpoint
/// segment (`/Users`, `/Groups`, …) of the first entry that has one.
pub fn read(path: &Path, base: Option<&str>, max_body: usize) -> Result<Recording, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|source| RecordError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, base, max_body)
}

/// Parses HAR text; `path` names it in errors and in the suite's header.
pub fn parse(
    path: &Path,
    text: &str,
    base: Option<&str>,
    max_body: usize,
) -> Result<Recording, RecordError> {
    let bad = |reason: String| RecordError::Har {
        path: path.to_path_buf(),
        reason,
    };
    let har: Har = serde_json::from_str(text)
        .map_err(|e| bad(format!("line {} column {}: {e}", e.line(), e.column())))?;
    let mut secrets = Secrets::default();
    let mut notes = Vec::new();

    // Readers sort by startedDateTime themselves (HAR 1.2 "entries").
    let mut entries: Vec<(usize, HarEntry)> = har.log.entries.into_iter().enumerate().collect();
    let parse_time = |s: &Option<String>| {
        s.as_deref().and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
    };
    if entries
        .iter()
        .all(|(_, e)| parse_time(&e.started).is_some())
    {
        entries.sort_by_key(|(i, e)| (parse_time(&e.started), *i));
    } else if !entries.is_empty() {
        notes
            .push("some startedDateTime values are not RFC 3339: the file's order was kept".into());
    }

    let base = match base {
        Some(b) => Base::given(b).ok_or_else(|| bad(format!("--upstream {b:?} is not a URL or a path")))?,
        None => entries
            .iter()
            .find_map(|(_, e)| Base::infer(&e.request.url))
            .ok_or_else(|| {
                bad("no request to a SCIM endpoint (/Users, /Groups, /Schemas, …) in it; give the SCIM base URL with --upstream".into())
            })?,
    };

    let mut out = Vec::new();
    let mut other = 0usize;
    let mut unanswered = 0usize;
    for (_, e) in entries {
        // Credentials are remembered wherever they are, kept or not.
        for h in e.request.headers.iter().chain(&e.response.headers) {
            if secrets::is_credential_header(&h.name) {
                secrets.add_header(&h.name, &h.value);
            }
        }
        for c in e.request.cookies.iter().chain(&e.response.cookies) {
            secrets.add(&c.value);
        }
        let Ok(url) = reqwest::Url::parse(&e.request.url) else {
            other += 1;
            continue;
        };
        let (query, removed) = secrets::clean_query(url.query().unwrap_or(""));
        for v in removed {
            secrets.add(&v);
        }
        let Some(rel) = base.relative(&url) else {
            other += 1;
            continue;
        };
        if e.response.status <= 0 {
            unanswered += 1;
            continue;
        }
        let request_body = e
            .request
            .post_data
            .as_ref()
            .and_then(|c| decode(c, max_body))
            .filter(|b| !b.is_empty());
        out.push(Entry {
            started: e.started.clone(),
            method: e.request.method.to_ascii_uppercase(),
            path: rel,
            query,
            request_headers: kept(&e.request.headers, secrets::kept_request_header),
            request_body,
            status: u16::try_from(e.response.status).unwrap_or(0),
            response_headers: kept(&e.response.headers, secrets::kept_response_header),
            response_body: e
                .response
                .content
                .as_ref()
                .and_then(|c| decode(c, max_body)),
        });
    }
    if other > 0 {
        notes.push(format!(
            "{other} HAR entries were left out: not below the SCIM base {}",
            base.display()
        ));
    }
    if unanswered > 0 {
        notes.push(format!(
            "{unanswered} HAR entries were left out: no response was recorded"
        ));
    }
    Ok(Recording {
        source: Source::Har {
            file: path.to_path_buf(),
            creator: har
                .log
                .creator
                .map(|c| format!("{} {}", c.name, c.version).trim().to_string()),
        },
        started: super::now_rfc3339(),
        entries: out,
        base_urls: base.urls(),
        secrets,
        notes,
    })
}

fn kept(headers: &[NameValue], keep: fn(&str) -> bool) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|h| keep(&h.name))
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

fn decode(c: &Content, max_body: usize) -> Option<Body> {
    let text = c.text.as_ref()?;
    let mut bytes = if c
        .encoding
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("base64"))
    {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?
    } else {
        text.as_bytes().to_vec()
    };
    let truncated = bytes.len() > max_body;
    bytes.truncate(max_body);
    Some(Body { bytes, truncated })
}

/// The SCIM base in the file's URLs.
struct Base {
    /// `scheme://host:port`, when known.
    origin: Option<String>,
    /// Without a trailing `/`; empty for the root.
    path: String,
}

impl Base {
    fn given(b: &str) -> Option<Base> {
        if b.starts_with('/') {
            return Some(Base {
                origin: None,
                path: b.trim_end_matches('/').to_string(),
            });
        }
        let url = reqwest::Url::parse(b).ok()?;
        Some(Base {
            origin: Some(url.origin().ascii_serialization()),
            path: url.path().trim_end_matches('/').to_string(),
        })
    }

    fn infer(url: &str) -> Option<Base> {
        let url = reqwest::Url::parse(url).ok()?;
        let segments: Vec<&str> = url.path().split('/').collect();
        let at = segments
            .iter()
            .position(|s| SCIM_ENDPOINTS.iter().any(|e| s.eq_ignore_ascii_case(e)))?;
        Some(Base {
            origin: Some(url.origin().ascii_serialization()),
            path: segments[..at].join("/").trim_end_matches('/').to_string(),
        })
    }

    /// The path below the base, when `url` is below it.
    fn relative(&self, url: &reqwest::Url) -> Option<String> {
        if let Some(o) = &self.origin
            && url.origin().ascii_serialization() != *o
        {
            return None;
        }
        let rest = url.path().strip_prefix(self.path.as_str())?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        Some(if rest.is_empty() {
            "/".into()
        } else {
            rest.to_string()
        })
    }

    fn display(&self) -> String {
        format!("{}{}", self.origin.as_deref().unwrap_or(""), self.path)
    }

    fn urls(&self) -> Vec<String> {
        match &self.origin {
            Some(o) => vec![format!("{o}{}", self.path)],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn har(entries: serde_json::Value) -> String {
        json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}).to_string()
    }

    fn entry(
        t: &str,
        method: &str,
        url: &str,
        status: i64,
        body: Option<&str>,
    ) -> serde_json::Value {
        json!({
            "startedDateTime": t,
            "request": {
                "method": method, "url": url, "httpVersion": "HTTP/1.1",
                "headers": [
                    {"name": "Authorization", "value": "Bearer s3cr3t-token-value"},
                    {"name": "Cookie", "value": "sid=cookie-secret-1"},
                    {"name": "User-Agent", "value": "Okta SCIM Client 1.0.0"}
                ],
                "cookies": [{"name": "sid", "value": "cookie-secret-1"}],
                "postData": body.map(|b| json!({"mimeType": "application/scim+json", "text": b}))
            },
            "response": {
                "status": status, "headers": [{"name": "Content-Type", "value": "application/scim+json"}, {"name": "Set-Cookie", "value": "sid=other-cookie-2; Path=/"}],
                "content": {"mimeType": "application/scim+json", "text": "eyJpZCI6ICJ4In0=", "encoding": "base64"}
            }
        })
    }

    #[test]
    fn reads_sorts_filters_and_keeps_no_credential() {
        let text = har(json!([
            entry(
                "2026-01-01T10:00:02Z",
                "get",
                "https://sp.example/scim/v2/Users/x?access_token=qs-secret-9",
                200,
                None
            ),
            entry(
                "2026-01-01T10:00:01Z",
                "POST",
                "https://sp.example/scim/v2/Users",
                201,
                Some("{\"userName\":\"a\"}")
            ),
            entry(
                "2026-01-01T10:00:03Z",
                "GET",
                "https://sp.example/favicon.ico",
                200,
                None
            ),
            entry(
                "2026-01-01T10:00:04Z",
                "GET",
                "https://sp.example/scim/v2/Groups",
                0,
                None
            ),
        ]));
        let rec = parse(Path::new("x.har"), &text, None, 1 << 20).unwrap();
        let lines: Vec<String> = rec
            .entries
            .iter()
            .map(|e| format!("{} {} {}", e.method, e.path, e.query))
            .collect();
        assert_eq!(lines, vec!["POST /Users ", "GET /Users/x "]);
        assert_eq!(
            rec.entries[0].response_body.as_ref().unwrap().json(),
            Some(json!({"id": "x"}))
        );
        assert_eq!(
            rec.entries[0].request_header("User-Agent"),
            Some("Okta SCIM Client 1.0.0")
        );
        assert!(rec.entries[0].request_header("Authorization").is_none());
        assert!(rec.entries[0].request_header("Cookie").is_none());
        assert_eq!(rec.notes.len(), 2, "{:?}", rec.notes);
        for s in [
            "s3cr3t-token-value",
            "cookie-secret-1",
            "other-cookie-2",
            "qs-secret-9",
        ] {
            assert!(rec.secrets.found_in(s).is_some(), "{s} not remembered");
        }
        assert_eq!(rec.base_urls, vec!["https://sp.example/scim/v2"]);
    }

    #[test]
    fn bad_files_say_why() {
        let e = parse(Path::new("x.har"), "{\"log\": 1}", None, 10).unwrap_err();
        assert!(
            e.to_string().starts_with("x.har: not a HAR file: line 1"),
            "{e}"
        );
        let e = parse(Path::new("x.har"), &har(json!([])), None, 10).unwrap_err();
        assert!(
            e.to_string().contains("no request to a SCIM endpoint"),
            "{e}"
        );
        let ok = parse(Path::new("x.har"), &har(json!([])), Some("/scim"), 10).unwrap();
        assert!(ok.entries.is_empty());
    }
}
