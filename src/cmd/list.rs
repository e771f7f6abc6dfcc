//! `scimitar list`

use std::process::ExitCode;

use super::cli::ListArgs;
use super::{CmdError, EXIT_OK, load_suites, schema_suite};

/// `scimitar list`
pub fn command(args: &ListArgs, rt: &tokio::runtime::Runtime) -> Result<ExitCode, CmdError> {
    let mut suites = load_suites(&args.suite)?;
    if schema_suite::wanted(&args.suite) {
        suites.extend(schema_suite::for_list(&args.conn, args.embedded, rt)?);
    }
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
