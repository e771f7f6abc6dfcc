//! SCIM knowledge shared by the harness's checks and the reference server:
//! URNs, error messages, schemas, attribute paths, the filter grammar and
//! PATCH application (RFC 7643, RFC 7644). Imports nothing else of the crate.
//!
//! Its files import each other one way (`tests/architecture.rs` keeps it so),
//! each only from the ones listed before it:
//! - `urn`: schema and message URNs; `ci`: case-insensitive JSON access;
//!   both import nothing.
//! - `error`: `ScimError` (urn).
//! - `syntax`: the path and filter grammar: syntax tree, parser, printer
//!   (error).
//! - `schema`: attribute definitions and lookups by name or path (syntax,
//!   urn).
//! - `eval`: filter matching, path resolution, `sortBy` order; its methods
//!   are on `syntax::Filter` (syntax, schema, ci, error).
//! - `coerce`: IdP values into schema types, resource validation (schema,
//!   ci, error).
//! - `patch`: PATCH application (all of the above).
//! - `declared`: what a server declares in `/Schemas` and `/ResourceTypes`,
//!   or RFC 7643's definitions (schema, urn).

pub mod ci;
pub mod coerce;
pub mod declared;
pub mod error;
pub mod eval;
pub mod patch;
pub mod schema;
pub mod syntax;
pub mod urn;

// The names before the grammar was split from its evaluation, for code outside
// `scim`. Files inside `scim` import the modules above, never these (that
// would be a cycle through this file).

/// The filter language: grammar from `syntax`, matching and `sortBy` order
/// from `eval`.
pub mod filter {
    pub use super::eval::{compare_values, sort_attribute, sort_value};
    pub use super::syntax::{CompareOp, Filter, FilterError, MAX_DEPTH, parse_filter as parse};
}

/// Attribute paths, from `syntax`.
pub mod path {
    pub use super::syntax::{AttrPath, PathError, parse_path as parse};
}

/// Case-insensitive JSON access (`ci`) and coercion (`coerce`).
pub mod attr {
    pub use super::ci::{
        get_ci, get_ci_mut, insert_ci, key_ci, parse_bool, remove_ci, value_get_ci,
    };
    pub use super::coerce::{
        check_value, coerce, coerce_attribute, coerce_element, coerce_object, validate,
    };
}
