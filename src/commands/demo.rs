//! `attain demo`: the synthetic demo dataset.

use crate::cli::DemoArgs;
use crate::commands::{Code, Ctx};

/// Write the demo files; the summary line for the CLI and the pipeline stage.
pub fn generate(a: &DemoArgs) -> anyhow::Result<crate::demo::DemoSummary> {
    // Everything the generator can fail at is writing its output: exit 4, naming the directory.
    crate::demo::generate(&crate::demo::DemoOptions {
        out_dir: a.out.clone(),
        seed: a.seed,
        schools: a.schools,
        las: a.las,
    })
    .map_err(|e| crate::error::RenderError::write(&a.out, format!("{e:#}")).into())
}

pub fn cli(a: &DemoArgs, _ctx: &Ctx) -> anyhow::Result<Code> {
    let s = generate(a)?;
    crate::output::status(format!(
        "demo data: {} files, {} schools, {} LAs in {}; demo LA {} {}",
        s.files.len(),
        s.schools,
        s.las,
        a.out.display(),
        s.demo_la_code,
        s.demo_la_name
    ));
    Ok(Code::Ok)
}
