//! The `attain` command line: a thin clap layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use attain::catalogue::Catalogue;
use attain::error::{exit_code_for, ExitCode as Code};
use attain::output::Format;

#[derive(Parser)]
#[command(name = "attain", version, about = "School-performance analysis for English local authorities")]
struct Cli {
    /// Read the measure catalogue from this directory instead of the built-in one.
    #[arg(long, global = true)]
    catalogue: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read DfE / Ofsted files (or directories of them) into the canonical store.
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        /// The year (summer of the results: 2019 = 2018/19) when a file's content and path do not say.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Say what a file is recognised as, its year, records, columns and status tokens.
    Inspect {
        file: PathBuf,
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the canonical measures (id, unit, polarity, key stage, description).
    Measures {
        #[arg(long)]
        key_stage: Option<String>,
        /// List the canonical pupil groups instead.
        #[arg(long)]
        groups: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write the synthetic demo dataset (a fictional LA and a national background).
    Demo {
        #[arg(long, default_value = "data/demo")]
        out: PathBuf,
        #[arg(long, default_value_t = 20_000)]
        schools: usize,
        #[arg(long, default_value_t = 150)]
        las: usize,
        #[arg(long, default_value_t = 20190701)]
        seed: u64,
    },
    /// Run a staged pipeline (e.g. pipelines/annual-booklet.toml).
    Run {
        pipeline: PathBuf,
        /// Run every stage even if its inputs have not changed.
        #[arg(long)]
        force: bool,
    },
    /// Time the main operations and print the figures.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Ingest the demo national dataset (one directory per year) into a scratch store.
    Ingest {
        #[arg(long, default_value = "data/demo")]
        demo: PathBuf,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_env("ATTAIN_LOG")).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_for(&e) as u8)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Code> {
    let catalogue = || -> anyhow::Result<Arc<Catalogue>> { Ok(Arc::new(Catalogue::load(cli.catalogue.as_deref())?)) };
    match &cli.command {
        Command::Ingest { paths, store, year, format } => {
            let summary = attain::commands::ingest::ingest(paths, store, catalogue()?, *year)?;
            attain::commands::ingest::summary_report(&summary.run).print(*format);
            let results = summary.run.store_rows.get("results").copied().unwrap_or(0);
            eprintln!("store {}: {} results, {} schools", store.display(), results, summary.run.store_rows.get("schools").copied().unwrap_or(0));
            if summary.unrecognised > 0 {
                eprintln!("warning: {} file(s) were not recognised and were not read", summary.unrecognised);
                return Ok(Code::DataWarnings);
            }
            Ok(Code::Ok)
        }
        Command::Inspect { file, year, format } => {
            print!("{}", attain::commands::ingest::inspect(file, catalogue()?, *year, *format)?);
            Ok(Code::Ok)
        }
        Command::Measures { key_stage, groups, format } => {
            let cat = catalogue()?;
            let report = if *groups { attain::commands::measures::groups_report(&cat) } else { attain::commands::measures::measures_report(&cat, key_stage.as_deref()) };
            report.print(*format);
            Ok(Code::Ok)
        }
        Command::Demo { out, schools, las, seed } => {
            let s = attain::demo::generate(&attain::demo::DemoOptions { out_dir: out.clone(), seed: *seed, schools: *schools, las: *las })?;
            eprintln!("demo data: {} files, {} schools, {} LAs in {}; demo LA {} {}", s.files.len(), s.schools, s.las, out.display(), s.demo_la_code, s.demo_la_name);
            Ok(Code::Ok)
        }
        Command::Run { pipeline, force } => {
            let m = attain::pipeline::run(pipeline, *force, |line| eprintln!("{line}"))?;
            let ran = m.stages.iter().filter(|s| s.outcome == "ran").count();
            if ran == 0 {
                eprintln!("nothing to do: every stage's inputs are unchanged");
            }
            eprintln!("pipeline {}: {} stage(s) ran, {} skipped; manifest in output/{}/manifest.json", m.pipeline, ran, m.stages.len() - ran, m.pipeline);
            for w in &m.warnings {
                eprintln!("warning: {w}");
            }
            Ok(if m.warnings.is_empty() { Code::Ok } else { Code::DataWarnings })
        }
        Command::Bench { what: BenchWhat::Ingest { demo, repeat } } => {
            print!("{}", attain::commands::bench::ingest(demo, *repeat, catalogue()?)?);
            Ok(Code::Ok)
        }
    }
}
