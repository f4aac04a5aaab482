//! The `attain` command line: a thin clap layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use attain::catalogue::Catalogue;
use attain::error::{exit_code_for, ExitCode as Code};
use attain::output::Format;
use attain::store::schema::Level;
use attain::store::Store;

// Booklet PDFs (Typst, krilla) allocate and free at a great rate; mimalloc does that with
// less CPU than the system allocator, on several threads at once.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Rank every LA for a measure: rank, quartile, top-10% position, statistical neighbours.
    Rank {
        #[arg(long)]
        measure: String,
        /// Summer-end year (2019 = 2018/19); default the latest in the store.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "all")]
        group: String,
        /// Only this LA's row (all LAs are still ranked).
        #[arg(long)]
        la: Option<String>,
        /// Statistical-neighbour model: 2021 or 2025.
        #[arg(long)]
        neighbours: Option<i32>,
        /// Top 10% by percentile value instead of rank <= floor(10% of LAs), e.g. 90.
        #[arg(long)]
        top10_percentile: Option<f64>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Gaps between a pupil group and its comparison (gap = group - comparison).
    Gaps {
        #[arg(long)]
        measure: String,
        #[arg(long)]
        group: String,
        #[arg(long, value_enum, default_value_t = Lvl::La)]
        level: Lvl,
        #[arg(long)]
        la: Option<String>,
        #[arg(long)]
        year: Option<i32>,
        /// within: the rest of the school/LA; national: national pupils of the other group (DIFFN); all: all pupils.
        #[arg(long, value_enum, default_value_t = attain::analysis::gaps::Against::Within)]
        against: attain::analysis::gaps::Against,
        /// Answer from pupil-level files or directories (docs/pupil-data.md) instead of published figures.
        /// Groups may be combined: --group disadvantaged+boys.
        #[arg(long, num_args = 1..)]
        pupils: Vec<PathBuf>,
        /// National KS2 means by KS1 prior-attainment group (for progress measures from pupil data).
        #[arg(long)]
        prior_means: Option<PathBuf>,
        /// urn,partnership CSV, for --level partnership with pupil data.
        #[arg(long)]
        partnerships: Option<PathBuf>,
        /// Only these schools (URNs), LAs or partnerships.
        #[arg(long = "only", num_args = 1..)]
        only: Vec<String>,
        /// Years in the trend window, ending at --year (pupil data).
        #[arg(long, default_value_t = 3)]
        years: usize,
        /// Keep only the N widest gaps that were among the N widest in every year of the window.
        #[arg(long)]
        widest: Option<usize>,
        /// Disclosure control: groups of 1 to N pupils are withheld (pupil data).
        #[arg(long, default_value_t = attain::analysis::disclosure::DEFAULT_THRESHOLD)]
        threshold: u64,
        /// Drop invalid pupil rows (reported as warnings, exit status 1) instead of stopping.
        #[arg(long)]
        allow_bad_rows: bool,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Check every rendered or exported file under a directory for figures about groups of
    /// 1 to N pupils that disclosure control should have removed (exit 4 if any is found).
    Audit {
        dir: PathBuf,
        #[arg(long, default_value_t = attain::analysis::disclosure::DEFAULT_THRESHOLD)]
        threshold: u64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// A measure's trend for one school (URN), LA (code) or England, with breaks in the series marked.
    Trend {
        #[arg(long)]
        measure: String,
        /// URN, LA code, or "england".
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "all")]
        group: String,
        /// First and last year, e.g. --from 2017 --to 2019 (default: every year in the store).
        #[arg(long)]
        from: Option<i32>,
        #[arg(long)]
        to: Option<i32>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Rebuild LA figures from school rows and explain differences from DfE's LA rows.
    Reconcile {
        #[arg(long)]
        measure: String,
        #[arg(long, default_value = "all")]
        group: String,
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        la: Option<String>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Achievement and Target Setting Booklets (HTML and PDF) for an LA's schools.
    Booklet {
        #[command(flatten)]
        sel: SchoolSelection,
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2021)]
        neighbours: i32,
        /// Directory with edited templates (booklet.html.j2, booklet.typ.j2, index.html.j2).
        #[arg(long)]
        templates: Option<PathBuf>,
        /// The publishing authority's colour (#rrggbb) for headings and the cover.
        #[arg(long, default_value = "#1f4e79")]
        colour: String,
        /// The publishing authority's name on the cover (default: the LA's name in the store).
        #[arg(long)]
        la_name: Option<String>,
        /// The authority's logo for the cover (.svg or .png).
        #[arg(long)]
        logo: Option<PathBuf>,
        /// Write HTML only (no PDF).
        #[arg(long)]
        html_only: bool,
        /// The LA's pupil-level files or directories: adds the gaps only they can give (looked after, ethnicity, combined groups).
        #[arg(long, num_args = 1..)]
        pupils: Vec<PathBuf>,
        /// National KS2 means by KS1 prior-attainment group (prior-attainment groups and progress from pupil data).
        #[arg(long)]
        prior_means: Option<PathBuf>,
        /// Disclosure control for pupil data: groups of 1 to N pupils are withheld.
        #[arg(long, default_value_t = attain::analysis::disclosure::DEFAULT_THRESHOLD)]
        threshold: u64,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
    },
    /// Ofsted standing of every LA: % of schools good or outstanding and % of pupils in them, ranked.
    Ofsted {
        /// Only this LA's rows (all LAs are still ranked).
        #[arg(long)]
        la: Option<String>,
        /// One phase only (default: primary, secondary and all phases).
        #[arg(long, value_enum)]
        phase: Option<attain::analysis::ofsted::Phase>,
        /// Year of the Ofsted snapshot (2018 = the workbook as at 31 July 2018); default the latest.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Categorise schools with a rules file; --out writes the schools-causing-concern register.
    Categorise {
        #[arg(long)]
        rules: PathBuf,
        #[arg(long)]
        la: Option<String>,
        /// Summer-end year of the results (2019 = 2018/19); default the latest.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write schools-causing-concern.csv and .xlsx into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Committee chart pack for one LA: PNG (print) and SVG per chart, and charts.json.
    Charts {
        #[arg(long)]
        la: String,
        /// TOML with a [charts] section: measures, year, years, neighbours, gaps.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value = "output/charts")]
        out: PathBuf,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        /// Statistical-neighbour model (2021 or 2025); overrides the config.
        #[arg(long)]
        neighbours: Option<i32>,
    },
    /// Partnership (cluster) figures from a CSV map (urn,partnership), built from pupil counts.
    Partnerships {
        /// The map: a header row `urn,partnership`, then one school a line.
        #[arg(long, required_unless_present = "write_map")]
        map: Option<PathBuf>,
        /// Measures (repeatable; default ks2_rwm_expected).
        #[arg(long = "measure")]
        measures: Vec<String>,
        #[arg(long)]
        year: Option<i32>,
        /// Also draw a bar chart per measure (PNG and SVG) into this directory.
        #[arg(long)]
        chart_dir: Option<PathBuf>,
        /// Instead: write a starting map for --la (its schools in blocks by URN) to this file.
        #[arg(long)]
        write_map: Option<PathBuf>,
        #[arg(long)]
        la: Option<String>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One LA's workbook (.xlsx): rankings, gaps, Ofsted standing, categories, partnerships.
    Workbook {
        #[arg(long)]
        la: String,
        #[arg(long)]
        out: PathBuf,
        /// Categorisation rules for the categories sheet.
        #[arg(long, default_value = "pipelines/rules/merton.toml")]
        rules: PathBuf,
        /// Partnership map (urn,partnership) for the partnerships sheet.
        #[arg(long)]
        map: Option<PathBuf>,
        #[arg(long, default_value_t = 2021)]
        neighbours: i32,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
    },
    /// Target forms for schools, their returns read back, and targets against results.
    Targets {
        #[command(subcommand)]
        what: TargetsWhat,
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

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Lvl {
    School,
    /// A partnership or cluster of schools (pupil data with --partnerships).
    Partnership,
    La,
    National,
}

impl From<Lvl> for Level {
    fn from(l: Lvl) -> Level {
        match l {
            Lvl::School => Level::School,
            Lvl::La => Level::La,
            Lvl::National => Level::National,
            Lvl::Partnership => unreachable!("published figures have no partnership level (checked before)"),
        }
    }
}

/// Which schools get a booklet or a target form (`--school`, `--la`, `--all-schools`).
#[derive(clap::Args)]
struct SchoolSelection {
    /// Only these schools (URN); repeatable.
    #[arg(long = "school")]
    schools: Vec<String>,
    /// The LA whose schools are included (default: every LA in the store).
    #[arg(long)]
    la: Option<String>,
    /// Add academies, free schools and other schools the LA does not maintain.
    #[arg(long)]
    all_schools: bool,
}

impl SchoolSelection {
    fn selection(&self) -> attain::render::booklet::Selection {
        attain::render::booklet::Selection { urns: self.schools.clone(), la: self.la.clone(), all_schools: self.all_schools || !self.schools.is_empty() }
    }
}

#[derive(Subcommand)]
enum TargetsWhat {
    /// One xlsx form per school with its suggested targets and an "Agreed target" column.
    Forms {
        #[command(flatten)]
        sel: SchoolSelection,
        /// The results the targets build on (2018 = 2017/18; the targets are for the year after); default the latest.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        out: PathBuf,
        /// Statistical-neighbour model for the neighbours' top quartile: 2021 or 2025.
        #[arg(long, default_value_t = 2021)]
        neighbours: i32,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
    },
    /// Read filled-in forms (files or directories), report problems cell by cell, store the valid ones.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The results year the targets are for (2019 = 2018/19); default the year after the latest results.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Each stored target against the school's result: difference and met / not met / no result.
    Compare {
        #[arg(long)]
        la: Option<String>,
        /// The results year of the targets (default: the latest with targets).
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Rank every LA-level measure, group and year in a store, with and without neighbours.
    Rank {
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
    },
    /// Render a booklet (HTML, then HTML + PDF) for every school in a store; schools/s and peak memory.
    Booklet {
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long)]
        year: Option<i32>,
        /// Only this LA's schools (default: every school in the store).
        #[arg(long)]
        la: Option<String>,
    },
    /// The committee chart pack for one LA and for every LA in a store.
    Charts {
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        /// The one LA timed alone (default: the first ranked).
        #[arg(long)]
        la: Option<String>,
    },
    /// Ingest the demo national dataset (one directory per year) into a scratch store.
    Ingest {
        #[arg(long, default_value = "data/demo")]
        demo: PathBuf,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Read and aggregate a synthetic national KS2 cohort of pupil-level data, by school and group,
    /// with disclosure control.
    Pupils {
        #[arg(long, default_value_t = 700_000)]
        pupils: usize,
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

/// `--year`, or the latest year in the store with figures for the measure.
fn resolve_year(data: &attain::analysis::data::Data, measure: &str, level: Level, year: Option<i32>) -> anyhow::Result<i32> {
    if data.catalogue.measure(measure).is_none() && !measure.starts_with("lait:") {
        anyhow::bail!(attain::error::ConfigError::new("--measure", format!("unknown measure {measure:?} (see `attain measures`)")));
    }
    match year {
        Some(y) => Ok(y),
        None => data.latest_year(measure, level)?.ok_or_else(|| anyhow::anyhow!(attain::error::ConfigError::new("--measure", format!("the store has no {} figures for {measure}", level.as_str())))),
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
            for w in &summary.warnings {
                eprintln!("warning: {w}");
            }
            if summary.unrecognised > 0 {
                eprintln!("warning: {} file(s) were not recognised and were not read", summary.unrecognised);
            }
            Ok(if summary.unrecognised > 0 || !summary.warnings.is_empty() { Code::DataWarnings } else { Code::Ok })
        }
        Command::Inspect { file, year, format } => {
            let inspection = attain::commands::ingest::inspect(file, catalogue()?, *year, *format)?;
            print!("{}", inspection.text);
            for w in &inspection.warnings {
                eprintln!("warning: {w}");
            }
            Ok(if inspection.warnings.is_empty() { Code::Ok } else { Code::DataWarnings })
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
            let manifest = if m.written { format!("manifest in {}", m.path.display()) } else { format!("nothing written; manifest of the last run in {}", m.path.display()) };
            eprintln!("pipeline {}: {} stage(s) ran, {} skipped; {manifest}", m.pipeline, ran, m.stages.len() - ran);
            for w in &m.warnings {
                eprintln!("warning: {w}");
            }
            Ok(if m.warnings.is_empty() { Code::Ok } else { Code::DataWarnings })
        }
        Command::Rank { measure, year, group, la, neighbours, top10_percentile, store, format } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = resolve_year(&data, measure, Level::La, *year)?;
            let rule = match top10_percentile {
                Some(p) => attain::analysis::rank::Top10Rule::Percentile(*p),
                None => attain::analysis::rank::Top10Rule::RankCut,
            };
            let req = attain::analysis::ranking::RankRequest { measure, group, year, neighbours: *neighbours, rule };
            let mut rows = attain::analysis::ranking::rank(&data, &req)?;
            if let Some(la) = la {
                rows.retain(|r| &r.la_code == la);
                anyhow::ensure!(!rows.is_empty(), attain::error::ConfigError::new("--la", format!("LA {la} has no {measure} figure for {year}")));
            }
            print!("{}", attain::commands::analysis::print_rank(&rows, *format));
            Ok(Code::Ok)
        }
        Command::Audit { dir, threshold, format } => {
            let r = attain::audit::audit(dir, *threshold)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&r)?),
                _ => println!("{}", attain::audit::describe(&r, dir)),
            }
            if !r.findings.is_empty() {
                anyhow::bail!(attain::error::DisclosureFindings(r.findings.iter().map(|f| format!("{}, {}: {}", f.file, f.location, f.figure)).collect()));
            }
            Ok(if r.not_checked.is_empty() { Code::Ok } else { Code::DataWarnings })
        }
        Command::Gaps { measure, group, level, la, year, against, pupils, prior_means, partnerships, only, years, widest, threshold, allow_bad_rows, store, format } if !pupils.is_empty() => {
            let level = match level {
                Lvl::School => attain::analysis::pupils::Unit::School,
                Lvl::La => attain::analysis::pupils::Unit::La,
                Lvl::Partnership => attain::analysis::pupils::Unit::Partnership,
                Lvl::National => anyhow::bail!(attain::error::ConfigError::new("--level", "pupil data is the LA's own: use school, partnership or la")),
            };
            let o = attain::commands::pupils::PupilGapOptions { pupils, measure, group, level, year: *year, years: *years, only: only.clone(), la: la.as_deref(), prior_means: prior_means.as_ref(), partnerships: partnerships.as_ref(), threshold: *threshold, widest: *widest, allow_bad_rows: *allow_bad_rows };
            let _ = against;
            let (rows, warnings) = attain::commands::pupils::run(&Store::at(store), &o)?;
            for w in &warnings {
                eprintln!("warning: dropped a bad pupil row: {w}");
            }
            print!("{}", attain::commands::pupils::print(&rows, *format));
            Ok(if warnings.is_empty() { Code::Ok } else { Code::DataWarnings })
        }
        Command::Gaps { measure, group, level, la, year, against, store, format, .. } => {
            anyhow::ensure!(*level != Lvl::Partnership, attain::error::ConfigError::new("--level", "published figures have no partnership level: use `attain partnerships`, or --pupils with --partnerships"));
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let level: Level = (*level).into();
            let year = resolve_year(&data, measure, level, *year)?;
            let req = attain::analysis::gaps::GapRequest { measure, group, level, la: la.as_deref(), year, against: *against, trend_years: 3 };
            let rows = attain::analysis::gaps::gaps(&data, &req)?;
            print!("{}", attain::commands::analysis::print_gaps(&rows, *format));
            Ok(Code::Ok)
        }
        Command::Booklet { sel, year, out, neighbours, templates, colour, la_name, logo, html_only, pupils, prior_means, threshold, store } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = resolve_year(&data, "ks2_rwm_expected", Level::School, *year).or_else(|_| resolve_year(&data, "ks4_attainment8", Level::School, None))?;
            let sel = sel.selection();
            let opts = attain::render::booklet::Options { out: out.clone(), year, neighbours_model: *neighbours, la_colour: colour.clone(), la_name: la_name.clone(), logo: logo.clone(), templates: templates.clone(), html: true, pdf: !html_only, pupils: (!pupils.is_empty()).then(|| attain::render::booklet::PupilInputs { paths: pupils.clone(), prior_means: prior_means.clone(), threshold: *threshold }) };
            let s = attain::render::booklet::run(&data, &sel, &opts)?;
            eprintln!("{} booklet(s) for {} in {} (figures {:.1} s, rendering {:.1} s); index {}", s.written, attain::year::academic_label(year), out.display(), s.seconds_prepare, s.seconds_render, out.join("index.html").display());
            Ok(Code::Ok)
        }
        Command::Trend { measure, code, group, from, to, store, format } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let years = match (from, to) {
                (Some(a), Some(b)) => Some((*a, *b)),
                (None, None) => None,
                _ => anyhow::bail!(attain::error::ConfigError::new("--from/--to", "give both or neither")),
            };
            let t = attain::commands::trend::series(&data, measure, group, code, years)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&t)?),
                f => {
                    print!("{}", attain::commands::analysis::print(&t.trend.points, &["year", "value", "break_note"], *f));
                    if *f == Format::Table {
                        println!("{} {} ({}): {}{}", t.name, t.measure, t.group, t.trend.direction, t.trend.change.map(|c| format!(", change {c:+.1}")).unwrap_or_default());
                    }
                }
            }
            Ok(Code::Ok)
        }
        Command::Reconcile { measure, group, year, la, store, format } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = resolve_year(&data, measure, Level::La, *year)?;
            let rows = attain::analysis::aggregate::reconcile(&data, measure, group, year, la.as_deref())?;
            print!("{}", attain::commands::analysis::print_reconcile(&rows, *format));
            Ok(Code::Ok)
        }
        Command::Ofsted { la, phase, year, store, format } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let req = attain::commands::ofsted::OfstedRequest { la: la.as_deref(), phase: *phase, year: *year };
            let report = attain::commands::ofsted::run(&data, &req)?;
            for line in report.matching.lines() {
                eprintln!("{line}");
            }
            print!("{}", attain::commands::ofsted::print(&report, *format));
            Ok(Code::Ok)
        }
        Command::Categorise { rules, la, year, store, format, out } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let req = attain::commands::categorise::CategoriseRequest { rules, la: la.as_deref(), year: *year };
            let (rules, results) = attain::commands::categorise::run(&data, &req)?;
            print!("{}", attain::commands::categorise::print(&results, *format));
            if let Some(dir) = out {
                for p in attain::commands::categorise::write_register(dir, &rules, &results)? {
                    eprintln!("wrote {}", p.display());
                }
            }
            Ok(Code::Ok)
        }
        Command::Charts { la, config, out, store, neighbours } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let mut cfg = match config {
                Some(p) => attain::commands::charts::ChartsConfig::load(p)?,
                None => attain::commands::charts::ChartsConfig::default(),
            };
            if let Some(m) = neighbours {
                cfg.neighbours = *m;
            }
            cfg.check("--neighbours")?;
            let pack = attain::commands::charts::run(&data, la, &cfg, out)?;
            for s in &pack.skipped {
                eprintln!("skipped: {s}");
            }
            eprintln!("{} chart(s) for {} {} in {} (PNG and SVG; list in charts.json)", pack.charts.len(), pack.la_code, pack.la_name, out.display());
            Ok(Code::Ok)
        }
        Command::Partnerships { map, measures, year, chart_dir, write_map, la, store, format } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let measures = if measures.is_empty() { vec!["ks2_rwm_expected".to_string()] } else { measures.clone() };
            if let Some(path) = write_map {
                let la = la.as_deref().ok_or_else(|| attain::error::ConfigError::new("--write-map", "give --la for the starting map"))?;
                let y = resolve_year(&data, &measures[0], Level::School, *year)?;
                attain::pipeline::write_atomic(path, attain::analysis::partnerships::starter_map(&data, la, &measures[0], y, 5)?.as_bytes())?;
                eprintln!("wrote {}", path.display());
                return Ok(Code::Ok);
            }
            let map = map.as_deref().expect("clap requires --map without --write-map");
            let rows = attain::commands::partnerships::run(&data, &attain::commands::partnerships::PartnershipRequest { map, measures: &measures, year: *year })?;
            print!("{}", attain::commands::partnerships::print(&rows, *format));
            let excluded: usize = rows.iter().filter(|r| r.partnership != "All mapped schools").map(|r| r.schools_excluded).sum();
            if excluded > 0 {
                eprintln!("{excluded} school figure(s) withheld and excluded (listed in --format json)");
            }
            if let Some(dir) = chart_dir {
                let charts = attain::commands::partnerships::charts(&data, &rows, map);
                for p in attain::commands::partnerships::write_charts(&charts, dir)? {
                    eprintln!("wrote {}", p.display());
                }
            }
            Ok(Code::Ok)
        }
        Command::Workbook { la, out, rules, map, neighbours, store } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let req = attain::commands::workbook::WorkbookRequest { la, out, rules, map: map.as_deref(), neighbours: *neighbours };
            let sheets = attain::commands::workbook::run(&data, &req)?;
            eprintln!("wrote {}: {}", out.display(), sheets.iter().map(|(n, r)| format!("{n} {r} rows")).collect::<Vec<_>>().join(", "));
            Ok(Code::Ok)
        }
        Command::Targets { what: TargetsWhat::Forms { sel, year, out, neighbours, store } } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = match year {
                Some(y) => *y,
                None => attain::commands::targets::latest_results_year(&data)?.ok_or_else(|| attain::error::ConfigError::new("--year", "the store has no KS2 or KS4 school results"))?,
            };
            let sel = sel.selection();
            let s = attain::commands::targets::forms(&data, &attain::commands::targets::FormsRequest { sel, year, neighbours: *neighbours, out })?;
            for k in &s.skipped {
                eprintln!("no form: {k}");
            }
            eprintln!("{} target form(s) for {} (from the {} results) in {}", s.written.len(), attain::year::academic_label(year + 1), attain::year::academic_label(year), out.display());
            Ok(Code::Ok)
        }
        Command::Targets { what: TargetsWhat::Import { files, year, store, format } } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let s = attain::commands::targets::import(&data, files, *year)?;
            print!("{}", attain::commands::targets::print_import(&s, &data, *format));
            eprintln!("{}", attain::commands::targets::import_summary_line(&s));
            Ok(if s.failed() > 0 { Code::Input } else { Code::Ok })
        }
        Command::Targets { what: TargetsWhat::Compare { la, year, store, format } } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let rows = attain::commands::targets::compare(&data, la.as_deref(), *year)?;
            print!("{}", attain::commands::targets::print_compare(&rows, *format));
            Ok(Code::Ok)
        }
        Command::Bench { what: BenchWhat::Rank { store } } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            for model in [None, Some(2021)] {
                let t = std::time::Instant::now();
                let (sets, rows) = attain::analysis::ranking::rank_everything(&data, model)?;
                println!("rank everything{}: {sets} measure-group-years, {rows} LA rows in {:.3} s", model.map(|m| format!(" with {m} neighbours")).unwrap_or_default(), t.elapsed().as_secs_f64());
            }
            Ok(Code::Ok)
        }
        Command::Bench { what: BenchWhat::Booklet { store, year, la } } => {
            print!("{}", attain::commands::bench::booklets(store, catalogue()?, *year, la.clone())?);
            Ok(Code::Ok)
        }
        Command::Bench { what: BenchWhat::Charts { store, la } } => {
            print!("{}", attain::commands::bench::charts(store, catalogue()?, la.clone())?);
            Ok(Code::Ok)
        }
        Command::Bench { what: BenchWhat::Pupils { pupils } } => {
            print!("{}", attain::commands::bench::pupils(*pupils)?);
            Ok(Code::Ok)
        }
        Command::Bench { what: BenchWhat::Ingest { demo, repeat } } => {
            print!("{}", attain::commands::bench::ingest(demo, *repeat, catalogue()?)?);
            Ok(Code::Ok)
        }
    }
}
