//! scimitar: a SCIM 2.0 conformance test harness, as a library.
//!
//! Data flows one way: suite files → loaded model ([`suite`]) → runner
//! ([`runner`], over [`http`]) → [`results`], emitted as [`events`] while the
//! run goes → reports ([`report`]) and snapshots ([`snapshot`]). The
//! reference server ([`server`]) shares SCIM knowledge ([`scim`]) with the
//! checks but knows nothing of the harness. The command line lives in the
//! binary (`src/main.rs`, `src/cmd/`); nothing here imports it.
//!
//! Running suites from code, against the built-in reference server:
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use scimitar::http::{Auth, Client, HttpConfig};
//! use scimitar::results::Outcome;
//! use scimitar::{runner::Run, server, suite};
//!
//! let server = server::spawn(([127, 0, 0, 1], 0).into(), server::ServerConfig::default()).await?;
//! let suites = suite::load_paths(&["suites/rfc/create.yaml".into()])
//!     .map_err(|errors| format!("{} broken suite(s)", errors.len()))?;
//! let client = Client::new(HttpConfig::new(server.base_url.parse()?))?;
//! let result = Run::new(suites).execute(Arc::new(client)).await?;
//! assert_eq!(result.count(Outcome::Failed), 0);
//! assert!(result.count(Outcome::Passed) > 0);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod certify;
#[allow(missing_docs)]
pub mod check;
#[allow(missing_docs)]
pub mod cleanup;
pub mod config;
#[allow(missing_docs)]
pub mod embedded;
pub mod events;
#[allow(missing_docs)]
pub mod http;
pub mod load;
pub mod profile;
pub mod record;
#[allow(missing_docs)]
pub mod report;
pub mod results;
#[allow(missing_docs)]
pub mod runner;
#[allow(missing_docs)]
pub mod schema_suite;
#[allow(missing_docs)]
pub mod scim;
#[allow(missing_docs)]
pub mod server;
#[allow(missing_docs)]
pub mod snapshot;
#[allow(missing_docs)]
pub mod suite;
