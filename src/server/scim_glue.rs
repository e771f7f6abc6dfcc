//! Where the server calls into the shared SCIM knowledge of [`crate::scim`]
//! (schemas, attribute coercion, filters, PATCH). Kept in one place so the
//! server never grows a second implementation of those rules.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimType};

use super::store::Kind;

/// A parsed filter expression.
pub(crate) type Filter = String;

pub(crate) fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    Err(ScimError::bad_request(
        ScimType::InvalidFilter,
        format!("filtering is not available yet: {text}"),
    ))
}

pub(crate) fn filter_matches(_filter: &Filter, _resource: &Value, _kind: Kind) -> bool {
    false
}

/// Orders two rendered resources by the `sortBy` attribute.
pub(crate) fn compare_for_sort(
    _sort_by: &str,
    _a: &Value,
    _ka: Kind,
    _b: &Value,
    _kb: Kind,
) -> Ordering {
    Ordering::Equal
}

pub(crate) fn apply_patch(
    _kind: Kind,
    _resource: &mut Value,
    _patch: &Value,
) -> Result<(), ScimError> {
    Err(ScimError::new(501, None, "PATCH is not available yet"))
}

/// Lenient input coercion (string booleans, plain-string manager).
pub(crate) fn coerce(_kind: Kind, _resource: &mut Value) {}

/// Renames attribute keys to their schema spelling (`UserName` → `userName`).
pub(crate) fn canonicalize_keys(_kind: Kind, _obj: &mut Map<String, Value>) {}

/// The schema definitions served at /Schemas.
pub(crate) fn schemas_json(_base: &str) -> Vec<Value> {
    Vec::new()
}
