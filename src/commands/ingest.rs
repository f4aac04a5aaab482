//! `attain ingest` and `attain inspect`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::catalogue::Catalogue;
use crate::error::{IngestError, IngestFailures, IngestWarning};
use crate::ingest::{self, FileOutcome, IngestOptions, IngestRun};
use crate::output::{Format, Report};
use crate::store::Store;

/// Outcome of `attain ingest`, for the CLI and for pipeline stages.
pub struct IngestSummary {
    pub run: IngestRun,
    /// Files in a directory walk that no dataset recognised (a warning: exit code 1).
    pub unrecognised: usize,
    /// Everything read around (repeated rows, guessed encodings, links not followed...),
    /// each naming file, row and column (exit code 1).
    pub warnings: Vec<IngestWarning>,
}

pub fn ingest(
    paths: &[PathBuf],
    store_dir: &Path,
    catalogue: Arc<Catalogue>,
    year: Option<i32>,
) -> anyhow::Result<IngestSummary> {
    let opts = IngestOptions { catalogue, year };
    let store = Store::at(store_dir);
    let run = ingest::ingest(paths, &store, &opts)?;
    let failures: Vec<IngestError> = run.failures().into_iter().cloned().collect();
    if !failures.is_empty() {
        return Err(IngestFailures(failures).into());
    }
    let unrecognised = run
        .outcomes
        .iter()
        .filter(|o| matches!(o, FileOutcome::Unrecognised { .. }))
        .count();
    let warnings = run.warnings().into_iter().cloned().collect();
    Ok(IngestSummary {
        run,
        unrecognised,
        warnings,
    })
}

/// One line per file: what it was read as.
pub fn summary_report(run: &IngestRun) -> Report {
    let mut r = Report::new(&[
        "file", "outcome", "dataset", "year", "rows", "results", "note", "warnings",
    ]);
    for o in &run.outcomes {
        match o {
            FileOutcome::Ingested { path, tables, .. } => {
                for t in tables {
                    r.push(vec![
                        json!(ingest::display_path(path)),
                        json!("ingested"),
                        json!(t.dataset),
                        t.year.map(Value::from).unwrap_or(Value::Null),
                        json!(t.data_rows),
                        json!(t.results),
                        json!(t.notes.join("; ")),
                        json!(t
                            .warnings
                            .iter()
                            .map(|w| w.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")),
                    ]);
                }
            }
            FileOutcome::Skipped { path, reason } => r.push(vec![
                json!(ingest::display_path(path)),
                json!("skipped"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                json!(reason),
                Value::Null,
            ]),
            FileOutcome::Unrecognised { path, reason, .. } => r.push(vec![
                json!(ingest::display_path(path)),
                json!("not recognised"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                json!(reason),
                Value::Null,
            ]),
            FileOutcome::Failed(e) => r.push(vec![
                json!(ingest::display_path(&e.file)),
                json!("error"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                json!(e.to_string()),
                Value::Null,
            ]),
        }
    }
    r
}

/// What `attain inspect` prints, and the warnings it met (exit code 1 when there are any).
pub struct Inspection {
    pub text: String,
    pub warnings: Vec<IngestWarning>,
}

/// `attain inspect FILE`: what the file was recognised as, its year, rows by record type,
/// mapped and unmapped columns, how many of each status token, and any warnings.
pub fn inspect(
    path: &Path,
    catalogue: Arc<Catalogue>,
    year: Option<i32>,
    store: Option<&Path>,
    format: Format,
) -> anyhow::Result<Inspection> {
    let opts = IngestOptions {
        catalogue: catalogue.clone(),
        year,
    };
    let outcome = ingest::read_file(path, &opts);
    let v = match &outcome {
        FileOutcome::Ingested {
            path,
            sha256,
            tables,
            skipped_sheets,
            ..
        } => {
            let mut v = json!({
                "file": ingest::display_path(path),
                "sha256": sha256,
                "outcome": "recognised",
                "tables": tables,
                "ignored_sheets": skipped_sheets,
                "precedence_rule": PRECEDENCE_RULE,
            });
            if let Some(dir) = store {
                v["precedence"] = precedence_in_store(&Store::at(dir), catalogue, sha256, tables)?;
            }
            v
        }
        FileOutcome::Skipped { path, reason } => {
            json!({"file": ingest::display_path(path), "outcome": "skipped", "reason": reason})
        }
        FileOutcome::Unrecognised {
            path,
            reason,
            row,
            column,
        } => {
            return Err(IngestError {
                file: path.clone(),
                row: *row,
                column: column.clone(),
                message: format!("not recognised: {reason}"),
            }
            .into());
        }
        FileOutcome::Failed(e) => return Err(e.clone().into()),
    };
    let warnings = match &outcome {
        FileOutcome::Ingested { tables, .. } => tables
            .iter()
            .flat_map(|t| t.warnings.iter().cloned())
            .collect(),
        _ => Vec::new(),
    };
    let text = match format {
        Format::Json => crate::number::to_json_pretty(&v)? + "\n",
        Format::Csv => {
            // One line per table read from the file.
            let mut r = Report::new(&[
                "file",
                "outcome",
                "sheet",
                "dataset",
                "year",
                "year_from",
                "version",
                "data_rows",
                "results",
                "mapped_columns",
                "unmapped_columns",
                "statuses",
            ]);
            for t in v["tables"].as_array().cloned().unwrap_or_default() {
                let count = |k: &str| t[k].as_array().map(|a| a.len()).unwrap_or(0);
                let statuses = t["status_counts"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, n)| format!("{k}={n}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                r.push(vec![
                    v["file"].clone(),
                    v["outcome"].clone(),
                    t["sheet"].clone(),
                    t["dataset"].clone(),
                    t["year"].clone(),
                    t["year_from"].clone(),
                    t["version"].clone(),
                    t["data_rows"].clone(),
                    t["results"].clone(),
                    json!(count("mapped_columns")),
                    json!(count("unmapped_columns")),
                    json!(statuses),
                ]);
            }
            if r.rows.is_empty() {
                r.push(vec![
                    v["file"].clone(),
                    v["outcome"].clone(),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    json!(v["reason"]),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
            r.render(Format::Csv)
        }
        Format::Table => inspect_text(&v),
    };
    Ok(Inspection { text, warnings })
}

/// How `attain inspect` states the precedence between files (docs/data-sources.md).
pub const PRECEDENCE_RULE: &str = "where two files give the same figure, the later release wins (final > revised > \
    provisional > a file whose name does not say), then a figure over a withheld one, then the file covering more (a \
    national file over a per-LA download), then the path";

/// For each figure of an inspected file that the store holds (the file ingested earlier, found
/// by its sha256): whether the analysis uses this file's figure or another file's, and whose.
fn precedence_in_store(
    store: &Store,
    catalogue: Arc<Catalogue>,
    sha256: &str,
    tables: &[ingest::TableReport],
) -> anyhow::Result<Value> {
    use crate::analysis::data::{coverage_by_file, precedence, Data};
    use crate::store::frame::{self, ResultFilter, ResultRecord};
    if !store.exists() {
        return Err(
            IngestError::at_file(&store.dir, "no store here: run `attain ingest` first").into(),
        );
    }
    let data = Data::open(store, &catalogue)?;
    let Some(file) = frame::source_hashes(&store.read("sources")?)?
        .into_iter()
        .find(|(_, sha)| sha == sha256)
        .map(|(f, _)| f)
    else {
        return Ok(
            json!({"in_store": false, "note": "this file is not in the store: ingest it to see which of its figures \
                are used"}),
        );
    };
    let mut used = 0usize;
    let mut superseded: std::collections::BTreeMap<String, usize> = Default::default();
    let mut supersedes: std::collections::BTreeMap<String, usize> = Default::default();
    for t in tables {
        let rows = data.query(&ResultFilter {
            dataset: Some(t.dataset.clone()),
            year: t.year,
            ..Default::default()
        })?;
        let coverage = coverage_by_file(&rows);
        let mut by_figure: std::collections::HashMap<
            (&str, &str, &str, &str, &str, &str),
            Vec<&ResultRecord>,
        > = Default::default();
        for r in &rows {
            by_figure
                .entry((&r.level, &r.code, &r.measure, &r.group, &r.scope, &r.phase))
                .or_default()
                .push(r);
        }
        for figure in by_figure
            .values()
            .filter(|rs| rs.iter().any(|r| r.source_file == file))
        {
            let winner = figure
                .iter()
                .min_by(|a, b| precedence(a, b, &coverage))
                .expect("a figure has a row");
            if winner.source_file == file {
                used += 1;
                for other in figure.iter().filter(|r| r.source_file != file) {
                    *supersedes.entry(other.source_file.clone()).or_default() += 1;
                }
            } else {
                *superseded
                    .entry(format!("{} ({})", winner.source_file, winner.version))
                    .or_default() += 1;
            }
        }
    }
    Ok(json!({
        "in_store": true,
        "store_file": file,
        "figures_used": used,
        "superseded_by": superseded,
        "supersedes": supersedes,
    }))
}

fn inspect_text(v: &Value) -> String {
    let mut out = String::new();
    let s = |x: &Value| crate::output::plain(x);
    out.push_str(&format!("file:     {}\n", s(&v["file"])));
    out.push_str(&format!("outcome:  {}\n", s(&v["outcome"])));
    if let Some(r) = v.get("reason") {
        out.push_str(&format!("reason:   {}\n", s(r)));
    }
    for t in v["tables"].as_array().into_iter().flatten() {
        out.push('\n');
        if !t["sheet"].is_null() {
            out.push_str(&format!("sheet:    {}\n", s(&t["sheet"])));
        }
        out.push_str(&format!(
            "dataset:  {} ({})\n",
            s(&t["dataset"]),
            s(&t["description"])
        ));
        out.push_str(&format!(
            "year:     {} (from {})\n",
            s(&t["year"]),
            s(&t["year_from"])
        ));
        out.push_str(&format!("version:  {}\n", s(&t["version"])));
        if let Some(c) = t["coverage"].as_str() {
            out.push_str(&format!("covers:   {c}\n"));
        }
        out.push_str(&format!(
            "header:   row {}; {} data rows; {} results\n",
            s(&t["header_row"]),
            s(&t["data_rows"]),
            s(&t["results"])
        ));
        out.push_str("records:  ");
        out.push_str(
            &t["rows_by_record"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        );
        out.push('\n');
        out.push_str("statuses: ");
        out.push_str(
            &t["status_counts"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        );
        out.push('\n');
        let list = |x: &Value| {
            x.as_array()
                .map(|a| a.iter().map(s).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let mapped = list(&t["mapped_columns"]);
        let unmapped = list(&t["unmapped_columns"]);
        out.push_str(&format!(
            "mapped columns ({}): {}\n",
            mapped.len(),
            mapped.join(", ")
        ));
        out.push_str(&format!(
            "unmapped columns ({}): {}\n",
            unmapped.len(),
            unmapped.join(", ")
        ));
        for n in list(&t["notes"]) {
            out.push_str(&format!("note:     {n}\n"));
        }
        for w in t["warnings"].as_array().into_iter().flatten() {
            let at: Vec<String> = [
                w["row"].as_u64().map(|r| format!("row {r}")),
                w["column"].as_str().map(|c| format!("column {c}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            let at = if at.is_empty() {
                String::new()
            } else {
                format!("{}: ", at.join(", "))
            };
            out.push_str(&format!("warning:  {at}{}\n", s(&w["message"])));
        }
    }
    if let Some(rule) = v["precedence_rule"].as_str() {
        out.push_str(&format!("\nprecedence: {rule}\n"));
    }
    if let Some(p) = v.get("precedence") {
        if p["in_store"].as_bool() == Some(true) {
            out.push_str(&format!(
                "in store:   {} of this file's figures are used\n",
                s(&p["figures_used"])
            ));
            for (f, n) in p["superseded_by"].as_object().into_iter().flatten() {
                out.push_str(&format!("superseded: {} figures by {f}\n", s(n)));
            }
            for (f, n) in p["supersedes"].as_object().into_iter().flatten() {
                out.push_str(&format!("supersedes: {} figures of {f}\n", s(n)));
            }
        } else {
            out.push_str(&format!("in store:   {}\n", s(&p["note"])));
        }
    }
    for n in v["ignored_sheets"].as_array().into_iter().flatten() {
        out.push_str(&format!("ignored:  {}\n", s(n)));
    }
    out
}

/// `attain ingest`: read the files into the store, report each, then the store's size.
pub fn cli(
    a: &crate::cli::IngestArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    use crate::output::{status, warn};
    let store = &a.store.store;
    let summary = ingest(&a.paths, store, ctx.catalogue()?, a.year)?;
    summary_report(&summary.run).print(a.format.format)?;
    let rows = |t: &str| summary.run.store_rows.get(t).copied().unwrap_or(0);
    status(format!(
        "store {}: {} results, {} schools",
        store.display(),
        rows("results"),
        rows("schools")
    ));
    for n in &summary.run.store_notes {
        status(format!("note: {n}"));
    }
    for w in &summary.warnings {
        warn(w);
    }
    if summary.unrecognised > 0 {
        warn(format!(
            "{} file(s) were not recognised and were not read",
            summary.unrecognised
        ));
    }
    Ok(
        if summary.unrecognised > 0 || !summary.warnings.is_empty() {
            crate::commands::Code::DataWarnings
        } else {
            crate::commands::Code::Ok
        },
    )
}

/// `attain inspect`.
pub fn cli_inspect(
    a: &crate::cli::InspectArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let inspection = inspect(
        &a.file,
        ctx.catalogue()?,
        a.year,
        a.store.as_deref(),
        a.format,
    )?;
    crate::output::stdout(&inspection.text)?;
    for w in &inspection.warnings {
        crate::output::warn(w);
    }
    Ok(if inspection.warnings.is_empty() {
        crate::commands::Code::Ok
    } else {
        crate::commands::Code::DataWarnings
    })
}
