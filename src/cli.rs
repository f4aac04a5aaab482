//! The command line's definition: every subcommand, flag and help text (clap). `main.rs`
//! parses with it and dispatches; tests walk it (every numeric flag is validated).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::output::Format;
use crate::store::schema::Level;

#[derive(Parser)]
#[command(
    name = "attain",
    version,
    about = "School-performance analysis for English local authorities"
)]
pub struct Cli {
    /// Read the measure catalogue from this directory instead of the built-in one.
    #[arg(long, global = true)]
    pub catalogue: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Read DfE / Ofsted files (or directories of them) into the canonical store.
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        /// The year (summer of the results: 2019 = 2018/19) when a file's content and path do not say.
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Say what a file is recognised as, its year, records, columns and status tokens.
    Inspect {
        file: PathBuf,
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        /// A store the file was ingested into: say which of its figures the analysis uses and
        /// which another file's figures supersede (and why).
        #[arg(long)]
        store: Option<PathBuf>,
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
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000), default_value_t = 20_000)]
        schools: usize,
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=500), default_value_t = 150)]
        las: usize,
        #[arg(long, default_value_t = 20190701)]
        seed: u64,
    },
    /// Rank every LA for a measure: rank, quartile, top-10% position, statistical neighbours.
    Rank {
        #[arg(long)]
        measure: String,
        /// Summer-end year (2019 = 2018/19); default the latest in the store.
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        #[arg(long, default_value = "all")]
        group: String,
        /// Only this LA's row (all LAs are still ranked).
        #[arg(long)]
        la: Option<String>,
        /// Statistical-neighbour model: 2021 or 2025.
        #[arg(long, value_parser = neighbour_model)]
        neighbours: Option<i32>,
        /// Top 10% by percentile value instead of rank <= floor(10% of LAs), e.g. 90.
        #[arg(long, value_parser = percentile)]
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
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        /// within: the rest of the school/LA; national: national pupils of the other group (DIFFN); all: all pupils.
        #[arg(long, value_enum, default_value_t = crate::analysis::gaps::Against::Within)]
        against: crate::analysis::gaps::Against,
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
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10), default_value_t = 3)]
        years: usize,
        /// Keep only the N widest gaps that were among the N widest in every year of the window.
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
        widest: Option<usize>,
        /// Disclosure control: groups of 1 to N pupils are withheld (pupil data).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100), default_value_t = crate::analysis::disclosure::DEFAULT_THRESHOLD)]
        threshold: u64,
        /// Drop invalid pupil rows (reported as warnings, exit status 1) instead of stopping.
        #[arg(long)]
        allow_bad_rows: bool,
        /// Ledger of pupil-level figures already released into an output tree (pupil data):
        /// nothing is shown that, with them, would give away a small group; what is shown is added.
        #[arg(long)]
        ledger: Option<PathBuf>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Check every rendered or exported file under a directory for figures about groups of
    /// 1 to N pupils that disclosure control should have removed (exit 4 if any is found).
    Audit {
        dir: PathBuf,
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100), default_value_t = crate::analysis::disclosure::DEFAULT_THRESHOLD)]
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
        #[arg(long, value_parser = results_year)]
        from: Option<i32>,
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_parser = neighbour_model, default_value_t = 2021)]
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
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100), default_value_t = crate::analysis::disclosure::DEFAULT_THRESHOLD)]
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
        phase: Option<crate::analysis::ofsted::Phase>,
        /// Year of the Ofsted snapshot (2018 = the workbook as at 31 July 2018); default the latest.
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = neighbour_model)]
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
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = neighbour_model, default_value_t = 2021)]
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
pub enum Lvl {
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
            Lvl::Partnership => {
                unreachable!("published figures have no partnership level (checked before)")
            }
        }
    }
}

/// Which schools get a booklet or a target form (`--school`, `--la`, `--all-schools`).
#[derive(clap::Args)]
pub struct SchoolSelection {
    /// Only these schools (URN); repeatable.
    #[arg(long = "school")]
    pub schools: Vec<String>,
    /// The LA whose schools are included (default: every LA in the store).
    #[arg(long)]
    pub la: Option<String>,
    /// Add academies, free schools and other schools the LA does not maintain.
    #[arg(long)]
    pub all_schools: bool,
}

impl SchoolSelection {
    pub fn selection(&self) -> crate::render::booklet::Selection {
        crate::render::booklet::Selection {
            urns: self.schools.clone(),
            la: self.la.clone(),
            all_schools: self.all_schools || !self.schools.is_empty(),
        }
    }
}

#[derive(Subcommand)]
pub enum TargetsWhat {
    /// One xlsx form per school with its suggested targets and an "Agreed target" column.
    Forms {
        #[command(flatten)]
        sel: SchoolSelection,
        /// The results the targets build on (2018 = 2017/18; the targets are for the year after); default the latest.
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        #[arg(long)]
        out: PathBuf,
        /// Statistical-neighbour model for the neighbours' top quartile: 2021 or 2025.
        #[arg(long, value_parser = neighbour_model, default_value_t = 2021)]
        neighbours: i32,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
    },
    /// Read filled-in forms (files or directories), report problems cell by cell, store the valid ones.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The results year the targets are for (2019 = 2018/19); default the year after the latest results.
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = results_year)]
        year: Option<i32>,
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Subcommand)]
pub enum BenchWhat {
    /// Rank every LA-level measure, group and year in a store, with and without neighbours.
    Rank {
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
    },
    /// Render a booklet (HTML, then HTML + PDF) for every school in a store; schools/s and peak memory.
    Booklet {
        #[arg(long, default_value = "output/store")]
        store: PathBuf,
        #[arg(long, value_parser = results_year)]
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
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100), default_value_t = 3)]
        repeat: usize,
    },
    /// Read and aggregate a synthetic national KS2 cohort of pupil-level data, by school and group,
    /// with disclosure control.
    Pupils {
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=20_000_000), default_value_t = 700_000)]
        pupils: usize,
    },
}

/// A results year as the summer it ends in (2019 = 2018/19): 2000 to 2100.
fn results_year(s: &str) -> Result<i32, String> {
    let y: i32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a year (e.g. 2019 for 2018/19)"))?;
    if (2000..=2100).contains(&y) {
        Ok(y)
    } else {
        Err(format!("{y} is not a plausible results year: give the summer the results are from, 2000 to 2100"))
    }
}

/// DfE's statistical-neighbour models attain carries.
fn neighbour_model(s: &str) -> Result<i32, String> {
    match s.trim() {
        "2021" => Ok(2021),
        "2025" => Ok(2025),
        other => Err(format!(
            "{other:?} is not a statistical-neighbour model: 2021 or 2025"
        )),
    }
}

/// A percentile strictly between 0 and 100 (90 = the top 10%).
fn percentile(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if p.is_finite() && p > 0.0 && p < 100.0 {
        Ok(p)
    } else {
        Err(format!(
            "{s} is not a percentile between 0 and 100 (e.g. 90 for the top 10%)"
        ))
    }
}
