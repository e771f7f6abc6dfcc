//! SCIM knowledge shared by the harness's checks and the reference server:
//! URNs, error messages, schemas, attribute paths, the filter grammar and
//! PATCH application (RFC 7643, RFC 7644).

pub mod attr;
pub mod ci;
pub mod error;
pub mod filter;
pub mod patch;
pub mod path;
pub mod schema;
pub mod urn;
