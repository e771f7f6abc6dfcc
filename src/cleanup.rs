//! `scimitar cleanup`: finds the Users and Groups that crashed runs left
//! behind (names starting with the harness prefix) and deletes them.
//!
//! Safety first: the prefix must start with [`HARNESS_PREFIX`], and every
//! name is matched here, never only by the server's filter, so a server that
//! ignores `filter` cannot make this delete anyone else's data.

use std::collections::HashSet;

use serde_json::Value;

use crate::http::{Client, HttpError, Request};

/// Every name the harness creates starts with this.
pub const HARNESS_PREFIX: &str = "scimitar-";

/// Resources asked for per page.
const PAGE_SIZE: usize = 100;
/// Pages read per resource type at most, so a server that pages forever
/// cannot keep cleanup running.
const MAX_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error(
        "--prefix {0:?} must start with \"{HARNESS_PREFIX}\": cleanup only removes what scimitar created"
    )]
    Prefix(String),
    #[error("--prefix {0:?} must not contain quotes, backslashes or control characters")]
    PrefixChars(String),
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("GET {path} answered {status}; cannot list leftovers: {detail}")]
    List {
        path: String,
        status: u16,
        detail: String,
    },
}

/// A resource type cleanup looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// `User` or `Group`.
    pub name: &'static str,
    /// `/Users` or `/Groups`.
    pub endpoint: &'static str,
    /// The attribute that carries the harness name.
    pub attr: &'static str,
}

/// Groups first: they refer to users.
pub const KINDS: [Kind; 2] = [
    Kind {
        name: "Group",
        endpoint: "/Groups",
        attr: "displayName",
    },
    Kind {
        name: "User",
        endpoint: "/Users",
        attr: "userName",
    },
];

/// One resource a run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub kind: Kind,
    pub id: String,
    pub name: String,
}

impl Leftover {
    /// The path to DELETE, below the base URL.
    pub fn path(&self) -> String {
        format!(
            "{}/{}",
            self.kind.endpoint,
            crate::http::encode_segment(&self.id)
        )
    }
}

/// What a search found, with notes on how (e.g. a fallback).
#[derive(Debug, Default)]
pub struct Found {
    pub leftovers: Vec<Leftover>,
    pub notes: Vec<String>,
}

/// Refuses any prefix that could match names scimitar did not create.
pub fn check_prefix(prefix: &str) -> Result<(), CleanupError> {
    if !prefix.starts_with(HARNESS_PREFIX) {
        return Err(CleanupError::Prefix(prefix.to_string()));
    }
    if prefix
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        return Err(CleanupError::PrefixChars(prefix.to_string()));
    }
    Ok(())
}

/// Whether `name` carries `prefix`. ASCII case is ignored: userName and
/// displayName are caseExact false (RFC 7643 §4.1.1, §4.2), so a server may
/// store or return another case.
pub fn has_prefix(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.is_char_boundary(prefix.len())
        && name[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The first name a request would give a User or Group without the harness
/// prefix, if any: POST/PUT bodies, PATCH operations and Bulk operations.
/// The runner refuses such requests, so everything a run creates can be
/// found again by `scimitar cleanup`.
pub fn unprefixed_name(method: &str, path: &str, body: Option<&Value>) -> Option<String> {
    let body = body?;
    let path = path.split('?').next().unwrap_or("").trim_end_matches('/');
    let method = method.to_ascii_uppercase();
    // POST goes to the endpoint itself, PUT and PATCH to one resource below it.
    let segment = match method.as_str() {
        "POST" => path.rsplit('/').next(),
        _ => path.rsplit('/').nth(1),
    }
    .unwrap_or("");
    let on = |endpoint: &str| segment.eq_ignore_ascii_case(endpoint);
    // The attribute cleanup searches by: userName for Users, displayName for Groups.
    let attr = if on("Users") {
        "userName"
    } else if on("Groups") {
        "displayName"
    } else {
        ""
    };
    let bad = |v: &Value| -> Option<String> {
        v.as_str()
            .filter(|n| !has_prefix(n, HARNESS_PREFIX))
            .map(str::to_string)
    };
    let named = |v: &Value| -> Option<String> {
        v.as_object()?
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(attr))
            .and_then(|(_, n)| bad(n))
    };
    match method.as_str() {
        "POST" if path.to_ascii_lowercase().ends_with("/bulk") => body
            .get("Operations")
            .and_then(Value::as_array)?
            .iter()
            .find_map(|op| {
                let m = op.get("method").and_then(Value::as_str).unwrap_or("");
                let p = op.get("path").and_then(Value::as_str).unwrap_or("");
                unprefixed_name(m, p, op.get("data"))
            }),
        "POST" | "PUT" if !attr.is_empty() => named(body),
        "PATCH" if !attr.is_empty() => body
            .get("Operations")
            .and_then(Value::as_array)?
            .iter()
            .find_map(|op| {
                let value = op.get("value")?;
                match op.get("path").and_then(Value::as_str) {
                    Some(p) if p.eq_ignore_ascii_case(attr) => bad(value),
                    Some(_) => None,
                    None => named(value),
                }
            }),
        _ => None,
    }
}

/// Lists every User and Group whose name starts with `prefix`.
pub async fn find(client: &Client, prefix: &str) -> Result<Found, CleanupError> {
    check_prefix(prefix)?;
    let mut found = Found::default();
    for kind in KINDS {
        find_kind(client, kind, prefix, &mut found).await?;
    }
    Ok(found)
}

async fn find_kind(
    client: &Client,
    kind: Kind,
    prefix: &str,
    found: &mut Found,
) -> Result<(), CleanupError> {
    let mut filtered = true;
    let mut seen: HashSet<String> = HashSet::new();
    let mut start = 1usize;
    // Results of a filtered search whose name does not match: the server
    // ignored (or misapplied) the filter.
    let mut ignored = 0usize;
    let mut complete = false;
    for _ in 0..MAX_PAGES {
        let mut req = Request::new(reqwest::Method::GET, kind.endpoint);
        if filtered {
            req.query
                .push(("filter".into(), format!("{} sw \"{prefix}\"", kind.attr)));
        }
        req.query.push(("startIndex".into(), start.to_string()));
        req.query.push(("count".into(), PAGE_SIZE.to_string()));
        let ex = client.send(&req).await?;
        let status = ex.response.status;
        if status == 404 && kind.name == "Group" && start == 1 {
            found
                .notes
                .push("GET /Groups answered 404: no groups endpoint, groups skipped".into());
            return Ok(());
        }
        if filtered && start == 1 && matches!(status, 400 | 403 | 501) {
            // No filter support: list everything and match names here.
            found.notes.push(format!(
                "GET {} with a filter answered {status}; listing all {}s and matching names locally",
                kind.endpoint,
                kind.name.to_lowercase()
            ));
            filtered = false;
            continue;
        }
        let body = match (&ex.response.json, status) {
            (Some(v), 200) => v,
            _ => {
                return Err(CleanupError::List {
                    path: kind.endpoint.into(),
                    status,
                    detail: ex
                        .response
                        .json_problem()
                        .unwrap_or_else(|| ex.response.excerpt(200)),
                });
            }
        };
        let resources = body
            .get("Resources")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut new = 0;
        for r in resources {
            let id = r.get("id").and_then(Value::as_str).unwrap_or("");
            let name = r.get(kind.attr).and_then(Value::as_str).unwrap_or("");
            if id.is_empty() || !seen.insert(id.to_string()) {
                continue;
            }
            new += 1;
            // The server's filter is not trusted: match the name here.
            if has_prefix(name, prefix) {
                found.leftovers.push(Leftover {
                    kind,
                    id: id.to_string(),
                    name: name.to_string(),
                });
            } else if filtered {
                ignored += 1;
            }
        }
        let total = body
            .get("totalResults")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        start += resources.len();
        // An empty page, a page of repeats (startIndex ignored) or the end.
        if resources.is_empty() || new == 0 || start > total {
            complete = true;
            break;
        }
    }
    if !complete {
        found.notes.push(format!(
            "stopped listing {} after {MAX_PAGES} pages; run cleanup again for the rest",
            kind.endpoint
        ));
    }
    if ignored > 0 {
        found.notes.push(format!(
            "GET {} with filter {} sw \"{prefix}\" also returned {ignored} {}(s) whose name does not start with it; those were left alone",
            kind.endpoint,
            kind.attr,
            kind.name
        ));
    }
    Ok(())
}

/// Deletes one leftover; 2xx and 404 (already gone) count as removed.
pub async fn delete(client: &Client, l: &Leftover) -> Result<u16, HttpError> {
    let ex = client
        .send(&Request::new(reqwest::Method::DELETE, l.path()))
        .await?;
    Ok(ex.response.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_must_be_the_harness_prefix() {
        assert!(check_prefix("scimitar-").is_ok());
        assert!(check_prefix("scimitar-1a2b3c4d-").is_ok());
        for bad in ["", "scim", "scimitar", "Scimitar-", "a", "x-scimitar-"] {
            assert!(
                matches!(check_prefix(bad), Err(CleanupError::Prefix(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            check_prefix("scimitar-\" or userName pr \""),
            Err(CleanupError::PrefixChars(_))
        ));
    }

    #[test]
    fn names_without_the_prefix_are_found_in_every_kind_of_write() {
        use serde_json::json;
        let ok = json!({"userName": "scimitar-1-2-ada", "displayName": "Ada Lovelace"});
        let bad = json!({"userName": "ada@example.com"});
        assert_eq!(unprefixed_name("POST", "/Users", Some(&ok)), None);
        assert_eq!(
            unprefixed_name("POST", "/Users", Some(&bad)).as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(
            unprefixed_name("PUT", "/Groups/g1", Some(&json!({"displayName": "Admins"})))
                .as_deref(),
            Some("Admins")
        );
        // Searches and other endpoints create nothing.
        assert_eq!(unprefixed_name("POST", "/Users/.search", Some(&bad)), None);
        assert_eq!(unprefixed_name("GET", "/Users", Some(&bad)), None);
        let patch = |op: Value| json!({"Operations": [op]});
        assert_eq!(
            unprefixed_name(
                "PATCH",
                "/Users/u1",
                Some(&patch(
                    json!({"op": "replace", "path": "userName", "value": "bob"})
                ))
            )
            .as_deref(),
            Some("bob")
        );
        assert_eq!(
            unprefixed_name(
                "PATCH",
                "/Users/u1",
                Some(&patch(
                    json!({"op": "Replace", "value": {"userName": "bob"}})
                ))
            )
            .as_deref(),
            Some("bob")
        );
        assert_eq!(
            unprefixed_name(
                "PATCH",
                "/Users/u1",
                Some(&patch(
                    json!({"op": "replace", "path": "active", "value": false})
                ))
            ),
            None
        );
        let bulk = json!({"Operations": [
            {"method": "POST", "path": "/Users", "data": ok},
            {"method": "POST", "path": "/Groups", "data": {"displayName": "SCIMITAR-1-2-Staff"}},
            {"method": "POST", "path": "/Groups", "data": {"displayName": "Staff"}}
        ]});
        assert_eq!(
            unprefixed_name("POST", "/Bulk", Some(&bulk)).as_deref(),
            Some("Staff")
        );
        assert!(has_prefix("Scimitar-x", "scimitar-"));
        assert!(!has_prefix("scimitar", "scimitar-"));
        assert!(!has_prefix("é", "scimitar-"));
    }

    #[test]
    fn leftover_paths_encode_the_id() {
        let l = Leftover {
            kind: KINDS[1],
            id: "a/b c".into(),
            name: "scimitar-x".into(),
        };
        assert_eq!(l.path(), "/Users/a%2Fb%20c");
    }
}
