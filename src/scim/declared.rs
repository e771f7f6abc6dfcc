//! What a server declares about its resources (RFC 7643 §6, §7): the
//! `/ResourceTypes` and `/Schemas` it publishes, read into owned data, or
//! RFC 7643's own definitions for a server that publishes none.
//!
//! Judging consults this to tell an attribute the server never claimed
//! (legal to ignore) from one it claimed and then lost (a failure), and to
//! compare values the way the schema says (`caseExact`).

use serde_json::Value;

use super::schema::{self, Attribute, Schema};
use super::urn;

/// One attribute as declared (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeclaredAttr {
    pub name: String,
    pub multi_valued: bool,
    pub required: bool,
    /// RFC 7643 §2.2: `false` when not said.
    pub case_exact: bool,
    pub mutability: Option<String>,
    pub returned: Option<String>,
    pub uniqueness: Option<String>,
    /// Not an RFC 7643 characteristic; some servers say it.
    pub filterable: Option<bool>,
    /// `string`, `complex`, … as declared (RFC 7643 §7 "type").
    pub ty: Option<String>,
    pub canonical_values: Vec<String>,
    pub reference_types: Vec<String>,
    pub sub_attributes: Vec<DeclaredAttr>,
}

impl DeclaredAttr {
    /// The sub-attribute named `name` (case-insensitive, RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&DeclaredAttr> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn from_builtin(a: &Attribute) -> DeclaredAttr {
        DeclaredAttr {
            name: a.name.to_string(),
            multi_valued: a.multi_valued,
            required: a.required,
            case_exact: a.case_exact,
            mutability: Some(a.mutability.as_str().to_string()),
            returned: Some(a.returned.as_str().to_string()),
            uniqueness: Some(a.uniqueness.as_str().to_string()),
            filterable: None,
            ty: None,
            canonical_values: a.canonical_values.iter().map(|v| v.to_string()).collect(),
            reference_types: a.reference_types.iter().map(|v| v.to_string()).collect(),
            sub_attributes: a.sub_attributes.iter().map(Self::from_builtin).collect(),
        }
    }

    fn from_json(v: &Value) -> Option<DeclaredAttr> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let flag = |k: &str| v.get(k).and_then(Value::as_bool);
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
        Some(DeclaredAttr {
            name: text("name")?,
            multi_valued: flag("multiValued").unwrap_or(false),
            required: flag("required").unwrap_or(false),
            case_exact: flag("caseExact").unwrap_or(false),
            mutability: text("mutability"),
            returned: text("returned"),
            uniqueness: text("uniqueness"),
            filterable: flag("filterable"),
            ty: text("type"),
            canonical_values: list("canonicalValues"),
            reference_types: list("referenceTypes"),
            sub_attributes: v
                .get("subAttributes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Self::from_json).collect())
                .unwrap_or_default(),
        })
    }
}

/// One schema as declared.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredSchema {
    pub id: String,
    pub attributes: Vec<DeclaredAttr>,
}

impl DeclaredSchema {
    pub fn attribute(&self, name: &str) -> Option<&DeclaredAttr> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn from_builtin(s: &Schema) -> DeclaredSchema {
        DeclaredSchema {
            id: s.id.to_string(),
            attributes: s
                .attributes
                .iter()
                .map(DeclaredAttr::from_builtin)
                .collect(),
        }
    }

    fn from_json(v: &Value) -> Option<DeclaredSchema> {
        Some(DeclaredSchema {
            id: v.get("id").and_then(Value::as_str)?.to_string(),
            attributes: v
                .get("attributes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(DeclaredAttr::from_json).collect())
                .unwrap_or_default(),
        })
    }
}

/// One resource type as declared (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredType {
    pub name: String,
    /// `/Users`, `/Groups`, …
    pub endpoint: String,
    /// The core schema URN.
    pub schema: String,
    pub extensions: Vec<String>,
    /// The extensions it marks `required: true`.
    pub required_extensions: Vec<String>,
}

/// Where the declarations came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// RFC 7643's definitions: the server published no `/Schemas`.
    #[default]
    Rfc,
    /// The server's own `/Schemas`.
    Server,
}

/// What an attribute path names, by the declarations.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// Declared: the attribute (or sub-attribute) definition.
    Declared(&'a DeclaredAttr),
    /// `id`, `externalId`, `meta`, `schemas`: every resource has them (RFC 7643 §3.1).
    Common(&'a DeclaredAttr),
    /// The extension URN is not declared for this resource type.
    NoExtension(String),
    /// The schema (core or the named extension) has no such attribute.
    NoAttribute { schema: String, name: String },
}

/// The declared resource types and schemas.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub source: Source,
    pub types: Vec<DeclaredType>,
    pub schemas: Vec<DeclaredSchema>,
    common: Vec<DeclaredAttr>,
}

impl Default for Declared {
    fn default() -> Declared {
        Declared::rfc()
    }
}

impl Declared {
    /// RFC 7643's User (with the enterprise extension) and Group.
    pub fn rfc() -> Declared {
        Declared {
            source: Source::Rfc,
            types: vec![
                DeclaredType {
                    name: "User".into(),
                    endpoint: "/Users".into(),
                    schema: urn::USER.into(),
                    extensions: vec![urn::ENTERPRISE_USER.into()],
                    required_extensions: Vec::new(),
                },
                DeclaredType {
                    name: "Group".into(),
                    endpoint: "/Groups".into(),
                    schema: urn::GROUP.into(),
                    extensions: Vec::new(),
                    required_extensions: Vec::new(),
                },
            ],
            schemas: [schema::user(), schema::group(), schema::enterprise_user()]
                .into_iter()
                .map(DeclaredSchema::from_builtin)
                .collect(),
            common: common(),
        }
    }

    /// Reads the bodies of `/Schemas` and `/ResourceTypes` (ListResponses or
    /// bare arrays). `None` when `/Schemas` declares no schema with
    /// attributes: then nothing was declared and RFC 7643 applies.
    pub fn from_server(schemas: &Value, resource_types: Option<&Value>) -> Option<Declared> {
        let schemas: Vec<DeclaredSchema> = parse_schemas(schemas, false)
            .into_iter()
            .filter(|s| !s.attributes.is_empty())
            .collect();
        if schemas.is_empty() {
            return None;
        }
        let mut types: Vec<DeclaredType> = resource_types
            .map(|v| parse_resource_types(v, false))
            .unwrap_or_default();
        if types.is_empty() {
            // No usable /ResourceTypes: the core schemas it publishes name
            // the types; published extensions of User belong to /Users.
            let has = |id: &str| schemas.iter().any(|s| s.id.eq_ignore_ascii_case(id));
            if has(urn::USER) {
                types.push(DeclaredType {
                    name: "User".into(),
                    endpoint: "/Users".into(),
                    schema: urn::USER.into(),
                    extensions: schemas
                        .iter()
                        .filter(|s| s.id.contains(":extension:") && s.id.ends_with(":User"))
                        .map(|s| s.id.clone())
                        .collect(),
                    required_extensions: Vec::new(),
                });
            }
            if has(urn::GROUP) {
                types.push(DeclaredType {
                    name: "Group".into(),
                    endpoint: "/Groups".into(),
                    schema: urn::GROUP.into(),
                    extensions: Vec::new(),
                    required_extensions: Vec::new(),
                });
            }
        }
        Some(Declared {
            source: Source::Server,
            types,
            schemas,
            common: common(),
        })
    }

    /// Whether these are the server's own declarations.
    pub fn published(&self) -> bool {
        self.source == Source::Server
    }

    pub fn schema(&self, id: &str) -> Option<&DeclaredSchema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    /// The resource type a request path (below the base URL) addresses:
    /// `/Users`, `/Users/123`, `/Groups/.search`.
    pub fn type_for_path(&self, path: &str) -> Option<&DeclaredType> {
        let path = path.split('?').next().unwrap_or("");
        let first = path.trim_start_matches('/').split('/').next()?;
        // RFC 7643 §6 makes `endpoint` relative to the base URL ("/Users");
        // some servers publish it with their base path ("/scim/v2/Users").
        // Either way its last segment names the collection.
        self.types.iter().find(|t| {
            t.endpoint
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(first))
        })
    }

    /// Whether `urn` is an extension declared for `ty`.
    pub fn has_extension(&self, ty: &DeclaredType, urn: &str) -> bool {
        ty.extensions.iter().any(|e| e.eq_ignore_ascii_case(urn))
    }

    /// What `urn:attr.sub` names on resources of type `ty` (`urn` is the
    /// extension or core schema it is qualified with, if any).
    pub fn lookup<'a>(
        &'a self,
        ty: &DeclaredType,
        urn: Option<&str>,
        attr: &str,
        sub: Option<&str>,
    ) -> Lookup<'a> {
        let with_sub = |a: &'a DeclaredAttr, common: bool| -> Lookup<'a> {
            let found = match sub {
                // A sub-attribute the schema does not list: what a lenient
                // schema leaves out is still the attribute's.
                Some(s) => a.sub(s).unwrap_or(a),
                None => a,
            };
            if common {
                Lookup::Common(found)
            } else {
                Lookup::Declared(found)
            }
        };
        let core_id = ty.schema.as_str();
        let schema_id = match urn {
            Some(u) if !u.eq_ignore_ascii_case(core_id) => {
                if !self.has_extension(ty, u) {
                    return Lookup::NoExtension(u.to_string());
                }
                u
            }
            _ => {
                if let Some(c) = self
                    .common
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(attr))
                {
                    return with_sub(c, true);
                }
                core_id
            }
        };
        if let Some(a) = self.schema(schema_id).and_then(|s| s.attribute(attr)) {
            return with_sub(a, false);
        }
        // Unqualified and not in the core schema: an extension of this type
        // that declares it still makes it the server's (Entra sends the
        // enterprise `manager` unqualified; refusing that form is an Entra
        // incompatibility, not an attribute the server never claimed).
        if urn.is_none()
            && let Some(a) = ty
                .extensions
                .iter()
                .filter_map(|e| self.schema(e))
                .find_map(|s| s.attribute(attr))
        {
            return with_sub(a, false);
        }
        Lookup::NoAttribute {
            schema: schema_id.to_string(),
            name: attr.to_string(),
        }
    }
}

/// `id`, `externalId`, `meta` and `schemas`: on every resource whatever
/// `/Schemas` lists (RFC 7643 §3, §3.1).
fn common() -> Vec<DeclaredAttr> {
    let mut c: Vec<DeclaredAttr> = schema::common_attributes()
        .iter()
        .map(DeclaredAttr::from_builtin)
        .collect();
    c.push(DeclaredAttr {
        name: "schemas".into(),
        multi_valued: true,
        required: true,
        // URIs; RFC 7643 §3 gives no caseExact, and clients compare them as text.
        case_exact: false,
        mutability: None,
        returned: Some("always".into()),
        ..DeclaredAttr::default()
    });
    c
}

/// The entries of a ListResponse or a bare array; with `bare`, also a lone
/// resource (an object with an `id`).
fn items(v: &Value, bare: bool) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        _ => match v.get("Resources") {
            Some(Value::Array(a)) => a.iter().collect(),
            None if bare && v.get("id").is_some() => vec![v],
            _ => Vec::new(),
        },
    }
}

/// Every schema of a `/Schemas` body that has an id, as declared (also those
/// without attributes). `bare` also reads a lone schema object.
pub fn parse_schemas(v: &Value, bare: bool) -> Vec<DeclaredSchema> {
    items(v, bare)
        .into_iter()
        .filter_map(DeclaredSchema::from_json)
        .collect()
}

/// Every resource type of a `/ResourceTypes` body with an endpoint and a
/// schema, as declared. `bare` also reads a lone resource type object.
pub fn parse_resource_types(v: &Value, bare: bool) -> Vec<DeclaredType> {
    items(v, bare)
        .into_iter()
        .filter_map(|t| {
            let text = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
            let extensions = |required_only: bool| -> Vec<String> {
                t.get("schemaExtensions")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter(|e| {
                                !required_only
                                    || e.get("required").and_then(Value::as_bool) == Some(true)
                            })
                            .filter_map(|e| e.get("schema").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            Some(DeclaredType {
                name: text("name").unwrap_or_default(),
                endpoint: text("endpoint")?,
                schema: text("schema")?,
                extensions: extensions(false),
                required_extensions: extensions(true),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_fallback_knows_users_groups_and_the_enterprise_extension() {
        let d = Declared::rfc();
        assert!(!d.published());
        let users = d.type_for_path("/Users/abc?x=1").unwrap();
        assert_eq!(users.name, "User");
        match d.lookup(users, None, "EMAILS", Some("value")) {
            Lookup::Declared(a) => assert!(!a.case_exact && a.name == "value"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            d.lookup(users, Some(urn::ENTERPRISE_USER), "department", None),
            Lookup::Declared(_)
        ));
        assert!(matches!(
            d.lookup(users, None, "externalId", None),
            Lookup::Common(a) if a.case_exact
        ));
        assert!(d.type_for_path("/Groups/.search").is_some());
        assert!(d.type_for_path("/Schemas").is_none());
    }

    #[test]
    fn server_declarations_are_read() {
        let schemas = json!({"Resources": [
            {"id": urn::USER, "attributes": [
                {"name": "userName", "type": "string", "caseExact": true, "required": true},
                {"name": "emails", "type": "complex", "multiValued": true,
                 "subAttributes": [{"name": "value", "type": "string"}]}
            ]},
            {"id": "urn:example:empty", "attributes": []}
        ]});
        let types = json!([{"name": "User", "endpoint": "/Users", "schema": urn::USER}]);
        let d = Declared::from_server(&schemas, Some(&types)).unwrap();
        assert!(d.published());
        let users = d.type_for_path("/Users").unwrap();
        assert!(
            matches!(d.lookup(users, None, "username", None), Lookup::Declared(a) if a.case_exact)
        );
        assert_eq!(
            d.lookup(users, Some(urn::ENTERPRISE_USER), "department", None),
            Lookup::NoExtension(urn::ENTERPRISE_USER.into())
        );
        assert!(matches!(
            d.lookup(users, None, "title", None),
            Lookup::NoAttribute { .. }
        ));
        assert!(d.type_for_path("/Groups").is_none());
        // Nothing with attributes: nothing declared.
        assert!(Declared::from_server(&json!({"Resources": []}), None).is_none());
        // No /ResourceTypes: the published schemas name the types.
        let d = Declared::from_server(&schemas, None).unwrap();
        assert_eq!(d.types.len(), 1);
    }

    #[test]
    fn an_endpoint_published_with_the_base_path_still_names_its_type() {
        // django-scim2 publishes "/scim/v2/Users" where RFC 7643 §6 has "/Users".
        let schemas =
            json!({"Resources": [{"id": urn::USER, "attributes": [{"name": "userName"}]}]});
        let types = json!([{"name": "User", "endpoint": "/scim/v2/Users/", "schema": urn::USER}]);
        let d = Declared::from_server(&schemas, Some(&types)).unwrap();
        let users = d.type_for_path("/Users/42").expect("the User type");
        // Its resource type lists no extension: the enterprise one is undeclared.
        assert_eq!(
            d.lookup(users, Some(urn::ENTERPRISE_USER), "department", None),
            Lookup::NoExtension(urn::ENTERPRISE_USER.into())
        );
        assert!(d.type_for_path("/v2").is_none());
    }

    #[test]
    fn an_unqualified_name_an_extension_of_the_type_declares_is_declared() {
        let d = Declared::rfc();
        let users = d.type_for_path("/Users").unwrap();
        assert!(matches!(
            d.lookup(users, None, "manager", Some("value")),
            Lookup::Declared(a) if a.name == "value"
        ));
        // Not on a type without that extension.
        let groups = d.type_for_path("/Groups").unwrap();
        assert!(matches!(
            d.lookup(groups, None, "manager", None),
            Lookup::NoAttribute { .. }
        ));
    }
}
