//! `attain audit`: rendered and exported files checked for figures about 1-5 pupils.

use crate::cli::AuditArgs;
use crate::commands::{Code, Ctx};
use crate::error::DisclosureFindings;
use crate::output::Format;

/// Audit `dirs` (those that exist); disclosive figures are an error (exit 4).
pub fn audit(
    dirs: &[std::path::PathBuf],
    threshold: u64,
) -> anyhow::Result<crate::audit::AuditReport> {
    let mut all: Option<crate::audit::AuditReport> = None;
    for dir in dirs.iter().filter(|d| d.exists()) {
        let r = crate::audit::audit(dir, threshold)?;
        match &mut all {
            None => all = Some(r),
            Some(a) => {
                a.files_checked += r.files_checked;
                a.not_checked.extend(r.not_checked);
                a.findings.extend(r.findings);
            }
        }
    }
    Ok(all.unwrap_or_default())
}

/// The findings as an error (exit 4), when there are any.
pub fn refuse_findings(r: &crate::audit::AuditReport) -> anyhow::Result<()> {
    if !r.findings.is_empty() {
        anyhow::bail!(DisclosureFindings(
            r.findings
                .iter()
                .map(|f| format!("{}, {}: {}", f.file, f.location, f.figure))
                .collect()
        ));
    }
    Ok(())
}

pub fn cli(a: &AuditArgs, _ctx: &Ctx) -> anyhow::Result<Code> {
    let r = crate::audit::audit(&a.dir, a.threshold)?;
    match a.format.format {
        Format::Json => {
            crate::output::stdout(&format!("{}\n", crate::number::to_json_pretty(&r)?))?
        }
        _ => crate::output::stdout(&format!("{}\n", crate::audit::describe(&r, &a.dir)))?,
    }
    refuse_findings(&r)?;
    Ok(if r.not_checked.is_empty() {
        Code::Ok
    } else {
        Code::DataWarnings
    })
}
