//! What a server declares, read from its `/Schemas` and `/ResourceTypes`
//! answers (by [`crate::scim::declared`], which judging reads them with
//! too), with the RFC 7643 §2.2 defaults filled in for what it leaves out.

use serde_json::Value;

use super::GenError;
use crate::scim::declared::{self, DeclaredAttr};

/// One attribute or sub-attribute declaration (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    /// `string`, `boolean`, `decimal`, `integer`, `dateTime`, `binary`,
    /// `reference`, `complex` (as declared; unknown types are kept and skipped).
    pub ty: String,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    /// `readOnly`, `readWrite`, `immutable`, `writeOnly`.
    pub mutability: String,
    /// `always`, `never`, `default`, `request`.
    pub returned: String,
    /// `none`, `server`, `global`.
    pub uniqueness: String,
    pub canonical: Vec<String>,
    pub reference_types: Vec<String>,
    pub subs: Vec<Attr>,
}

impl Attr {
    /// The declaration with RFC 7643 §2.2's defaults for what it does not say.
    fn with_defaults(a: &DeclaredAttr) -> Attr {
        let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_string());
        Attr {
            name: a.name.clone(),
            ty: or(&a.ty, "string"),
            multi: a.multi_valued,
            required: a.required,
            case_exact: a.case_exact,
            mutability: or(&a.mutability, "readWrite"),
            returned: or(&a.returned, "default"),
            uniqueness: or(&a.uniqueness, "none"),
            canonical: a.canonical_values.clone(),
            reference_types: a.reference_types.clone(),
            subs: a.sub_attributes.iter().map(Attr::with_defaults).collect(),
        }
    }

    /// A client may send it (readWrite, immutable, writeOnly).
    pub fn writable(&self) -> bool {
        self.mutability != "readOnly"
    }

    /// A response may carry it.
    pub fn readable(&self) -> bool {
        self.returned != "never" && self.mutability != "writeOnly"
    }

    pub fn sub(&self, name: &str) -> Option<&Attr> {
        self.subs.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

/// A schema (RFC 7643 §7): its URN and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub id: String,
    pub attrs: Vec<Attr>,
}

/// A resource type (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    pub name: String,
    /// Relative to the base URL, with a leading `/`.
    pub endpoint: String,
    pub schema: String,
    /// Extension URNs with whether each is required.
    pub extensions: Vec<(String, bool)>,
}

/// The schemas of a `/Schemas` answer (a list, a bare array or one schema).
pub fn schemas(v: &Value) -> Result<Vec<Schema>, GenError> {
    let out: Vec<Schema> = declared::parse_schemas(v, true)
        .iter()
        .map(|s| Schema {
            id: s.id.clone(),
            attrs: s.attributes.iter().map(Attr::with_defaults).collect(),
        })
        .collect();
    if out.is_empty() {
        return Err(GenError::Declarations(
            "/Schemas lists no schema with an id".into(),
        ));
    }
    Ok(out)
}

/// The resource types of a `/ResourceTypes` answer that have a name.
pub fn resource_types(v: &Value) -> Result<Vec<ResourceType>, GenError> {
    let out: Vec<ResourceType> = declared::parse_resource_types(v, true)
        .into_iter()
        .filter(|r| !r.name.is_empty())
        .map(|r| ResourceType {
            // An absolute endpoint (RFC 7643 §6 allows a URI) is reduced to its path's last segment.
            endpoint: format!(
                "/{}",
                r.endpoint
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
            ),
            extensions: r
                .extensions
                .iter()
                .map(|e| (e.clone(), r.required_extensions.contains(e)))
                .collect(),
            name: r.name,
            schema: r.schema,
        })
        .collect();
    if out.is_empty() {
        return Err(GenError::Declarations(
            "/ResourceTypes lists no resource type with a name, endpoint and schema".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_rfc_7643_section_2_2() {
        let a =
            &schemas(&json!([{"id": "urn:x", "attributes": [{"name": "x"}]}])).unwrap()[0].attrs[0];
        assert_eq!(a.ty, "string");
        assert_eq!(a.mutability, "readWrite");
        assert_eq!(a.returned, "default");
        assert_eq!(a.uniqueness, "none");
        assert!(!a.multi && !a.required && !a.case_exact);
    }

    #[test]
    fn lists_and_bare_arrays() {
        let s = schemas(&json!({"Resources": [{"id": "urn:x", "attributes": [{"name": "a"}]}]}))
            .unwrap();
        assert_eq!(s[0].attrs[0].name, "a");
        let r = resource_types(
            &json!([{"name": "User", "endpoint": "https://h/scim/Users/", "schema": "urn:x"}]),
        )
        .unwrap();
        assert_eq!(r[0].endpoint, "/Users");
        assert!(schemas(&json!({"Resources": []})).is_err());
    }
}
