//! The generated `schema` profile: suites written from what a server
//! declares in `/Schemas` and `/ResourceTypes`.

use std::sync::Arc;

use scimitar::http::{Auth, Client, HttpConfig};
use scimitar::results::{Outcome, RunResult};
use scimitar::runner::Run;
use scimitar::schema_suite::{self, Options};
use scimitar::server::{self, ServerConfig};

const TOKEN: &str = "schema-suite-token";

fn client(base: &str) -> Arc<Client> {
    let mut cfg = HttpConfig::new(base.parse().unwrap());
    cfg.auth = Auth::Bearer(TOKEN.into());
    Arc::new(Client::new(cfg).unwrap())
}

async fn reference() -> server::RunningServer {
    server::spawn(
        ([127, 0, 0, 1], 0).into(),
        ServerConfig {
            token: Some(TOKEN.into()),
        },
    )
    .await
    .unwrap()
}

async fn run_generated(base: &str) -> RunResult {
    let client = client(base);
    let caps = scimitar::runner::discover(&client).await.unwrap();
    let suites = schema_suite::for_run(&client, &caps).await.unwrap();
    Run::new(suites).execute_with(client, Arc::new(caps)).await
}

/// `suite::step: message` for every step that did not pass.
fn failures(r: &RunResult) -> Vec<String> {
    let mut out = Vec::new();
    for s in &r.suites {
        for st in &s.steps {
            if st.outcome != Outcome::Passed {
                let f: Vec<String> = st
                    .findings
                    .iter()
                    .map(|f| format!("{}: {}", f.subject, f.message))
                    .collect();
                out.push(format!(
                    "{}::{} {:?} {} {:?} {:?}",
                    s.name,
                    st.name,
                    st.outcome,
                    f.join(" | "),
                    st.error,
                    st.skip_reason
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_reference_server_passes_the_generated_profile() {
    let srv = reference().await;
    let r = run_generated(&srv.base_url).await;
    let f = failures(&r);
    assert!(f.is_empty(), "{}", f.join("\n"));
    let _ = Options::default();
    srv.shutdown().await;
}

#[tokio::test]
async fn dump_plan() {
    let srv = reference().await;
    let c = client(&srv.base_url);
    let p = schema_suite::fetch_and_plan(&c, &Options::default())
        .await
        .unwrap();
    for s in &p {
        std::fs::write(format!("/tmp/{}.yaml", s.name), &s.yaml).unwrap();
        for cov in &s.coverage {
            eprintln!("{} {:?} {:?}", cov.declaration, cov.checks, cov.skipped);
        }
    }
    let r = run_generated(&srv.base_url).await;
    for s in &r.suites {
        eprintln!(
            "{} steps {} requests {}",
            s.name,
            s.steps.len(),
            r.requests_sent
        );
    }
    srv.shutdown().await;
}
