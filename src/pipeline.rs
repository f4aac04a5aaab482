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

/// Every regular file under the paths that exist, sorted, with its sha256.
fn hash_files(paths: &[PathBuf]) -> std::io::Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
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

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !p.exists() {
        return Ok(());
    }
    if std::fs::symlink_metadata(p)?.file_type().is_symlink() && !p.is_dir() && !p.is_file() {
        return Ok(()); // a link to something that is neither: nothing to read
    }
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            collect(&e, out)?;
        }
    } else if p.is_file() {
        // Regular files only: a FIFO or a device would hang or never end.
        out.push(p.to_path_buf());
    }
    Ok(())
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
    for stage in &p.stages {
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
        let detail = run_stage(&p, stage, &catalogue, &mut warnings)?;
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

fn run_stage(
    p: &Pipeline,
    stage: &Stage,
    catalogue: &Arc<Catalogue>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<String> {
    match stage.run.as_str() {
        "demo" => {
            let mut opts = crate::demo::DemoOptions::default();
            if let Some(o) = stage.outputs.first() {
                opts.out_dir = o.clone();
            }
            if let Some(n) = stage.options.get("schools").and_then(|v| v.as_integer()) {
                opts.schools = n as usize;
            }
            if let Some(n) = stage.options.get("las").and_then(|v| v.as_integer()) {
                opts.las = n as usize;
            }
            if let Some(n) = stage.options.get("seed").and_then(|v| v.as_integer()) {
                opts.seed = n as u64;
            }
            let s = crate::demo::generate(&opts)?;
            Ok(format!(
                "{} files, {} schools, {} LAs",
                s.files.len(),
                s.schools,
                s.las
            ))
        }
        "ingest" => {
            let store = stage
                .outputs
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/store"));
            let year = stage
                .options
                .get("year")
                .and_then(|v| v.as_integer())
                .map(|y| y as i32);
            let summary =
                crate::commands::ingest::ingest(&stage.inputs, &store, catalogue.clone(), year)?;
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
            let opt = |k: &str| stage.options.get(k).or_else(|| p.la.get(k));
            let store_dir = stage
                .inputs
                .iter()
                .find(|i| i.join("results.parquet").exists())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/store"));
            let out = stage
                .outputs
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/booklets"));
            let ledger = stage
                .options
                .get("ledger")
                .and_then(|v| v.as_str())
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::analysis::ledger::default_path(&out));
            let store = crate::store::Store::at(&store_dir);
            let data = crate::analysis::data::Data::open(&store, catalogue)?;
            let year = match opt("year").and_then(|v| v.as_integer()) {
                Some(y) => y as i32,
                None => data
                    .latest_year("ks2_rwm_expected", crate::store::schema::Level::School)?
                    .or(data.latest_year("ks4_attainment8", crate::store::schema::Level::School)?)
                    .ok_or_else(|| {
                        ConfigError::new(&stage.name, "the store has no KS2 or KS4 school results")
                    })?,
            };
            let sel = crate::render::booklet::Selection {
                urns: vec![],
                la: opt("code").and_then(|v| v.as_str()).map(str::to_string),
                all_schools: opt("all_schools")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
            };
            let opts = crate::render::booklet::Options {
                out,
                year,
                neighbours_model: opt("neighbours")
                    .and_then(|v| v.as_integer())
                    .unwrap_or(2021) as i32,
                la_colour: opt("primary_colour")
                    .and_then(|v| v.as_str())
                    .unwrap_or("#1f4e79")
                    .to_string(),
                la_name: opt("name").and_then(|v| v.as_str()).map(str::to_string),
                logo: opt("logo").and_then(|v| v.as_str()).map(PathBuf::from),
                templates: stage
                    .inputs
                    .iter()
                    .find(|i| i.join("booklet.html.j2").exists())
                    .cloned(),
                html: true,
                pdf: !opt("html_only").and_then(|v| v.as_bool()).unwrap_or(false),
                pupils: stage
                    .options
                    .get("pupils")
                    .and_then(|v| v.as_str())
                    .map(|d| crate::render::booklet::PupilInputs {
                        paths: vec![PathBuf::from(d)],
                        prior_means: stage
                            .options
                            .get("prior_means")
                            .and_then(|v| v.as_str())
                            .map(PathBuf::from),
                        threshold: stage
                            .options
                            .get("threshold")
                            .and_then(|v| v.as_integer())
                            .map(|t| t as u64)
                            .unwrap_or(crate::analysis::disclosure::DEFAULT_THRESHOLD),
                        ledger: Some(ledger),
                    }),
            };
            let s = crate::render::booklet::run(&data, &sel, &opts)?;
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
            // options: rules (required), store (default output/store), la, year; outputs[0] = register directory.
            let opt_str = |k: &str| {
                stage
                    .options
                    .get(k)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let rules = opt_str("rules").ok_or_else(|| ConfigError::new(&stage.name, "the categorise step needs options.rules (a rules file, e.g. pipelines/rules/merton.toml)"))?;
            let out = stage.outputs.first().cloned().ok_or_else(|| {
                ConfigError::new(
                    &stage.name,
                    "the categorise step needs an output directory for the register",
                )
            })?;
            let store =
                crate::store::Store::at(opt_str("store").unwrap_or_else(|| "output/store".into()));
            let la = opt_str("la");
            let year = stage
                .options
                .get("year")
                .and_then(|v| v.as_integer())
                .map(|y| y as i32);
            let data = crate::analysis::data::Data::open(&store, catalogue)?;
            let req = crate::commands::categorise::CategoriseRequest {
                rules: Path::new(&rules),
                la: la.as_deref(),
                year,
            };
            let (rules, results) = crate::commands::categorise::run(&data, &req)?;
            crate::commands::categorise::write_register(&out, &rules, &results)?;
            let on = crate::analysis::categorise::register(&rules, &results).len();
            Ok(format!(
                "{} schools categorised with {}, {on} on the register",
                results.len(),
                rules.name
            ))
        }
        "charts" => {
            // The LA from options.la or [la].code; settings from options.config (a file) or the
            // pipeline's [charts] section; store = the input holding results.parquet.
            let la = stage
                .options
                .get("la")
                .or_else(|| p.la.get("code"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    ConfigError::new(&stage.name, "the charts step needs options.la or [la] code")
                })?;
            let cfg = match stage.options.get("config").and_then(|v| v.as_str()) {
                Some(f) => crate::commands::charts::ChartsConfig::load(Path::new(f))?,
                None => match &p.charts {
                    Some(t) => crate::commands::charts::ChartsConfig::from_table("[charts]", t)?,
                    None => crate::commands::charts::ChartsConfig::default(),
                },
            };
            let store_dir = stage
                .inputs
                .iter()
                .find(|i| i.join("results.parquet").exists())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/store"));
            let out = stage
                .outputs
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/charts"));
            let store = crate::store::Store::at(&store_dir);
            let data = crate::analysis::data::Data::open(&store, catalogue)?;
            let pack = crate::commands::charts::run(&data, &la, &cfg, &out)?;
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
            // options: la (default [la] code), rules (default pipelines/rules/merton.toml), map,
            // neighbours; inputs: the store; outputs[0]: the .xlsx file.
            let opt_str = |k: &str| {
                stage
                    .options
                    .get(k)
                    .or_else(|| if k == "la" { p.la.get("code") } else { None })
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let la = opt_str("la").ok_or_else(|| {
                ConfigError::new(
                    &stage.name,
                    "the workbook step needs options.la or [la] code",
                )
            })?;
            let out = stage.outputs.first().cloned().ok_or_else(|| {
                ConfigError::new(
                    &stage.name,
                    "the workbook step needs an output file (.xlsx)",
                )
            })?;
            let rules = PathBuf::from(
                opt_str("rules").unwrap_or_else(|| "pipelines/rules/merton.toml".into()),
            );
            let map = opt_str("map").map(PathBuf::from);
            let store_dir = stage
                .inputs
                .iter()
                .find(|i| i.join("results.parquet").exists())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/store"));
            let store = crate::store::Store::at(&store_dir);
            let data = crate::analysis::data::Data::open(&store, catalogue)?;
            let neighbours = stage
                .options
                .get("neighbours")
                .and_then(|v| v.as_integer())
                .unwrap_or(2021) as i32;
            let req = crate::commands::workbook::WorkbookRequest {
                la: &la,
                out: &out,
                rules: &rules,
                map: map.as_deref(),
                neighbours,
            };
            let sheets = crate::commands::workbook::run(&data, &req)?;
            Ok(sheets
                .iter()
                .map(|(n, r)| format!("{n} {r}"))
                .collect::<Vec<_>>()
                .join(", "))
        }
        "pupil-gaps" => {
            // options: pupils (dir or file), prior_means, partnerships, threshold, and [[...queries]]:
            // each { name, measure, group, level = "school", years = 3, widest }.
            let opt_str = |k: &str| {
                stage
                    .options
                    .get(k)
                    .and_then(|v| v.as_str())
                    .map(PathBuf::from)
            };
            let pupils = opt_str("pupils").ok_or_else(|| {
                ConfigError::new(
                    &stage.name,
                    "the pupil-gaps step needs options.pupils (a directory of pupil files)",
                )
            })?;
            let out = stage.outputs.first().cloned().ok_or_else(|| {
                ConfigError::new(&stage.name, "the pupil-gaps step needs an output directory")
            })?;
            let (prior, maps) = (opt_str("prior_means"), opt_str("partnerships"));
            let threshold = stage
                .options
                .get("threshold")
                .and_then(|v| v.as_integer())
                .map(|t| t as u64)
                .unwrap_or(crate::analysis::disclosure::DEFAULT_THRESHOLD);
            let store = crate::store::Store::at(
                stage
                    .inputs
                    .iter()
                    .find(|i| i.join("results.parquet").exists())
                    .cloned()
                    .unwrap_or_else(|| PathBuf::from("output/store")),
            );
            let queries = stage
                .options
                .get("queries")
                .and_then(|v| v.as_array())
                .ok_or_else(|| {
                    ConfigError::new(&stage.name, "the pupil-gaps step needs options.queries")
                })?;
            let (data, _) = crate::commands::pupils::load(std::slice::from_ref(&pupils), false)?;
            let places = crate::commands::pupils::places(&store, maps.as_ref())?;
            // Every question of the stage is released together, into an output tree whose
            // ledger says what was released there before (options.ledger, by default beside
            // the output directory).
            let ledger =
                opt_str("ledger").unwrap_or_else(|| crate::analysis::ledger::default_path(&out));
            let mut opts = Vec::new();
            let mut names = Vec::new();
            for q in queries {
                let get = |k: &str| q.get(k).and_then(|v| v.as_str());
                let (Some(name), Some(measure), Some(group)) =
                    (get("name"), get("measure"), get("group"))
                else {
                    anyhow::bail!(ConfigError::new(
                        &stage.name,
                        "each query needs name, measure and group"
                    ));
                };
                let level = match get("level").unwrap_or("school") {
                    "school" => crate::analysis::pupils::Unit::School,
                    "partnership" => crate::analysis::pupils::Unit::Partnership,
                    "la" => crate::analysis::pupils::Unit::La,
                    other => anyhow::bail!(ConfigError::new(
                        &stage.name,
                        format!("query {name}: level {other:?} is not school, partnership or la")
                    )),
                };
                names.push(name);
                opts.push(crate::commands::pupils::PupilGapOptions {
                    pupils: std::slice::from_ref(&pupils),
                    measure,
                    group,
                    level,
                    year: q.get("year").and_then(|v| v.as_integer()).map(|y| y as i32),
                    years: q.get("years").and_then(|v| v.as_integer()).unwrap_or(3) as usize,
                    only: vec![],
                    la: get("la").or_else(|| p.la.get("code").and_then(|v| v.as_str())),
                    prior_means: prior.as_ref(),
                    partnerships: maps.as_ref(),
                    threshold,
                    widest: q
                        .get("widest")
                        .and_then(|v| v.as_integer())
                        .map(|n| n as usize),
                    allow_bad_rows: false,
                    ledger: None,
                });
            }
            let (tables, notes) =
                crate::commands::pupils::answer_all(&data, &places, &opts, Some(&ledger))?;
            warnings.extend(notes.iter().map(|n| format!("stage {}: {n}", stage.name)));
            let mut written = 0;
            for (name, rows) in names.iter().zip(&tables) {
                write_atomic(
                    &out.join(format!("{name}.csv")),
                    crate::commands::pupils::print(rows, crate::output::Format::Csv).as_bytes(),
                )?;
                write_atomic(
                    &out.join(format!("{name}.json")),
                    crate::commands::pupils::print(rows, crate::output::Format::Json).as_bytes(),
                )?;
                written += 1;
            }
            Ok(format!("{written} questions answered from pupil data"))
        }
        "audit" => {
            // inputs: the output directories to check; fails if any disclosive figure is found.
            let threshold = stage
                .options
                .get("threshold")
                .and_then(|v| v.as_integer())
                .map(|t| t as u64)
                .unwrap_or(crate::analysis::disclosure::DEFAULT_THRESHOLD);
            let mut checked = 0;
            let mut findings = Vec::new();
            for dir in stage.inputs.iter().filter(|d| d.exists()) {
                let r = crate::audit::audit(dir, threshold)?;
                checked += r.files_checked;
                for n in &r.not_checked {
                    warnings.push(format!("stage {}: not checked: {n}", stage.name));
                }
                findings.extend(r.findings);
            }
            if !findings.is_empty() {
                anyhow::bail!(crate::error::DisclosureFindings(
                    findings
                        .iter()
                        .map(|f| format!("{}, {}: {}", f.file, f.location, f.figure))
                        .collect()
                ));
            }
            Ok(format!("{checked} files checked, no disclosive figure"))
        }
        "target-forms" => {
            // options (default from [la]): code, all_schools, year (the results the targets build
            // on), neighbours; inputs: the store; outputs[0]: the forms' directory.
            let opt = |k: &str| stage.options.get(k).or_else(|| p.la.get(k));
            let store_dir = stage
                .inputs
                .iter()
                .find(|i| i.join("results.parquet").exists())
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/store"));
            let out = stage
                .outputs
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("output/target-forms"));
            let store = crate::store::Store::at(&store_dir);
            let data = crate::analysis::data::Data::open(&store, catalogue)?;
            let year = match opt("year").and_then(|v| v.as_integer()) {
                Some(y) => y as i32,
                None => crate::commands::targets::latest_results_year(&data)?.ok_or_else(|| {
                    ConfigError::new(&stage.name, "the store has no KS2 or KS4 school results")
                })?,
            };
            let sel = crate::render::booklet::Selection {
                urns: vec![],
                la: opt("code").and_then(|v| v.as_str()).map(str::to_string),
                all_schools: opt("all_schools")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
            };
            let neighbours = opt("neighbours")
                .and_then(|v| v.as_integer())
                .unwrap_or(2021) as i32;
            let s = crate::commands::targets::forms(
                &data,
                &crate::commands::targets::FormsRequest {
                    sel,
                    year,
                    neighbours,
                    out: &out,
                },
            )?;
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
