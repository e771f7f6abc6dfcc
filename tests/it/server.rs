//! HTTP-level tests of the reference SCIM server, over real TCP on 127.0.0.1.

use std::net::SocketAddr;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use scimitar::server::{RunningServer, ServerConfig, spawn};
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Harness {
    server: RunningServer,
    http: reqwest::Client,
    token: Option<String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM error body with the given status and scimType.
    #[track_caller]
    fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["schemas"], json!([ERROR]), "body: {}", self.body);
        assert_eq!(self.body["status"], json!(status.to_string()));
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(
            self.body.get("scimType").and_then(Value::as_str),
            scim_type,
            "body: {}",
            self.body
        );
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }
}

/// Percent-encodes a query parameter value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn start(token: Option<&str>) -> Harness {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = spawn(
        addr,
        ServerConfig {
            token: token.map(str::to_string),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Harness {
        server,
        http: reqwest::Client::new(),
        token: token.map(str::to_string),
    }
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url)
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("content-type", "application/scim+json");
            }
            req = req.body(b);
        }
        for (k, v) in headers {
            req = req.header(*k, HeaderValue::from_str(v).unwrap());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("non-JSON body ({e}): {bytes:?}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.raw(
            method,
            path,
            body.map(|b| serde_json::to_vec(&b).unwrap()),
            &[],
        )
        .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn create_user(&self, user_name: &str) -> Value {
        let a = self
            .post(
                "/Users",
                json!({"schemas": [USER], "userName": user_name, "name": {"givenName": "G", "familyName": "F"}}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body
    }

    async fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let a = self
            .post(
                "/Groups",
                json!({"schemas": [GROUP], "displayName": name, "members": members}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body
    }
}

#[tokio::test]
async fn user_lifecycle_create_read_replace_delete() {
    let h = start(None).await;
    let created = h
        .post(
            "/Users",
            json!({
                "schemas": [USER, ENTERPRISE],
                "id": "client-chosen",
                "externalId": "ext-1",
                "userName": "ada@example.com",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
                "password": "s3cret!",
                "groups": [],
                "active": true,
                "meta": {"resourceType": "Group"},
                ENTERPRISE: {"department": "Maths"}
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    let u = &created.body;
    let id = u["id"].as_str().unwrap();
    assert_ne!(id, "client-chosen");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "id {id} is not a uuid");
    assert_eq!(u["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["meta"]["location"], json!(h.url(&format!("/Users/{id}"))));
    assert_eq!(created.header("location"), u["meta"]["location"].as_str());
    assert_eq!(created.header("etag"), u["meta"]["version"].as_str());
    assert!(u["meta"]["version"].as_str().unwrap().starts_with("W/\""));
    assert_eq!(u["meta"]["created"], u["meta"]["lastModified"]);
    assert!(
        time::OffsetDateTime::parse(
            u["meta"]["created"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    assert!(
        u.get("password").is_none(),
        "password must never be returned"
    );
    assert!(u.get("groups").is_none());
    assert_eq!(u[ENTERPRISE]["department"], "Maths");

    let read = h.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(&read.body, u);
    assert_eq!(read.header("etag"), u["meta"]["version"].as_str());

    // PUT replaces: omitted optional attributes are cleared.
    let put = h
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER], "id": id, "userName": "ada@example.com", "active": false, "groups": []})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["active"], false);
    assert!(put.body.get("name").is_none());
    assert!(put.body.get("emails").is_none());
    assert!(put.body.get(ENTERPRISE).is_none());
    assert_eq!(put.body["schemas"], json!([USER]));
    assert_eq!(put.body["meta"]["created"], u["meta"]["created"]);
    assert_ne!(put.body["meta"]["version"], u["meta"]["version"]);
    assert!(put.body.get("password").is_none());

    // id is readOnly: another id in a PUT body is ignored (RFC 7644 §3.5.1).
    let mismatched = h
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER], "id": "other", "userName": "ada@example.com"})),
        )
        .await;
    assert_eq!(mismatched.status, StatusCode::OK, "{}", mismatched.body);
    assert_eq!(mismatched.body["id"], json!(id));
    h.get("/Users/other").await.assert_error(404, None);

    let del = h.send(Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    h.get(&format!("/Users/{id}")).await.assert_error(404, None);
    h.send(Method::DELETE, &format!("/Users/{id}"), None)
        .await
        .assert_error(404, None);
    h.server.shutdown().await;
}

#[tokio::test]
async fn user_name_is_unique_case_insensitively() {
    let h = start(None).await;
    h.create_user("Grace@Example.com").await;
    let dup = h
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "grace@example.COM"}),
        )
        .await;
    dup.assert_error(409, Some("uniqueness"));
    // Renaming another user onto a taken name is refused too.
    let other = h.create_user("hopper@example.com").await;
    let id = other["id"].as_str().unwrap();
    let put = h
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER], "userName": "GRACE@example.com"})),
        )
        .await;
    put.assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn concurrent_creates_of_one_user_name_yield_exactly_one_201() {
    let h = start(None).await;
    let url = h.url("/Users");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let http = h.http.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let name = if i % 2 == 0 {
                    "race@example.com"
                } else {
                    "RACE@example.com"
                };
                http.post(url)
                    .header("content-type", "application/scim+json")
                    .body(json!({"schemas": [USER], "userName": name}).to_string())
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        15,
        "{statuses:?}"
    );
    let list = h.get("/Users").await;
    assert_eq!(list.body["totalResults"], 1);
}

#[tokio::test]
async fn malformed_requests_get_scim_errors() {
    let h = start(None).await;
    h.post(
        "/Users",
        json!({"schemas": [USER], "name": {"givenName": "x"}}),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    h.post("/Groups", json!({"schemas": [GROUP]}))
        .await
        .assert_error(400, Some("invalidValue"));
    h.post("/Users", json!({"userName": "no-schemas"}))
        .await
        .assert_error(400, Some("invalidSyntax"));
    h.post(
        "/Users",
        json!({"schemas": [GROUP], "userName": "wrong-schema"}),
    )
    .await
    .assert_error(400, Some("invalidSyntax"));
    h.raw(
        Method::POST,
        "/Users",
        Some(b"{\"schemas\": [".to_vec()),
        &[],
    )
    .await
    .assert_error(400, Some("invalidSyntax"));
    h.post("/Users", json!([1, 2]))
        .await
        .assert_error(400, Some("invalidSyntax"));
    // Content types: application/json with a charset is fine, text/plain is not.
    let body =
        serde_json::to_vec(&json!({"schemas": [USER], "userName": "json@example.com"})).unwrap();
    let ok = h
        .raw(
            Method::POST,
            "/Users",
            Some(body.clone()),
            &[("content-type", "application/json; charset=utf-8")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    h.raw(
        Method::POST,
        "/Users",
        Some(body),
        &[("content-type", "text/plain")],
    )
    .await
    .assert_error(415, None);
    // Larger than maxPayloadSize.
    let big = json!({"schemas": [USER], "userName": "big", "nickName": "x".repeat(1_100_000)});
    h.post("/Users", big).await.assert_error(413, None);
    // Unknown endpoints and paths outside /scim/v2.
    h.get("/Widgets").await.assert_error(404, None);
    let outside = h
        .http
        .get(format!("http://{}/elsewhere", h.server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        outside.headers().get("content-type").unwrap(),
        "application/scim+json"
    );
}

#[tokio::test]
async fn string_booleans_and_okta_create_body_are_accepted() {
    let h = start(None).await;
    let okta = json!({"schemas":[USER],"userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true});
    let a = h.post("/Users", okta).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["active"], true);
    assert!(a.body.get("password").is_none());
    // Entra's [MS-REF] posts "active":"True"; keys are case-insensitive.
    let a = h
        .post(
            "/Users",
            json!({"schemas":[USER],"UserName":"strbool@example.com","active":"True"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["active"], true);
    assert_eq!(a.body["userName"], "strbool@example.com");
    h.post(
        "/Users",
        json!({"schemas":[USER],"userName":"badbool@example.com","active":"maybe"}),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    // Entra's explicit nulls mean "unassigned".
    let entra = json!({"schemas":[USER,ENTERPRISE],"externalId":"0a21f0f2","userName":"Test_User_00aa","active":true,"emails":[{"primary":true,"type":"work","value":"t@testuser.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[],"addresses":null,"phoneNumbers":null});
    let a = h.post("/Users", entra).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert!(a.body.get("addresses").is_none());
    assert_eq!(a.body["schemas"], json!([USER]));
}

#[tokio::test]
async fn groups_members_refs_and_computed_user_groups() {
    let h = start(None).await;
    let entra_group = h
        .post(
            "/Groups",
            json!({"schemas":[GROUP,"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"8aa1a0c0","displayName":"displayName","meta":{"resourceType":"Group"}}),
        )
        .await;
    assert_eq!(
        entra_group.status,
        StatusCode::CREATED,
        "{}",
        entra_group.body
    );
    assert_eq!(entra_group.body["schemas"], json!([GROUP]));
    assert_eq!(entra_group.body["members"], json!([]));
    assert_eq!(entra_group.body["meta"]["resourceType"], "Group");

    let u = h.create_user("member@example.com").await;
    let uid = u["id"].as_str().unwrap();
    let inner = h.create_group("inner", &[]).await;
    let inner_id = inner["id"].as_str().unwrap();
    let g = h.create_group("outer", &[uid, inner_id]).await;
    let gid = g["id"].as_str().unwrap();
    assert_eq!(
        g["members"],
        json!([
            {"value": uid, "$ref": h.url(&format!("/Users/{uid}")), "display": "member@example.com", "type": "User"},
            {"value": inner_id, "$ref": h.url(&format!("/Groups/{inner_id}")), "display": "inner", "type": "Group"},
        ])
    );
    let user = h.get(&format!("/Users/{uid}")).await;
    assert_eq!(
        user.body["groups"],
        json!([{"value": gid, "$ref": h.url(&format!("/Groups/{gid}")), "display": "outer", "type": "direct"}])
    );

    h.post(
        "/Groups",
        json!({"schemas":[GROUP],"displayName":"bad","members":[{"value":"no-such-id"}]}),
    )
    .await
    .assert_error(400, Some("invalidValue"));

    // A deleted user leaves its groups, and the group's version changes.
    let before = h.get(&format!("/Groups/{gid}")).await;
    assert_eq!(
        h.send(Method::DELETE, &format!("/Users/{uid}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let after = h.get(&format!("/Groups/{gid}")).await;
    assert_eq!(after.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(after.body["members"][0]["value"], inner_id);
    assert_ne!(
        before.body["meta"]["version"],
        after.body["meta"]["version"]
    );

    // excludedAttributes=members, as Entra asks.
    let g = h
        .get(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await;
    assert!(g.body.get("members").is_none());
    assert_eq!(g.body["displayName"], "outer");
    assert_eq!(g.body["id"], gid);
}

#[tokio::test]
async fn pagination_is_stable_and_one_based() {
    let h = start(None).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(h.create_user(&format!("page{i}@example.com")).await["id"].clone());
    }
    let page = h.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["schemas"], json!([LIST]));
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    let got: Vec<&Value> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(got, vec![&ids[1], &ids[2]]);

    let zero = h.get("/Users?count=0").await;
    assert_eq!(zero.body["totalResults"], 5);
    assert_eq!(zero.body["itemsPerPage"], 0);
    assert_eq!(zero.body["Resources"], json!([]));

    let clamped = h.get("/Users?startIndex=0&count=1").await;
    assert_eq!(clamped.body["startIndex"], 1);
    assert_eq!(clamped.body["Resources"][0]["id"], ids[0]);

    let past_end = h.get("/Users?startIndex=10").await;
    assert_eq!(past_end.body["totalResults"], 5);
    assert_eq!(past_end.body["Resources"], json!([]));

    h.get("/Users?count=many")
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn attribute_projection_on_get_list_and_create() {
    let h = start(None).await;
    let created = h
        .send(
            Method::POST,
            &format!("/Users?attributes={}", enc("userName,name.familyName")),
            Some(json!({"schemas":[USER],"userName":"proj@example.com","name":{"givenName":"P","familyName":"Q"},"active":true})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.body,
        json!({"schemas":[USER],"id":id,"userName":"proj@example.com","name":{"familyName":"Q"}})
    );
    let listed = h
        .get(&format!(
            "/Users?attributes={}",
            enc(&format!("{USER}:active"))
        ))
        .await;
    assert_eq!(
        listed.body["Resources"][0],
        json!({"schemas":[USER],"id":id,"active":true})
    );
    let excluded = h
        .get(&format!(
            "/Users/{id}?excludedAttributes={}",
            enc("ID,meta,NAME.givenName")
        ))
        .await;
    assert_eq!(excluded.body["id"], id);
    assert!(excluded.body.get("meta").is_none());
    assert_eq!(excluded.body["name"], json!({"familyName":"Q"}));
}

#[tokio::test]
async fn etags_drive_conditional_requests() {
    let h = start(None).await;
    let u = h.create_user("etag@example.com").await;
    let id = u["id"].as_str().unwrap();
    let v1 = u["meta"]["version"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");

    let not_modified = h
        .raw(Method::GET, &path, None, &[("if-none-match", &v1)])
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.header("etag"), Some(v1.as_str()));
    let star = h
        .raw(Method::GET, &path, None, &[("if-none-match", "*")])
        .await;
    assert_eq!(star.status, StatusCode::NOT_MODIFIED);
    let changed = h
        .raw(Method::GET, &path, None, &[("if-none-match", "W/\"nope\"")])
        .await;
    assert_eq!(changed.status, StatusCode::OK);

    let body =
        serde_json::to_vec(&json!({"schemas":[USER],"userName":"etag@example.com","active":true}))
            .unwrap();
    let stale = h
        .raw(
            Method::PUT,
            &path,
            Some(body.clone()),
            &[("if-match", "W/\"stale\"")],
        )
        .await;
    stale.assert_error(412, None);
    let fresh = h
        .raw(Method::PUT, &path, Some(body.clone()), &[("if-match", &v1)])
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    let v2 = fresh.header("etag").unwrap().to_string();
    assert_ne!(v1, v2);
    assert_eq!(fresh.body["meta"]["version"], json!(v2));
    // The old version no longer matches.
    h.raw(Method::PUT, &path, Some(body.clone()), &[("if-match", &v1)])
        .await
        .assert_error(412, None);
    h.raw(Method::DELETE, &path, None, &[("if-match", &v1)])
        .await
        .assert_error(412, None);
    let star = h
        .raw(Method::DELETE, &path, None, &[("if-match", "*")])
        .await;
    assert_eq!(star.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bearer_token_is_required_everywhere() {
    let h = start(Some("t0ken")).await;
    for path in ["/Users", "/ServiceProviderConfig", "/Schemas", "/Nowhere"] {
        let missing = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            missing.headers().get("www-authenticate").unwrap(),
            "Bearer realm=\"scimitar\""
        );
        assert_eq!(
            missing.headers().get("content-type").unwrap(),
            "application/scim+json"
        );
        let body: Value = missing.json().await.unwrap();
        assert_eq!(body["schemas"], json!([ERROR]));
        assert_eq!(body["status"], "401");

        let wrong = h
            .http
            .get(h.url(path))
            .bearer_auth("t0ken2")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
        let basic = h
            .http
            .get(h.url(path))
            .header("authorization", "Basic dDBrZW4=")
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(h.get("/Users").await.status, StatusCode::OK);
}

#[tokio::test]
async fn discovery_endpoints_are_truthful_and_read_only() {
    let h = start(None).await;
    let spc = h.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    let b = &spc.body;
    assert_eq!(
        b["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert_eq!(b[feature]["supported"], true, "{feature}");
    }
    assert!(b["filter"]["maxResults"].as_u64().is_some());
    assert!(b["bulk"]["maxOperations"].as_u64().is_some());
    assert!(b["bulk"]["maxPayloadSize"].as_u64().is_some());
    assert_eq!(b["authenticationSchemes"][0]["type"], "oauthbearertoken");

    let rts = h.get("/ResourceTypes").await;
    assert_eq!(rts.body["schemas"], json!([LIST]));
    assert_eq!(rts.body["totalResults"], 2);
    assert_eq!(rts.body["Resources"][0]["endpoint"], "/Users");
    assert_eq!(rts.body["Resources"][0]["schema"], USER);
    assert_eq!(
        rts.body["Resources"][0]["schemaExtensions"][0]["schema"],
        ENTERPRISE
    );
    let group_rt = h.get("/ResourceTypes/Group").await;
    assert_eq!(group_rt.body["endpoint"], "/Groups");
    h.get("/ResourceTypes/Widget").await.assert_error(404, None);

    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
        h.post(path, json!({})).await.assert_error(405, None);
        h.send(Method::PUT, path, Some(json!({})))
            .await
            .assert_error(405, None);
        h.send(Method::DELETE, path, None)
            .await
            .assert_error(405, None);
    }
    let me = h.get("/Me").await;
    me.assert_error(501, None);
}

#[tokio::test]
async fn bulk_resolves_bulk_ids_in_any_order() {
    let h = start(None).await;
    let resp = h
        .post(
            "/Bulk",
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
                    {"method": "POST", "path": "/Groups", "bulkId": "g1",
                     "data": {"schemas": [GROUP], "displayName": "bulk group", "members": [{"value": "bulkId:u1"}]}},
                    {"method": "POST", "path": "/Users", "bulkId": "u1",
                     "data": {"schemas": [USER], "userName": "bulk@example.com"}},
                    {"method": "POST", "path": "/Users", "bulkId": "dup",
                     "data": {"schemas": [USER], "userName": "BULK@example.com"}},
                    {"method": "PATCH", "path": "/Users/bulkId:nope", "data": {"Operations": []}}
                ]
            }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(
        resp.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    let ops = resp.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 4);
    assert_eq!(ops[0]["bulkId"], "g1");
    assert_eq!(ops[0]["status"], "201");
    assert_eq!(ops[1]["bulkId"], "u1");
    assert_eq!(ops[1]["status"], "201");
    assert_eq!(ops[2]["status"], "409");
    assert_eq!(ops[2]["response"]["scimType"], "uniqueness");
    assert_eq!(ops[3]["status"], "409");
    let group_loc = ops[0]["location"].as_str().unwrap();
    let user_loc = ops[1]["location"].as_str().unwrap();
    let group: Value = h
        .http
        .get(group_loc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = user_loc.rsplit('/').next().unwrap();
    assert_eq!(group["members"][0]["value"], user_id);
    assert_eq!(ops[0]["version"], group["meta"]["version"]);

    // failOnErrors stops after the first failure.
    let stopped = h
        .post(
            "/Bulk",
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "failOnErrors": 1,
                "Operations": [
                    {"method": "DELETE", "path": "/Users/missing"},
                    {"method": "POST", "path": "/Users", "bulkId": "x",
                     "data": {"schemas": [USER], "userName": "never@example.com"}}
                ]
            }),
        )
        .await;
    let ops = stopped.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["status"], "404");
    let list = h.get("/Users").await;
    assert_eq!(list.body["totalResults"], 1);

    // maxOperations.
    let max = h.get("/ServiceProviderConfig").await.body["bulk"]["maxOperations"]
        .as_u64()
        .unwrap() as usize;
    let too_many: Vec<Value> = (0..=max)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    h.post("/Bulk", json!({"Operations": too_many}))
        .await
        .assert_error(413, None);
    // Wrong message schema.
    h.post("/Bulk", json!({"schemas": [PATCH_OP], "Operations": []}))
        .await
        .assert_error(400, Some("invalidSyntax"));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let h = start(None).await;
    let addr = h.server.addr;
    assert_eq!(h.get("/Users").await.status, StatusCode::OK);
    h.server.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(
        fresh
            .get(format!("http://{addr}/scim/v2/Users"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn filters_select_and_invalid_filters_are_rejected() {
    let h = start(None).await;
    let a = h
        .post(
            "/Users",
            json!({"schemas":[USER],"userName":"Alice@Example.com","externalId":"ext-a","active":true,
                   "emails":[{"value":"alice@work.example","type":"work"}]}),
        )
        .await
        .body;
    h.post(
        "/Users",
        json!({"schemas":[USER],"userName":"bob@example.com","active":false}),
    )
    .await;
    let search = |f: &str| format!("/Users?filter={}", enc(f));

    let by_name = h.get(&search("userName eq \"alice@example.com\"")).await;
    assert_eq!(by_name.status, StatusCode::OK);
    assert_eq!(by_name.body["totalResults"], 1);
    assert_eq!(by_name.body["Resources"][0]["id"], a["id"]);
    // Entra's Test Connection: no match is an empty ListResponse.
    let none = h
        .get(&search(
            "userName eq \"00000000-0000-0000-0000-000000000000\"",
        ))
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(none.body["Resources"], json!([]));
    let typed = h
        .get(&search(
            "emails[type eq \"work\"].value eq \"alice@work.example\"",
        ))
        .await;
    assert_eq!(typed.body["totalResults"], 1);
    let and = h
        .get(&search("externalId eq \"ext-a\" and active eq true"))
        .await;
    assert_eq!(and.body["totalResults"], 1);
    let inactive = h.get(&search("active eq false")).await;
    assert_eq!(inactive.body["Resources"][0]["userName"], "bob@example.com");
    // The wire form Entra uses for groups: '+' for spaces.
    h.create_group("TEST", &[]).await;
    let g = h
        .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22TEST%22")
        .await;
    assert_eq!(g.body["totalResults"], 1);
    assert!(g.body["Resources"][0].get("members").is_none());

    h.get(&search("userName eq"))
        .await
        .assert_error(400, Some("invalidFilter"));
    h.get(&search("userName zz \"x\""))
        .await
        .assert_error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn sort_by_and_sort_order() {
    let h = start(None).await;
    for (name, nick) in [("b@x", Some("m")), ("C@x", None), ("a@x", Some("z"))] {
        let mut body = json!({"schemas":[USER],"userName":name});
        if let Some(n) = nick {
            body["nickName"] = json!(n);
        }
        assert_eq!(h.post("/Users", body).await.status, StatusCode::CREATED);
    }
    let names = |a: &Answer| -> Vec<String> {
        a.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&h.get("/Users?sortBy=userName").await),
        ["a@x", "b@x", "C@x"]
    );
    assert_eq!(
        names(&h.get("/Users?sortBy=userName&sortOrder=descending").await),
        ["C@x", "b@x", "a@x"]
    );
    // Missing values last.
    assert_eq!(
        names(&h.get("/Users?sortBy=nickName").await),
        ["b@x", "a@x", "C@x"]
    );
    // Unsorted: creation order.
    assert_eq!(names(&h.get("/Users").await), ["b@x", "C@x", "a@x"]);
    h.get("/Users?sortBy=userName&sortOrder=sideways")
        .await
        .assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn search_requests_over_post() {
    let h = start(None).await;
    let u = h.create_user("searcher@example.com").await;
    h.create_user("other@example.com").await;
    let g = h
        .create_group("searchers", &[u["id"].as_str().unwrap()])
        .await;
    let users = h
        .post(
            "/Users/.search",
            json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter":"userName sw \"search\"","attributes":["userName"],"startIndex":1,"count":10}),
        )
        .await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);
    assert_eq!(users.body["totalResults"], 1);
    assert_eq!(
        users.body["Resources"][0],
        json!({"schemas":[USER],"id":u["id"],"userName":"searcher@example.com"})
    );
    // Root search spans both resource types, in creation order.
    let all = h
        .post(
            "/.search",
            json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
        )
        .await;
    assert_eq!(all.body["totalResults"], 3);
    assert_eq!(all.body["Resources"][2]["id"], g["id"]);
    let groups_only = h
        .post(
            "/.search",
            json!({"filter": "displayName eq \"searchers\"", "excludedAttributes": ["members"]}),
        )
        .await;
    assert_eq!(groups_only.body["totalResults"], 1);
    assert!(groups_only.body["Resources"][0].get("members").is_none());
    h.post("/.search", json!({"schemas":[PATCH_OP]}))
        .await
        .assert_error(400, Some("invalidSyntax"));
    h.post("/Users/.search", json!({"filter":"userName eq"}))
        .await
        .assert_error(400, Some("invalidFilter"));
    h.get("/.search").await.assert_error(405, None);
}

#[tokio::test]
async fn schemas_endpoint_lists_published_schemas() {
    let h = start(None).await;
    let list = h.get("/Schemas").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["schemas"], json!([LIST]));
    let ids: Vec<&str> = list.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in [USER, GROUP, ENTERPRISE] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(
        list.body["Resources"][0]["attributes"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let user = h.get(&format!("/Schemas/{USER}")).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["id"], USER);
    assert_eq!(
        user.body["meta"]["location"],
        json!(h.url(&format!("/Schemas/{USER}")))
    );
    h.get("/Schemas/urn:nope").await.assert_error(404, None);
}

fn patch_op(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

#[tokio::test]
async fn patch_users_in_entra_dialect() {
    let h = start(None).await;
    let created = h
        .post(
            "/Users",
            json!({"schemas":[USER,ENTERPRISE],"externalId":"0a21f0f2","userName":"Test_User_00aa","active":true,
                   "emails":[{"primary":true,"type":"work","value":"Test_User_11bb@testuser.com"}],
                   "meta":{"resourceType":"User"},
                   "name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/Users/{id}");
    let manager = h.create_user("manager@example.com").await;
    let manager_id = manager["id"].as_str().unwrap();

    let a = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(json!([
                {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
                {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
                {"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"},
                {"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Springfield"},
                {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"},
                {"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":manager_id}
            ]))),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.header("etag"), a.body["meta"]["version"].as_str());
    assert_ne!(a.body["meta"]["version"], created.body["meta"]["version"]);
    let u = &a.body;
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["addresses"].as_array().unwrap().len(), 1);
    assert_eq!(u["addresses"][0]["locality"], "Springfield");
    assert_eq!(u[ENTERPRISE]["department"], "Retail");
    assert_eq!(u[ENTERPRISE]["manager"]["value"], manager_id);
    assert_eq!(u["schemas"], json!([USER, ENTERPRISE]));

    // Disable without the aadOptscim062020 flag: a string boolean.
    let off = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(
                json!([{"op":"Replace","path":"active","value":"False"}]),
            )),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], false);
    // A disabled user stays readable and filterable.
    let found = h
        .get(&format!(
            "/Users?filter={}",
            enc("userName eq \"Test_User_00aa\"")
        ))
        .await;
    assert_eq!(found.body["Resources"][0]["active"], false);
    // With the flag: no path, dotted and URN keys.
    let flag = h
        .send(
            Method::PATCH,
            &format!("{path}?attributes=active,name.givenName"),
            Some(patch_op(json!([{"op":"replace","value":{
                "active": true, "name.givenName": "Kkom",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}}]))),
        )
        .await;
    assert_eq!(flag.status, StatusCode::OK, "{}", flag.body);
    assert_eq!(
        flag.body,
        json!({"schemas":[USER,ENTERPRISE],"id":id,"active":true,"name":{"givenName":"Kkom"}})
    );
    let full = h.get(&path).await;
    assert_eq!(full.body[ENTERPRISE]["employeeNumber"], "Aklq");

    // After PATCH the resource must still be valid and unique.
    h.send(
        Method::PATCH,
        &path,
        Some(patch_op(
            json!([{"op":"Replace","path":"userName","value":"MANAGER@example.com"}]),
        )),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    h.send(
        Method::PATCH,
        &path,
        Some(patch_op(json!([{"op":"Remove","path":"userName"}]))),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    // Failed PATCHes change nothing.
    assert_eq!(
        h.get(&path).await.body["meta"]["version"],
        full.body["meta"]["version"]
    );
    // Malformed PatchOps.
    h.send(
        Method::PATCH,
        &path,
        Some(json!({"schemas":[USER],"Operations":[]})),
    )
    .await
    .assert_error(400, Some("invalidSyntax"));
    h.send(
        Method::PATCH,
        &path,
        Some(patch_op(json!([{"op":"Frobnicate","path":"active"}]))),
    )
    .await
    .assert_error(400, Some("invalidSyntax"));
    // PATCH honours If-Match.
    h.raw(
        Method::PATCH,
        &path,
        Some(
            serde_json::to_vec(&patch_op(
                json!([{"op":"replace","path":"active","value":false}]),
            ))
            .unwrap(),
        ),
        &[("if-match", "W/\"stale\"")],
    )
    .await
    .assert_error(412, None);
}

#[tokio::test]
async fn patch_groups_in_entra_and_okta_dialects() {
    let h = start(None).await;
    let u1 = h.create_user("u1@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u2 = h.create_user("u2@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u3 = h.create_user("u3@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let g = h.create_group("Test SCIMv2", &[]).await;
    let gid = g["id"].as_str().unwrap();
    let path = format!("/Groups/{gid}");
    let members = |a: &Answer| -> Vec<String> {
        a.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect()
    };

    // Entra: add with "$ref": null, remove by a value list.
    let add = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(json!([{"op":"Add","path":"members","value":[{"$ref":null,"value":u1},{"$ref":null,"value":u2}]}]))),
        )
        .await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.body);
    assert_eq!(members(&add), [u1.clone(), u2.clone()]);
    assert_eq!(
        add.body["members"][0]["$ref"],
        json!(h.url(&format!("/Users/{u1}")))
    );
    assert_eq!(add.body["members"][0]["type"], "User");
    let remove = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(
                json!([{"op":"Remove","path":"members","value":[{"value":u1}]}]),
            )),
        )
        .await;
    assert_eq!(members(&remove), [u2.as_str()]);
    // Entra rename; Entra G1 lookup then sees the new name.
    let renamed = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(
                json!([{"op":"Replace","path":"displayName","value":"renamed"}]),
            )),
        )
        .await;
    assert_eq!(renamed.body["displayName"], "renamed");

    // Okta: rename with id inside value (id is read-only and ignored).
    let okta_rename = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(
                json!([{"op":"replace","value":{"id":gid,"displayName":"Test SCIMv2"}}]),
            )),
        )
        .await;
    assert_eq!(okta_rename.status, StatusCode::OK, "{}", okta_rename.body);
    assert_eq!(okta_rename.body["displayName"], "Test SCIMv2");
    assert_eq!(okta_rename.body["id"], gid);
    // Okta membership delta: remove by value path plus add, in one PATCH.
    let delta = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(json!([
                {"op":"remove","path":format!("members[value eq \"{u2}\"]")},
                {"op":"add","path":"members","value":[{"value":u3,"display":"u3@example.com"}]}
            ]))),
        )
        .await;
    assert_eq!(delta.status, StatusCode::OK, "{}", delta.body);
    assert_eq!(members(&delta), [u3.as_str()]);
    // Okta full push.
    let push = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(
                json!([{"op":"replace","path":"members","value":[{"value":u1},{"value":u2}]}]),
            )),
        )
        .await;
    assert_eq!(members(&push), [u1.clone(), u2.clone()]);
    // The users see their groups.
    let user = h.get(&format!("/Users/{u1}")).await;
    assert_eq!(user.body["groups"][0]["value"], gid);
    let user3 = h.get(&format!("/Users/{u3}")).await;
    assert!(user3.body.get("groups").is_none());

    // A member that is not an existing resource id.
    h.send(
        Method::PATCH,
        &path,
        Some(patch_op(
            json!([{"op":"add","path":"members","value":[{"value":"no-such-id"}]}]),
        )),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    // Users' groups attribute is read-only.
    h.send(
        Method::PATCH,
        &format!("/Users/{u1}"),
        Some(patch_op(
            json!([{"op":"add","path":"groups","value":[{"value":gid}]}]),
        )),
    )
    .await
    .assert_error(400, Some("mutability"));
}

#[tokio::test]
async fn okta_deactivate_and_put_profile_update() {
    let h = start(None).await;
    let created = h
        .post(
            "/Users",
            json!({"schemas":[USER],"userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"User"},
                   "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],"displayName":"Test User",
                   "locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/Users/{id}");
    let put = h
        .send(
            Method::PUT,
            &path,
            Some(json!({"schemas":[USER],"id":id,"userName":"test.user@okta.local",
                        "name":{"givenName":"Another","middleName":"Excited","familyName":"User"},
                        "emails":[{"primary":true,"value":"test.user@okta.local","type":"work","display":"test.user@okta.local"}],
                        "active":true,"groups":[],"meta":{"resourceType":"User"}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["name"]["givenName"], "Another");
    assert!(put.body.get("locale").is_none());
    let off = h
        .send(
            Method::PATCH,
            &path,
            Some(patch_op(json!([{"op":"replace","value":{"active":false}}]))),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], false);
    assert!(off.body.get("password").is_none());
}

#[tokio::test]
async fn bulk_patch_and_put_with_versions() {
    let h = start(None).await;
    let u = h.create_user("bulkpatch@example.com").await;
    let id = u["id"].as_str().unwrap();
    let v = u["meta"]["version"].as_str().unwrap();
    let resp = h
        .post(
            "/Bulk",
            json!({"Operations": [
                {"method":"PATCH","path":format!("/Users/{id}"),"version":v,
                 "data":{"schemas":[PATCH_OP],"Operations":[{"op":"replace","path":"active","value":false}]}},
                {"method":"PUT","path":format!("/Users/{id}"),"version":v,
                 "data":{"schemas":[USER],"userName":"bulkpatch@example.com"}},
                {"method":"POST","path":"/Groups","bulkId":"g",
                 "data":{"schemas":[GROUP],"displayName":"bg"}},
                {"method":"PATCH","path":"/Groups/bulkId:g",
                 "data":{"Operations":[{"op":"add","path":"members","value":[{"value":id}]}]}},
                {"method":"DELETE","path":format!("/Users/{id}")}
            ]}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    let ops = resp.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["200", "412", "201", "200", "204"]);
    assert_eq!(ops[0]["location"], json!(h.url(&format!("/Users/{id}"))));
    let gid = ops[2]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    // The user was deleted last, so it left the group again.
    let g = h.get(&format!("/Groups/{gid}")).await;
    assert_eq!(g.body["members"], json!([]));
    h.get(&format!("/Users/{id}")).await.assert_error(404, None);
}

#[tokio::test]
async fn membership_changes_change_the_members_etags() {
    let h = start(None).await;
    let u = h.create_user("versioned@example.com").await;
    let uid = u["id"].as_str().unwrap();
    let v0 = u["meta"]["version"].clone();
    let g = h.create_group("versioned", &[uid]).await;
    let gid = g["id"].as_str().unwrap();
    let after_add = h.get(&format!("/Users/{uid}")).await;
    assert_ne!(
        after_add.body["meta"]["version"], v0,
        "groups changed, so must the ETag"
    );
    let v1 = after_add.header("etag").unwrap().to_string();
    let cached = h
        .raw(
            Method::GET,
            &format!("/Users/{uid}"),
            None,
            &[("if-none-match", &v1)],
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);

    // Renaming the user changes the member's display in the group.
    let gv = g["meta"]["version"].clone();
    let renamed = h
        .send(
            Method::PATCH,
            &format!("/Users/{uid}"),
            Some(patch_op(
                json!([{"op":"replace","path":"displayName","value":"Verna"}]),
            )),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let group = h.get(&format!("/Groups/{gid}")).await;
    assert_eq!(group.body["members"][0]["display"], "Verna");
    assert_ne!(group.body["meta"]["version"], gv);

    // Deleting the group changes the former member's representation.
    let before = h.get(&format!("/Users/{uid}")).await.body["meta"]["version"].clone();
    h.send(Method::DELETE, &format!("/Groups/{gid}"), None)
        .await;
    let user = h.get(&format!("/Users/{uid}")).await;
    assert!(user.body.get("groups").is_none());
    assert_ne!(user.body["meta"]["version"], before);
}

#[tokio::test]
async fn group_display_names_need_not_be_unique() {
    // RFC 7643 declares Group.displayName "uniqueness": "none", and /Schemas says so.
    let h = start(None).await;
    h.create_group("Same Name", &[]).await;
    let second = h
        .post(
            "/Groups",
            json!({"schemas":[GROUP],"displayName":"same name"}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let schema = h.get(&format!("/Schemas/{GROUP}")).await;
    let display = schema.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "displayName")
        .unwrap()
        .clone();
    assert_eq!(display["uniqueness"], "none");
}
