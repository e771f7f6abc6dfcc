use super::*;
use serde_json::json;

#[test]
fn precedence_not_and_or() {
    let f = parse_filter("a eq 1 or b eq 2 and c eq 3").unwrap();
    assert!(matches!(&f, Filter::Or(p) if p.len() == 2 && matches!(p[1], Filter::And(_))));
    let f = parse_filter("not (a eq 1) and b eq 2").unwrap();
    assert!(matches!(&f, Filter::And(p) if matches!(p[0], Filter::Not(_))));
    let f = parse_filter("(a eq 1 or b eq 2) and c eq 3").unwrap();
    assert!(matches!(&f, Filter::And(p) if matches!(p[0], Filter::Or(_))));
    assert_eq!(f.to_string(), "(a eq 1 or b eq 2) and c eq 3");
}

#[test]
fn string_literals_use_json_escapes() {
    let f = parse_filter(r#"displayName eq "a\"b""#).unwrap();
    assert_eq!(
        f,
        Filter::Compare(
            AttrPath::simple("displayName"),
            CompareOp::Eq,
            json!("a\"b")
        )
    );
}

#[test]
fn errors_say_what_and_where() {
    let e = parse_filter("userName").unwrap_err();
    assert_eq!(e.column, 9);
    assert!(
        e.message
            .contains("expected a comparison operator after 'userName'"),
        "{e}"
    );
    let e = parse_filter("userName  bogus \"x\"").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a comparison operator after 'userName', found 'bogus' at column 11"
    );
    let e = parse_filter("userName eq").unwrap_err();
    assert!(e.message.contains("expected a value after 'eq'"), "{e}");
    let e = parse_filter("userName eq \"x").unwrap_err();
    assert_eq!((e.message.as_str(), e.column), ("unterminated string", 13));
    let e = parse_filter("(userName eq \"x\"").unwrap_err();
    assert!(e.message.contains("expected ')'"), "{e}");
    let e = parse_filter("userName eq \"x\" junk").unwrap_err();
    assert!(e.message.contains("unexpected 'junk'"), "{e}");
    let se: ScimError = e.into();
    assert_eq!(se.scim_type, Some(ScimType::InvalidFilter));
    assert_eq!(se.status, 400);
    for bad in [
        "",
        "and",
        "userName eq \"x\" and",
        "emails[type eq \"work\"",
        "emails[]",
        "a.b.c eq 1",
        "emails[type eq \"a\" and x[y eq 1]]",
        "1abc eq 1",
        "not userName eq 1",
        "userName pr pr",
        "a eq \"\\q\"",
        "emails.value[type eq 1]",
        "]",
    ] {
        assert!(parse_filter(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}a eq 1{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse_filter(&deep).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
    let nots = format!("{}a eq 1{}", "not (".repeat(100), ")".repeat(100));
    assert!(parse_filter(&nots).is_err());
    let ok = format!("{}a eq 1{}", "(".repeat(60), ")".repeat(60));
    assert!(parse_filter(&ok).is_ok());
    // Long flat chains are fine and stay flat.
    let chain = vec!["a eq 1"; 5000].join(" and ");
    assert!(matches!(parse_filter(&chain).unwrap(), Filter::And(p) if p.len() == 5000));
}

#[test]
fn parses_rfc_and_idp_paths() {
    let p = parse_path("userName").unwrap();
    assert_eq!(p, AttrPath::simple("userName"));
    let p = parse_path("name.familyName").unwrap();
    assert_eq!(
        (p.attr.as_str(), p.sub_attr.as_deref()),
        ("name", Some("familyName"))
    );
    let p = parse_path("emails[type eq \"work\"].value").unwrap();
    assert_eq!(p.attr, "emails");
    assert_eq!(p.sub_attr.as_deref(), Some("value"));
    assert_eq!(
        p.value_filter.as_ref().unwrap().to_string(),
        "type eq \"work\""
    );
    let p = parse_path("members[value eq \"x\"]").unwrap();
    assert_eq!(p.attr, "members");
    assert!(p.sub_attr.is_none() && p.value_filter.is_some());
    let p =
        parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
    assert_eq!(
        p.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(p.attr, "manager");
    let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
        .unwrap();
    assert_eq!(p.attr, "manager");
    assert_eq!(p.sub_attr.as_deref(), Some("value"));
    let p = parse_path("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap();
    assert_eq!(
        p.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:core:2.0:User")
    );
    assert_eq!(
        (p.attr.as_str(), p.sub_attr.as_deref()),
        ("name", Some("givenName"))
    );
    let p = parse_path("addresses[type eq \"other\"].Formatted").unwrap();
    assert_eq!(p.sub_attr.as_deref(), Some("Formatted"));
    assert!(parse_path("members.$ref").is_ok());
}

#[test]
fn display_round_trips() {
    for s in [
        "userName",
        "emails[type eq \"work\"].value",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    ] {
        assert_eq!(parse_path(s).unwrap().to_string(), s);
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
        let e = parse_path(s).expect_err(s);
        let se: ScimError = e.into();
        assert_eq!(se.scim_type, Some(ScimType::InvalidPath), "{s}");
        assert_eq!(se.status, 400);
    }
    let e = parse_path("emails[type eq \"work\"").unwrap_err();
    assert!(e.to_string().contains("column"), "{e}");
}
