//! The command line's definition: one arguments struct per subcommand, deriving clap (the
//! CLI parses it) and serde (a pipeline stage reads the same struct from its TOML table, see
//! `pipeline::stage_args`), so the two cannot drift. `main.rs` parses and dispatches; tests
//! walk this tree (every flag has help, every numeric flag is validated).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Deserializer};

use crate::level::Level;
use crate::output::Format;

/// Where the store is when no `--store` is given.
pub const DEFAULT_STORE: &str = "output/store";
/// The booklet's heading colour when the authority gives none.
pub const DEFAULT_COLOUR: &str = "#1f4e79";
/// Statistical-neighbour model of booklets, target forms and workbooks by default.
pub const DEFAULT_NEIGHBOURS: i32 = 2021;

const LOGGING_HELP: &str = "\
Logging: -v shows what attain is doing (-vv more, -vvv everything), -q only errors. The
ATTAIN_LOG environment variable, when set, overrides both with a tracing filter, e.g.
ATTAIN_LOG=attain=debug or ATTAIN_LOG=attain::ingest=trace.

Exit codes: 0 ok; 1 finished with data warnings; 2 usage or configuration (a flag, the
catalogue, a pipeline or rules file); 3 an input file; 4 an output could not be written,
or the disclosure audit found a figure about 1-5 pupils.";

#[derive(Parser, Debug)]
#[command(
    name = "attain",
    version,
    about = "School-performance analysis for English local authorities",
    after_long_help = LOGGING_HELP
)]
pub struct Cli {
    /// Read the measure catalogue from this directory instead of the built-in one.
    #[arg(long, global = true)]
    pub catalogue: Option<PathBuf>,
    /// Say more on stderr: -v what is being done, -vv detail, -vvv everything.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr: no progress bars, notes or summaries.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read DfE / Ofsted files (or directories of them) into the canonical store.
    #[command(
        after_long_help = "Example:\n  attain ingest ../shared/data/raw --store output/store"
    )]
    Ingest(IngestArgs),
    /// Say what a file is recognised as, its year, records, columns and status tokens.
    #[command(after_long_help = "Example:\n  attain inspect data/demo/2019/ks2_2019.csv")]
    Inspect(InspectArgs),
    /// List the canonical measures (id, unit, polarity, key stage, description).
    #[command(
        after_long_help = "Examples:\n  attain measures --key-stage ks2\n  attain measures --groups"
    )]
    Measures(MeasuresArgs),
    /// Write the synthetic demo dataset (a fictional LA and a national background).
    #[command(after_long_help = "Example:\n  attain demo --out data/demo --schools 1500 --las 20")]
    Demo(DemoArgs),
    /// Rank every LA for a measure: rank, quartile, top-10% position, statistical neighbours.
    #[command(
        after_long_help = "Example:\n  attain rank --measure ks2_rwm_expected --group disadvantaged --year 2019 --la \
            650"
    )]
    Rank(RankArgs),
    /// Gaps between a pupil group and its comparison (gap = group - comparison).
    #[command(
        after_long_help = "Examples:\n  attain gaps --measure ks2_rwm_expected --group disadvantaged --level school \
            --la 650\n  attain gaps --measure ks2_rwm_expected --group disadvantaged+boys --pupils data/demo/pupils \
            --level school"
    )]
    Gaps(GapsArgs),
    /// Check every rendered or exported file under a directory for figures about groups of
    /// 1 to N pupils that disclosure control should have removed (exit 4 if any is found).
    #[command(after_long_help = "Example:\n  attain audit output/booklets")]
    Audit(AuditArgs),
    /// A measure's trend for one school (URN), LA (code) or England, with breaks in the series marked.
    #[command(
        after_long_help = "Example:\n  attain trend --measure ks2_rwm_expected --code 650 --from 2017 --to 2019"
    )]
    Trend(TrendArgs),
    /// Rebuild LA figures from school rows and explain differences from DfE's LA rows.
    #[command(
        after_long_help = "Example:\n  attain reconcile --measure ks2_rwm_expected --la 650"
    )]
    Reconcile(ReconcileArgs),
    /// Achievement and Target Setting Booklets (HTML and PDF) for an LA's schools.
    #[command(
        after_long_help = "Examples:\n  attain booklet --la 650 --out output/booklets\n  attain booklet --school \
            100000 --year 2019 --out output/booklets --html-only"
    )]
    Booklet(BookletArgs),
    /// Ofsted standing of every LA: % of schools good or outstanding and % of pupils in them, ranked.
    #[command(after_long_help = "Example:\n  attain ofsted --la 650 --phase primary")]
    Ofsted(OfstedArgs),
    /// Categorise schools with a rules file; --out writes the schools-causing-concern register.
    #[command(
        after_long_help = "Example:\n  attain categorise --rules pipelines/rules/merton.toml --la 650 --out \
            output/register"
    )]
    Categorise(CategoriseArgs),
    /// Committee chart pack for one LA: PNG (print) and SVG per chart, and charts.json.
    #[command(after_long_help = "Example:\n  attain charts --la 650 --out output/charts")]
    Charts(ChartsArgs),
    /// Partnership (cluster) figures from a CSV map (urn,partnership), built from pupil counts.
    #[command(
        after_long_help = "Examples:\n  attain partnerships --write-map map.csv --la 650\n  attain partnerships --map \
            map.csv --measure ks2_rwm_expected --chart-dir output/partnerships"
    )]
    Partnerships(PartnershipsArgs),
    /// One LA's workbook (.xlsx): rankings, gaps, Ofsted standing, categories, partnerships.
    #[command(
        after_long_help = "Example:\n  attain workbook --la 650 --out output/borsetshire.xlsx"
    )]
    Workbook(WorkbookArgs),
    /// Target forms for schools, their returns read back, and targets against results.
    #[command(
        after_long_help = "Examples:\n  attain targets forms --la 650 --out output/target-forms\n  attain targets \
            import returns/\n  attain targets compare --la 650"
    )]
    Targets {
        #[command(subcommand)]
        what: TargetsWhat,
    },
    /// Run a staged pipeline (e.g. pipelines/annual-booklet.toml).
    #[command(after_long_help = "Example:\n  attain run pipelines/annual-booklet.toml")]
    Run(RunArgs),
    /// Time the main operations and print the figures.
    #[command(after_long_help = "Example:\n  attain bench rank --store output/store")]
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(
        after_long_help = "Examples:\n  attain completions bash > /etc/bash_completion.d/attain\n  attain completions \
            fish > ~/.config/fish/completions/attain.fish"
    )]
    Completions(CompletionsArgs),
    /// Write man pages (attain.1 and one per subcommand) into a directory.
    #[command(after_long_help = "Example:\n  attain man /usr/local/share/man/man1")]
    Man(ManArgs),
}

/// The store read (or written) by a command.
#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct StoreArg {
    /// The store directory (parquet tables written by `attain ingest`).
    #[arg(long, default_value = DEFAULT_STORE)]
    #[serde(default = "default_store")]
    pub store: PathBuf,
}

fn default_store() -> PathBuf {
    PathBuf::from(DEFAULT_STORE)
}

/// How results are printed.
#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct FormatArg {
    /// table to read, csv or json for other tools.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    #[serde(default)]
    pub format: Format,
}

/// The results year a command reports on.
#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct YearArg {
    /// Results year as the summer it ends in (2019 = 2018/19); default: the latest in the store.
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
}

/// Which schools get a booklet or a target form: `--la`, `--school`, or every LA with `--all-las`.
#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct SchoolSelection {
    /// Only these schools (URN); repeatable.
    #[arg(long = "school")]
    #[serde(default)]
    pub schools: Vec<String>,
    /// The LA whose schools are included (its code, e.g. 650).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    /// Every LA in the store (thousands of schools): needed when neither --la nor --school is given.
    #[arg(long)]
    #[serde(default)]
    pub all_las: bool,
    /// Add academies, free schools and other schools the LA does not maintain.
    #[arg(long)]
    #[serde(default)]
    pub all_schools: bool,
}

impl SchoolSelection {
    /// The selection, refused (exit 2) when it names no LA, no school and not `--all-las`:
    /// one run once started booklets for every school in England by accident.
    pub fn selection(
        &self,
    ) -> Result<crate::render::booklet::Selection, crate::error::ConfigError> {
        if self.schools.is_empty() && self.la.is_none() && !self.all_las {
            return Err(crate::error::ConfigError::new(
                "--la",
                "say which schools: --la CODE, --school URN, or --all-las for every LA in the store",
            ));
        }
        Ok(crate::render::booklet::Selection {
            urns: self.schools.clone(),
            la: self.la.clone(),
            all_schools: self.all_schools || !self.schools.is_empty(),
        })
    }
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct IngestArgs {
    /// Files or directories to read (directories are walked; hidden files are skipped).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    /// The year (summer of the results: 2019 = 2018/19) when a file's content and path do not say.
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectArgs {
    /// The file to inspect (CSV or xlsx).
    pub file: PathBuf,
    /// The year (summer of the results) when the file's content and path do not say.
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
    /// A store the file was ingested into: say which of its figures the analysis uses and
    /// which another file's figures supersede (and why).
    #[arg(long)]
    #[serde(default)]
    pub store: Option<PathBuf>,
    /// table to read, csv or json for other tools.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    #[serde(default)]
    pub format: Format,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct MeasuresArgs {
    /// Only this key stage's measures (e.g. ks2, ks4).
    #[arg(long)]
    #[serde(default)]
    pub key_stage: Option<String>,
    /// List the canonical pupil groups instead.
    #[arg(long)]
    #[serde(default)]
    pub groups: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoArgs {
    /// Directory the demo files are written to.
    #[arg(long, default_value = "data/demo")]
    #[serde(default = "default_demo_out")]
    pub out: PathBuf,
    /// Schools in England (the demo LA's among them).
    #[arg(
        long,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000),
        default_value_t = 20_000
    )]
    #[serde(default = "default_demo_schools")]
    pub schools: usize,
    /// Local authorities in England.
    #[arg(
        long,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=500),
        default_value_t = 150
    )]
    #[serde(default = "default_demo_las")]
    pub las: usize,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 20190701)]
    #[serde(default = "default_demo_seed")]
    pub seed: u64,
}

fn default_demo_out() -> PathBuf {
    PathBuf::from("data/demo")
}
fn default_demo_schools() -> usize {
    20_000
}
fn default_demo_las() -> usize {
    150
}
fn default_demo_seed() -> u64 {
    20190701
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct RankArgs {
    /// Measure id (see `attain measures`), or a LAIT measure as lait:ID.
    #[arg(long)]
    pub measure: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub year: YearArg,
    /// Pupil group (see `attain measures --groups`).
    #[arg(long, default_value = "all")]
    #[serde(default = "default_group")]
    pub group: String,
    /// Only this LA's row (all LAs are still ranked).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    /// Statistical-neighbour model: 2021 or 2025.
    #[arg(long, value_parser = neighbour_model)]
    #[serde(default)]
    pub neighbours: Option<i32>,
    /// Top 10% by percentile value instead of rank <= floor(10% of LAs), e.g. 90.
    #[arg(long, value_parser = percentile)]
    #[serde(default)]
    pub top10_percentile: Option<f64>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

fn default_group() -> String {
    "all".into()
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct GapsArgs {
    /// Measure id (see `attain measures`).
    #[arg(long)]
    pub measure: String,
    /// Pupil group (see `attain measures --groups`); with --pupils, groups combine: disadvantaged+boys.
    #[arg(long)]
    pub group: String,
    /// Whose gaps: each school, partnership (pupil data), LA, or England.
    #[arg(long, value_enum, default_value_t = Level::La)]
    #[serde(default = "default_level")]
    pub level: Level,
    /// Only this LA (its code, e.g. 650).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub year: YearArg,
    /// within: the rest of the school/LA; national: national pupils of the other group (DIFFN); all: all pupils.
    /// Pupil data compares within only.
    #[arg(long, value_enum, default_value_t = crate::analysis::gaps::Against::Within)]
    #[serde(default = "default_against")]
    pub against: crate::analysis::gaps::Against,
    /// Answer from pupil-level files or directories (docs/pupil-data.md) instead of published figures.
    #[arg(long, num_args = 1..)]
    #[serde(default)]
    pub pupils: Vec<PathBuf>,
    /// National KS2 means by KS1 prior-attainment group (for progress measures from pupil data).
    #[arg(long)]
    #[serde(default)]
    pub prior_means: Option<PathBuf>,
    /// urn,partnership CSV, for --level partnership with pupil data.
    #[arg(long)]
    #[serde(default)]
    pub partnerships: Option<PathBuf>,
    /// Only these schools (URNs), LAs or partnerships.
    #[arg(long = "only", num_args = 1..)]
    #[serde(default)]
    pub only: Vec<String>,
    /// Years in the trend window, ending at --year (pupil data).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10), default_value_t = 3)]
    #[serde(default = "default_years")]
    pub years: usize,
    /// Keep only the N widest gaps that were among the N widest in every year of the window.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    #[serde(default)]
    pub widest: Option<usize>,
    /// Disclosure control: groups of 1 to N pupils are withheld (pupil data).
    #[arg(
        long,
        value_parser = clap::value_parser!(u64).range(0..=100),
        default_value_t = crate::analysis::disclosure::DEFAULT_THRESHOLD
    )]
    #[serde(default = "default_threshold", deserialize_with = "de_threshold")]
    pub threshold: u64,
    /// Drop invalid pupil rows (reported as warnings, exit status 1) instead of stopping.
    #[arg(long)]
    #[serde(default)]
    pub allow_bad_rows: bool,
    /// Ledger of pupil-level figures already released into an output tree (pupil data):
    /// nothing is shown that, with them, would give away a small group; what is shown is added.
    #[arg(long)]
    #[serde(default)]
    pub ledger: Option<PathBuf>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

fn default_level() -> Level {
    Level::La
}
fn default_against() -> crate::analysis::gaps::Against {
    crate::analysis::gaps::Against::Within
}
fn default_years() -> usize {
    3
}
fn default_threshold() -> u64 {
    crate::analysis::disclosure::DEFAULT_THRESHOLD
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct AuditArgs {
    /// The directory of rendered or exported files to check.
    pub dir: PathBuf,
    /// Figures about groups of 1 to N pupils are disclosive.
    #[arg(
        long,
        value_parser = clap::value_parser!(u64).range(0..=100),
        default_value_t = crate::analysis::disclosure::DEFAULT_THRESHOLD
    )]
    #[serde(default = "default_threshold", deserialize_with = "de_threshold")]
    pub threshold: u64,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct TrendArgs {
    /// Measure id (see `attain measures`).
    #[arg(long)]
    pub measure: String,
    /// URN, LA code, or "england".
    #[arg(long)]
    pub code: String,
    /// Pupil group (see `attain measures --groups`).
    #[arg(long, default_value = "all")]
    #[serde(default = "default_group")]
    pub group: String,
    /// First year, e.g. --from 2017 (with --to; default: every year in the store).
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub from: Option<i32>,
    /// Last year, e.g. --to 2019 (with --from).
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub to: Option<i32>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct ReconcileArgs {
    /// Measure id (see `attain measures`).
    #[arg(long)]
    pub measure: String,
    /// Pupil group (see `attain measures --groups`).
    #[arg(long, default_value = "all")]
    #[serde(default = "default_group")]
    pub group: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub year: YearArg,
    /// Only this LA (its code, e.g. 650).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct BookletArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub sel: SchoolSelection,
    #[command(flatten)]
    #[serde(flatten)]
    pub year: YearArg,
    /// Directory the booklets and index.html are written to.
    #[arg(long)]
    pub out: PathBuf,
    /// Statistical-neighbour model: 2021 or 2025.
    #[arg(long, value_parser = neighbour_model, default_value_t = DEFAULT_NEIGHBOURS)]
    #[serde(default = "default_neighbours", deserialize_with = "de_neighbours")]
    pub neighbours: i32,
    /// Directory with edited templates (booklet.html.j2, booklet.typ.j2, index.html.j2).
    #[arg(long)]
    #[serde(default)]
    pub templates: Option<PathBuf>,
    /// The publishing authority's colour (#rrggbb) for headings and the cover.
    #[arg(long, default_value = DEFAULT_COLOUR, value_parser = hex_colour)]
    #[serde(default = "default_colour", deserialize_with = "de_colour")]
    pub colour: String,
    /// The publishing authority's name on the cover (default: the LA's name in the store).
    #[arg(long)]
    #[serde(default)]
    pub la_name: Option<String>,
    /// The authority's logo for the cover (.svg or .png).
    #[arg(long)]
    #[serde(default)]
    pub logo: Option<PathBuf>,
    /// Write HTML only (no PDF).
    #[arg(long)]
    #[serde(default)]
    pub html_only: bool,
    /// The LA's pupil-level files or directories: adds the gaps only they can give (looked after,
    /// ethnicity, combined groups).
    #[arg(long, num_args = 1..)]
    #[serde(default, deserialize_with = "de_paths")]
    pub pupils: Vec<PathBuf>,
    /// National KS2 means by KS1 prior-attainment group (prior-attainment groups and progress from pupil data).
    #[arg(long)]
    #[serde(default)]
    pub prior_means: Option<PathBuf>,
    /// Disclosure control for pupil data: groups of 1 to N pupils are withheld.
    #[arg(
        long,
        value_parser = clap::value_parser!(u64).range(0..=100),
        default_value_t = crate::analysis::disclosure::DEFAULT_THRESHOLD
    )]
    #[serde(default = "default_threshold", deserialize_with = "de_threshold")]
    pub threshold: u64,
    /// Ledger of pupil-level figures already released into the output tree (pupil data).
    #[arg(long)]
    #[serde(default)]
    pub ledger: Option<PathBuf>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
}

fn default_neighbours() -> i32 {
    DEFAULT_NEIGHBOURS
}
fn default_colour() -> String {
    DEFAULT_COLOUR.into()
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct OfstedArgs {
    /// Only this LA's rows (all LAs are still ranked).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    /// One phase only (default: primary, secondary and all phases).
    #[arg(long, value_enum)]
    #[serde(default)]
    pub phase: Option<crate::analysis::ofsted::Phase>,
    /// Year of the Ofsted snapshot (2018 = the workbook as at 31 July 2018); default the latest.
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct CategoriseArgs {
    /// The rules file (TOML; docs/rules.md), e.g. pipelines/rules/merton.toml.
    #[arg(long)]
    pub rules: PathBuf,
    /// Only this LA's schools (its code, e.g. 650).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub year: YearArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
    /// Write schools-causing-concern.csv and .xlsx into this directory.
    #[arg(long)]
    #[serde(default)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct ChartsArgs {
    /// The LA (its code, e.g. 650).
    #[arg(long)]
    pub la: String,
    /// TOML with a [charts] section: measures, year, years, neighbours, gaps.
    #[arg(long)]
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// Directory the charts and charts.json are written to.
    #[arg(long, default_value = "output/charts")]
    #[serde(default = "default_charts_out")]
    pub out: PathBuf,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    /// Statistical-neighbour model (2021 or 2025); overrides the config.
    #[arg(long, value_parser = neighbour_model)]
    #[serde(default)]
    pub neighbours: Option<i32>,
}

fn default_charts_out() -> PathBuf {
    PathBuf::from("output/charts")
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct PartnershipsArgs {
    /// The map: a header row `urn,partnership`, then one school a line.
    #[arg(long, required_unless_present = "write_map")]
    #[serde(default)]
    pub map: Option<PathBuf>,
    /// Measures (repeatable; default ks2_rwm_expected).
    #[arg(long = "measure")]
    #[serde(default)]
    pub measures: Vec<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub year: YearArg,
    /// Also draw a bar chart per measure (PNG and SVG) into this directory.
    #[arg(long)]
    #[serde(default)]
    pub chart_dir: Option<PathBuf>,
    /// Instead: write a starting map for --la (its schools in blocks by URN) to this file.
    #[arg(long)]
    #[serde(default)]
    pub write_map: Option<PathBuf>,
    /// The LA of the starting map (with --write-map).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct WorkbookArgs {
    /// The LA (its code, e.g. 650).
    #[arg(long)]
    pub la: String,
    /// The .xlsx file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Categorisation rules for the categories sheet.
    #[arg(long, default_value = "pipelines/rules/merton.toml")]
    #[serde(default = "default_rules")]
    pub rules: PathBuf,
    /// Partnership map (urn,partnership) for the partnerships sheet.
    #[arg(long)]
    #[serde(default)]
    pub map: Option<PathBuf>,
    /// Statistical-neighbour model: 2021 or 2025.
    #[arg(long, value_parser = neighbour_model, default_value_t = DEFAULT_NEIGHBOURS)]
    #[serde(default = "default_neighbours", deserialize_with = "de_neighbours")]
    pub neighbours: i32,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
}

fn default_rules() -> PathBuf {
    PathBuf::from("pipelines/rules/merton.toml")
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct RunArgs {
    /// The pipeline file (TOML; see pipelines/).
    pub pipeline: PathBuf,
    /// Run every stage even if its inputs have not changed.
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct ManArgs {
    /// Directory the man pages are written to (created if missing).
    pub dir: PathBuf,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct FormsArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub sel: SchoolSelection,
    /// The results the targets build on (2018 = 2017/18; the targets are for the year after); default the latest.
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
    /// Directory the forms are written to (one folder per LA).
    #[arg(long)]
    pub out: PathBuf,
    /// Statistical-neighbour model for the neighbours' top quartile: 2021 or 2025.
    #[arg(long, value_parser = neighbour_model, default_value_t = DEFAULT_NEIGHBOURS)]
    #[serde(default = "default_neighbours", deserialize_with = "de_neighbours")]
    pub neighbours: i32,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct ImportArgs {
    /// Filled-in forms, or directories of them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The results year the targets are for (2019 = 2018/19); default the year after the latest results.
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Args, Debug, Clone, PartialEq, Deserialize)]
pub struct CompareArgs {
    /// Only this LA's schools (its code, e.g. 650).
    #[arg(long)]
    #[serde(default)]
    pub la: Option<String>,
    /// The results year of the targets (default: the latest with targets).
    #[arg(long, value_parser = results_year)]
    #[serde(default, deserialize_with = "de_year")]
    pub year: Option<i32>,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArg,
    #[command(flatten)]
    #[serde(flatten)]
    pub format: FormatArg,
}

#[derive(Subcommand, Debug)]
pub enum TargetsWhat {
    /// One xlsx form per school with its suggested targets and an "Agreed target" column.
    #[command(
        after_long_help = "Example:\n  attain targets forms --la 650 --out output/target-forms"
    )]
    Forms(FormsArgs),
    /// Read filled-in forms (files or directories), report problems cell by cell, store the valid ones.
    #[command(after_long_help = "Example:\n  attain targets import returns/ --store output/store")]
    Import(ImportArgs),
    /// Each stored target against the school's result: difference and met / not met / no result.
    #[command(after_long_help = "Example:\n  attain targets compare --la 650 --year 2019")]
    Compare(CompareArgs),
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Rank every LA-level measure, group and year in a store, with and without neighbours.
    #[command(after_long_help = "Example:\n  attain bench rank")]
    Rank {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Render a booklet (HTML, then HTML + PDF) for every school in a store; schools/s and peak memory.
    #[command(after_long_help = "Example:\n  attain bench booklet --la 650")]
    Booklet {
        #[command(flatten)]
        store: StoreArg,
        #[command(flatten)]
        year: YearArg,
        /// Only this LA's schools (default: every school in the store).
        #[arg(long)]
        la: Option<String>,
    },
    /// The committee chart pack for one LA and for every LA in a store.
    #[command(after_long_help = "Example:\n  attain bench charts --la 650")]
    Charts {
        #[command(flatten)]
        store: StoreArg,
        /// The one LA timed alone (default: the first ranked).
        #[arg(long)]
        la: Option<String>,
    },
    /// Ingest the demo national dataset (one directory per year) into a scratch store.
    #[command(after_long_help = "Example:\n  attain bench ingest --demo data/demo --repeat 3")]
    Ingest {
        /// The demo dataset written by `attain demo`.
        #[arg(long, default_value = "data/demo")]
        demo: PathBuf,
        /// How many times to ingest it.
        #[arg(
            long,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100),
            default_value_t = 3
        )]
        repeat: usize,
    },
    /// Read and aggregate a synthetic national KS2 cohort of pupil-level data, by school and group,
    /// with disclosure control.
    #[command(after_long_help = "Example:\n  attain bench pupils --pupils 700000")]
    Pupils {
        /// Pupils in the synthetic cohort.
        #[arg(
            long,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=20_000_000),
            default_value_t = 700_000
        )]
        pupils: usize,
    },
}

/// A results year as the summer it ends in (2019 = 2018/19): 2000 to 2100.
pub fn results_year(s: &str) -> Result<i32, String> {
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
pub fn neighbour_model(s: &str) -> Result<i32, String> {
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

/// A colour as `#rrggbb` (it is written into CSS and Typst).
pub fn hex_colour(s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = t.len() == 7 && t.starts_with('#') && t[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!(
            "{s:?} is not a colour: give it as #rrggbb, e.g. {DEFAULT_COLOUR}"
        ))
    }
}

// Serde sides of the value parsers: a stage's TOML gets the same checks as the flag.
fn de_year<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    Option::<i64>::deserialize(d)?
        .map(|y| results_year(&y.to_string()).map_err(serde::de::Error::custom))
        .transpose()
}

/// A disclosure threshold: 0 (off, for internal checks) to 100, as `--threshold` takes.
fn de_threshold<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let t = u64::deserialize(d)?;
    if t <= 100 {
        Ok(t)
    } else {
        Err(serde::de::Error::custom(format!(
            "threshold {t} is not 0 to 100 (groups of 1 to N pupils are withheld)"
        )))
    }
}

fn de_neighbours<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    neighbour_model(&i64::deserialize(d)?.to_string()).map_err(serde::de::Error::custom)
}

fn de_colour<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    hex_colour(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// One path or a list of them (a stage writes `pupils = "data/pupils"`).
fn de_paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    })
}
