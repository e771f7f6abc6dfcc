//! The first contact with a target: does the base URL answer like a SCIM
//! endpoint that accepts our credentials? A wrong token, an SSO login page
//! or a base URL missing its `/scim/v2` would otherwise turn every step of
//! a run into the same failure; one look at the first answers says so.

use super::Exchange;

/// What a first-contact answer shows is wrong, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactProblem {
    /// 401 or 403: the credentials were refused.
    Refused {
        /// The status.
        status: u16,
    },
    /// A 3xx: often an SSO login page, or a base URL one folder off.
    Redirect {
        /// The status.
        status: u16,
        /// Where it pointed.
        location: Option<String>,
    },
    /// HTML, or a 2xx body that is not JSON: not a SCIM endpoint.
    NotScim {
        /// The Content-Type it sent (`none` when absent).
        content_type: String,
    },
}

impl ContactProblem {
    /// What `ex` (a GET to the base URL's `/ServiceProviderConfig` or
    /// `/Users`) shows is wrong. Other statuses (404, 500, …) say nothing
    /// certain about the base URL: the suites report them.
    pub fn of(ex: &Exchange) -> Option<ContactProblem> {
        let r = &ex.response;
        let content_type = r
            .header("content-type")
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_else(|| "none".into());
        match r.status {
            401 | 403 => return Some(ContactProblem::Refused { status: r.status }),
            300..=399 => {
                return Some(ContactProblem::Redirect {
                    status: r.status,
                    location: r.header("location").map(str::to_string),
                });
            }
            _ => {}
        }
        let html = content_type == "text/html"
            || content_type == "application/xhtml+xml"
            || r.body.trim_start().get(..1) == Some("<");
        let not_json = (200..300).contains(&r.status)
            && !r.truncated
            && !r.body.trim().is_empty()
            && r.json.is_none();
        (html || not_json).then_some(ContactProblem::NotScim { content_type })
    }
}
