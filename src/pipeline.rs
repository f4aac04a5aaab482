//! Staged jobs (`attain run pipelines/NAME.toml`). Each stage names its inputs and
//! outputs; a stage whose inputs, settings and tool version are unchanged since its
//! last successful run, and whose outputs still exist, is not run again. A run that did
//! work writes `output/<pipeline>/manifest.json`; a run with nothing to do writes nothing.
//!
//! Crashes: every file is written beside its final name and renamed into place
//! ([`write_atomic`]; the store swaps whole directories, see `store`), so a killed run
//! leaves each output either as it was or as it is now, never half-written. A stage's
//! entry in `state.json` is removed before it starts and written back when it finishes,
//! so the stage a kill interrupted runs again next time; temporaries a killed run left
//! beside the outputs are removed when the stage that owns them next runs.
//!
//! Timestamps: the manifest's `generated` comes from `SOURCE_DATE_EPOCH` when it is set
//! (reproducible runs), otherwise from the clock. Nothing else the pipeline writes reads
//! the clock: rendered documents are dated from the data (31 August of the results year).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::atomic::{remove_stale_temporaries, temporary_beside, write_atomic};
use crate::catalogue::Catalogue;
use crate::error::ConfigError;
use crate::level::Level;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Where run state and the manifest go (default `output/<name>`).
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// The authority the job is for: name, code, logo and colours for rendered outputs.
    #[serde(default)]
    pub la: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub catalogue: Option<PathBuf>,
    /// Settings of the charts step (see `commands::charts::ChartsConfig`).
    #[serde(default)]
    pub charts: Option<toml::Table>,
    #[serde(rename = "stage")]
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    /// Which step: demo | ingest | booklet | categorise | charts | workbook | target-forms.
    pub run: String,
    #[serde(default)]
    pub inputs: Vec<PathBuf>,
    #[serde(default)]
    pub outputs: Vec<PathBuf>,
    #[serde(default)]
    pub options: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageRecord {
    pub name: String,
    pub run: String,
    /// "ran" or "skipped (unchanged)"
    pub outcome: String,
    // How long a stage took is printed, not recorded: the manifest is the same for the same inputs.
    pub fingerprint: String,
    pub outputs: Vec<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
}

/// What `state.json` remembers of a stage's last successful run: the fingerprint of
/// everything it read, and every file it wrote. A stage is skipped only when both match.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
struct StageState {
    fingerprint: String,
    outputs: Vec<InputFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub pipeline: String,
    pub tool_version: String,
    /// When the run happened (UTC, ISO 8601): `SOURCE_DATE_EPOCH` if set, else the clock.
    pub generated: String,
    /// "SOURCE_DATE_EPOCH" or "clock".
    pub generated_from: String,
    pub config: Pipeline,
    pub inputs: Vec<InputFile>,
    pub stages: Vec<StageRecord>,
    /// Stages that did work, and any warnings.
    pub warnings: Vec<String>,
    /// Where the manifest is (or would be) written.
    #[serde(skip)]
    pub path: PathBuf,
    /// False when no stage ran: the manifest of the last run that did work is left as it was.
    #[serde(skip)]
    pub written: bool,
}

pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(path.display().to_string(), e.to_string()))?;
    let p: Pipeline = toml::from_str(&text)
        .map_err(|e| ConfigError::new(path.display().to_string(), e.to_string()))?;
    for s in &p.stages {
        if !KNOWN_STEPS.contains(&s.run.as_str()) {
            return Err(ConfigError::new(
                path.display().to_string(),
                format!(
                    "stage {:?}: unknown step {:?} (known: {})",
                    s.name,
                    s.run,
                    KNOWN_STEPS.join(", ")
                ),
            ));
        }
    }
    Ok(p)
}

pub const KNOWN_STEPS: &[&str] = &[
    "demo",
    "ingest",
    "booklet",
    "categorise",
    "charts",
    "workbook",
    "target-forms",
    "pupil-gaps",
    "audit",
];

/// Every regular file under the given paths, sorted, with its sha256. A path that does not
/// exist is an error: a misspelt input must not pass as "no files".
pub fn hash_inputs(paths: &[PathBuf]) -> std::io::Result<Vec<InputFile>> {
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} does not exist", missing.display()),
        ));
    }
    hash_files(paths)
}

/// Every regular file under the paths that exist, sorted, with its sha256 (walked as
/// `attain ingest` walks: hidden files skipped, links followed once).
fn hash_files(paths: &[PathBuf]) -> std::io::Result<Vec<InputFile>> {
    let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
    let walk =
        crate::ingest::collect(&existing).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut files: Vec<PathBuf> = walk
        .files
        .into_iter()
        .map(|(f, _)| f)
        // Regular files only: a FIFO or a device would hang or never end.
        .filter(|f| f.is_file())
        .collect();
    files.sort();
    files.dedup();
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f)?;
            Ok(InputFile {
                path: crate::ingest::display_path(&f),
                sha256: hex(&Sha256::digest(&bytes)),
            })
        })
        .collect()
}

/// Strings in a configuration table that name existing files or directories (a logo, a
/// templates directory, a rules file): their contents belong to the stage's fingerprint.
fn referenced_paths(v: &toml::Value, out: &mut Vec<PathBuf>) {
    match v {
        toml::Value::String(s) if !s.is_empty() && Path::new(s).exists() => {
            out.push(PathBuf::from(s))
        }
        toml::Value::Array(a) => a.iter().for_each(|x| referenced_paths(x, out)),
        toml::Value::Table(t) => t.values().for_each(|x| referenced_paths(x, out)),
        _ => {}
    }
}

/// Everything a stage's result depends on, hashed: the tool, the pipeline's shared settings
/// (`[la]`, `[charts]`, catalogue, output), the stage itself, the catalogue's contents, the
/// files its settings name (logo, templates, rules...) and its inputs.
fn stage_fingerprint(
    p: &Pipeline,
    stage: &Stage,
    catalogue: &Catalogue,
    inputs: &[InputFile],
) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    h.update(crate::version().as_bytes());
    h.update(serde_json::to_vec(&(
        &p.la,
        &p.charts,
        &p.catalogue,
        &p.output,
    ))?);
    h.update(serde_json::to_vec(stage)?);
    h.update(catalogue.fingerprint.as_bytes());
    let mut named = Vec::new();
    for v in p.la.values().chain(stage.options.values()) {
        referenced_paths(v, &mut named);
    }
    if let Some(c) = &p.charts {
        c.values().for_each(|v| referenced_paths(v, &mut named));
    }
    for i in hash_files(&named)?.iter().chain(inputs) {
        h.update(i.path.as_bytes());
        h.update(i.sha256.as_bytes());
    }
    Ok(hex(&h.finalize()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The run's timestamp: `SOURCE_DATE_EPOCH` (seconds since 1970, UTC) when set, else the clock.
/// A malformed value is a configuration error, as the reproducible-builds convention asks.
pub fn run_timestamp() -> Result<(String, &'static str), ConfigError> {
    let (secs, from) = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => (
            v.trim().parse::<i64>().map_err(|_| {
                ConfigError::new(
                    "SOURCE_DATE_EPOCH",
                    format!("{v:?} is not a whole number of seconds since 1970-01-01"),
                )
            })?,
            "SOURCE_DATE_EPOCH",
        ),
        Err(_) => (
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            "clock",
        ),
    };
    Ok((iso_timestamp(secs), from))
}

/// Seconds since 1970-01-01 UTC as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_timestamp(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::dates::iso_from_days(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Run a pipeline. `force` reruns every stage.
pub fn run(path: &Path, force: bool, mut log: impl FnMut(&str)) -> anyhow::Result<Manifest> {
    let p = load(path)?;
    let (generated, generated_from) = run_timestamp()?;
    let out_dir = p
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&p.name));
    let state_path = out_dir.join("state.json");
    let manifest_path = out_dir.join("manifest.json");
    for f in [&state_path, &manifest_path] {
        remove_stale_temporaries(f);
    }
    // One run of a pipeline at a time: a second waits for the first (they share state and outputs).
    let _lock = crate::atomic::lock_dir(&out_dir, &format!("another run of {}", path.display()))
        .map_err(|e| crate::error::RenderError::write(&out_dir, e))?;
    // A state file from an older attain (fingerprints only) reads as empty: every stage runs once.
    let mut state: BTreeMap<String, StageState> = std::fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let catalogue = Arc::new(Catalogue::load(p.catalogue.as_deref())?);
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    let mut all_inputs = Vec::new();
    let progress = crate::progress::task("stages", p.stages.len());
    for stage in &p.stages {
        progress.message(&stage.name);
        progress.step();
        let inputs = hash_inputs(&stage.inputs).map_err(|e| {
            ConfigError::new(
                path.display().to_string(),
                format!("stage {:?}: input {e}", stage.name),
            )
        })?;
        let fingerprint = stage_fingerprint(&p, stage, &catalogue, &inputs)?;
        all_inputs.extend(inputs.iter().cloned());
        let outputs_exist = stage.outputs.iter().all(|o| o.exists());
        // Outputs deleted or edited since the stage wrote them: the stage runs again.
        let unchanged = match state.get(&stage.name) {
            Some(last) if !force && outputs_exist && last.fingerprint == fingerprint => {
                last.outputs == hash_files(&stage.outputs)?
            }
            _ => false,
        };
        if unchanged {
            log(&format!("stage {}: inputs unchanged, skipped", stage.name));
            records.push(StageRecord {
                name: stage.name.clone(),
                run: stage.run.clone(),
                outcome: "skipped (unchanged)".into(),
                fingerprint,
                outputs: stage
                    .outputs
                    .iter()
                    .map(|o| o.display().to_string())
                    .collect(),
                detail: String::new(),
            });
            continue;
        }
        // Until it finishes, the stage has no recorded run: if this process dies now, the
        // next run does the stage again rather than trusting half-replaced outputs.
        if state.remove(&stage.name).is_some() {
            write_atomic(&state_path, &serde_json::to_vec_pretty(&state)?)?;
        }
        log(&format!("stage {}: running {}", stage.name, stage.run));
        let swept: usize = stage
            .outputs
            .iter()
            .map(|o| remove_stale_temporaries(o))
            .sum();
        if swept > 0 {
            log(&format!(
                "stage {}: removed {swept} temporary file(s) left by an interrupted run",
                stage.name
            ));
        }
        let started = Instant::now();
        let detail = run_stage(&p, path, stage, &catalogue, &mut warnings)?;
        let seconds = started.elapsed().as_secs_f64();
        log(&format!(
            "stage {}: done in {seconds:.2} s{}",
            stage.name,
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            }
        ));
        state.insert(
            stage.name.clone(),
            StageState {
                fingerprint: fingerprint.clone(),
                outputs: hash_files(&stage.outputs)?,
            },
        );
        write_atomic(&state_path, &serde_json::to_vec_pretty(&state)?)?;
        records.push(StageRecord {
            name: stage.name.clone(),
            run: stage.run.clone(),
            outcome: "ran".into(),
            fingerprint,
            outputs: stage
                .outputs
                .iter()
                .map(|o| o.display().to_string())
                .collect(),
            detail,
        });
    }
    all_inputs.sort_by(|a, b| a.path.cmp(&b.path));
    all_inputs.dedup_by(|a, b| a.path == b.path);
    let ran = records.iter().any(|r| r.outcome == "ran");
    let mut manifest = Manifest {
        pipeline: p.name.clone(),
        tool_version: crate::version().to_string(),
        generated,
        generated_from: generated_from.into(),
        config: p.clone(),
        inputs: all_inputs,
        stages: records,
        warnings,
        path: manifest_path,
        written: false,
    };
    // A run that did nothing leaves the last manifest (and every other file) untouched.
    if ran || !manifest.path.exists() {
        write_atomic(&manifest.path, &serde_json::to_vec_pretty(&manifest)?)?;
        manifest.written = true;
    }
    Ok(manifest)
}

/// A stage's settings as the arguments struct of its command (`crate::cli`): the stage's
/// `options` over the pipeline's `[la]` keys that apply (`la_keys`: key in `[la]` -> argument)
/// over `fill` (paths from the stage's inputs and outputs). An option that is not one of
/// the command's arguments (nor in `extra`) is refused, naming it and the pipeline file.
fn stage_args<T: serde::de::DeserializeOwned + clap::Args>(
    ctx: &StageCtx,
    la_keys: &[(&str, &str)],
    fill: toml::Table,
    extra: &[&str],
) -> Result<T, ConfigError> {
    let (p, stage) = (ctx.pipeline, ctx.stage);
    let ids: Vec<String> = T::augment_args(clap::Command::new("stage"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    // Names a stage may use for an argument, as the `[la]` table spells them.
    let rename = |k: &str| -> String {
        la_keys
            .iter()
            .find(|(from, _)| *from == k)
            .map(|(_, to)| to.to_string())
            .unwrap_or_else(|| k.to_string())
    };
    for key in stage.options.keys() {
        let known = ids.contains(&rename(key)) || extra.contains(&key.as_str());
        if !known {
            let mut names: Vec<&str> = ids
                .iter()
                .map(String::as_str)
                .chain(extra.iter().copied())
                .collect();
            names.sort();
            let hint = crate::commands::validate::suggest(key, names.iter().copied())
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            return Err(ConfigError::new(
                ctx.path.display().to_string(),
                format!(
                    "stage {:?}: unknown option {key:?}{hint} (the {} step takes: {})",
                    stage.name,
                    stage.run,
                    names.join(", ")
                ),
            ));
        }
    }
    let mut table = fill;
    for (from, to) in la_keys {
        if let Some(v) = p.la.get(*from) {
            table.insert(to.to_string(), v.clone());
        }
    }
    for (k, v) in &stage.options {
        let k = rename(k);
        if ids.contains(&k) {
            table.insert(k, v.clone());
        }
    }
    T::deserialize(toml::Value::Table(table)).map_err(|e| {
        ConfigError::new(
            ctx.path.display().to_string(),
            format!("stage {:?}: {}", stage.name, e.to_string().trim()),
        )
    })
}

/// What a stage runs with: the pipeline, its file and the stage.
struct StageCtx<'a> {
    pipeline: &'a Pipeline,
    path: &'a Path,
    stage: &'a Stage,
}

impl StageCtx<'_> {
    /// The store a stage reads: the input holding `results.parquet`, else the default.
    fn store_input(&self) -> PathBuf {
        self.stage
            .inputs
            .iter()
            .find(|i| i.join("results.parquet").exists())
            .cloned()
            .unwrap_or_else(|| PathBuf::from(crate::cli::DEFAULT_STORE))
    }

    /// `fill` entries: the store from the inputs, `key` from the first output (or `default`).
    fn fill(&self, store: bool, out: Option<(&str, Option<&str>)>) -> toml::Table {
        let mut t = toml::Table::new();
        if store {
            t.insert("store".into(), path_value(&self.store_input()));
        }
        if let Some((key, default)) = out {
            if let Some(o) = self
                .stage
                .outputs
                .first()
                .map(|o| o.as_path())
                .or(default.map(Path::new))
            {
                t.insert(key.into(), path_value(o));
            }
        }
        t
    }

    fn needs_output(&self, what: &str) -> Result<(), ConfigError> {
        if self.stage.outputs.is_empty() {
            return Err(ConfigError::new(
                &self.stage.name,
                format!("the {} step needs an output {what}", self.stage.run),
            ));
        }
        Ok(())
    }
}

fn path_value(p: &Path) -> toml::Value {
    toml::Value::String(p.to_string_lossy().into_owned())
}

/// The pupil-gaps step: questions answered from pupil-level files, released together.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PupilGapsStage {
    pupils: PathBuf,
    #[serde(default)]
    prior_means: Option<PathBuf>,
    #[serde(default)]
    partnerships: Option<PathBuf>,
    #[serde(default = "default_threshold")]
    threshold: u64,
    #[serde(default)]
    ledger: Option<PathBuf>,
    queries: Vec<PupilGapQuery>,
}

fn default_threshold() -> u64 {
    crate::analysis::disclosure::DEFAULT_THRESHOLD
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PupilGapQuery {
    name: String,
    measure: String,
    group: String,
    #[serde(default)]
    level: Option<crate::level::Level>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    years: Option<usize>,
    #[serde(default)]
    widest: Option<usize>,
    #[serde(default)]
    la: Option<String>,
}

fn run_stage(
    p: &Pipeline,
    path: &Path,
    stage: &Stage,
    catalogue: &Arc<Catalogue>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<String> {
    use crate::analysis::data::Data;
    use crate::cli;
    let ctx = StageCtx {
        pipeline: p,
        path,
        stage,
    };
    let open = |store: &Path| crate::store::Store::at(store);
    match stage.run.as_str() {
        "demo" => {
            let a: cli::DemoArgs =
                stage_args(&ctx, &[], ctx.fill(false, Some(("out", None))), &[])?;
            let s = crate::commands::demo::generate(&a)?;
            Ok(format!(
                "{} files, {} schools, {} LAs",
                s.files.len(),
                s.schools,
                s.las
            ))
        }
        "ingest" => {
            let mut fill = ctx.fill(false, Some(("store", Some(cli::DEFAULT_STORE))));
            fill.insert(
                "paths".into(),
                toml::Value::Array(stage.inputs.iter().map(|i| path_value(i)).collect()),
            );
            let a: cli::IngestArgs = stage_args(&ctx, &[], fill, &[])?;
            let summary = crate::commands::ingest::ingest(
                &a.paths,
                &a.store.store,
                catalogue.clone(),
                a.year,
            )?;
            warnings.extend(
                summary
                    .warnings
                    .iter()
                    .map(|w| format!("stage {}: {w}", stage.name)),
            );
            if summary.unrecognised > 0 {
                warnings.push(format!(
                    "stage {}: {} file(s) not recognised",
                    stage.name, summary.unrecognised
                ));
            }
            let results = summary.run.store_rows.get("results").copied().unwrap_or(0);
            Ok(format!(
                "{} files, store now holds {} results",
                summary.run.outcomes.len(),
                results
            ))
        }
        "booklet" => {
            let mut fill = ctx.fill(true, Some(("out", Some("output/booklets"))));
            // Edited templates: an input directory holding booklet.html.j2.
            if let Some(t) = stage
                .inputs
                .iter()
                .find(|i| i.join("booklet.html.j2").exists())
            {
                fill.insert("templates".into(), path_value(t));
            }
            let la_keys = [
                ("code", "la"),
                ("name", "la_name"),
                ("primary_colour", "colour"),
                ("logo", "logo"),
                ("all_schools", "all_schools"),
                ("year", "year"),
                ("neighbours", "neighbours"),
                ("html_only", "html_only"),
            ];
            let mut a: cli::BookletArgs = stage_args(&ctx, &la_keys, fill, &[])?;
            // Pupil figures a pipeline releases are recorded beside its outputs by default.
            if !a.pupils.is_empty() && a.ledger.is_none() {
                a.ledger = Some(crate::analysis::ledger::default_path(&a.out));
            }
            let store = open(&a.store.store);
            let data = Data::open(&store, catalogue)?;
            let (s, year) = crate::commands::booklet::build(&a, &data)?;
            let mut said = format!(
                "{} booklets for {}",
                s.written,
                crate::year::academic_label(year)
            );
            if !s.no_attainment.is_empty() {
                said.push_str(&format!("; {}", s.no_attainment_line()));
            }
            Ok(said)
        }
        "categorise" => {
            ctx.needs_output("directory for the register")?;
            let a: cli::CategoriseArgs =
                stage_args(&ctx, &[], ctx.fill(false, Some(("out", None))), &[])?;
            let data_store = open(&a.store.store);
            let data = Data::open(&data_store, catalogue)?;
            let req = crate::commands::categorise::CategoriseRequest {
                rules: &a.rules,
                la: a.la.as_deref(),
                year: a.year.year,
            };
            let (rules, results) = crate::commands::categorise::run(&data, &req)?;
            let out = a.out.as_deref().unwrap_or(Path::new("."));
            crate::commands::categorise::write_register(out, &rules, &results)?;
            let on = crate::analysis::categorise::register(&rules, &results).len();
            Ok(format!(
                "{} schools categorised with {}, {on} on the register",
                results.len(),
                rules.name
            ))
        }
        "charts" => {
            let a: cli::ChartsArgs = stage_args(
                &ctx,
                &[("code", "la")],
                ctx.fill(true, Some(("out", Some("output/charts")))),
                &[],
            )?;
            let store = open(&a.store.store);
            let data = Data::open(&store, catalogue)?;
            let pack = crate::commands::charts::from_args(&a, &data, p.charts.as_ref())?;
            for s in &pack.skipped {
                warnings.push(format!("stage {}: skipped {s}", stage.name));
            }
            Ok(format!(
                "{} charts for {} {}",
                pack.charts.len(),
                pack.la_code,
                pack.la_name
            ))
        }
        "workbook" => {
            ctx.needs_output("file (.xlsx)")?;
            let a: cli::WorkbookArgs = stage_args(
                &ctx,
                &[("code", "la")],
                ctx.fill(true, Some(("out", None))),
                &[],
            )?;
            let store = open(&a.store.store);
            let data = Data::open(&store, catalogue)?;
            let sheets = crate::commands::workbook::from_args(&a, &data)?;
            Ok(sheets
                .iter()
                .map(|(n, r)| format!("{n} {r}"))
                .collect::<Vec<_>>()
                .join(", "))
        }
        "pupil-gaps" => {
            ctx.needs_output("directory")?;
            let out = stage.outputs[0].clone();
            let o: PupilGapsStage = toml::Value::Table(stage.options.clone().into_iter().collect())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    ConfigError::new(
                        path.display().to_string(),
                        format!("stage {:?}: {}", stage.name, e.to_string().trim()),
                    )
                })?;
            let store = open(&ctx.store_input());
            let (data, _) = crate::commands::pupils::load(std::slice::from_ref(&o.pupils), false)?;
            let places = crate::commands::pupils::places(&store, o.partnerships.as_ref())?;
            // Every question of the stage is released together, into an output tree whose
            // ledger says what was released there before (by default beside the output).
            let ledger = o
                .ledger
                .clone()
                .unwrap_or_else(|| crate::analysis::ledger::default_path(&out));
            let la_code = p.la.get("code").and_then(|v| v.as_str());
            let mut opts = Vec::new();
            for q in &o.queries {
                let level = q.level.unwrap_or(Level::School);
                if !Level::PUPIL_DATA.contains(&level) {
                    anyhow::bail!(ConfigError::new(
                        &stage.name,
                        format!(
                            "query {}: level {} is not school, partnership or la",
                            q.name,
                            level.as_str()
                        )
                    ));
                }
                opts.push(crate::commands::pupils::PupilGapOptions {
                    pupils: std::slice::from_ref(&o.pupils),
                    measure: &q.measure,
                    group: &q.group,
                    level,
                    year: q.year,
                    years: q.years.unwrap_or(3),
                    only: vec![],
                    la: q.la.as_deref().or(la_code),
                    prior_means: o.prior_means.as_ref(),
                    partnerships: o.partnerships.as_ref(),
                    threshold: o.threshold,
                    widest: q.widest,
                    allow_bad_rows: false,
                    ledger: None,
                });
            }
            let (tables, notes) =
                crate::commands::pupils::answer_all(&data, &places, &opts, Some(&ledger))?;
            warnings.extend(notes.iter().map(|n| format!("stage {}: {n}", stage.name)));
            let mut written = 0;
            for (q, rows) in o.queries.iter().zip(&tables) {
                write_atomic(
                    &out.join(format!("{}.csv", q.name)),
                    crate::commands::pupils::print(rows, crate::output::Format::Csv).as_bytes(),
                )?;
                write_atomic(
                    &out.join(format!("{}.json", q.name)),
                    crate::commands::pupils::print(rows, crate::output::Format::Json).as_bytes(),
                )?;
                written += 1;
            }
            Ok(format!("{written} questions answered from pupil data"))
        }
        "audit" => {
            // inputs: the output directories to check; fails if any disclosive figure is found.
            let mut fill = toml::Table::new();
            fill.insert("dir".into(), path_value(Path::new(".")));
            let a: cli::AuditArgs = stage_args(&ctx, &[], fill, &[])?;
            let r = crate::commands::audit::audit(&stage.inputs, a.threshold)?;
            for n in &r.not_checked {
                warnings.push(format!("stage {}: not checked: {n}", stage.name));
            }
            crate::commands::audit::refuse_findings(&r)?;
            Ok(format!(
                "{} files checked, no disclosive figure",
                r.files_checked
            ))
        }
        "target-forms" => {
            let la_keys = [
                ("code", "la"),
                ("all_schools", "all_schools"),
                ("year", "year"),
                ("neighbours", "neighbours"),
            ];
            let a: cli::FormsArgs = stage_args(
                &ctx,
                &la_keys,
                ctx.fill(true, Some(("out", Some("output/target-forms")))),
                &[],
            )?;
            let store = open(&a.store.store);
            let data = Data::open(&store, catalogue)?;
            let (s, year) = crate::commands::targets::forms_from_args(&a, &data)?;
            Ok(format!(
                "{} target forms for {}",
                s.written.len(),
                crate::year::academic_label(year + 1)
            ))
        }
        other => anyhow::bail!(ConfigError::new(
            &stage.name,
            format!("unknown step {other}")
        )),
    }
}
