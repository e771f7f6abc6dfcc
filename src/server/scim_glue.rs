//! Where the server calls into the shared SCIM knowledge of [`crate::scim`]
//! (schemas, attribute coercion, filters, PATCH). Kept in one place so the
//! server never grows a second implementation of those rules.

use std::cmp::Ordering;
use std::sync::OnceLock;

use serde_json::Value;

use crate::scim::attr;
use crate::scim::error::ScimError;
use crate::scim::filter::{self, Filter};
use crate::scim::patch;
use crate::scim::path::{self, AttrPath};
use crate::scim::schema::{self, ResourceSchema};

use super::store::Kind;

/// The schemas of a resource type.
pub(crate) fn schema(kind: Kind) -> &'static ResourceSchema {
    static USERS: OnceLock<ResourceSchema> = OnceLock::new();
    static GROUPS: OnceLock<ResourceSchema> = OnceLock::new();
    match kind {
        Kind::User => USERS.get_or_init(ResourceSchema::users),
        Kind::Group => GROUPS.get_or_init(ResourceSchema::groups),
    }
}

/// Parses a filter and checks it against the schemas of `kinds` (RFC 7644
/// §3.4.2.2: ordering comparisons on Boolean/Binary attributes fail).
pub(crate) fn parse_filter(text: &str, kinds: &[Kind]) -> Result<Filter, ScimError> {
    let f = filter::parse(text)?;
    for k in kinds {
        f.check(schema(*k))?;
    }
    Ok(f)
}

pub(crate) fn filter_matches(filter: &Filter, resource: &Value, kind: Kind) -> bool {
    filter.matches(resource, schema(kind))
}

/// A parsed `sortBy`.
pub(crate) fn parse_sort_by(text: &str) -> Result<AttrPath, ScimError> {
    Ok(path::parse(text)?)
}

/// The value a resource sorts by.
pub(crate) fn sort_value(path: &AttrPath, resource: &Value, kind: Kind) -> Value {
    filter::sort_value(resource, path, schema(kind))
}

/// Orders two sort values (missing values last).
pub(crate) fn compare_sort_values(path: &AttrPath, kind: Kind, a: &Value, b: &Value) -> Ordering {
    filter::compare_values(a, b, filter::sort_attribute(path, schema(kind)))
}

/// Applies a PatchOp body; on error the resource is unchanged.
pub(crate) fn apply_patch(
    kind: Kind,
    resource: &mut Value,
    patch_body: &Value,
) -> Result<(), ScimError> {
    patch::apply(resource, patch_body, schema(kind))
}

/// Lenient input coercion (canonical key case, string booleans, plain-string
/// manager).
pub(crate) fn coerce(kind: Kind, resource: &mut Value) {
    attr::coerce(resource, schema(kind));
}

/// Required attributes and value types (after coercion).
pub(crate) fn validate(kind: Kind, resource: &Value) -> Result<(), ScimError> {
    attr::validate(resource, schema(kind))
}

/// The schema definitions served at /Schemas.
pub(crate) fn schemas_json(base: &str) -> Vec<Value> {
    [schema::user(), schema::enterprise_user(), schema::group()]
        .iter()
        .map(|s| s.to_json(base))
        .collect()
}
