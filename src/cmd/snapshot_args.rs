//! The snapshot flags of `scimitar run` and the `scimitar snapshots`
//! command (clap), kept here so `cli.rs` only has to mention them.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::cli::ColorChoice;

/// Flags of `scimitar run` about snapshots.
#[derive(Debug, Clone, Default, Args)]
pub struct RunSnapshotArgs {
    /// Snapshot folder (compared, and written when asked). Default:
    /// snapshots/<target>, where <target> is --target-name, `reference` for
    /// --embedded, or the endpoint's host, port and path
    /// (127.0.0.1-8080-scim-v2); without this flag, --target-name,
    /// --update-snapshots or --require-snapshots it is used only if it exists.
    #[arg(long = "snapshots", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Name of the target, for the snapshot folder (snapshots/<NAME>).
    #[arg(long, value_name = "NAME")]
    pub target_name: Option<String>,
    /// Write every snapshot, new or changed, as the stored one; nothing fails on a diff.
    #[arg(long)]
    pub update_snapshots: bool,
    /// A step without a stored snapshot fails (instead of being recorded).
    #[arg(long)]
    pub require_snapshots: bool,
}

/// `scimitar snapshots …`
#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List the pending snapshots (.snap.new) with their diffs.
    Pending(ReviewArgs),
    /// Accept pending snapshots: each .snap.new replaces its .snap.
    Accept(ReviewArgs),
    /// Reject pending snapshots: delete the .snap.new files.
    Reject(ReviewArgs),
    /// List snapshots that no step of the suites declares (renamed or removed steps).
    Orphans(OrphansArgs),
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Only snapshots whose path contains one of these (e.g.
    /// `reference-shapes/get-user`); a FILTER ending in .snap.new names
    /// exactly that file, as `snapshots pending` lists it.
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Snapshot folder, searched recursively.
    #[arg(long = "snapshots", value_name = "DIR", default_value = "snapshots")]
    pub dir: PathBuf,
    /// Coloured diffs.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct OrphansArgs {
    /// Snapshot folder, searched recursively (one target's or all of them).
    #[arg(long = "snapshots", value_name = "DIR", default_value = "snapshots")]
    pub dir: PathBuf,
    /// Suite file or folder whose steps own snapshots (repeatable); then only
    /// the folders of these suites are judged. Default: ./suites, else the
    /// suites built into scimitar, and every folder is judged.
    #[arg(long = "suite", value_name = "PATH")]
    pub suites: Vec<PathBuf>,
    /// Delete the orphans (and suite folders left empty).
    #[arg(long)]
    pub remove: bool,
}

/// Whether to colour stdout: `auto` means a terminal and no `NO_COLOR`.
pub fn color_enabled(c: ColorChoice) -> bool {
    match c {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}
