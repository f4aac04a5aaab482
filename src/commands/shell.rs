//! `attain completions SHELL` (clap_complete) and `attain man DIR` (clap_mangen): both
//! generated from the clap definitions in `crate::cli`, so they always match the flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::commands::Code;
use crate::error::RenderError;

pub fn completions(a: &CompletionsArgs) -> anyhow::Result<Code> {
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "attain", &mut out);
    use std::io::Write;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| RenderError::new("stdout", e.to_string()))?;
    Ok(Code::Ok)
}

/// attain.1, and attain-SUB.1 (attain-targets-forms.1...) for every subcommand.
pub fn man_pages(a: &ManArgs) -> anyhow::Result<Code> {
    std::fs::create_dir_all(&a.dir).map_err(|e| RenderError::write(&a.dir, e))?;
    let written = write_pages(&Cli::command(), "", a)?;
    crate::output::status(format!("{written} man page(s) in {}", a.dir.display()));
    Ok(Code::Ok)
}

fn write_pages(cmd: &clap::Command, prefix: &str, a: &ManArgs) -> anyhow::Result<usize> {
    let name = if prefix.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{prefix}-{}", cmd.get_name())
    };
    let cmd = cmd.clone().name(name.clone().leak() as &str);
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    let path = a.dir.join(format!("{name}.1"));
    crate::atomic::write_atomic(&path, &page)?;
    let mut n = 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        n += write_pages(sub, &name, a)?;
    }
    Ok(n)
}
