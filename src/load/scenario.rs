//! The Entra-style scenario's requests: names, bodies (Entra's own, from
//! `fixtures/entra/` and `suites/entra/`), and which users each phase
//! touches. Pure functions of the configuration and an index, so the driver
//! and the Locust export send the same thing.

use serde_json::{Value, json};

use crate::http::Request;
use crate::scim::urn;

/// Entra's create-user body (`fixtures/entra/create-user.json`).
pub(crate) const CREATE_USER: &str = include_str!("../../fixtures/entra/create-user.json");
/// Entra's create-group body (`fixtures/entra/create-group.json`).
pub(crate) const CREATE_GROUP: &str = include_str!("../../fixtures/entra/create-group.json");

/// The operations, in the order the table lists them: (name, request).
pub const OPERATIONS: [(&str, &str); 13] = [
    ("match-user", "GET /Users?filter=userName eq"),
    ("create-user", "POST /Users"),
    ("match-group", "GET /Groups?filter=displayName eq"),
    ("create-group", "POST /Groups"),
    ("add-members", "PATCH /Groups/{id} add members"),
    ("update-user", "PATCH /Users/{id} attributes"),
    ("disable-user", "PATCH /Users/{id} active=false"),
    ("delete-user", "DELETE /Users/{id}"),
    ("import-users", "GET /Users?startIndex&count=100"),
    ("verify-count", "GET /Users?filter=userName sw"),
    ("verify-group", "GET /Groups/{id}"),
    ("verify-duplicate", "POST /Users (same userName)"),
    ("cleanup", "DELETE /Groups|/Users/{id}"),
];

/// Index into [`OPERATIONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /Users?filter=userName eq "…"`
    MatchUser,
    /// `POST /Users`
    CreateUser,
    /// `GET /Groups?excludedAttributes=members&filter=displayName eq "…"`
    MatchGroup,
    /// `POST /Groups`
    CreateGroup,
    /// `PATCH /Groups/{id}`, add members
    AddMembers,
    /// `PATCH /Users/{id}`, work email and family name
    UpdateUser,
    /// `PATCH /Users/{id}`, `active=false`
    DisableUser,
    /// `DELETE /Users/{id}`
    DeleteUser,
    /// `GET /Users?startIndex=…&count=100`
    ImportUsers,
    /// `GET /Users?filter=userName sw "<prefix>"`
    VerifyCount,
    /// `GET /Groups/{id}`
    VerifyGroup,
    /// `POST /Users` of one userName, in parallel
    VerifyDuplicate,
    /// `DELETE` of what the run created
    Cleanup,
}

impl Op {
    /// In the order of [`OPERATIONS`].
    pub const ALL: [Op; 13] = [
        Op::MatchUser,
        Op::CreateUser,
        Op::MatchGroup,
        Op::CreateGroup,
        Op::AddMembers,
        Op::UpdateUser,
        Op::DisableUser,
        Op::DeleteUser,
        Op::ImportUsers,
        Op::VerifyCount,
        Op::VerifyGroup,
        Op::VerifyDuplicate,
        Op::Cleanup,
    ];

    /// Its row in [`OPERATIONS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its stable name (`create-user`).
    pub fn name(self) -> &'static str {
        OPERATIONS[self.index()].0
    }

    /// The statuses that mean success (RFC 7644: 201 on create, 204 on
    /// delete; 200 or 204 on PATCH; cleanup also takes 404: already gone).
    pub fn expected(self, status: u16) -> bool {
        match self {
            Op::MatchUser
            | Op::MatchGroup
            | Op::ImportUsers
            | Op::VerifyCount
            | Op::VerifyGroup => status == 200,
            Op::CreateUser | Op::CreateGroup => status == 201,
            Op::AddMembers | Op::UpdateUser | Op::DisableUser => matches!(status, 200 | 204),
            Op::DeleteUser => matches!(status, 200 | 204),
            Op::VerifyDuplicate => matches!(status, 201 | 409),
            Op::Cleanup => matches!(status, 200 | 204 | 404),
        }
    }

    /// Operations on objects, as Entra's escrow counts them; group member
    /// changes are references (they count toward the absolute limit only).
    pub fn is_object(self) -> bool {
        matches!(
            self,
            Op::MatchUser
                | Op::CreateUser
                | Op::MatchGroup
                | Op::CreateGroup
                | Op::UpdateUser
                | Op::DisableUser
                | Op::DeleteUser
        )
    }
}

/// Names for one run: every name starts with `scimitar-<run id>-`.
#[derive(Debug, Clone)]
pub struct Names {
    /// `scimitar-<run id>-`
    pub prefix: String,
}

impl Names {
    /// The names of run `run_id`.
    pub fn new(run_id: &str) -> Names {
        Names {
            prefix: format!("{}{run_id}-", crate::cleanup::HARNESS_PREFIX),
        }
    }

    /// User `i`'s userName (an email address, as Entra's UPNs are).
    pub fn user_name(&self, i: usize) -> String {
        format!("{}u{i}@contoso.example", self.prefix)
    }

    /// Group `g`'s displayName.
    pub fn group_name(&self, g: usize) -> String {
        format!("{}g{g}", self.prefix)
    }

    /// The userName the uniqueness check creates in parallel.
    pub fn duplicate_name(&self) -> String {
        format!("{}dup@contoso.example", self.prefix)
    }
}

/// Replaces `{{var}}` in every string of a JSON template.
fn fill(template: &Value, vars: &[(&str, &str)]) -> Value {
    match template {
        Value::String(s) if s.contains("{{") => {
            let mut out = s.clone();
            for (k, v) in vars {
                out = out.replace(&format!("{{{{{k}}}}}"), v);
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, vars)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), fill(x, vars))).collect())
        }
        other => other.clone(),
    }
}

fn template(text: &str) -> Value {
    serde_json::from_str(text).expect("the Entra fixtures are valid JSON")
}

/// Entra's create body for user `i`.
pub fn user_body(names: &Names, i: usize) -> Value {
    let user_name = names.user_name(i);
    let external = format!("{}x{i}", names.prefix);
    let prefix = names.prefix.trim_end_matches('-');
    fill(
        &template(CREATE_USER),
        &[
            ("userName", &user_name),
            ("externalId", &external),
            ("workEmail", &user_name),
            ("prefix", prefix),
        ],
    )
}

/// Entra's create body for group `g`.
pub fn group_body(names: &Names, g: usize) -> Value {
    let name = names.group_name(g);
    let external = format!("{}gx{g}", names.prefix);
    fill(
        &template(CREATE_GROUP),
        &[("groupName", &name), ("groupExternalId", &external)],
    )
}

fn patch(ops: Value) -> Value {
    json!({ "schemas": [urn::PATCH_OP], "Operations": ops })
}

/// `GET /Users?filter=userName eq "…"` (Entra's match before create).
pub fn match_user(names: &Names, i: usize) -> Request {
    filter_get(
        "/Users",
        format!("userName eq \"{}\"", names.user_name(i)),
        false,
    )
}

/// `GET /Groups?excludedAttributes=members&filter=displayName eq "…"`.
pub fn match_group(names: &Names, g: usize) -> Request {
    filter_get(
        "/Groups",
        format!("displayName eq \"{}\"", names.group_name(g)),
        true,
    )
}

fn filter_get(path: &str, filter: String, exclude_members: bool) -> Request {
    let mut r = Request::new(reqwest::Method::GET, path);
    if exclude_members {
        r.query
            .push(("excludedAttributes".into(), "members".into()));
    }
    r.query.push(("filter".into(), filter));
    r
}

/// `POST /Users` for user `i`.
pub fn create_user(names: &Names, i: usize) -> Request {
    let mut r = Request::new(reqwest::Method::POST, "/Users");
    r.body = Some(user_body(names, i));
    r
}

/// `POST /Groups` for group `g`.
pub fn create_group(names: &Names, g: usize) -> Request {
    let mut r = Request::new(reqwest::Method::POST, "/Groups");
    r.body = Some(group_body(names, g));
    r
}

/// Entra's member add (`"$ref": null`, suites/entra/groups.yaml add-members).
pub fn add_members(group_id: &str, member_ids: &[&str]) -> Request {
    let value: Vec<Value> = member_ids
        .iter()
        .map(|id| json!({ "$ref": null, "value": id }))
        .collect();
    let mut r = Request::new(reqwest::Method::PATCH, format!("/Groups/{group_id}"));
    r.body = Some(patch(
        json!([{ "op": "add", "path": "members", "value": value }]),
    ));
    r
}

/// Entra's attribute update: a typed email by value-filter path and a
/// dotted name part (suites/entra/users.yaml patch-work-email-and-family-name).
pub fn update_user(names: &Names, id: &str, i: usize) -> Request {
    let mut r = Request::new(reqwest::Method::PATCH, format!("/Users/{id}"));
    r.body = Some(patch(json!([
        { "op": "replace", "path": "emails[type eq \"work\"].value",
          "value": format!("{}u{i}.updated@contoso.example", names.prefix) },
        { "op": "replace", "path": "name.familyName", "value": "updatedFamilyName" },
    ])));
    r
}

/// Entra's disable (aadOptscim062020: lowercase op, a real boolean).
pub fn disable_user(id: &str) -> Request {
    let mut r = Request::new(reqwest::Method::PATCH, format!("/Users/{id}"));
    r.body = Some(patch(
        json!([{ "op": "replace", "path": "active", "value": false }]),
    ));
    r
}

/// `DELETE {endpoint}/{id}`
pub fn delete(endpoint: &str, id: &str) -> Request {
    Request::new(reqwest::Method::DELETE, format!("{endpoint}/{id}"))
}

/// Okta's import page (`startIndex` from 1, `count=100`).
pub fn import_page(start_index: usize, count: usize) -> Request {
    let mut r = Request::new(reqwest::Method::GET, "/Users");
    r.query.push(("startIndex".into(), start_index.to_string()));
    r.query.push(("count".into(), count.to_string()));
    r
}

/// How many users of the run each group holds, and which.
pub fn group_members(g: usize, members: usize, users: usize) -> impl Iterator<Item = usize> {
    let n = members.min(users);
    (0..n).map(move |k| (g * members + k) % users.max(1))
}

/// The incremental cycle's shares of users, as contiguous index ranges:
/// (updated, disabled, deleted).
pub fn incremental_ranges(
    users: usize,
    update: f64,
    disable: f64,
    delete: f64,
) -> (
    std::ops::Range<usize>,
    std::ops::Range<usize>,
    std::ops::Range<usize>,
) {
    let n = |share: f64| ((users as f64) * share.clamp(0.0, 1.0)).round() as usize;
    let u = n(update).min(users);
    let d = n(disable).min(users - u);
    let x = n(delete).min(users - u - d);
    (0..u, u..u + d, u + d..u + d + x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_entras_with_the_run_names() {
        let names = Names::new("ab12cd34");
        let u = user_body(&names, 7);
        assert_eq!(u["userName"], "scimitar-ab12cd34-u7@contoso.example");
        assert_eq!(u["emails"][0]["value"], u["userName"]);
        assert_eq!(u["roles"], json!([]));
        assert_eq!(u["meta"]["resourceType"], "User");
        let ent = &u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ent["employeeNumber"], "scimitar-ab12cd34-1001");
        assert!(!u.to_string().contains("{{"));
        let g = group_body(&names, 3);
        assert_eq!(g["displayName"], "scimitar-ab12cd34-g3");
        assert!(!g.to_string().contains("{{"));
        for (k, op) in Op::ALL.iter().enumerate() {
            assert_eq!(op.index(), k);
        }
        assert_eq!(Op::Cleanup.name(), "cleanup");
    }

    #[test]
    fn groups_hold_distinct_users_and_shares_do_not_overlap() {
        let m: Vec<usize> = group_members(3, 4, 10).collect();
        assert_eq!(m, [2, 3, 4, 5]);
        let m: Vec<usize> = group_members(0, 50, 3).collect();
        assert_eq!(m, [0, 1, 2]);
        let (u, d, x) = incremental_ranges(100, 0.1, 0.05, 0.05);
        assert_eq!((u, d, x), (0..10, 10..15, 15..20));
        let (u, d, x) = incremental_ranges(3, 1.0, 1.0, 1.0);
        assert_eq!((u.len(), d.len(), x.len()), (3, 0, 0));
    }
}
