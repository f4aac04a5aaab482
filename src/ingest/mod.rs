//! Ingest: one reader per file family, chosen by what the file contains (its header
//! and values), never by its name. Every reader turns a file into a [`Batch`] of
//! canonical rows; `store` merges batches into the parquet store.

pub mod areas;
pub mod check;
pub mod gias;
pub mod lait;
pub mod neighbours;
pub mod ofsted;
pub mod perf;
pub mod pupils;
pub mod school_information;
pub mod table;
pub mod target_return;
pub mod tidy;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::catalogue::{Catalogue, Dataset};
use crate::error::{IngestError, IngestWarning};
use crate::store::schema::{Batch, Level, SourceRow};
use crate::value::{parse_cell, Cell, Status};
use table::{Row, Table};

/// Options that apply to every file of one ingest.
#[derive(Clone)]
pub struct IngestOptions {
    pub catalogue: Arc<Catalogue>,
    /// Overrides the year found from content or path.
    pub year: Option<i32>,
}

/// What `attain inspect` and the ingest summary say about one table.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TableReport {
    pub sheet: Option<String>,
    pub dataset: String,
    pub description: String,
    pub year: Option<i32>,
    pub year_from: String,
    pub version: String,
    /// What part of England the file covers: a national file or one LA's download (performance
    /// tables); with `version`, what decides which file's figure is used when two give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<String>,
    pub header_row: u64,
    pub data_rows: usize,
    pub rows_by_record: BTreeMap<String, usize>,
    pub mapped_columns: Vec<String>,
    pub unmapped_columns: Vec<String>,
    pub status_counts: BTreeMap<String, usize>,
    pub results: usize,
    pub notes: Vec<String>,
    /// What was read around: each names file, row and column; any makes the exit code 1.
    pub warnings: Vec<IngestWarning>,
}

/// The outcome for one file.
#[derive(Debug)]
pub enum FileOutcome {
    Ingested {
        path: PathBuf,
        sha256: String,
        tables: Vec<TableReport>,
        batch: Batch,
        skipped_sheets: Vec<String>,
    },
    Skipped {
        path: PathBuf,
        reason: String,
    },
    /// No dataset matches. `row` and `column` point at a header that nearly matched one.
    Unrecognised {
        path: PathBuf,
        reason: String,
        row: Option<u64>,
        column: Option<String>,
    },
    Failed(IngestError),
}

impl FileOutcome {
    pub fn path(&self) -> &Path {
        match self {
            FileOutcome::Ingested { path, .. }
            | FileOutcome::Skipped { path, .. }
            | FileOutcome::Unrecognised { path, .. } => path,
            FileOutcome::Failed(e) => &e.file,
        }
    }
}

/// Files named on the command line, with directories walked (sorted, hidden files and
/// symlink loops skipped). `true` marks a file named explicitly.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, IngestError> {
    Ok(collect(paths)?.files)
}

/// What a walk of the paths found.
#[derive(Default)]
pub struct Walk {
    /// Files to read; `true` marks a file named explicitly.
    pub files: Vec<(PathBuf, bool)>,
    /// Links to a directory or file already reached: listed, not read twice.
    pub skipped: Vec<(PathBuf, String)>,
    /// Links that cannot be followed (a loop, or a missing target): exit code 1.
    pub warnings: Vec<IngestWarning>,
}

/// Walk the paths. Every directory and file is reached once, by its real (canonical) path,
/// so a link back up the tree or a loop of links ends the walk instead of running forever.
pub fn collect(paths: &[PathBuf]) -> Result<Walk, IngestError> {
    let mut walk = Walk::default();
    let mut seen = HashSet::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| IngestError::at_file(p, format!("cannot read: {e}")))?;
        if meta.is_dir() {
            walk_dir(p, &mut walk, &mut seen, 0)?;
        } else {
            if let Ok(c) = std::fs::canonicalize(p) {
                seen.insert(c);
            }
            walk.files.push((p.clone(), true));
        }
    }
    Ok(walk)
}

fn walk_dir(
    dir: &Path,
    walk: &mut Walk,
    seen: &mut HashSet<PathBuf>,
    depth: usize,
) -> Result<(), IngestError> {
    let canon = std::fs::canonicalize(dir)
        .map_err(|e| IngestError::at_file(dir, format!("cannot resolve: {e}")))?;
    if !seen.insert(canon.clone()) {
        walk.skipped.push((
            dir.to_path_buf(),
            format!(
                "a link to the directory {}, already read: not read twice",
                canon.display()
            ),
        ));
        return Ok(());
    }
    if depth > 64 {
        walk.warnings.push(IngestWarning::at_file(
            dir,
            "directories nested more than 64 deep: not read",
        ));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| IngestError::at_file(dir, format!("cannot list: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let name = e
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        match std::fs::metadata(&e) {
            Ok(m) if m.is_dir() => walk_dir(&e, walk, seen, depth + 1)?,
            // A named pipe would block the read for ever and a device never ends: say so, and go on.
            Ok(m) if !m.is_file() => walk.warnings.push(IngestWarning::at_file(
                &e,
                format!(
                    "{}, not a regular file: skipped",
                    table::not_regular(&m).unwrap_or("not a regular file")
                ),
            )),
            Ok(_) => match std::fs::canonicalize(&e) {
                Ok(c) if !seen.insert(c.clone()) => walk.skipped.push((
                    e,
                    format!(
                        "a link to the file {}, already read: not read twice",
                        c.display()
                    ),
                )),
                _ => walk.files.push((e, false)),
            },
            // A link in a loop (a -> b -> a) or to nothing: say so, and go on.
            Err(err) => walk.warnings.push(IngestWarning::at_file(
                &e,
                format!("a symbolic link that cannot be followed ({err}): skipped"),
            )),
        }
    }
    Ok(())
}

/// The columns a reader setting names, those present in the header: a name, or a list of
/// alternative names (or of parts, such as address lines), in order.
pub(crate) fn setting_columns(t: &Table, ds: &Dataset, key: &str) -> Vec<usize> {
    match ds.settings.get(key) {
        Some(toml::Value::String(s)) => t.col(s).into_iter().collect(),
        Some(toml::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .filter_map(|n| t.col(n))
            .collect(),
        _ => vec![],
    }
}

/// The first column a reader setting names that the header has.
pub(crate) fn setting_column(t: &Table, ds: &Dataset, key: &str) -> Option<usize> {
    setting_columns(t, ds, key).first().copied()
}

/// A reader setting that lists values (type groups, names).
pub(crate) fn setting_values(ds: &Dataset, key: &str) -> Vec<String> {
    ds.settings
        .get(key)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// How a file is presented in the store and in messages: as given, without a leading "./".
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

/// Read and recognise one file. Never panics; every problem is an outcome.
pub fn read_file(path: &Path, opts: &IngestOptions) -> FileOutcome {
    match table::read_input(path) {
        Ok(bytes) => read_bytes(path, &bytes, opts),
        Err(e) => FileOutcome::Failed(e),
    }
}

/// Recognise and read a file's bytes (`path` names it in messages; parquet is read from it).
pub fn read_bytes(path: &Path, bytes: &[u8], opts: &IngestOptions) -> FileOutcome {
    let sha = hex(&Sha256::digest(bytes));
    let result = if bytes.starts_with(b"PAR1") {
        read_parquet_file(path, opts)
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        read_workbook_file(path, bytes, opts)
    } else {
        read_text_file(path, bytes, opts)
    };
    match result {
        Ok(Read::Tables(tables, mut batch, skipped_sheets)) => {
            let version = tables
                .first()
                .map(|t| t.version.clone())
                .unwrap_or_default();
            batch.sources.push(SourceRow {
                source_file: display_path(path),
                sha256: sha.clone(),
                dataset: tables
                    .iter()
                    .map(|t| t.dataset.as_str())
                    .collect::<Vec<_>>()
                    .join("+"),
                year: tables.first().and_then(|t| t.year),
                year_from: tables
                    .first()
                    .map(|t| t.year_from.clone())
                    .unwrap_or_default(),
                version,
                rows: tables.iter().map(|t| t.data_rows as u64).sum(),
            });
            FileOutcome::Ingested {
                path: path.to_path_buf(),
                sha256: sha,
                tables,
                batch,
                skipped_sheets,
            }
        }
        Ok(Read::Skip(reason)) => FileOutcome::Skipped {
            path: path.to_path_buf(),
            reason,
        },
        Ok(Read::Unrecognised(reason, at)) => {
            let (row, column) = at.map(|(r, c)| (Some(r), Some(c))).unwrap_or((None, None));
            FileOutcome::Unrecognised {
                path: path.to_path_buf(),
                reason,
                row,
                column,
            }
        }
        Err(e) => FileOutcome::Failed(e),
    }
}

enum Read {
    Tables(Vec<TableReport>, Batch, Vec<String>),
    Skip(String),
    /// Why, and the header row and missing column of the nearest dataset, if one came close.
    Unrecognised(String, Option<(u64, String)>),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_parquet_file(path: &Path, opts: &IngestOptions) -> Result<Read, IngestError> {
    let cols = crate::store::frame::parquet_columns(path)
        .map_err(|e| IngestError::at_file(path, format!("unreadable parquet: {e}")))?;
    let names: HashSet<String> = cols.iter().map(|c| c.to_ascii_uppercase()).collect();
    let Some(ds) = recognise(&opts.catalogue, &names, None, true) else {
        return Ok(Read::Unrecognised(
            format!(
                "parquet file with columns {} matches no dataset in the catalogue",
                cols.join(", ")
            ),
            None,
        ));
    };
    match ds.reader.as_str() {
        "lait_long" => {
            let (report, batch) = lait::read_long(path, ds, opts)?;
            Ok(Read::Tables(vec![report], batch, vec![]))
        }
        other => Err(IngestError::at_file(
            path,
            format!(
                "dataset {} uses reader {other}, which cannot read parquet",
                ds.id
            ),
        )),
    }
}

/// What a figure is about: year, level, code, measure, group, scope and phase.
type FigureKey = (
    i32,
    Level,
    String,
    Arc<str>,
    Arc<str>,
    &'static str,
    &'static str,
);
/// Where a figure was read (sheet, row, column) and what it was (value bits, status).
type FigureAt = (String, u64, Arc<str>, Option<u64>, Status);

fn read_workbook_file(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
) -> Result<Read, IngestError> {
    let sheets = table::read_workbook(path, bytes)?;
    if sheets.iter().all(|s| s.rows.is_empty() && !s.hidden) {
        return Err(IngestError::at_file(
            path,
            "the workbook has no data: every sheet is empty",
        ));
    }
    let mut reports = Vec::new();
    let mut batch = Batch::default();
    let mut skipped = Vec::new();
    let mut skip_reasons = Vec::new();
    let mut nearest: Option<Near> = None;
    let mut hidden_warnings = Vec::new();
    // Each figure read, by what it is about, with the sheet, row and column it came from:
    // two sheets giving one school different figures cannot both be right.
    let mut figures: HashMap<FigureKey, FigureAt> = HashMap::new();
    for mut sheet in sheets {
        let name = sheet.name.clone();
        if sheet.hidden {
            // A hidden sheet is often an older copy kept out of sight: never let it win.
            skipped.push(format!("sheet {name:?}: hidden"));
            hidden_warnings.push(IngestWarning::at_file(
                path,
                format!(
                    "sheet {name:?} is hidden: not read (unhide it \
                in the workbook if it holds the data)"
                ),
            ));
            continue;
        }
        if sheet.rows.is_empty() {
            skipped.push(format!("sheet {name:?}: empty"));
            continue;
        }
        let mut warnings = Vec::new();
        let mut found = find_header(&opts.catalogue, &sheet.rows, Some(&name));
        if found.is_none() && !sheet.merged.is_empty() {
            // A header spread over rows with names in cells merged down: read it as one row.
            let filled = table::fill_merged_down(&mut sheet);
            found = find_header(&opts.catalogue, &sheet.rows, Some(&name));
            if let Some((at, _)) = found {
                let line = sheet.rows[at].line;
                warnings.push(IngestWarning::at(
                    path,
                    line,
                    None,
                    format!(
                        "sheet {name:?}: the header is spread over \
                    merged cells ({}): read row {line} as the header, with the merged names copied \
                    down",
                        filled.join(", ")
                    ),
                ));
            }
        }
        match found {
            Some((at, ds)) => {
                if ds.reader == "skip" {
                    skip_reasons.push(format!(
                        "sheet {name:?}: {}",
                        ds.skip_reason.clone().unwrap_or_default()
                    ));
                    continue;
                }
                let mut t = table::into_table(path, Some(name.clone()), sheet.rows, at, vec![]);
                t.warnings = warnings;
                let (report, b) = dispatch(&t, ds, opts)?;
                for r in &b.results {
                    let key = (
                        r.year,
                        r.level,
                        r.code.clone(),
                        r.measure.clone(),
                        r.group.clone(),
                        r.scope,
                        r.phase,
                    );
                    let here = (
                        name.clone(),
                        r.source_row,
                        r.source_column.clone(),
                        r.value.map(f64::to_bits),
                        r.status,
                    );
                    match figures.get(&key) {
                        Some(first)
                            if first.0 != name && (first.3, first.4) != (here.3, here.4) =>
                        {
                            let shown = |v: Option<u64>, s: Status| {
                                v.map(|b| f64::from_bits(b).to_string())
                                    .unwrap_or_else(|| s.token().to_string())
                            };
                            let msg = format!(
                                "sheet {name:?}: {} {} ({}, {}) is {} here but {} on sheet {:?}, \
                                 row {}, column {}: which is right cannot be told; remove the \
                                 wrong sheet",
                                r.level.as_str(),
                                r.code,
                                r.measure,
                                r.group,
                                shown(here.3, here.4),
                                shown(first.3, first.4),
                                first.0,
                                first.1,
                                first.2
                            );
                            return Err(IngestError::at(
                                path,
                                r.source_row,
                                Some(&r.source_column),
                                msg,
                            ));
                        }
                        Some(_) => {}
                        None => {
                            figures.insert(key, here);
                        }
                    }
                }
                reports.push(report);
                batch.append(b);
            }
            None => {
                if let Some(n) = nearest_dataset(&opts.catalogue, &sheet.rows, Some(&name)) {
                    skipped.push(format!("sheet {name:?}: not recognised ({})", n.describe()));
                    nearest = nearest.filter(|m| m.present >= n.present).or(Some(n));
                } else {
                    skipped.push(format!("sheet {name:?}: not recognised"));
                }
            }
        }
    }
    if let Some(first) = reports.first_mut() {
        let mut w = hidden_warnings;
        w.append(&mut first.warnings);
        first.warnings = w;
    }
    if reports.is_empty() {
        if !skip_reasons.is_empty() {
            return Ok(Read::Skip(skip_reasons.join("; ")));
        }
        return Ok(Read::Unrecognised(
            format!(
                "no sheet matches a dataset in the catalogue ({})",
                skipped.join("; ")
            ),
            nearest.map(|n| (n.line, n.missing[0].clone())),
        ));
    }
    Ok(Read::Tables(reports, batch, skipped))
}

fn read_text_file(path: &Path, bytes: &[u8], opts: &IngestOptions) -> Result<Read, IngestError> {
    let decoded = table::decode(path, bytes)?;
    let first_line = decoded.text.lines().next().unwrap_or("");
    if first_line.starts_with("# ") {
        return Ok(Read::Skip(
            "a Markdown text document (notes), not data".into(),
        ));
    }
    if !first_line.contains([',', ';', '\t'])
        && !decoded
            .text
            .lines()
            .take(20)
            .any(|l| l.contains([',', ';', '\t']))
    {
        return Ok(Read::Skip(
            "a text document, not delimited data (no commas, semicolons or tabs in its first \
            lines)"
                .into(),
        ));
    }
    let (mut notes, mut warnings) = (decoded.notes, decoded.warnings);
    let rows = table::parse_csv(path, &decoded.text, &mut notes, &mut warnings)?;
    if rows.is_empty() {
        return Err(IngestError::at_file(path, "the file has no rows"));
    }
    let found = find_header(&opts.catalogue, &rows, None);
    table::check_complete(path, &decoded.text, &rows, found.map(|(at, _)| &rows[at]))?;
    match found {
        Some((at, ds)) => {
            if ds.reader == "skip" {
                return Ok(Read::Skip(
                    ds.skip_reason
                        .clone()
                        .unwrap_or_else(|| ds.description.clone()),
                ));
            }
            let mut t = table::into_table(path, None, rows, at, notes);
            if t.rows.is_empty() {
                return Err(IngestError::at(
                    path,
                    t.header_line,
                    None,
                    format!("recognised as {} but has a header and no data rows", ds.id),
                ));
            }
            if let Some((line, byte)) = decoded.not_utf8 {
                warnings.push(table::not_utf8_warning(&t, line, byte));
            }
            t.warnings = warnings;
            let (report, batch) = dispatch(&t, ds, opts)?;
            Ok(Read::Tables(vec![report], batch, vec![]))
        }
        None => {
            if looks_like_prose(&rows) {
                return Ok(Read::Skip(
                    "text notes in CSV form (one column of prose), carries no results".into(),
                ));
            }
            let header: Vec<&str> = rows[0].cells.iter().take(12).collect();
            let mut reason = format!(
                "header [{}{}] matches no dataset in the catalogue",
                header.join(", "),
                if rows[0].cells.len() > 12 {
                    ", ..."
                } else {
                    ""
                }
            );
            let near = nearest_dataset(&opts.catalogue, &rows, None);
            if let Some(n) = &near {
                reason.push_str(&format!("; {}", n.describe()));
            }
            Ok(Read::Unrecognised(
                reason,
                near.map(|n| (n.line, n.missing[0].clone())),
            ))
        }
    }
}

/// The dataset a header came closest to matching: most of its required columns are there,
/// but not all (a column renamed or deleted).
struct Near {
    dataset: String,
    line: u64,
    present: usize,
    missing: Vec<String>,
}

impl Near {
    fn describe(&self) -> String {
        format!(
            "the header on row {} has {} of the columns {} needs, but not {}",
            self.line,
            self.present,
            self.dataset,
            self.missing.join(", ")
        )
    }
}

fn nearest_dataset(cat: &Catalogue, rows: &[Row], sheet: Option<&str>) -> Option<Near> {
    let mut best: Option<Near> = None;
    for r in rows.iter().take(20) {
        let names: HashSet<String> = r
            .cells
            .iter()
            .map(|c| {
                c.trim_matches(|ch: char| ch.is_whitespace() || ch == '\u{feff}')
                    .to_ascii_uppercase()
            })
            .filter(|c| !c.is_empty())
            .collect();
        if names.is_empty() {
            continue;
        }
        for d in &cat.datasets {
            let rule = &d.recognise;
            if rule.parquet
                || rule.all_of.len() < 2
                || rule
                    .sheet
                    .as_deref()
                    .is_some_and(|s| sheet.map(|x| !x.eq_ignore_ascii_case(s)).unwrap_or(true))
            {
                continue;
            }
            let (present, missing): (Vec<&String>, Vec<&String>) = rule
                .all_of
                .iter()
                .partition(|c| names.contains(&c.to_ascii_uppercase()));
            // At least half of the required columns, and at least two: a near miss, not chance.
            if present.len() < 2 || present.len() * 2 < rule.all_of.len() || missing.is_empty() {
                continue;
            }
            if best.as_ref().is_none_or(|b| present.len() > b.present) {
                best = Some(Near {
                    dataset: d.id.clone(),
                    line: r.line,
                    present: present.len(),
                    missing: missing.into_iter().cloned().collect(),
                });
            }
        }
    }
    best
}

/// Methodology notes saved as CSV: a single column of long sentences.
fn looks_like_prose(rows: &[Row]) -> bool {
    let sample: Vec<&Row> = rows.iter().take(50).collect();
    let single = sample
        .iter()
        .filter(|r| r.cells.iter().filter(|c| !c.trim().is_empty()).count() <= 1)
        .count();
    let long = sample
        .iter()
        .filter(|r| r.cells.iter().any(|c| c.len() > 60))
        .count();
    single * 10 >= sample.len() * 9 && long > 0
}

/// Find the header row (the first of the first 20 rows that a dataset recognises).
fn find_header<'a>(
    cat: &'a Catalogue,
    rows: &[Row],
    sheet: Option<&str>,
) -> Option<(usize, &'a Dataset)> {
    for (i, r) in rows.iter().take(20).enumerate() {
        let names: HashSet<String> = r
            .cells
            .iter()
            .map(|c| {
                c.trim_matches(|ch: char| ch.is_whitespace() || ch == '\u{feff}')
                    .to_ascii_uppercase()
            })
            .filter(|c| !c.is_empty())
            .collect();
        if names.is_empty() {
            continue;
        }
        if let Some(ds) = recognise(cat, &names, sheet, false) {
            return Some((i, ds));
        }
    }
    None
}

/// The first dataset (by priority) whose recognition rules the header satisfies.
pub fn recognise<'a>(
    cat: &'a Catalogue,
    names: &HashSet<String>,
    sheet: Option<&str>,
    parquet: bool,
) -> Option<&'a Dataset> {
    let has = |n: &String| names.contains(&n.to_ascii_uppercase());
    cat.datasets.iter().find(|d| {
        let r = &d.recognise;
        if r.parquet != parquet {
            return false;
        }
        if let Some(s) = &r.sheet {
            if sheet.map(|x| !x.eq_ignore_ascii_case(s)).unwrap_or(true) {
                return false;
            }
        } else if r.all_of.is_empty() && r.any_of.is_empty() {
            return false;
        }
        r.all_of.iter().all(has)
            && (r.any_of.is_empty() || r.any_of.iter().any(has))
            && !r.none_of.iter().any(has)
    })
}

fn dispatch(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    // A data row that repeats the header: two files pasted one after the other.
    if let Some(r) = t.rows.iter().find(|r| repeats_header(r, &t.headers)) {
        return Err(IngestError::at(
            &t.path,
            r.line,
            t.headers.first().map(String::as_str),
            format!(
                "this row repeats \
            the header (row {}): the file holds two files one after the other; split it",
                t.header_line
            ),
        ));
    }
    let (mut report, batch) = match ds.reader.as_str() {
        "performance_table" => perf::read(t, ds, opts)?,
        "tidy" => tidy::read(t, ds, opts)?,
        "gias" => gias::read(t, ds, opts)?,
        "school_information" => school_information::read(t, ds, opts)?,
        "ofsted_schools" => ofsted::read(t, ds, opts)?,
        "ofsted_report_cards" => ofsted::read_report_cards(t, ds, opts)?,
        "neighbours" => neighbours::read(t, ds, opts)?,
        "areas" => areas::read(t, ds, opts)?,
        "lait_dictionary" => lait::read_dictionary(t, ds, opts)?,
        other => {
            return Err(IngestError::at_file(
                &t.path,
                format!(
                    "catalogue dataset {} names an unknown reader {other:?}",
                    ds.id
                ),
            ))
        }
    };
    report.sheet = t.sheet.clone();
    report.header_row = t.header_line;
    report.data_rows = t.rows.len();
    report.dataset = ds.id.clone();
    report.description = ds.description.clone();
    let mut notes = t.notes.clone();
    notes.append(&mut report.notes);
    report.notes = notes;
    let mut warnings = t.warnings.clone();
    warnings.append(&mut report.warnings);
    report.warnings = warnings;
    report.results = batch.results.len();
    Ok((report, batch))
}

fn repeats_header(row: &Row, headers: &[String]) -> bool {
    let clean = |c: &str| {
        c.trim_matches(|ch: char| ch.is_whitespace() || ch == '\u{feff}' || ch == '"')
            .to_string()
    };
    let mut cells: Vec<String> = row.cells.iter().map(clean).collect();
    while cells.last().is_some_and(|c| c.is_empty()) {
        cells.pop();
    }
    let named = headers
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |i| i + 1);
    cells.len() >= 2 && cells.len() == named && cells.iter().zip(headers).all(|(c, h)| c == h)
}

/// Parse one cell, turning a bad value into an error that names file, row and column.
#[inline]
pub fn cell(t: &Table, row: &Row, col: usize) -> Result<Cell, IngestError> {
    parse_cell(row.get(col)).map_err(|bad| {
        // A workbook cell formatted as a date is read as its date (2019-09-01): say what it is.
        let reason = if is_iso_date(bad.text.trim()) {
            "a date, not a number (the cell is formatted as a date: give \
            the figure, formatted as a number)"
        } else {
            bad.reason
        };
        IngestError::at(
            &t.path,
            row.line,
            t.headers.get(col).map(String::as_str),
            format!(
                "{:?}: \
            {}",
                bad.text, reason
            ),
        )
    })
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Resolve a file's year: `--year`, else content, else a year in its path, else a known
/// header signature (edition) in the catalogue. Returns the year and how it was found.
pub fn resolve_year(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
    from_content: Option<i32>,
) -> Result<(i32, String), IngestError> {
    if let Some(y) = opts.year {
        return Ok((y, "--year".into()));
    }
    if let Some(y) = from_content {
        return Ok((y, "content".into()));
    }
    if let Some(y) = prior_year_suffix(t, ds) {
        return Ok((y, "content (newest prior-year column + 1)".into()));
    }
    if let Some(y) = crate::year::year_from_path(&t.path) {
        return Ok((y, "path".into()));
    }
    for e in &ds.editions {
        if t.has_all(&e.all_of) && !e.none_of.iter().any(|c| t.col(c).is_some()) {
            return Ok((e.year, format!("header signature: {}", e.note)));
        }
    }
    Err(IngestError::at_file(
        &t.path,
        format!(
            "recognised as {} but its year cannot be told from its content or path: pass --year",
            ds.id
        ),
    ))
}

fn prior_year_suffix(t: &Table, ds: &Dataset) -> Option<i32> {
    let mut best: Option<i32> = None;
    for pat in &ds.year.prior_year_columns {
        let Some((pre, post)) = pat.split_once("{yy}") else {
            continue;
        };
        for h in &t.headers {
            let hu = h.to_ascii_uppercase();
            if let Some(rest) = hu.strip_prefix(&pre.to_ascii_uppercase()) {
                if let Some(yy) = rest.strip_suffix(&post.to_ascii_uppercase()) {
                    if yy.len() == 2 && yy.bytes().all(|c| c.is_ascii_digit()) {
                        let y = 2000 + yy.parse::<i32>().ok()? + 1;
                        best = Some(best.map_or(y, |b| b.max(y)));
                    }
                }
            }
        }
    }
    best
}

/// The data version a file name hints at (content carries it for EES and LAIT).
pub fn version_hint(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.contains("provisional") {
        "provisional"
    } else if name.contains("revised") {
        "revised"
    } else if name.contains("final") {
        "final"
    } else {
        "unknown"
    }
}

pub fn count_status(report: &mut TableReport, s: Status) {
    *report
        .status_counts
        .entry(s.token().to_string())
        .or_default() += 1;
}

pub fn count_record(report: &mut TableReport, level: Level, scope: &str) {
    let key = match (level, scope) {
        (Level::National, "all_schools") => "national (all schools)".to_string(),
        (Level::National, _) => "national".to_string(),
        (l, _) => l.as_str().to_string(),
    };
    *report.rows_by_record.entry(key).or_default() += 1;
}

/// Result of ingesting many files into the store.
pub struct IngestRun {
    pub outcomes: Vec<FileOutcome>,
    pub store_rows: BTreeMap<String, usize>,
    /// What happened around a store write that succeeded (an old copy left behind).
    pub store_notes: Vec<String>,
    /// Warnings from the directory walk (links that cannot be followed).
    pub walk_warnings: Vec<IngestWarning>,
}

impl IngestRun {
    pub fn failures(&self) -> Vec<&IngestError> {
        self.outcomes
            .iter()
            .filter_map(|o| {
                if let FileOutcome::Failed(e) = o {
                    Some(e)
                } else {
                    None
                }
            })
            .collect()
    }

    /// Every warning of the run: the walk's, then each file's, in file order.
    pub fn warnings(&self) -> Vec<&IngestWarning> {
        let tables = self.outcomes.iter().flat_map(|o| match o {
            FileOutcome::Ingested { tables, .. } => tables
                .iter()
                .flat_map(|t| t.warnings.iter())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        });
        self.walk_warnings.iter().chain(tables).collect()
    }
}

/// Read every file (in parallel; parquet sequentially, as polars has its own pool),
/// then, only if none failed, merge them into the store in one atomic write.
pub fn ingest(
    paths: &[PathBuf],
    store: &crate::store::Store,
    opts: &IngestOptions,
) -> anyhow::Result<IngestRun> {
    let walk = collect(paths)?;
    let progress = crate::progress::task("ingest", walk.files.len());
    let (parquet, other): (Vec<_>, Vec<_>) =
        walk.files.into_iter().partition(|(p, _)| is_parquet(p));
    let mut outcomes: Vec<(PathBuf, bool, FileOutcome)> = parquet
        .into_iter()
        .map(|(p, e)| {
            let o = read_file(&p, opts);
            progress.step();
            (p, e, o)
        })
        .collect();
    outcomes.extend(
        other
            .into_par_iter()
            .map(|(p, e)| {
                let o = read_file(&p, opts);
                progress.step();
                (p, e, o)
            })
            .collect::<Vec<_>>(),
    );
    outcomes.extend(
        walk.skipped
            .into_iter()
            .map(|(p, reason)| (p.clone(), false, FileOutcome::Skipped { path: p, reason })),
    );
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut final_outcomes = Vec::new();
    for (_, explicit, o) in outcomes {
        // A file named explicitly that cannot be recognised is an error; in a walk it is reported.
        let o = match o {
            FileOutcome::Unrecognised {
                path,
                reason,
                row,
                column,
            } if explicit => FileOutcome::Failed(IngestError {
                file: path,
                row,
                column,
                message: format!("not recognised: {reason}"),
            }),
            other => other,
        };
        final_outcomes.push(o);
    }
    let mut run = IngestRun {
        outcomes: final_outcomes,
        store_rows: BTreeMap::new(),
        store_notes: Vec::new(),
        walk_warnings: walk.warnings,
    };
    if !run.failures().is_empty() {
        return Ok(run); // nothing is written when any input failed
    }
    let mut batch = Batch::default();
    for o in run.outcomes.iter_mut() {
        if let FileOutcome::Ingested { batch: b, .. } = o {
            batch.append(std::mem::take(b));
        }
    }
    let summary = store.write_batch(&batch, &opts.catalogue)?;
    run.store_rows = summary.rows;
    run.store_notes = summary.notes;
    Ok(run)
}

fn is_parquet(p: &Path) -> bool {
    use std::io::Read as _;
    // Opening a named pipe blocks until something writes to it: look only at regular files.
    if !std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map(|_| &magic == b"PAR1")
        .unwrap_or(false)
}
