//! What a server declares, read from its `/Schemas` and `/ResourceTypes`
//! answers, with the RFC 7643 §2.2 defaults for what it leaves out.

use serde_json::Value;

use super::GenError;

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
    fn parse(v: &Value) -> Option<Attr> {
        let s = |k: &str, d: &str| v.get(k).and_then(Value::as_str).unwrap_or(d).to_string();
        let b = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let list = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let name = v.get("name").and_then(Value::as_str)?.to_string();
        let subs = v
            .get("subAttributes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Attr::parse).collect())
            .unwrap_or_default();
        Some(Attr {
            name,
            ty: s("type", "string"),
            multi: b("multiValued"),
            required: b("required"),
            case_exact: b("caseExact"),
            mutability: s("mutability", "readWrite"),
            returned: s("returned", "default"),
            uniqueness: s("uniqueness", "none"),
            canonical: list("canonicalValues"),
            reference_types: list("referenceTypes"),
            subs,
        })
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

/// The resources of a list response, a bare array, or a single resource.
fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => match m.get("Resources") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => Vec::new(),
            None if m.contains_key("id") => vec![v],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

pub fn schemas(v: &Value) -> Result<Vec<Schema>, GenError> {
    let out: Vec<Schema> = items(v)
        .into_iter()
        .filter_map(|s| {
            Some(Schema {
                id: s.get("id").and_then(Value::as_str)?.to_string(),
                attrs: s
                    .get("attributes")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Attr::parse).collect())
                    .unwrap_or_default(),
            })
        })
        .collect();
    if out.is_empty() {
        return Err(GenError::Declarations(
            "/Schemas lists no schema with an id".into(),
        ));
    }
    Ok(out)
}

pub fn resource_types(v: &Value) -> Result<Vec<ResourceType>, GenError> {
    let out: Vec<ResourceType> = items(v)
        .into_iter()
        .filter_map(|r| {
            let name = r.get("name").and_then(Value::as_str)?.to_string();
            let endpoint = r.get("endpoint").and_then(Value::as_str)?;
            // An absolute endpoint (RFC 7643 §6 allows a URI) is reduced to its path's last segment.
            let endpoint = format!(
                "/{}",
                endpoint
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
            );
            Some(ResourceType {
                name,
                endpoint,
                schema: r.get("schema").and_then(Value::as_str)?.to_string(),
                extensions: r
                    .get("schemaExtensions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| {
                                Some((
                                    e.get("schema").and_then(Value::as_str)?.to_string(),
                                    e.get("required").and_then(Value::as_bool).unwrap_or(false),
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
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
        let a = Attr::parse(&json!({"name": "x"})).unwrap();
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
