//! `scimitar snapshots pending|accept|reject`.

use std::process::ExitCode;

use scimitar::snapshot::SnapshotError;
use scimitar::snapshot::review::{accept, describe, pending, reject};

use super::snapshot_args::{Action, SnapshotsArgs, color_enabled};

/// Runs one `scimitar snapshots …` command.
pub fn command(args: &SnapshotsArgs) -> Result<ExitCode, SnapshotError> {
    let (action, r) = match &args.action {
        Action::Pending(r) => ("pending", r),
        Action::Accept(r) => ("accept", r),
        Action::Reject(r) => ("reject", r),
    };
    let list = pending(&r.dir, r.filter.as_deref())?;
    if list.is_empty() {
        println!("no pending snapshots in {}", r.dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let color = color_enabled(r.color);
    for p in &list {
        let kind = if p.is_change() { "changed" } else { "new" };
        match action {
            "pending" => {
                println!("{kind}: {}", p.new.display());
                let d = describe(p)?;
                let d = if color {
                    scimitar::snapshot::colorize(&d)
                } else {
                    d
                };
                for line in d.lines() {
                    println!("    {line}");
                }
            }
            "accept" => {
                accept(p)?;
                println!("accepted ({kind}): {}", p.snap.display());
            }
            _ => {
                reject(p)?;
                println!("rejected ({kind}): {}", p.new.display());
            }
        }
    }
    let n = list.len();
    match action {
        "pending" => println!(
            "\n{n} pending; `scimitar snapshots accept --snapshots {0}` or `… reject --snapshots {0}`",
            r.dir.display()
        ),
        "accept" => println!("\n{n} accepted"),
        _ => println!("\n{n} rejected"),
    }
    Ok(ExitCode::SUCCESS)
}
