//! `scimitar list`

use std::process::ExitCode;

use super::cli::SuiteArgs;
use super::{CmdError, EXIT_OK, load_suites};

/// `scimitar list`
pub fn command(args: &SuiteArgs) -> Result<ExitCode, CmdError> {
    let loaded = load_suites(args)?;
    for n in &loaded.notes {
        eprintln!("{n}");
    }
    let suites = loaded.suites;
    let mut steps = 0;
    for s in &suites {
        let req = if s.requires.is_empty() {
            String::new()
        } else {
            format!(
                "  requires: {}",
                s.requires
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!("{} [{}]{req}  ({})", s.name, s.idp, s.file.display());
        if let Some(d) = &s.description {
            println!("    {}", d.trim());
        }
        for st in &s.steps {
            let adv = if st.advisory { "  (advisory)" } else { "" };
            println!(
                "  {} {} {}{adv}",
                st.name, st.request.method, st.request.path
            );
            steps += 1;
        }
    }
    println!("\n{} suites, {steps} steps", suites.len());
    Ok(ExitCode::from(EXIT_OK))
}
