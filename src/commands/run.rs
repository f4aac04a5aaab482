//! `attain run`: a staged pipeline (`crate::pipeline`), with its stages shown as they run.

use crate::cli::RunArgs;
use crate::commands::{Code, Ctx};
use crate::output::{status, warn};

pub fn cli(a: &RunArgs, _ctx: &Ctx) -> anyhow::Result<Code> {
    let m = crate::pipeline::run(&a.pipeline, a.force, |line| status(line))?;
    let ran = m.stages.iter().filter(|s| s.outcome == "ran").count();
    if ran == 0 {
        status("nothing to do: every stage's inputs are unchanged");
    }
    let manifest = if m.written {
        format!("manifest in {}", m.path.display())
    } else {
        format!(
            "nothing written; manifest of the last run in {}",
            m.path.display()
        )
    };
    status(format!(
        "pipeline {}: {} stage(s) ran, {} skipped; {manifest}",
        m.pipeline,
        ran,
        m.stages.len() - ran
    ));
    for w in &m.warnings {
        warn(w);
    }
    Ok(if m.warnings.is_empty() {
        Code::Ok
    } else {
        Code::DataWarnings
    })
}
