//! The first contact, before any suite: refused credentials, an HTML login
//! page, a redirect or a non-SCIM body end the command with one line
//! (exit 2) instead of a run where every step fails the same way.

use scimitar::http::{Client, ContactProblem, Exchange, Request};

use super::CmdError;

/// Looks at discovery's `/ServiceProviderConfig` answer, then asks
/// `GET /Users?count=1` (where credentials matter even when the discovery
/// endpoints are public, as RFC 7644 §4 allows).
pub async fn check(
    client: &Client,
    spc: Option<&Exchange>,
    base: &str,
    auth: &str,
    unauthenticated: bool,
) -> Result<(), CmdError> {
    let spc_problem = spc.and_then(ContactProblem::of);
    if let (Some(p @ ContactProblem::Refused { .. }), Some(ex)) = (&spc_problem, spc) {
        return Err(line(p, ex, base, auth, unauthenticated));
    }
    let mut req = Request::new(reqwest::Method::GET, "/Users");
    req.query.push(("count".into(), "1".into()));
    // A probe that gets no answer proves nothing the suites would not show
    // in detail (a hung or resetting /Users is their finding).
    let Ok(users) = client.probe(&req).await else {
        return match (spc_problem, spc) {
            (Some(p), Some(ex)) => Err(line(&p, ex, base, auth, unauthenticated)),
            _ => Ok(()),
        };
    };
    match (ContactProblem::of(&users), spc_problem, spc) {
        (Some(p), _, _) => Err(line(&p, &users, base, auth, unauthenticated)),
        // /Users answered like SCIM: a broken discovery endpoint is the
        // suites' finding, not a reason not to run.
        (None, Some(_), _) if users.response.json.is_some() => Ok(()),
        (None, Some(p), Some(ex)) => Err(line(&p, ex, base, auth, unauthenticated)),
        _ => Ok(()),
    }
}

/// The one line that says what is wrong and what to check.
fn line(p: &ContactProblem, ex: &Exchange, base: &str, auth: &str, none: bool) -> CmdError {
    let what = format!("{} {}", ex.request.method, path_of(&ex.request.url, base));
    CmdError::Usage(match p {
        ContactProblem::Refused { status } if none => format!(
            "{base} answered {status} to {what}: it wants credentials and none were given; set SCIM_TOKEN or give --token-env VAR, --token-file FILE or --basic USER:PASS"
        ),
        ContactProblem::Refused { status } => format!(
            "{base} refused {auth} ({status} to {what}): check that the credentials are current, meant for this endpoint and allowed to read Users (for OAuth, the token's audience and scopes)"
        ),
        ContactProblem::Redirect { status, location } => format!(
            "{base} is not a SCIM endpoint: {what} was redirected ({status}) to {}; a login page or a different path? check the base URL, e.g. https://host/scim/v2",
            location.as_deref().unwrap_or("nowhere")
        ),
        ContactProblem::NotScim { content_type } => format!(
            "{base} is not a SCIM endpoint: got {content_type} ({} to {what}); check the base URL, e.g. https://host/scim/v2",
            ex.response.status
        ),
    })
}

/// `/Users?count=1` from the recorded URL.
fn path_of(url: &str, base: &str) -> String {
    url.strip_prefix(base.trim_end_matches('/'))
        .unwrap_or(url)
        .to_string()
}
