//! The Ofsted latest-inspection workbook: one row per school.

use std::sync::Arc;

use super::perf::find;
use super::table::Table;
use super::{IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::dates::{academic_year_of, parse_date};
use crate::error::IngestError;
use crate::store::schema::{Batch, InspectionRow, Level, ResultRow};
use crate::value::{parse_cell, Status};

pub fn read(t: &Table, ds: &Dataset, _opts: &IngestOptions) -> Result<(TableReport, Batch), IngestError> {
    let s = |k: &str| ds.settings.get(k).and_then(|v| v.as_str()).and_then(|n| t.col(n));
    let urn_col = find(t, &ds.keys.urn).ok_or_else(|| IngestError::at(&t.path, t.header_line, Some("URN"), "key column missing".into()))?;
    let (phase, insp, publ, overall) = (s("phase"), s("inspection_date"), s("publication_date"), s("overall"));
    let overall = overall.ok_or_else(|| IngestError::at(&t.path, t.header_line, Some("Overall effectiveness"), "key column missing".into()))?;
    let source_file = super::display_path(&t.path);
    let src: Arc<str> = Arc::from(source_file.as_str());
    let (dataset, measure, group, ks, version, column): (Arc<str>, Arc<str>, Arc<str>, Arc<str>, Arc<str>, Arc<str>) =
        (Arc::from(ds.id.as_str()), Arc::from("ofsted_overall"), Arc::from("all"), Arc::from("ofsted"), Arc::from("final"), Arc::from(t.headers[overall].as_str()));
    let mut batch = Batch::default();
    let mut report = TableReport { year_from: "content (inspection dates)".into(), version: "final".into(), ..Default::default() };
    let mut latest = None;
    for row in &t.rows {
        let urn = row.get(urn_col).trim();
        if urn.is_empty() {
            continue;
        }
        if !urn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IngestError::at(&t.path, row.line, Some(&t.headers[urn_col]), format!("{urn:?} is not a URN")));
        }
        let date_of = |c: Option<usize>, what: &str| -> Result<Option<i64>, IngestError> {
            let Some(c) = c else { return Ok(None) };
            let raw = row.get(c).trim();
            if raw.is_empty() || raw == "NULL" {
                return Ok(None);
            }
            parse_date(raw).map(Some).ok_or_else(|| IngestError::at(&t.path, row.line, Some(what), format!("{raw:?} is not a date")))
        };
        let d = date_of(insp, "Inspection date")?;
        let p = date_of(publ, "Publication date")?;
        let cell = parse_cell(row.get(overall)).map_err(|b| IngestError::at(&t.path, row.line, Some(&t.headers[overall]), format!("{:?}: {}", b.text, b.reason)))?;
        let grade = cell.value.map(|v| v as i32);
        if let Some(g) = grade {
            if !(1..=4).contains(&g) || cell.value != Some(g as f64) {
                return Err(IngestError::at(&t.path, row.line, Some(&t.headers[overall]), format!("overall effectiveness must be 1-4, found {}", row.get(overall))));
            }
        }
        *report.rows_by_record.entry("school".into()).or_default() += 1;
        *report.status_counts.entry(cell.status.token().to_string()).or_default() += 1;
        latest = latest.max(d);
        batch.inspections.push(InspectionRow {
            urn: urn.to_string(),
            inspection_date: d,
            publication_date: p,
            overall_effectiveness: grade,
            ofsted_phase: phase.map(|c| row.get(c).trim().to_string()).filter(|s| !s.is_empty()),
            source_file: source_file.clone(),
            source_row: row.line,
        });
        if let (Some(g), Some(day)) = (grade, d) {
            batch.results.push(ResultRow {
                year: academic_year_of(day),
                level: Level::School,
                code: urn.to_string(),
                la_code: None,
                scope: "state_funded",
                phase: "all",
                key_stage: ks.clone(),
                measure: measure.clone(),
                group: group.clone(),
                value: Some(g as f64),
                cohort: None,
                numerator: None,
                ci_low: None,
                ci_high: None,
                status: Status::Ok,
                version: version.clone(),
                dataset: dataset.clone(),
                source_column: column.clone(),
                source_file: src.clone(),
                source_row: row.line,
            });
        }
    }
    report.year = latest.map(academic_year_of);
    report.mapped_columns = [Some(urn_col), phase, insp, publ, Some(overall)].iter().flatten().map(|&i| t.headers[i].clone()).collect();
    Ok((report, batch))
}
