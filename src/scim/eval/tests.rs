use super::*;
use crate::scim::syntax::{parse_filter as parse, parse_path};
use serde_json::json;

fn bjensen() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen",
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
                 "lastModified": "2011-05-13T04:42:34Z"},
        "userName": "bjensen",
        "name": {"familyName": "O'Malley", "givenName": "Barbara"},
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        }
    })
}

fn m(filter: &str, v: &Value) -> bool {
    let f = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    f.matches(v, &ResourceSchema::users())
}

#[test]
fn rfc_7644_examples_parse_and_evaluate() {
    let u = bjensen();
    let cases: &[(&str, bool)] = &[
        ("userName eq \"bjensen\"", true),
        ("name.familyName co \"O'Malley\"", true),
        ("userName sw \"J\"", false),
        ("userName sw \"B\"", true),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"b\"",
            true,
        ),
        ("title pr", true),
        ("meta.lastModified gt \"2011-05-13T04:42:34Z\"", false),
        ("meta.lastModified ge \"2011-05-13T04:42:34Z\"", true),
        ("meta.lastModified lt \"2011-05-13T04:42:34Z\"", false),
        ("meta.lastModified le \"2011-05-13T04:42:34Z\"", true),
        ("title pr and userType eq \"Employee\"", true),
        ("title pr or userType eq \"Intern\"", true),
        (
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            true,
        ),
        (
            "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
            true,
        ),
        (
            "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
            false,
        ),
        (
            "userType eq \"Employee\" and (emails.type eq \"work\")",
            true,
        ),
        (
            "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
            true,
        ),
        (
            "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            true,
        ),
        (
            "emails[type eq \"home\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            false,
        ),
    ];
    for (f, want) in cases {
        assert_eq!(m(f, &u), *want, "{f}");
    }
}

#[test]
fn idp_filters() {
    let u = bjensen();
    // Entra email matching and unquoted externalId, Okta's userName match.
    assert!(m(
        "emails[type eq \"work\"].value eq \"BJensen@example.com\"",
        &u
    ));
    assert!(!m(
        "emails[type eq \"home\"].value eq \"bjensen@example.com\"",
        &u
    ));
    assert!(m("externalId eq bjensen", &u));
    assert!(m("userName eq \"BJENSEN\"", &u));
    assert!(m(
        "id eq \"2819c223-7f76-453a-919d-413861904646\" and manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
        &u
    ));
    assert!(m(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"",
        &u
    ));
    assert!(m("employeeNumber eq 701984", &u));
    assert!(!m(
        "userName eq \"00000000-0000-0000-0000-000000000000\"",
        &u
    ));
}

#[test]
fn case_exactness_follows_schema() {
    let u = bjensen();
    assert!(
        !m("externalId eq \"BJENSEN\"", &u),
        "externalId is caseExact"
    );
    assert!(
        !m("id eq \"2819C223-7F76-453A-919D-413861904646\"", &u),
        "id is caseExact"
    );
    assert!(
        m("USERNAME EQ \"bjensen\"", &u),
        "names and operators are case-insensitive"
    );
    assert!(m("Emails[TYPE Eq \"WORK\"]", &u), "type is not caseExact");
}

#[test]
fn presence_and_null() {
    let u = json!({"userName": "x", "title": "", "emails": [], "nickName": null,
                   "name": {"givenName": "a"}});
    for a in ["title", "emails", "nickName", "displayName", "emails.value"] {
        assert!(!m(&format!("{a} pr"), &u), "{a}");
        assert!(m(&format!("{a} eq null"), &u), "{a}");
        assert!(!m(&format!("{a} ne null"), &u), "{a}");
    }
    assert!(m("name pr", &u));
    assert!(m("name.givenName pr", &u));
    assert!(m("userName ne null", &u));
}

#[test]
fn datetime_compares_as_instants() {
    let u = json!({"meta": {"lastModified": "2011-05-13T06:42:34+02:00"}});
    assert!(m("meta.lastModified eq \"2011-05-13T04:42:34Z\"", &u));
    assert!(m("meta.lastModified gt \"2011-05-13T04:42:33.5Z\"", &u));
    assert!(!m("meta.lastModified gt \"2011-05-13T05:00:00Z\"", &u));
}

#[test]
fn numbers_booleans_and_ne() {
    let g = json!({"active": true, "emails": [{"type": "work"}, {"type": "home"}]});
    assert!(m("active eq true", &g));
    assert!(!m("active eq false", &g));
    assert!(m("active ne false", &g));
    assert!(!m("active gt false", &g), "gt on booleans never matches");
    assert!(
        !m("emails.type ne \"work\"", &g),
        "ne means no value equals"
    );
    assert!(m("emails.type ne \"other\"", &g));
}

#[test]
fn precedence_not_and_or() {
    let v = json!({"a": 1, "b": 0, "c": 0});
    assert!(m("a eq 1 or b eq 2 and c eq 3", &v));
    assert!(!m("(a eq 1 or b eq 2) and c eq 3", &v));
}

#[test]
fn string_literals_use_json_escapes() {
    let v = json!({"displayName": "say \"hi\"\n\u{e9}"});
    assert!(m(r#"displayName eq "say \"hi\"\n\u00e9""#, &v));
}

/// A deterministic mutation fuzzer: no input may panic.
#[test]
fn mutated_inputs_never_panic() {
    let seeds = [
        "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
        "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\"]",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
        "not (meta.lastModified gt \"2011-05-13T04:42:34Z\") and title pr",
        "emails[type eq \"work\"].value eq \"a\\u00e9\"",
    ];
    let alphabet: Vec<char> = "()[]\" .:\\$-_aeqnotr01uU\u{e9}\u{1F600}\t"
        .chars()
        .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let u = bjensen();
    let rs = ResourceSchema::users();
    let mut parsed = 0;
    for round in 0..20_000 {
        let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..(next() % 6 + 1) {
            let pos = (next() as usize) % (chars.len() + 1);
            match next() % 4 {
                0 if pos < chars.len() => {
                    chars.remove(pos);
                }
                1 => chars.insert(pos, alphabet[(next() as usize) % alphabet.len()]),
                2 if pos < chars.len() => chars[pos] = alphabet[(next() as usize) % alphabet.len()],
                _ => chars.truncate(pos),
            }
        }
        let s: String = chars.into_iter().collect();
        if let Ok(f) = parse(&s) {
            parsed += 1;
            let _ = f.matches(&u, &rs);
            // What we print must parse back to the same filter.
            assert_eq!(parse(&f.to_string()).as_ref(), Ok(&f), "{s}");
        }
        let _ = parse_path(&s);
    }
    assert!(
        parsed > 100,
        "the fuzzer should also produce valid filters ({parsed})"
    );
}

#[test]
fn sort_ordering() {
    let rs = ResourceSchema::users();
    let users = [
        json!({"userName": "bob", "meta": {"created": "2020-01-02T00:00:00Z"}}),
        json!({"userName": "Alice", "emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}]}),
        json!({"userName": "carol", "meta": {"created": "2020-01-01T00:00:00+01:00"}}),
    ];
    let by = |p: &str| {
        let path = parse_path(p).unwrap();
        let attr = sort_attribute(&path, &rs);
        let mut v: Vec<&Value> = users.iter().collect();
        v.sort_by(|a, b| {
            compare_values(&sort_value(a, &path, &rs), &sort_value(b, &path, &rs), attr)
        });
        v.iter()
            .map(|u| u["userName"].as_str().unwrap_or(""))
            .collect::<Vec<_>>()
    };
    assert_eq!(by("userName"), ["Alice", "bob", "carol"]);
    assert_eq!(
        by("meta.created"),
        ["carol", "bob", "Alice"],
        "missing last"
    );
    assert_eq!(by("emails"), ["Alice", "bob", "carol"]);
    assert_eq!(
        sort_value(&users[1], &parse_path("emails").unwrap(), &rs),
        json!("a@x")
    );
    assert_eq!(compare_values(&json!(2), &json!(10), None), Ordering::Less);
    assert_eq!(
        compare_values(&Value::Null, &json!("a"), None),
        Ordering::Greater
    );
}

#[test]
fn ordering_on_booleans_is_an_invalid_filter() {
    // RFC 7644 §3.4.2.2: gt/ge/lt/le on Boolean (or Binary) attributes SHALL fail with invalidFilter.
    let users = ResourceSchema::users();
    for f in [
        "active gt false",
        "active LE true",
        "emails[primary ge true]",
        "x509Certificates.value lt \"AA==\"",
        "userName sw \"a\" and not (active lt true)",
        "nickName gt true",
    ] {
        let err = parse(f).unwrap().check(&users).unwrap_err();
        assert_eq!(err.status, 400, "{f}");
        assert_eq!(err.scim_type, Some(ScimType::InvalidFilter), "{f}");
    }
    for f in [
        "active eq false",
        "active ne true",
        "emails[primary eq true]",
        "meta.created gt \"2020-01-01T00:00:00Z\"",
        "userName gt \"a\"",
        "emails[value gt \"a\"]",
    ] {
        assert!(parse(f).unwrap().check(&users).is_ok(), "{f}");
    }
}
