//! Attribute paths (RFC 7644 §3.5.2 PATH grammar, §3.10):
//! `[URN ":"] attr ["[" valFilter "]"] ["." subAttr]`.

use std::fmt;

use super::error::{ScimError, ScimType};
use super::filter::{self, Filter};

/// A parsed attribute path. Names keep the case they were written in;
/// compare them with `eq_ignore_ascii_case` (see [`AttrPath::is`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URN prefix, e.g. the enterprise extension's.
    pub urn: Option<String>,
    pub attr: String,
    /// The `[...]` value filter of a value path.
    pub value_filter: Option<Box<Filter>>,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A plain attribute name without URN, filter or sub-attribute.
    pub fn simple(attr: impl Into<String>) -> AttrPath {
        AttrPath {
            urn: None,
            attr: attr.into(),
            value_filter: None,
            sub_attr: None,
        }
    }

    /// True when this is the attribute `name` (no sub-attribute, no filter),
    /// ignoring case.
    pub fn is(&self, name: &str) -> bool {
        self.sub_attr.is_none()
            && self.value_filter.is_none()
            && self.attr.eq_ignore_ascii_case(name)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(v) = &self.value_filter {
            write!(f, "[{v}]")?;
        }
        if let Some(s) = &self.sub_attr {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// Why a path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path: {message} at column {column}")]
pub struct PathError {
    pub message: String,
    /// 1-based character position.
    pub column: usize,
}

impl From<PathError> for ScimError {
    fn from(e: PathError) -> Self {
        ScimError::bad_request(ScimType::InvalidPath, e.to_string())
    }
}

/// Parses a PATCH `path` (or any attribute path).
pub fn parse(s: &str) -> Result<AttrPath, PathError> {
    filter::parse_path(s).map_err(|e| PathError {
        message: e.message,
        column: e.column,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_and_idp_paths() {
        let p = parse("userName").unwrap();
        assert_eq!(p, AttrPath::simple("userName"));
        let p = parse("name.familyName").unwrap();
        assert_eq!(
            (p.attr.as_str(), p.sub_attr.as_deref()),
            ("name", Some("familyName"))
        );
        let p = parse("emails[type eq \"work\"].value").unwrap();
        assert_eq!(p.attr, "emails");
        assert_eq!(p.sub_attr.as_deref(), Some("value"));
        assert_eq!(
            p.value_filter.as_ref().unwrap().to_string(),
            "type eq \"work\""
        );
        let p = parse("members[value eq \"x\"]").unwrap();
        assert_eq!(p.attr, "members");
        assert!(p.sub_attr.is_none() && p.value_filter.is_some());
        let p =
            parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.attr, "manager");
        let p = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
            .unwrap();
        assert_eq!(p.attr, "manager");
        assert_eq!(p.sub_attr.as_deref(), Some("value"));
        let p = parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(
            (p.attr.as_str(), p.sub_attr.as_deref()),
            ("name", Some("givenName"))
        );
        let p = parse("addresses[type eq \"other\"].Formatted").unwrap();
        assert_eq!(p.sub_attr.as_deref(), Some("Formatted"));
        assert!(parse("members.$ref").is_ok());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "userName",
            "emails[type eq \"work\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_bad_paths() {
        for s in [
            "",
            " ",
            "a.b.c",
            "emails[type eq \"work\"",
            "emails[]",
            "1abc",
            "name.",
            "a b",
            "emails[type eq \"work\"]x",
            "urn:foo:",
            "a..b",
            "(userName)",
            "emails[type]",
        ] {
            let e = parse(s).expect_err(s);
            let se: ScimError = e.into();
            assert_eq!(se.scim_type, Some(ScimType::InvalidPath), "{s}");
            assert_eq!(se.status, 400);
        }
        let e = parse("emails[type eq \"work\"").unwrap_err();
        assert!(e.to_string().contains("column"), "{e}");
    }
}
