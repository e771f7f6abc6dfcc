//! OAuth 2.0 client credentials, both sides: the client (`--oauth-token-url`
//! and friends) against the reference server's token endpoint (`serve
//! --oauth-client`), against wiremock for refresh behaviour, and against an
//! independent OAuth 2.0 server from the npm registry (oauth2-mock-server,
//! installed by .ci/run; found through SCIMITAR_OAUTH_SERVER).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use scimitar::http::oauth::{ClientCredentials, ClientCredentialsConfig};
use scimitar::http::{Auth, Client, CredentialProvider, HttpConfig, Request};
use scimitar::server::{ServerConfig, spawn};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

const SECRET: &str = "client-secret-that-must-never-leak-42";

fn config(token_url: &str) -> ClientCredentialsConfig {
    ClientCredentialsConfig {
        token_url: token_url.parse().unwrap(),
        client_id: "scimitar-app".into(),
        client_secret: SECRET.into(),
        scope: Some("scim".into()),
        timeout: Duration::from_secs(10),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_run_gets_its_token_from_the_reference_servers_token_endpoint() {
    let rt = rt();
    let server = rt
        .block_on(spawn(
            ([127, 0, 0, 1], 0).into(),
            ServerConfig {
                oauth_clients: vec![("scimitar-app".into(), SECRET.into())],
                ..Default::default()
            },
        ))
        .unwrap();
    let root = server.base_url.trim_end_matches("/scim/v2").to_string();
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("r.json");
    let run = |secret: &str| {
        Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "run",
                "--color",
                "never",
                "--suite",
                "suites/rfc/create.yaml",
            ])
            .args(["--url", &server.base_url])
            .args(["--oauth-token-url", &format!("{root}/oauth/token")])
            .args([
                "--client-id",
                "scimitar-app",
                "--client-secret-env",
                "APP_SECRET",
            ])
            .arg("--json")
            .arg(&json_path)
            .arg("--snapshots")
            .arg(dir.path().join("snaps"))
            .env("APP_SECRET", secret)
            .env("CI", "true")
            .env_remove("SCIM_TOKEN")
            .output()
            .unwrap()
    };
    let out = run(SECRET);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    let report = std::fs::read_to_string(&json_path).unwrap();
    assert!(report.contains("\"outcome\": \"passed\""), "{report}");
    // Neither the secret nor an issued token is ever shown or stored.
    for text in [&all, &report] {
        assert!(!text.contains(SECRET));
        assert!(!text.contains("scimitar-oauth-"), "a token leaked");
    }

    // A wrong secret: one clear line, exit 2, before any suite runs.
    let out = run("not-the-secret");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot get credentials: the token endpoint")
            && err.contains("refused client id \"scimitar-app\""),
        "{err}"
    );
    assert!(!err.contains("not-the-secret"), "{err}");
    rt.block_on(server.shutdown());
}

#[test]
fn the_secret_is_never_taken_from_the_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .args(["run", "--url", "http://127.0.0.1:9/scim/v2"])
        .args([
            "--oauth-token-url",
            "http://127.0.0.1:9/token",
            "--client-id",
            "a",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--client-secret-env VAR or --client-secret-file FILE"),
        "{err}"
    );
}

/// Hands out `t1`, `t2`, … with the given lifetime.
struct Tokens {
    n: AtomicUsize,
    expires_in: u64,
}

impl Respond for Tokens {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": format!("t{n}"), "token_type": "Bearer", "expires_in": self.expires_in}),
        )
    }
}

async fn token_server(expires_in: u64) -> MockServer {
    let m = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(Tokens {
            n: AtomicUsize::new(0),
            expires_in,
        })
        .mount(&m)
        .await;
    m
}

fn client_for(scim: &MockServer, provider: Arc<ClientCredentials>) -> Client {
    let mut cfg = HttpConfig::new(format!("{}/scim/v2", scim.uri()).parse().unwrap());
    cfg.auth = Auth::Provider(provider);
    Client::new(cfg).unwrap()
}

#[test]
fn a_401_fetches_a_new_token_once_and_retries() {
    let rt = rt();
    rt.block_on(async {
        let tokens = token_server(3600).await;
        let scim = MockServer::start().await;
        Mock::given(header("authorization", "Bearer t1"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&scim)
            .await;
        Mock::given(header("authorization", "Bearer t2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&scim)
            .await;
        let provider =
            Arc::new(ClientCredentials::new(config(&format!("{}/token", tokens.uri()))).unwrap());
        let client = client_for(&scim, provider.clone());
        let ex = client
            .send(&Request::new(reqwest::Method::GET, "/Users"))
            .await
            .unwrap();
        assert_eq!(ex.response.status, 200);
        assert_eq!(provider.tokens_fetched(), 2);
        assert!(
            ex.retries.iter().any(|r| r.contains("fetched a new one")),
            "{:?}",
            ex.retries
        );
        // The next request reuses t2: the token is shared, not per request.
        client
            .send(&Request::new(reqwest::Method::GET, "/Users"))
            .await
            .unwrap();
        assert_eq!(provider.tokens_fetched(), 2);
        // The recorded exchange never shows a token.
        let shown = serde_json::to_string(&ex).unwrap();
        assert!(!shown.contains("Bearer t"), "{shown}");
    });
}

#[test]
fn an_expiring_token_is_renewed_before_it_expires_and_a_lasting_one_is_reused() {
    let rt = rt();
    rt.block_on(async {
        for (expires_in, fetches) in [(0, 2), (3600, 1)] {
            let tokens = token_server(expires_in).await;
            let provider =
                ClientCredentials::new(config(&format!("{}/token", tokens.uri()))).unwrap();
            let a = provider.credential().await.unwrap();
            let b = provider.credential().await.unwrap();
            assert_eq!(
                provider.tokens_fetched(),
                fetches,
                "expires_in {expires_in}"
            );
            assert_eq!(a.authorization == b.authorization, fetches == 1);
            assert!(a.secrets.iter().any(|s| s == SECRET));
        }
    });
}

/// oauth2-mock-server from the npm registry, on a free port.
struct MockOAuth {
    child: Child,
    url: String,
}

impl Drop for MockOAuth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn independent_oauth_server() -> Option<MockOAuth> {
    let Some(bin) = std::env::var_os("SCIMITAR_OAUTH_SERVER").filter(|b| !b.is_empty()) else {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but SCIMITAR_OAUTH_SERVER is not set: .ci/run installs oauth2-mock-server"
        );
        eprintln!("skipped: set SCIMITAR_OAUTH_SERVER to oauth2-mock-server (see .ci/run)");
        return None;
    };
    let child = Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("oauth2-mock-server starts");
    // Owned by the guard at once, so it is killed and reaped on every path.
    let mut server = MockOAuth {
        child,
        url: String::new(),
    };
    use std::io::BufRead;
    let stdout = server.child.stdout.take().unwrap();
    for line in std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
    {
        if let Some(at) = line.find("http://127.0.0.1:") {
            server.url = line[at..].trim().to_string();
            return Some(server);
        }
    }
    panic!("oauth2-mock-server did not say where it listens");
}

#[test]
fn tokens_from_an_independent_oauth_server_reach_the_scim_endpoint() {
    let Some(oauth) = independent_oauth_server() else {
        return;
    };
    let rt = rt();
    rt.block_on(async {
        let scim = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&scim)
            .await;
        let provider =
            Arc::new(ClientCredentials::new(config(&format!("{}/token", oauth.url))).unwrap());
        let client = client_for(&scim, provider.clone());
        let ex = client
            .send(&Request::new(reqwest::Method::GET, "/Users"))
            .await
            .unwrap();
        assert_eq!(ex.response.status, 200);
        let got = scim.received_requests().await.unwrap();
        let auth = got[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap();
        // A JWT the other server signed, with the scope we asked for.
        let jwt = auth.strip_prefix("Bearer ").expect("a bearer token");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3, "{jwt}");
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["scope"], "scim", "{claims}");
        assert!(
            claims["iss"]
                .as_str()
                .unwrap_or("")
                .starts_with("http://localhost:")
        );
        assert_eq!(provider.tokens_fetched(), 1);
    });
}
