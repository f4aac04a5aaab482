//! DfE's Local Authority Interactive Tool: the long parquet table and its dictionary.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::table::Table;
use super::{count_record, count_status, IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::error::IngestError;
use crate::store::schema::{AreaRow, Batch, Level, MeasureMetaRow, ResultRow, ENGLAND};
use crate::value::{parse_cell, Status};
use crate::year::parse_year_label;

fn setting<'a>(ds: &'a Dataset, key: &str, default: &'a str) -> &'a str {
    ds.settings
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or(default)
}

/// The measure id an unmapped LAIT short description is stored under.
pub fn lait_measure_id(short: &str) -> String {
    format!("lait:{}", short.trim())
}

/// Version carried in a LAIT period label: "2019 (Rev)", "2025 (prov)", "2020 (Final)".
fn version_of(label: &str) -> &'static str {
    let l = label.to_ascii_lowercase();
    if l.contains("(prov") {
        "provisional"
    } else if l.contains("(rev") {
        "revised"
    } else if l.contains("(final") {
        "final"
    } else {
        "unknown"
    }
}

// One row index reads every column of the row.
#[allow(clippy::needless_range_loop)]
pub fn read_long(
    path: &Path,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let names = [
        setting(ds, "measure", "Short Desc"),
        setting(ds, "period", "Years"),
        setting(ds, "value", "Values"),
        setting(ds, "la_code", "LA Number"),
        setting(ds, "la_name", "LA and Regions"),
        setting(ds, "region", "Region"),
    ];
    let (height, cols) = crate::store::frame::parquet_string_columns(path, &names)
        .map_err(|e| IngestError::at_file(path, e.to_string()))?;
    let england = setting(ds, "england", "970").to_string();
    let regions: HashMap<String, String> = ds
        .settings
        .get("regions")
        .and_then(|v| v.as_table())
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let codes: HashMap<&str, (Arc<str>, Arc<str>, Arc<str>)> = ds
        .codes
        .iter()
        .map(|c| {
            let ks = opts
                .catalogue
                .measure(&c.measure)
                .map(|m| m.key_stage.clone())
                .unwrap_or_default();
            (
                c.source.as_str(),
                (
                    Arc::from(c.measure.as_str()),
                    Arc::from(c.group.as_str()),
                    Arc::from(ks.as_str()),
                ),
            )
        })
        .collect();
    let source_file: Arc<str> = Arc::from(super::display_path(path));
    let dataset: Arc<str> = Arc::from(ds.id.as_str());
    let all: Arc<str> = Arc::from("all");
    let mut lait_ids: HashMap<String, (Arc<str>, Arc<str>)> = HashMap::new();
    let versions: [Arc<str>; 4] = ["provisional", "revised", "final", "unknown"].map(Arc::from);
    let mut report = TableReport {
        year_from: "content (Years column)".into(),
        ..Default::default()
    };
    report.mapped_columns = names.iter().map(|s| s.to_string()).collect();
    let mut batch = Batch::default();
    batch.results.reserve(height);
    let mut area_seen = std::collections::HashSet::new();
    let mut no_year = 0usize;
    let mut years = std::collections::BTreeSet::new();
    let mut unmapped_measures = std::collections::BTreeSet::new();
    for i in 0..height {
        let line = i as u64 + 1;
        let short = cols[0][i].as_deref().unwrap_or("").trim();
        let label = cols[1][i].as_deref().unwrap_or("");
        let raw = cols[2][i].as_deref().unwrap_or("");
        let code_raw = cols[3][i].as_deref().unwrap_or("").trim();
        let code_num = code_raw.split('.').next().unwrap_or("");
        let Some(year) = opts.year.or_else(|| parse_year_label(label)) else {
            no_year += 1;
            continue;
        };
        years.insert(year);
        let (level, code) = if code_num == england {
            (Level::National, ENGLAND.to_string())
        } else if let Some(r) = regions.get(code_num) {
            (Level::Region, r.clone())
        } else if !code_num.is_empty() {
            (Level::La, code_num.to_string())
        } else {
            return Err(IngestError::at(
                path,
                line,
                Some(names[3]),
                "a row with no LA number".into(),
            ));
        };
        if level != Level::National && area_seen.insert(code.clone()) {
            batch.areas.push(AreaRow {
                level,
                code: code.clone(),
                name: cols[4][i].clone().unwrap_or_default(),
                new_code: None,
                region_code: None,
                region_name: cols[5][i].clone().filter(|r| r != "NA"),
                source_file: source_file.to_string(),
            });
        }
        let c = parse_cell(raw).map_err(|b| {
            IngestError::at(
                path,
                line,
                Some(names[2]),
                format!("{:?}: {}", b.text, b.reason),
            )
        })?;
        let (measure, group, key_stage) = match codes.get(short) {
            Some((m, g, ks)) => (m.clone(), g.clone(), ks.clone()),
            None => {
                unmapped_measures.insert(short.to_string());
                let (m, ks) = lait_ids
                    .entry(short.to_string())
                    .or_insert_with(|| {
                        (
                            Arc::from(lait_measure_id(short).as_str()),
                            Arc::from("lait"),
                        )
                    })
                    .clone();
                (m, all.clone(), ks)
            }
        };
        count_record(&mut report, level, "state_funded");
        count_status(&mut report, c.status);
        let version = match version_of(label) {
            "provisional" => versions[0].clone(),
            "revised" => versions[1].clone(),
            "final" => versions[2].clone(),
            _ => versions[3].clone(),
        };
        batch.results.push(ResultRow {
            year,
            level,
            code: code.clone(),
            la_code: (level == Level::La).then_some(code),
            scope: "state_funded",
            phase: "all",
            key_stage,
            measure,
            group,
            value: c.value,
            cohort: None,
            numerator: None,
            ci_low: None,
            ci_high: None,
            status: if c.status == Status::Blank {
                Status::Dash
            } else {
                c.status
            },
            version,
            dataset: dataset.clone(),
            source_column: Arc::from(short),
            source_file: source_file.clone(),
            source_row: line,
        });
    }
    report.data_rows = height;
    report.dataset = ds.id.clone();
    report.description = ds.description.clone();
    report.results = batch.results.len();
    report.year = years.iter().next_back().copied();
    report.version = "per row (Years label)".into();
    if no_year > 0 {
        report.notes.push(format!(
            "{no_year} rows have no year in their period label (e.g. \"0\"): not stored"
        ));
    }
    report.notes.push(format!(
        "{} LAIT measures are mapped to canonical measures; {} others are kept as lait:<Short Desc>",
        ds.codes.len(),
        unmapped_measures.len()
    ));
    report.unmapped_columns = vec![];
    Ok((report, batch))
}

pub fn read_dictionary(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let col = |n: &str| {
        t.col(n).ok_or_else(|| {
            IngestError::at(&t.path, t.header_line, Some(n), "key column missing".into())
        })
    };
    let (short, pol, measure, topic, ytype, dps, no_quartile) = (
        col("Measure_short")?,
        col("Polarity")?,
        col("Measure")?,
        t.col("Topic"),
        t.col("Year_Type"),
        t.col("dps"),
        t.col("No_Quartile"),
    );
    // LAIT shows a measure whose dictionary has no `dps` at this many places (a setting, so
    // that a change in LAIT is a data edit).
    let default_dps: Option<i32> = ds
        .settings
        .get("default_dps")
        .and_then(|v| v.as_integer())
        .and_then(|v| i32::try_from(v).ok());
    let lait = opts
        .catalogue
        .datasets
        .iter()
        .find(|d| d.reader == "lait_long");
    let mapped: HashMap<&str, &str> = lait
        .map(|d| {
            d.codes
                .iter()
                .map(|c| (c.source.as_str(), c.measure.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let source_file = super::display_path(&t.path);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year_from: "not applicable (dictionary)".into(),
        version: "unknown".into(),
        ..Default::default()
    };
    report.mapped_columns = [
        "Measure_short",
        "Polarity",
        "Measure",
        "Topic",
        "Year_Type",
        "dps",
        "No_Quartile",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for row in &t.rows {
        let s = row.get(short).trim();
        if s.is_empty() {
            continue;
        }
        let polarity = match row.get(pol).trim() {
            "High" | "high" => Some("high".to_string()),
            "Low" | "low" => Some("low".to_string()),
            "-" | "" | "NA" => Some("none".to_string()),
            other => {
                return Err(IngestError::at(
                    &t.path,
                    row.line,
                    Some("Polarity"),
                    format!("{other:?} is not High, Low or -"),
                ))
            }
        };
        *report.rows_by_record.entry("measure".into()).or_default() += 1;
        batch.measures.push(MeasureMetaRow {
            measure: lait_measure_id(s),
            description: match mapped.get(s) {
                Some(m) => format!(
                    "{} (LAIT code for canonical measure {m})",
                    row.get(measure).trim()
                ),
                None => row.get(measure).trim().to_string(),
            },
            polarity,
            topic: topic.map(|c| row.get(c).trim().to_string()),
            year_type: ytype.map(|c| row.get(c).trim().to_string()),
            dps: dps
                .and_then(|c| row.get(c).trim().parse().ok())
                .or(default_dps),
            no_quartile: no_quartile.is_some_and(|c| row.get(c).trim().eq_ignore_ascii_case("N")),
            source_file: source_file.clone(),
        });
    }
    Ok((report, batch))
}
