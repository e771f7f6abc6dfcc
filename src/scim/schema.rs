//! Attribute definitions as data (RFC 7643 §2, §4, §7, §8.7.1).
//!
//! The User, Group and enterprise User schemas are built once and shared as
//! `&'static Schema`; the server publishes them under `/Schemas` and the
//! filter evaluator, PATCH and coercion code consult them for types,
//! case-exactness and mutability. Lookups by name and by parsed path live
//! here; the path grammar itself knows no schema.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::syntax::AttrPath;
use super::urn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub sub_attributes: Vec<Attribute>,
    pub canonical_values: Vec<&'static str>,
    pub reference_types: Vec<&'static str>,
    pub description: &'static str,
}

impl Attribute {
    /// A single-valued, optional, case-insensitive, readWrite attribute
    /// returned by default: the RFC 7643 §2.2 defaults.
    pub fn new(name: &'static str, ty: AttrType) -> Self {
        Attribute {
            name,
            ty,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            sub_attributes: Vec::new(),
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            description: "",
        }
    }

    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub fn uniqueness(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    pub fn subs(mut self, subs: Vec<Attribute>) -> Self {
        self.sub_attributes = subs;
        self
    }
    pub fn canonical(mut self, values: &[&'static str]) -> Self {
        self.canonical_values = values.to_vec();
        self
    }
    pub fn refs(mut self, types: &[&'static str]) -> Self {
        self.reference_types = types.to_vec();
        self
    }
    pub fn desc(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }

    /// The sub-attribute named `name`, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }

    /// The RFC 7643 §7 representation of this attribute.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        m.insert("multiValued".into(), json!(self.multi_valued));
        m.insert("description".into(), json!(self.description));
        m.insert("required".into(), json!(self.required));
        if self.ty != AttrType::Complex {
            m.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.ty == AttrType::Reference {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        m.insert("mutability".into(), json!(self.mutability.as_str()));
        m.insert("returned".into(), json!(self.returned.as_str()));
        m.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        if self.ty == AttrType::Complex {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Attribute::to_json).collect();
            m.insert("subAttributes".into(), Value::Array(subs));
        }
        Value::Object(m)
    }
}

/// A schema definition (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// The `/Schemas/{id}` representation; `base_url` is the service root
    /// (e.g. `https://example.com/scim/v2`), with or without a trailing `/`.
    pub fn to_json(&self, base_url: &str) -> Value {
        let attrs: Vec<Value> = self.attributes.iter().map(Attribute::to_json).collect();
        json!({
            "schemas": [urn::SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attrs,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), self.id),
            }
        })
    }

    /// The top-level attribute named `name`, compared case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

use AttrType as T;
use Mutability as M;

fn s(name: &'static str) -> Attribute {
    Attribute::new(name, T::String)
}

/// The `value`, `display`, `type`, `primary` quartet most multi-valued
/// attributes share (RFC 7643 §2.4).
fn multi_subs(value: Attribute, types: &[&'static str]) -> Vec<Attribute> {
    vec![
        value,
        s("display").desc("A human-readable name, primarily used for display purposes."),
        s("type")
            .canonical(types)
            .desc("A label indicating the attribute's function."),
        Attribute::new("primary", T::Boolean)
            .desc("A Boolean value indicating the 'primary' or preferred attribute value."),
    ]
}

fn multi_complex(
    name: &'static str,
    desc: &'static str,
    value: Attribute,
    types: &[&'static str],
) -> Attribute {
    Attribute::new(name, T::Complex)
        .multi()
        .desc(desc)
        .subs(multi_subs(value, types))
}

fn build_user() -> Schema {
    let name = Attribute::new("name", T::Complex)
        .desc("The components of the user's real name.")
        .subs(vec![
            s("formatted").desc("The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
            s("familyName").desc("The family name of the User, or last name."),
            s("givenName").desc("The given name of the User, or first name."),
            s("middleName").desc("The middle name(s) of the User."),
            s("honorificPrefix").desc("The honorific prefix(es) of the User, or title."),
            s("honorificSuffix").desc("The honorific suffix(es) of the User."),
        ]);
    let address_subs = vec![
        s("formatted")
            .desc("The full mailing address, formatted for display or use with a mailing label."),
        s("streetAddress").desc("The full street address component."),
        s("locality").desc("The city or locality component."),
        s("region").desc("The state or region component."),
        s("postalCode").desc("The zip code or postal code component."),
        s("country").desc("The country name component."),
        s("type")
            .canonical(&["work", "home", "other"])
            .desc("A label indicating the attribute's function, e.g., 'work' or 'home'."),
        Attribute::new("primary", T::Boolean)
            .desc("A Boolean value indicating the 'primary' or preferred attribute value."),
    ];
    let ro = |a: Attribute| a.mutability(M::ReadOnly);
    Schema {
        id: urn::USER,
        name: "User",
        description: "User Account",
        attributes: vec![
            s("userName")
                .required()
                .uniqueness(Uniqueness::Server)
                .desc("Unique identifier for the User, typically used by the user to directly authenticate to the service provider."),
            name,
            s("displayName").desc("The name of the User, suitable for display to end-users."),
            s("nickName").desc("The casual way to address the user in real life."),
            Attribute::new("profileUrl", T::Reference)
                .refs(&["external"])
                .desc("A fully qualified URL pointing to a page representing the User's online profile."),
            s("title").desc("The user's title, such as \"Vice President\"."),
            s("userType").desc("Used to identify the relationship between the organization and the user."),
            s("preferredLanguage").desc("Indicates the User's preferred written or spoken language."),
            s("locale").desc("Used to indicate the User's default location for purposes of localizing items."),
            s("timezone").desc("The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
            Attribute::new("active", T::Boolean)
                .desc("A Boolean value indicating the User's administrative status."),
            s("password")
                .mutability(M::WriteOnly)
                .returned(Returned::Never)
                .desc("The User's cleartext password."),
            multi_complex(
                "emails",
                "Email addresses for the user.",
                s("value").desc("Email addresses for the user."),
                &["work", "home", "other"],
            ),
            multi_complex(
                "phoneNumbers",
                "Phone numbers for the User.",
                s("value").desc("Phone number of the User."),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_complex(
                "ims",
                "Instant messaging addresses for the User.",
                s("value").desc("Instant messaging address for the User."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_complex(
                "photos",
                "URLs of photos of the User.",
                Attribute::new("value", T::Reference)
                    .refs(&["external"])
                    .desc("URL of a photo of the User."),
                &["photo", "thumbnail"],
            ),
            Attribute::new("addresses", T::Complex)
                .multi()
                .desc("A physical mailing address for this User.")
                .subs(address_subs),
            Attribute::new("groups", T::Complex)
                .multi()
                .mutability(M::ReadOnly)
                .desc("A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.")
                .subs(vec![
                    ro(s("value")).desc("The identifier of the User's group."),
                    ro(Attribute::new("$ref", T::Reference))
                        .refs(&["User", "Group"])
                        .desc("The URI of the corresponding 'Group' resource to which the user belongs."),
                    ro(s("display")).desc("A human-readable name, primarily used for display purposes."),
                    ro(s("type"))
                        .canonical(&["direct", "indirect"])
                        .desc("A label indicating the attribute's function, e.g., 'direct' or 'indirect'."),
                ]),
            multi_complex(
                "entitlements",
                "A list of entitlements for the User that represent a thing the User has.",
                s("value").desc("The value of an entitlement."),
                &[],
            ),
            multi_complex(
                "roles",
                "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
                s("value").desc("The value of a role."),
                &[],
            ),
            multi_complex(
                "x509Certificates",
                "A list of certificates issued to the User.",
                Attribute::new("value", T::Binary).desc("The value of an X.509 certificate."),
                &[],
            ),
        ],
    }
}

fn build_group() -> Schema {
    let im = |a: Attribute| a.mutability(M::Immutable);
    Schema {
        id: urn::GROUP,
        name: "Group",
        description: "Group",
        attributes: vec![
            s("displayName")
                .required()
                .desc("A human-readable name for the Group."),
            Attribute::new("members", T::Complex)
                .multi()
                .desc("A list of members of the Group.")
                .subs(vec![
                    im(s("value")).desc("Identifier of the member of this Group."),
                    im(Attribute::new("$ref", T::Reference))
                        .refs(&["User", "Group"])
                        .desc("The URI corresponding to a SCIM resource that is a member of this Group."),
                    im(s("display")).desc("A human-readable name, primarily used for display purposes."),
                    im(s("type"))
                        .canonical(&["User", "Group"])
                        .desc("A label indicating the type of resource, e.g., 'User' or 'Group'."),
                ]),
        ],
    }
}

fn build_enterprise_user() -> Schema {
    Schema {
        id: urn::ENTERPRISE_USER,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            s("employeeNumber").desc("Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
            s("costCenter").desc("Identifies the name of a cost center."),
            s("organization").desc("Identifies the name of an organization."),
            s("division").desc("Identifies the name of a division."),
            s("department").desc("Identifies the name of a department."),
            Attribute::new("manager", T::Complex)
                .desc("The User's manager.")
                .subs(vec![
                    s("value").desc("The id of the SCIM resource representing the User's manager."),
                    Attribute::new("$ref", T::Reference)
                        .refs(&["User"])
                        .desc("The URI of the SCIM resource representing the User's manager."),
                    s("displayName")
                        .mutability(M::ReadOnly)
                        .desc("The displayName of the User's manager."),
                ]),
        ],
    }
}

fn build_common() -> Vec<Attribute> {
    let ro = |a: Attribute| a.mutability(M::ReadOnly);
    vec![
        ro(s("id"))
            .case_exact()
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server)
            .desc("A unique identifier for a SCIM resource as defined by the service provider."),
        s("externalId")
            .case_exact()
            .desc("An identifier for the resource as defined by the provisioning client."),
        ro(Attribute::new("meta", T::Complex))
            .desc("A complex attribute containing resource metadata.")
            .subs(vec![
                ro(s("resourceType"))
                    .case_exact()
                    .desc("The name of the resource type of the resource."),
                ro(Attribute::new("created", T::DateTime))
                    .desc("The \"DateTime\" that the resource was added to the service provider."),
                ro(Attribute::new("lastModified", T::DateTime))
                    .desc("The most recent DateTime that the details of this resource were updated at the service provider."),
                ro(Attribute::new("location", T::Reference))
                    .case_exact()
                    .refs(&["uri"])
                    .desc("The URI of the resource being returned."),
                ro(s("version"))
                    .case_exact()
                    .desc("The version of the resource being returned."),
            ]),
    ]
}

pub fn user() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(build_user)
}

pub fn group() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(build_group)
}

pub fn enterprise_user() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(build_enterprise_user)
}

/// `id`, `externalId` and `meta` (RFC 7643 §3.1), which every resource has
/// but no schema lists.
pub fn common_attributes() -> &'static [Attribute] {
    static S: OnceLock<Vec<Attribute>> = OnceLock::new();
    S.get_or_init(build_common)
}

/// Where an attribute definition was found.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    /// `Some` when the attribute lives in an extension schema, i.e. under the
    /// extension URN key of the resource.
    pub extension: Option<&'static Schema>,
    /// The top-level attribute.
    pub attribute: &'static Attribute,
    /// The sub-attribute named by the path, if any.
    pub sub_attribute: Option<&'static Attribute>,
}

/// A resource type's schemas: its core schema and extensions.
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub core: &'static Schema,
    pub extensions: Vec<&'static Schema>,
}

impl ResourceSchema {
    /// Users: the core User schema with the enterprise extension.
    pub fn users() -> ResourceSchema {
        ResourceSchema {
            core: user(),
            extensions: vec![enterprise_user()],
        }
    }

    pub fn groups() -> ResourceSchema {
        ResourceSchema {
            core: group(),
            extensions: Vec::new(),
        }
    }

    /// Every schema URN this resource type knows (core first).
    pub fn schema_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.core.id).chain(self.extensions.iter().map(|s| s.id))
    }

    /// The extension schema whose id is `urn` (case-insensitive).
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Finds a top-level attribute by name (and optional schema URN): core
    /// and common attributes first, then extensions.
    pub fn top_level(&self, urn: Option<&str>, name: &str) -> Option<Located> {
        let core: &'static Schema = self.core;
        let core_or_common = || {
            core.attribute(name)
                .or_else(|| {
                    common_attributes()
                        .iter()
                        .find(|a| a.name.eq_ignore_ascii_case(name))
                })
                .map(|attribute| Located {
                    extension: None,
                    attribute,
                    sub_attribute: None,
                })
        };
        let in_ext = |ext: &'static Schema| {
            ext.attribute(name).map(|attribute| Located {
                extension: Some(ext),
                attribute,
                sub_attribute: None,
            })
        };
        match urn {
            Some(u) if u.eq_ignore_ascii_case(core.id) => core_or_common(),
            Some(u) => self.extension(u).and_then(in_ext),
            None => core_or_common().or_else(|| self.extensions.iter().copied().find_map(in_ext)),
        }
    }

    /// Resolves a path (ignoring any value filter) to where its attribute is
    /// defined.
    pub fn locate(&self, path: &AttrPath) -> Option<Located> {
        let mut found = self.top_level(path.urn.as_deref(), &path.attr)?;
        if let Some(sub) = &path.sub_attr {
            found.sub_attribute = Some(found.attribute.sub_attribute(sub)?);
        }
        Some(found)
    }

    /// The definition of the attribute or sub-attribute a path names.
    pub fn attribute(&self, path: &AttrPath) -> Option<&'static Attribute> {
        self.locate(path)
            .map(|l| l.sub_attribute.unwrap_or(l.attribute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::syntax::parse_path;

    #[test]
    fn user_schema_has_rfc_attributes() {
        let u = user();
        let names: Vec<&str> = u.attributes.iter().map(|a| a.name).collect();
        for n in [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
        ] {
            assert!(names.contains(&n), "missing {n}");
        }
        let un = u.attribute("USERNAME").unwrap();
        assert!(un.required && !un.case_exact && un.uniqueness == Uniqueness::Server);
        let pw = u.attribute("password").unwrap();
        assert_eq!(pw.mutability, Mutability::WriteOnly);
        assert_eq!(pw.returned, Returned::Never);
        assert_eq!(
            u.attribute("groups").unwrap().mutability,
            Mutability::ReadOnly
        );
    }

    #[test]
    fn resolves_paths_case_insensitively_with_and_without_urn() {
        let rs = ResourceSchema::users();
        let p = |s: &str| parse_path(s).unwrap();
        assert_eq!(rs.attribute(&p("username")).unwrap().name, "userName");
        assert_eq!(
            rs.attribute(&p("name.GIVENNAME")).unwrap().name,
            "givenName"
        );
        assert_eq!(
            rs.attribute(&p(
                "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"
            ))
            .unwrap()
            .name,
            "givenName"
        );
        let m = rs.locate(&p("manager")).unwrap();
        assert_eq!(m.extension.unwrap().id, urn::ENTERPRISE_USER);
        assert_eq!(
            rs.attribute(&p(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName"
            ))
            .unwrap()
            .mutability,
            Mutability::ReadOnly
        );
        let id = rs.attribute(&p("id")).unwrap();
        assert!(id.case_exact && id.mutability == Mutability::ReadOnly);
        assert!(rs.attribute(&p("externalId")).unwrap().case_exact);
        assert_eq!(
            rs.attribute(&p("meta.lastModified")).unwrap().ty,
            AttrType::DateTime
        );
        assert!(rs.attribute(&p("emails[type eq \"work\"].value")).is_some());
        assert!(rs.attribute(&p("nosuch")).is_none());
        // An extension attribute under the core URN does not resolve.
        assert!(
            rs.attribute(&p("urn:ietf:params:scim:schemas:core:2.0:User:manager"))
                .is_none()
        );
        let g = ResourceSchema::groups();
        assert_eq!(
            g.attribute(&p("members.value")).unwrap().mutability,
            Mutability::Immutable
        );
        assert!(g.attribute(&p("displayName")).unwrap().required);
    }

    #[test]
    fn schema_json_matches_rfc_shape() {
        let j = user().to_json("https://example.com/v2/");
        assert_eq!(j["id"], urn::USER);
        assert_eq!(j["meta"]["resourceType"], "Schema");
        assert_eq!(
            j["meta"]["location"],
            format!("https://example.com/v2/Schemas/{}", urn::USER)
        );
        let attrs = j["attributes"].as_array().unwrap();
        let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["type"], "complex");
        assert_eq!(emails["multiValued"], true);
        let typ = emails["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "type")
            .unwrap();
        assert_eq!(typ["canonicalValues"], json!(["work", "home", "other"]));
        let profile = attrs.iter().find(|a| a["name"] == "profileUrl").unwrap();
        assert_eq!(profile["referenceTypes"], json!(["external"]));
        let e = enterprise_user().to_json("http://x");
        let mgr = e["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "manager")
            .unwrap();
        assert_eq!(mgr["subAttributes"].as_array().unwrap().len(), 3);
    }
}
