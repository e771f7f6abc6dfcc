//! The userName lookup check: the one capability every IdP profile stands
//! on, checked once per run with two users present.
//!
//! Entra ID ([MS-SCIM] "Users step 1"), Okta (OIN spec test), Google
//! Workspace, PingFederate, JumpCloud and OneLogin find each user with
//! `GET /Users?filter=userName eq "…"` before they create or update it
//! (RFC 7644 §3.4.2.2). A server that refuses the filter, or ignores it and
//! lists everyone, fails each of their steps in its own way; this check
//! names the cause once, for every profile it breaks. A lookup on an empty
//! server proves nothing, so two users are created first and each must be
//! found by its own name, and only it.

use serde_json::{Value, json};

use super::{is_2xx, remove, server_said};
use crate::http::{Client, Exchange, Request, encode_segment};
use crate::results::{LookupCheck, LookupOutcome};
use crate::scim::{ci, urn};

/// Runs the check. `prefix` names the two users (it carries the run id, so
/// `scimitar cleanup` finds them if the run dies). `keep` leaves them.
pub async fn check(
    client: &Client,
    prefix: &str,
    declared_filter: Option<bool>,
    profiles: Vec<String>,
    keep: bool,
) -> LookupCheck {
    let mut exchanges = Vec::new();
    let mut created: Vec<(String, String)> = Vec::new();
    let (outcome, mut summary) = judge(client, prefix, &mut exchanges, &mut created).await;
    if declared_filter == Some(false) {
        summary = match outcome {
            LookupOutcome::Works => format!(
                "{summary}; /ServiceProviderConfig declares filter.supported false all the same: the IdPs do not read it, other clients will believe it (RFC 7644 §5)"
            ),
            _ => format!("{summary} (/ServiceProviderConfig declares filter.supported false)"),
        };
    }
    let mut cleanup = Vec::new();
    if !keep {
        for (_, path) in created.iter().rev() {
            cleanup.push(remove(client, path).await);
        }
    }
    LookupCheck {
        outcome,
        summary,
        declared_filter,
        profiles,
        exchanges,
        cleanup,
    }
}

async fn judge(
    client: &Client,
    prefix: &str,
    exchanges: &mut Vec<Exchange>,
    created: &mut Vec<(String, String)>,
) -> (LookupOutcome, String) {
    // The first name is the start of the second: a server matching `eq` as
    // `sw` or `co` returns both.
    let names = [
        format!("{prefix}-lookup@example.com"),
        format!("{prefix}-lookup@example.com.au"),
    ];
    for (name, letter) in names.iter().zip(["A", "B"]) {
        // What the IdPs send on create first; a server that refuses it
        // (it requires or rejects some attribute) gets the bare minimum of
        // RFC 7643 §4.1 before the check gives up.
        let bodies = [
            json!({
                "schemas": [urn::USER],
                "userName": name,
                "externalId": format!("{name}-ext"),
                "name": { "givenName": "Lookup", "familyName": letter, "formatted": format!("Lookup {letter}") },
                "displayName": format!("Lookup {letter}"),
                "emails": [{ "value": name, "type": "work", "primary": true }],
                "active": true
            }),
            json!({ "schemas": [urn::USER], "userName": name }),
        ];
        let mut refused = None;
        for body in bodies {
            let mut req = Request::new(reqwest::Method::POST, "/Users");
            req.body = Some(body);
            let ex = match client.send(&req).await {
                Ok(ex) => ex,
                Err(e) => {
                    return (
                        LookupOutcome::Unchecked,
                        format!("POST /Users to create a user to look up failed: {e}"),
                    );
                }
            };
            let id = ex
                .response
                .json
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let status = ex.response.status;
            let said = server_said(&ex)
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            exchanges.push(ex);
            match id {
                Some(id) if is_2xx(status) => {
                    let path = format!("/Users/{}", encode_segment(&id));
                    created.push((id, path));
                    refused = None;
                    break;
                }
                _ => {
                    refused = Some(format!(
                        "POST /Users answered {status}{}{said}",
                        if is_2xx(status) { " without an id" } else { "" }
                    ))
                }
            }
        }
        if let Some(why) = refused {
            return (
                LookupOutcome::Unchecked,
                format!("the two users it needs could not be created: {why}"),
            );
        }
    }
    for (name, (id, _)) in names.iter().zip(created.iter()) {
        let filter = format!("userName eq \"{name}\"");
        let mut req = Request::new(reqwest::Method::GET, "/Users");
        req.query.push(("filter".into(), filter.clone()));
        let shown = format!("GET /Users?filter={filter}");
        let ex = match client.send(&req).await {
            Ok(ex) => ex,
            Err(e) => return (LookupOutcome::Broken, format!("{shown} failed: {e}")),
        };
        let verdict = judge_list(&ex, name, id);
        exchanges.push(ex);
        if let Some((problem, so)) = verdict {
            return (
                LookupOutcome::Broken,
                format!("{shown} {problem}, with two users present: {so}"),
            );
        }
    }
    (
        LookupOutcome::Works,
        "with two users present, each userName eq filter found exactly its own user".into(),
    )
}

/// The IdPs cannot match: they stop at the error.
const STUCK: &str = "the IdPs cannot match users, so their provisioning stops with an error";
/// The IdPs match the wrong user or none.
const WRONG: &str = "the IdPs would update the wrong user";
/// totalResults is how the IdPs tell "exists" from "new".
const COUNT: &str = "the IdPs read totalResults to tell an existing user from a new one";
const MISSED: &str = "the IdPs would not find existing users and create duplicates (409s)";

/// What is wrong with the answer to a lookup of `name` (the user `id`), and
/// what it does to the IdPs.
fn judge_list(ex: &Exchange, name: &str, id: &str) -> Option<(String, &'static str)> {
    let status = ex.response.status;
    if status != 200 {
        let said = server_said(ex)
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        return Some((format!("answered {status}{said}"), STUCK));
    }
    let Some(body) = &ex.response.json else {
        return Some((
            format!(
                "answered 200 without JSON: {}",
                ex.response.json_problem().unwrap_or_default()
            ),
            STUCK,
        ));
    };
    // RFC 7643 §2.1: attribute names are case-insensitive.
    let resources: Vec<&Value> = match ci::value_get_ci(body, "Resources") {
        Some(Value::Array(a)) => a.iter().collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Some(("answered with Resources that is not a list".into(), STUCK)),
    };
    let total = ci::value_get_ci(body, "totalResults").and_then(Value::as_u64);
    let others: Vec<String> = resources
        .iter()
        .filter(|r| ci::value_get_ci(r, "id").and_then(Value::as_str) != Some(id))
        .map(|r| {
            ci::value_get_ci(r, "userName")
                .and_then(Value::as_str)
                .unwrap_or("(no userName)")
                .to_string()
        })
        .collect();
    if !others.is_empty() {
        return Some((
            format!(
                "returned {} user(s) not named {name:?} ({}): the filter is ignored or matched loosely",
                others.len(),
                others.join(", ")
            ),
            WRONG,
        ));
    }
    if resources.is_empty() {
        return Some((
            format!(
                "did not return the user it names (totalResults {})",
                total.map_or("absent".into(), |t| t.to_string())
            ),
            MISSED,
        ));
    }
    if total.is_some_and(|t| t != 1) {
        return Some((
            format!(
                "returned its user but totalResults {} (RFC 7644 §3.4.2: the number of matching results)",
                total.unwrap_or_default()
            ),
            COUNT,
        ));
    }
    None
}
