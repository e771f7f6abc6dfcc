//! scimitar: a SCIM 2.0 conformance test harness.
//!
//! Data flows one way: suite files → loaded model ([`suite`]) → runner
//! ([`runner`], over [`http`]) → results → reports ([`report`]). The reference
//! server ([`server`]) shares SCIM knowledge ([`scim`]) with the checks but
//! never depends on the runner.

// Lets src/cmd/load.rs name the library `scimitar::` wherever it is compiled.
extern crate self as scimitar;

pub mod app;
pub mod check;
pub mod cleanup;
pub mod cli;
pub mod embedded;
pub mod http;
pub mod load;
pub mod report;
pub mod runner;
pub mod scim;
pub mod server;
pub mod snapshot;
pub mod suite;
