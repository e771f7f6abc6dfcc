//! `scimitar snapshots pending|accept|reject|orphans`.

use std::process::ExitCode;

use scimitar::snapshot::review::{self, accept, describe, pending, reject};

use super::cli::SuiteArgs;
use super::snapshot_args::{Action, OrphansArgs, SnapshotsArgs, color_enabled};
use super::{CmdError, load_suites};

/// Runs one `scimitar snapshots …` command.
pub fn command(args: &SnapshotsArgs) -> Result<ExitCode, CmdError> {
    let (action, r) = match &args.action {
        Action::Pending(r) => ("pending", r),
        Action::Accept(r) => ("accept", r),
        Action::Reject(r) => ("reject", r),
        Action::Orphans(o) => return orphans(o),
    };
    let list = pending(&r.dir, &r.filters)?;
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
        "pending" => {
            // Name each listed file, so accepting never takes a snapshot
            // that was not shown (one written since, or outside the filter).
            let files: Vec<String> = list
                .iter()
                .map(|p| shell_word(&review::rel(&r.dir, &p.new)))
                .collect();
            let dir = shell_word(&r.dir.to_string_lossy());
            println!(
                "\n{n} pending; accept exactly these with\n  scimitar snapshots accept --snapshots {dir} {}\nor reject them with `reject` in place of `accept`",
                files.join(" ")
            );
        }
        "accept" => println!("\n{n} accepted"),
        _ => println!("\n{n} rejected"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `scimitar snapshots orphans [--remove]`: snapshots no step declares.
fn orphans(args: &OrphansArgs) -> Result<ExitCode, CmdError> {
    let suites = load_suites(&SuiteArgs {
        suites: args.suites.clone(),
        idps: Vec::new(),
    })?;
    // Given suites say nothing of other suites' folders; the default set
    // (./suites or the built-in ones) is every suite there is.
    let scope = if args.suites.is_empty() {
        review::OrphanScope::All
    } else {
        review::OrphanScope::TheseSuites
    };
    let list = review::orphans(&args.dir, &suites, scope)?;
    if list.is_empty() {
        println!(
            "no orphaned snapshots in {} ({} suites loaded)",
            args.dir.display(),
            suites.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &list {
        if args.remove {
            review::remove_orphan(p)?;
            println!("removed: {}", p.display());
        } else {
            println!("orphan: {}", p.display());
        }
    }
    let n = list.len();
    if args.remove {
        println!("\n{n} removed");
        return Ok(ExitCode::SUCCESS);
    }
    let mut cmd = format!(
        "scimitar snapshots orphans --snapshots {}",
        shell_word(&args.dir.to_string_lossy())
    );
    for s in &args.suites {
        cmd.push_str(&format!(" --suite {}", shell_word(&s.to_string_lossy())));
    }
    println!("\n{n} snapshots belong to no step of the suites; `{cmd} --remove` deletes them");
    Ok(ExitCode::SUCCESS)
}

/// A word a POSIX shell reads back unchanged.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
