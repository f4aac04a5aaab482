//! The `attain` command line: parse (clap, `attain::cli`) and dispatch to `attain::commands`.

use std::process::ExitCode;

use clap::Parser;

use attain::cli::{BenchWhat, Cli, Command, TargetsWhat};
use attain::commands::{self, Ctx};
use attain::error::exit_code_for;

// Booklet PDFs (Typst, krilla) allocate and free at a great rate; mimalloc does that with
// less CPU than the system allocator, on several threads at once.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx::start(cli.catalogue.clone(), cli.verbose, cli.quiet);
    let result = match &cli.command {
        Command::Ingest(a) => commands::ingest::cli(a, &ctx),
        Command::Inspect(a) => commands::ingest::cli_inspect(a, &ctx),
        Command::Measures(a) => commands::measures::cli(a, &ctx),
        Command::Demo(a) => commands::demo::cli(a, &ctx),
        Command::Run(a) => commands::run::cli(a, &ctx),
        Command::Rank(a) => commands::analysis::rank(a, &ctx),
        Command::Gaps(a) => commands::analysis::gaps(a, &ctx),
        Command::Reconcile(a) => commands::analysis::reconcile(a, &ctx),
        Command::Trend(a) => commands::analysis::trend(a, &ctx),
        Command::Audit(a) => commands::audit::cli(a, &ctx),
        Command::Booklet(a) => commands::booklet::cli(a, &ctx),
        Command::Ofsted(a) => commands::ofsted::cli(a, &ctx),
        Command::Categorise(a) => commands::categorise::cli(a, &ctx),
        Command::Charts(a) => commands::charts::cli(a, &ctx),
        Command::Partnerships(a) => commands::partnerships::cli(a, &ctx),
        Command::Workbook(a) => commands::workbook::cli(a, &ctx),
        Command::Targets { what } => match what {
            TargetsWhat::Forms(a) => commands::targets::cli_forms(a, &ctx),
            TargetsWhat::Import(a) => commands::targets::cli_import(a, &ctx),
            TargetsWhat::Compare(a) => commands::targets::cli_compare(a, &ctx),
        },
        Command::Bench { what } => match what {
            BenchWhat::Rank { store } => commands::bench::cli_rank(&store.store, &ctx),
            BenchWhat::Booklet { store, year, la } => {
                commands::bench::cli_booklets(&store.store, year.year, la.clone(), &ctx)
            }
            BenchWhat::Charts { store, la } => {
                commands::bench::cli_charts(&store.store, la.clone(), &ctx)
            }
            BenchWhat::Ingest { demo, repeat } => commands::bench::cli_ingest(demo, *repeat, &ctx),
            BenchWhat::Pupils { pupils } => commands::bench::cli_pupils(*pupils),
        },
        Command::Completions(a) => commands::shell::completions(a),
        Command::Man(a) => commands::shell::man_pages(a),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_for(&e) as u8)
        }
    }
}
