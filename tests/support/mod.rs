//! Shared test support: a small stateful SCIM fake on wiremock, temporary
//! suite folders, a way to run the scimitar binary, and the
//! fault-injecting proxy (`proxy`).
#![allow(dead_code)]

pub mod proxy;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const SCIM: &str = "application/scim+json";

/// Every IdP profile's suite folder (its fixtures are the same path under fixtures/).
pub const IDP_DIRS: [&str; 6] = [
    "suites/entra",
    "suites/okta",
    "suites/google-workspace",
    "suites/pingfederate",
    "suites/jumpcloud",
    "suites/onelogin",
];

/// Steps per shipped IdP suite; a changed suite must update this on purpose.
pub const IDP_SUITES: [(&str, usize); 16] = [
    ("entra-users", 30),
    ("entra-groups", 17),
    ("entra-legacy-users", 31),
    ("entra-legacy-groups", 15),
    ("okta-users", 16),
    ("okta-group-push", 15),
    ("okta-spec-test", 15),
    ("okta-aiw-users", 9),
    ("okta-aiw-groups", 9),
    ("google-workspace-users", 12),
    ("pingfederate-users", 10),
    ("pingfederate-groups", 11),
    ("jumpcloud-users", 11),
    ("jumpcloud-groups", 9),
    ("onelogin-users", 11),
    ("onelogin-groups", 5),
];

/// A users-only SCIM fake: create, get, list, delete, with discovery.
pub struct Fake {
    pub server: MockServer,
    pub users: Arc<Mutex<Vec<Value>>>,
    pub rt: tokio::runtime::Runtime,
}

impl Fake {
    pub fn url(&self) -> String {
        format!("{}/scim/v2", self.server.uri())
    }

    /// Requests the fake received, as `METHOD /path`.
    pub fn received(&self) -> Vec<String> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }

    pub fn received_requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    pub fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }
}

pub fn scim_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), SCIM)
}

pub fn spc(patch: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": patch}, "filter": {"supported": true, "maxResults": 100},
        "sort": {"supported": false}, "etag": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "changePassword": {"supported": false},
        "authenticationSchemes": []
    })
}

/// Starts an empty fake that answers only `/ServiceProviderConfig`
/// (`patch` is what it claims); callers mount the rest.
pub fn bare_fake(patch: bool) -> Fake {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(MockServer::start());
    let users: Arc<Mutex<Vec<Value>>> = Arc::default();
    let f = Fake { server, users, rt };
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/ServiceProviderConfig"))
            .respond_with(scim_json(200, spc(patch))),
    );
    f
}

/// Starts the users fake. `patch` is what its ServiceProviderConfig claims.
pub fn fake(patch: bool) -> Fake {
    let f = bare_fake(patch);
    f.mount(
        Mock::given(method("GET")).and(path("/scim/v2/ResourceTypes")).respond_with(scim_json(
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
                   "Resources": [{"name": "User", "endpoint": "/Users",
                                  "schema": "urn:ietf:params:scim:schemas:core:2.0:User"}]}),
        )),
    );
    let u = f.users.clone();
    let base = f.url();
    // Ids are never reused, even after a delete, like a real server's.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(1));
    f.mount(
        Mock::given(method("POST"))
            .and(path("/scim/v2/Users"))
            .respond_with(move |r: &Request| {
                let mut body: Value = serde_json::from_slice(&r.body).unwrap_or(json!({}));
                let mut users = u.lock().unwrap();
                let name = body["userName"].as_str().unwrap_or("").to_lowercase();
                if users
                    .iter()
                    .any(|x| x["userName"].as_str().unwrap_or("").to_lowercase() == name)
                {
                    return scim_json(
                        409,
                        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "409", "scimType": "uniqueness", "detail": "exists"}),
                    );
                }
                let id = format!(
                    "u{}",
                    next.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                );
                body["id"] = json!(id);
                body["meta"] =
                    json!({"resourceType": "User", "location": format!("{base}/Users/{id}")});
                users.push(body.clone());
                scim_json(201, body)
                    .insert_header("Location", format!("{base}/Users/{id}").as_str())
            }),
    );
    let u = f.users.clone();
    f.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/scim/v2/Users/[^/]+$"))
            .respond_with(move |r: &Request| {
                let id = r.url.path().rsplit('/').next().unwrap_or("").to_string();
                match u.lock().unwrap().iter().find(|x| x["id"] == json!(id)) {
                    Some(user) => scim_json(200, user.clone()),
                    None => not_found(),
                }
            }),
    );
    let u = f.users.clone();
    f.mount(
        Mock::given(method("DELETE"))
            .and(path_regex(r"^/scim/v2/Users/[^/]+$"))
            .respond_with(move |r: &Request| {
                let id = r.url.path().rsplit('/').next().unwrap_or("").to_string();
                let mut users = u.lock().unwrap();
                let before = users.len();
                users.retain(|x| x["id"] != json!(id));
                if users.len() < before {
                    ResponseTemplate::new(204)
                } else {
                    not_found()
                }
            }),
    );
    let u = f.users.clone();
    f.mount(
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users"))
            .respond_with(move |_: &Request| {
                let users = u.lock().unwrap();
                scim_json(
                    200,
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": users.len(), "startIndex": 1, "itemsPerPage": users.len(),
                "Resources": users.clone()}),
                )
            }),
    );
    f
}

pub fn not_found() -> ResponseTemplate {
    scim_json(
        404,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "404", "detail": "not found"}),
    )
}

/// A temporary folder holding `suites/<name>.yaml` (and `fixtures/` files).
pub struct Suites {
    pub dir: tempfile::TempDir,
}

impl Suites {
    pub fn new() -> Suites {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("suites")).unwrap();
        std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
        Suites { dir }
    }

    pub fn suite(self, name: &str, yaml: &str) -> Suites {
        std::fs::write(
            self.dir.path().join("suites").join(format!("{name}.yaml")),
            yaml,
        )
        .unwrap();
        self
    }

    pub fn fixture(self, name: &str, json: &str) -> Suites {
        std::fs::write(self.dir.path().join("fixtures").join(name), json).unwrap();
        self
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("suites")
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs the scimitar binary with `args` in `cwd`, without SCIM_* from the environment.
pub fn scimitar(cwd: &Path, args: &[&str]) -> Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .args(args)
        .current_dir(cwd)
        .env_remove("SCIM_URL")
        .env_remove("SCIM_TOKEN")
        .env("NO_COLOR", "1")
        .output()
        .expect("run scimitar");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `text` with what differs between runs replaced by stable tokens, for
/// `insta::assert_snapshot!`: the repository and temporary paths, ports,
/// run prefixes, UUIDs, dates and times, durations, and the version.
pub fn redact(text: &str) -> String {
    use std::sync::OnceLock;
    static RULES: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
            (r"/tmp/\.tmp[A-Za-z0-9]+", "[tmp]"),
            (r"scimitar-[0-9a-f]{8}\b", "scimitar-[run]"),
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "[uuid]",
            ),
            (
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                "[timestamp]",
            ),
            (r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?( UTC)?", "[date]"),
            (r"\b\d+\.\d+ ?(ms|s)\b", "[duration]"),
            (r"\b\d+ ?ms\b", "[duration]"),
        ]
        .into_iter()
        .map(|(re, to)| (regex::Regex::new(re).expect("redaction regex"), to))
        .collect()
    });
    let mut out = text
        .replace(env!("CARGO_MANIFEST_DIR"), "[repo]")
        .replace(env!("CARGO_PKG_VERSION"), "[version]");
    for (re, to) in rules {
        out = re.replace_all(&out, *to).into_owned();
    }
    out
}
