//! Bodies are copied from /work/shared/reference/idp-traffic.md (Entra ID
//! and Okta) and RFC 7644 §3.5.2.
use super::*;
use serde_json::json;

const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "6764549bef60420686bc",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": true,
        "emails": [{"primary": true, "type": "work",
                    "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"}],
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z",
                 "lastModified": "2024-01-01T00:00:00Z"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName",
                 "givenName": "givenName"}
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
        "displayName": "Test SCIMv2",
        "members": [
            {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "a"},
            {"value": "u1091"},
            {"value": "f648f8d5ea4e4cd38e9c"}
        ],
        "meta": {"resourceType": "Group"}
    })
}

fn patch_user(u: &mut Value, body: &str) -> Result<(), ScimError> {
    let body: Value = serde_json::from_str(body).unwrap();
    apply(u, &body, &ResourceSchema::users())
}

fn patch_group(g: &mut Value, body: &str) -> Result<(), ScimError> {
    let body: Value = serde_json::from_str(body).unwrap();
    apply(g, &body, &ResourceSchema::groups())
}

fn err_type(r: Result<(), ScimError>) -> (u16, Option<ScimType>) {
    let e = r.expect_err("expected an error");
    (e.status, e.scim_type)
}

fn member_ids(g: &Value) -> Vec<&str> {
    g["members"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------------ body shape

#[test]
fn body_validation() {
    let mut u = user();
    // Missing schemas is accepted; Operations key and op are any case.
    patch_user(
        &mut u,
        r#"{"operations":[{"OP":"Replace","Path":"title","Value":"x"}]}"#,
    )
    .unwrap();
    assert_eq!(u["title"], "x");
    assert_eq!(
        err_type(patch_user(
            &mut u,
            r#"{"schemas":["urn:x"],"Operations":[]}"#
        )),
        (400, Some(ScimType::InvalidSyntax))
    );
    assert_eq!(
        err_type(patch_user(&mut u, r#"{"schemas":[]}"#)).1,
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err_type(patch_user(
            &mut u,
            r#"{"Operations":[{"op":"move","path":"title"}]}"#
        ))
        .1,
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err_type(patch_user(&mut u, r#"[]"#)).1,
        Some(ScimType::InvalidSyntax)
    );
}

#[test]
fn failed_request_leaves_resource_unchanged() {
    let mut u = user();
    let before = u.clone();
    let r = patch_user(
        &mut u,
        r#"{"Operations":[{"op":"replace","path":"title","value":"x"},{"op":"replace","path":"id","value":"other"}]}"#,
    );
    let e = r.unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
    assert!(
        e.detail.starts_with("operation 2 (replace id)"),
        "{}",
        e.detail
    );
    assert_eq!(u, before);
}

// ------------------------------------------------------------ Entra users

#[test]
fn entra_replace_work_email_and_family_name() {
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}"#).unwrap();
    assert_eq!(
        u["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["name"]["givenName"], "givenName");
}

#[test]
fn entra_observed_patch_creates_address_and_sets_extension() {
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"AdeleV2@REDACTED.onmicrosoft.com"},{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"18/2111"},{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"}]}"#).unwrap();
    assert_eq!(u["emails"][0]["value"], "AdeleV2@REDACTED.onmicrosoft.com");
    assert_eq!(
        u["addresses"],
        json!([{"type": "work", "formatted": "18/2111"}])
    );
    assert_eq!(u[EXT]["department"], "Retail");
    assert_eq!(
        u["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", EXT])
    );
}

#[test]
fn entra_address_fields_merge_into_one_work_address() {
    let mut u = user();
    let ops: Vec<Value> = [
        ("streetAddress", "1 Main St"),
        ("locality", "Redmond"),
        ("region", "WA"),
        ("postalCode", "98052"),
        ("country", "US"),
    ]
    .iter()
    .map(|(f, v)| json!({"op": "Add", "path": format!("addresses[type eq \"work\"].{f}"), "value": v}))
    .collect();
    let body = json!({"schemas": [urn::PATCH_OP], "Operations": ops});
    apply(&mut u, &body, &ResourceSchema::users()).unwrap();
    assert_eq!(
        u["addresses"],
        json!([{"type": "work", "streetAddress": "1 Main St", "locality": "Redmond",
                "region": "WA", "postalCode": "98052", "country": "US"}])
    );
    // Capital-F "Formatted" (as in Entra's docs) lands on the canonical name.
    patch_user(&mut u, r#"{"Operations":[{"op":"Add","path":"addresses[type eq \"other\"].Formatted","value":"x"}]}"#).unwrap();
    assert_eq!(
        u["addresses"][1],
        json!({"type": "other", "formatted": "x"})
    );
}

#[test]
fn entra_add_work_email_when_none_exists() {
    let mut u = user();
    u.as_object_mut().unwrap().remove("emails");
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"new@example.com"}]}"#).unwrap();
    assert_eq!(
        u["emails"],
        json!([{"type": "work", "value": "new@example.com"}])
    );
    // A home email exists: the work one is still created next to it.
    let mut u = user();
    u["emails"] = json!([{"type": "home", "value": "h@example.com"}]);
    patch_user(&mut u, r#"{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"w@example.com"}]}"#).unwrap();
    assert_eq!(u["emails"].as_array().unwrap().len(), 2);
    assert_eq!(
        u["emails"][1],
        json!({"type": "work", "value": "w@example.com"})
    );
}

#[test]
fn entra_replace_username() {
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}"#).unwrap();
    assert_eq!(
        u["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );
    // Names match case-insensitively and are stored canonically.
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"replace","path":"USERNAME","value":"x"}]}"#,
    )
    .unwrap();
    assert_eq!(u["userName"], "x");
    assert!(u.get("USERNAME").is_none());
}

#[test]
fn entra_manager_documented_array_form() {
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"manager","value":[{"$ref":"http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee","value":"00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}]}]}"#).unwrap();
    assert_eq!(
        u[EXT]["manager"],
        json!({"$ref": "http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
               "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"})
    );
    assert!(u.get("manager").is_none());
    assert!(u["schemas"].as_array().unwrap().contains(&json!(EXT)));
}

#[test]
fn entra_manager_observed_string_form() {
    let mut u = user();
    u[EXT] = json!({"manager": {"value": "old", "$ref": "http://x/Users/old"}});
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}]}"#).unwrap();
    // The old $ref must not survive next to the new id.
    assert_eq!(
        u[EXT]["manager"],
        json!({"value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"})
    );
    patch_user(
        &mut u,
        &format!(
            r#"{{"Operations":[{{"op":"replace","path":"{EXT}:manager.value","value":"m2"}}]}}"#
        ),
    )
    .unwrap();
    assert_eq!(u[EXT]["manager"], json!({"value": "m2"}));
    assert_eq!(
        err_type(patch_user(
            &mut u,
            r#"{"Operations":[{"op":"replace","path":"manager.displayName","value":"x"}]}"#
        ))
        .1,
        Some(ScimType::Mutability)
    );
    // Removing the manager empties the extension: it and its URN go.
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"remove","path":"manager"}]}"#,
    )
    .unwrap();
    assert!(u.get(EXT).is_none());
    assert_eq!(
        u["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn entra_disable_with_boolean_and_string() {
    let mut u = user();
    patch_user(&mut u, r#"{"Operations":[{"op":"Replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}"#).unwrap();
    assert_eq!(u["active"], false);
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}"#).unwrap();
    assert_eq!(u["active"], false);
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"Replace","path":"active","value":"TRUE"}]}"#,
    )
    .unwrap();
    assert_eq!(u["active"], true);
    assert_eq!(
        err_type(patch_user(
            &mut u,
            r#"{"Operations":[{"op":"Replace","path":"active","value":"maybe"}]}"#
        )),
        (400, Some(ScimType::InvalidValue))
    );
}

#[test]
fn entra_pathless_dotted_and_urn_keys() {
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]}"#).unwrap();
    assert_eq!(u["displayName"], "Bjfe");
    assert_eq!(u["name"]["givenName"], "Kkom");
    assert_eq!(u["name"]["familyName"], "Unua");
    assert_eq!(u["name"]["formatted"], "givenName familyName");
    assert_eq!(u[EXT]["employeeNumber"], "Aklq");
    assert!(u["schemas"].as_array().unwrap().contains(&json!(EXT)));
}

#[test]
fn pathless_extension_urn_key_with_object() {
    let mut u = user();
    let body = json!({"Operations": [{"op": "add", "value": {
        EXT: {"department": "Sales", "manager": "m-1"}, "nickName": "Babs"}}]});
    apply(&mut u, &body, &ResourceSchema::users()).unwrap();
    assert_eq!(
        u[EXT],
        json!({"department": "Sales", "manager": {"value": "m-1"}})
    );
    assert_eq!(u["nickName"], "Babs");
    // The extension URN as a path addresses the extension object.
    let body =
        json!({"Operations": [{"op": "replace", "path": EXT, "value": {"costCenter": "4130"}}]});
    apply(&mut u, &body, &ResourceSchema::users()).unwrap();
    assert_eq!(u[EXT]["costCenter"], "4130");
    assert_eq!(u[EXT]["department"], "Sales");
}

// ------------------------------------------------------------ Entra groups

#[test]
fn entra_group_rename() {
    let mut g = group();
    patch_group(&mut g, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}"#).unwrap();
    assert_eq!(
        g["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
}

#[test]
fn entra_add_member_with_null_ref() {
    let mut g = group();
    g.as_object_mut().unwrap().remove("members");
    let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}"#;
    patch_group(&mut g, body).unwrap();
    assert_eq!(g["members"], json!([{"value": "f648f8d5ea4e4cd38e9c"}]));
    // Adding the same member again does not duplicate it.
    patch_group(&mut g, body).unwrap();
    assert_eq!(member_ids(&g), ["f648f8d5ea4e4cd38e9c"]);
}

#[test]
fn entra_remove_members_by_value_list_removes_only_those() {
    let mut g = group();
    patch_group(&mut g, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}"#).unwrap();
    assert_eq!(
        member_ids(&g),
        ["89bb1940-b905-4575-9e7f-6f887cfb368e", "u1091"]
    );
    patch_group(
        &mut g,
        r#"{"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1091"}]}]}"#,
    )
    .unwrap();
    assert_eq!(member_ids(&g), ["89bb1940-b905-4575-9e7f-6f887cfb368e"]);
    // Without a value list, remove path=members clears them all.
    patch_group(
        &mut g,
        r#"{"Operations":[{"op":"remove","path":"members"}]}"#,
    )
    .unwrap();
    assert!(g.get("members").is_none());
}

#[test]
fn entra_remove_member_by_value_path() {
    let mut g = group();
    g["members"]
        .as_array_mut()
        .unwrap()
        .push(json!({"value": "7f4bc1a3-285e-48ae-8202-5accb43efb0e"}));
    patch_group(&mut g, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]}"#).unwrap();
    assert_eq!(member_ids(&g).len(), 3);
    assert!(!member_ids(&g).contains(&"7f4bc1a3-285e-48ae-8202-5accb43efb0e"));
    // The same remove again matches nothing: noTarget (RFC 7644 §3.5.2.2).
    assert_eq!(
        err_type(patch_group(
            &mut g,
            r#"{"Operations":[{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]}"#
        )),
        (400, Some(ScimType::NoTarget))
    );
}

// ------------------------------------------------------------ Okta

#[test]
fn okta_deactivate_pathless() {
    let mut u = user();
    patch_user(&mut u, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#).unwrap();
    assert_eq!(u["active"], false);
}

#[test]
fn okta_group_rename_with_same_id_is_accepted() {
    let mut g = group();
    patch_group(&mut g, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Test SCIMv2 renamed"}}]}"#).unwrap();
    assert_eq!(g["displayName"], "Test SCIMv2 renamed");
    assert_eq!(g["id"], "abf4dd94-a4c0-4f67-89c9-76b03340cb9b");
    assert_eq!(
        err_type(patch_group(
            &mut g,
            r#"{"Operations":[{"op":"replace","value":{"id":"other","displayName":"x"}}]}"#
        )),
        (400, Some(ScimType::Mutability))
    );
    assert_eq!(g["displayName"], "Test SCIMv2 renamed");
}

#[test]
fn okta_membership_delta() {
    let mut g = group();
    patch_group(&mut g, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]}]}"#).unwrap();
    assert_eq!(
        member_ids(&g),
        [
            "u1091",
            "f648f8d5ea4e4cd38e9c",
            "23a35c27-23d3-4c03-b4c5-6443c09e7173"
        ]
    );
}

#[test]
fn okta_full_push_replaces_members() {
    let mut g = group();
    patch_group(&mut g, r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"},{"value":"89bb1940-b905-4575-9e7f-6f887cfb368e","display":"test.user@okta.local"}]}]}"#).unwrap();
    assert_eq!(
        g["members"],
        json!([{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
               {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "test.user@okta.local"}])
    );
}

// ------------------------------------------------------------ RFC rules

#[test]
fn remove_without_path_is_no_target() {
    let mut u = user();
    assert_eq!(
        err_type(patch_user(
            &mut u,
            r#"{"Operations":[{"op":"remove","value":{"title":"x"}}]}"#
        )),
        (400, Some(ScimType::NoTarget))
    );
}

#[test]
fn read_only_attributes_are_rejected() {
    for body in [
        r#"{"Operations":[{"op":"replace","path":"id","value":"x"}]}"#,
        r#"{"Operations":[{"op":"add","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}"#,
        r#"{"Operations":[{"op":"replace","value":{"meta":{"version":"1"}}}]}"#,
        r#"{"Operations":[{"op":"add","path":"groups","value":[{"value":"g"}]}]}"#,
        r#"{"Operations":[{"op":"remove","path":"id"}]}"#,
    ] {
        let mut u = user();
        assert_eq!(
            err_type(patch_user(&mut u, body)),
            (400, Some(ScimType::Mutability)),
            "{body}"
        );
    }
    let mut g = group();
    assert_eq!(
        err_type(patch_group(&mut g, r#"{"Operations":[{"op":"replace","path":"members[value eq \"u1091\"].value","value":"x"}]}"#)).1,
        Some(ScimType::Mutability),
        "members.value is immutable"
    );
}

#[test]
fn invalid_paths_and_values() {
    let mut u = user();
    for body in [
        r#"{"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}"#,
        r#"{"Operations":[{"op":"replace","path":"noSuchAttribute","value":"x"}]}"#,
        r#"{"Operations":[{"op":"replace","path":"name.noSuch","value":"x"}]}"#,
        r#"{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:manager","value":"x"}]}"#,
        r#"{"Operations":[{"op":"replace","path":"userName[value eq \"x\"]","value":"x"}]}"#,
        r#"{"Operations":[{"op":"replace","value":{"bogus key":"x"}}]}"#,
    ] {
        assert_eq!(
            err_type(patch_user(&mut u, body)),
            (400, Some(ScimType::InvalidPath)),
            "{body}"
        );
    }
    for body in [
        r#"{"Operations":[{"op":"replace","path":"name","value":"x"}]}"#,
        r#"{"Operations":[{"op":"replace","path":"userName","value":42}]}"#,
        r#"{"Operations":[{"op":"add","path":"emails","value":[{"value":"a@b","primary":"sometimes"}]}]}"#,
        r#"{"Operations":[{"op":"replace","value":"active"}]}"#,
        r#"{"Operations":[{"op":"remove","path":"userName"}]}"#,
    ] {
        assert_eq!(
            err_type(patch_user(&mut u, body)),
            (400, Some(ScimType::InvalidValue)),
            "{body}"
        );
    }
    assert_eq!(u, user());
}

#[test]
fn rfc_add_to_multi_valued_appends_without_duplicates_and_one_primary() {
    let mut u = user();
    patch_user(&mut u, r#"{"Operations":[{"op":"add","path":"emails","value":[{"value":"b@example.com","type":"home","primary":"True"}]}]}"#).unwrap();
    let emails = u["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert_eq!(
        emails[0]["primary"], false,
        "the new primary demotes the old one"
    );
    assert_eq!(emails[1]["primary"], true);
    patch_user(&mut u, r#"{"Operations":[{"op":"add","path":"emails","value":{"value":"b@example.com","type":"home"}}]}"#).unwrap();
    assert_eq!(u["emails"].as_array().unwrap().len(), 2);
}

#[test]
fn rfc_add_complex_merges_and_replace_null_clears() {
    let mut u = user();
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"add","path":"name","value":{"middleName":"Q"}}]}"#,
    )
    .unwrap();
    assert_eq!(u["name"]["middleName"], "Q");
    assert_eq!(u["name"]["givenName"], "givenName");
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"replace","path":"name.middleName","value":null}]}"#,
    )
    .unwrap();
    assert!(u["name"].get("middleName").is_none());
    patch_user(&mut u, r#"{"Operations":[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"},{"op":"remove","path":"name.formatted"}]}"#).unwrap();
    assert!(
        u.get("name").is_none(),
        "an emptied complex attribute is unassigned"
    );
}

#[test]
fn rfc_replace_value_path_element_and_remove_sub_attribute() {
    let mut u = user();
    u["addresses"] = json!([{"type": "work", "streetAddress": "old", "locality": "x"},
                            {"type": "home", "streetAddress": "h"}]);
    patch_user(&mut u, r#"{"Operations":[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"streetAddress":"911 Universal City Plaza","locality":"Hollywood","primary":true}}]}"#).unwrap();
    assert_eq!(
        u["addresses"][0],
        json!({"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood", "primary": true})
    );
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"remove","path":"addresses[type eq \"home\"].streetAddress"}]}"#,
    )
    .unwrap();
    assert_eq!(u["addresses"][1], json!({"type": "home"}));
    // A filter that matches nothing and pins no values cannot be upserted.
    assert_eq!(
        err_type(patch_user(&mut u, r#"{"Operations":[{"op":"replace","path":"emails[value co \"nobody\"].type","value":"home"}]}"#)).1,
        Some(ScimType::NoTarget)
    );
}

#[test]
fn add_with_sub_attribute_on_multi_valued_sets_every_element() {
    let mut u = user();
    u["emails"] = json!([{"value": "a@x"}, {"value": "b@x"}]);
    patch_user(
        &mut u,
        r#"{"Operations":[{"op":"replace","path":"emails.type","value":"work"}]}"#,
    )
    .unwrap();
    assert_eq!(
        u["emails"],
        json!([{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "work"}])
    );
}

#[test]
fn extension_value_may_carry_its_own_schemas() {
    // scim2-tester (scim2-models) sends the extension object with the
    // extension's `schemas` inside it; the member is not an attribute.
    let mut u = user();
    patch_user(&mut u, &format!(r#"{{"Operations":[{{"op":"add","path":"{EXT}","value":{{"schemas":["{EXT}"],"employeeNumber":"42"}}}}]}}"#)).unwrap();
    assert_eq!(u[EXT]["employeeNumber"], "42");
    assert!(u[EXT].get("schemas").is_none());
    patch_user(&mut u, &format!(r#"{{"Operations":[{{"op":"replace","path":"{EXT}","value":{{"schemas":["{EXT}"],"employeeNumber":"43"}}}}]}}"#)).unwrap();
    assert_eq!(u[EXT]["employeeNumber"], "43");
}
