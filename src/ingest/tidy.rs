//! Explore Education Statistics "tidy" files: one row per time period x geography x
//! combination of filter values, with indicator columns. A row becomes a pupil group
//! when its filters match a catalogue rule and every other filter is at its total.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::perf::{find, read_figures, resolve_columns, Figures};
use super::table::Table;
use super::{count_record, count_status, IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::error::IngestError;
use crate::store::schema::{AreaRow, Batch, Level, ResultRow, ENGLAND};
use crate::year::parse_year_label;

struct Rule {
    /// (column index, accepted values upper-cased)
    when: Vec<(usize, Vec<String>)>,
    group: Arc<str>,
    phase: &'static str,
}

fn phase_name(p: Option<&str>) -> &'static str {
    match p {
        Some("primary") => "primary",
        Some("secondary") => "secondary",
        Some("special") => "special",
        Some("ap") => "ap",
        _ => "all",
    }
}

pub fn read(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let k = &ds.keys;
    let period_col = find(t, &k.time_period).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("time_period"),
            "key column missing".into(),
        )
    })?;
    let level_col = find(t, &k.level).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("geographic_level"),
            "key column missing".into(),
        )
    })?;
    let (la_col, region_col, version_col) =
        (find(t, &k.la), find(t, &k.region), find(t, &k.version));
    let (la_name_col, new_code_col, region_name_col) = (
        find(t, &k.la_name),
        find(t, &k.new_la_code),
        find(t, &k.region_name),
    );
    let filters: Vec<usize> = ds
        .tidy
        .filters
        .iter()
        .filter_map(|f| t.col_any(&f.list()))
        .collect();
    let totals: Vec<String> = ds
        .tidy
        .total
        .iter()
        .map(|s| s.to_ascii_uppercase())
        .collect();
    let mut rules = Vec::new();
    for r in &ds.tidy.groups {
        let mut when = Vec::new();
        let mut ok = true;
        for (colname, vals) in &r.when {
            // A rule names a filter by any of its aliases.
            let alias = ds
                .tidy
                .filters
                .iter()
                .find(|f| f.list().iter().any(|n| n.eq_ignore_ascii_case(colname)));
            let idx = match alias {
                Some(f) => t.col_any(&f.list()),
                None => t.col(colname),
            };
            match idx {
                Some(i) => when.push((
                    i,
                    vals.list().iter().map(|v| v.to_ascii_uppercase()).collect(),
                )),
                None => ok = false,
            }
        }
        if ok {
            rules.push(Rule {
                when,
                group: Arc::from(r.group.as_str()),
                phase: phase_name(r.phase.as_deref()),
            });
        }
    }
    let level_map: HashMap<String, Level> = ds
        .tidy
        .levels
        .iter()
        .filter_map(|(k, v)| Some((k.to_ascii_uppercase(), Level::parse(v)?)))
        .collect();

    // Mappings do not vary by year within a tidy file: resolve once with the override year or any year.
    let (cols, mapped) = resolve_columns(t, ds, opts.year.unwrap_or(2000));
    if cols.is_empty() {
        return Err(IngestError::at(
            &t.path,
            t.header_line,
            None,
            format!(
                "recognised as {} but none of its indicator columns are present",
                ds.id
            ),
        ));
    }
    let source_file: Arc<str> = Arc::from(super::display_path(&t.path));
    let dataset: Arc<str> = Arc::from(ds.id.as_str());
    let key_stage: Arc<str> = Arc::from(ds.key_stage.as_str());
    let mut versions: HashMap<String, Arc<str>> = HashMap::new();
    let mut report = TableReport {
        year_from: "content (time_period column)".into(),
        mapped_columns: mapped.clone(),
        ..Default::default()
    };
    let filter_names: BTreeSet<&str> = filters.iter().map(|&i| t.headers[i].as_str()).collect();
    report.unmapped_columns = t
        .headers
        .iter()
        .filter(|h| !mapped.contains(*h) && !filter_names.contains(h.as_str()))
        .cloned()
        .collect();
    let mut years = BTreeSet::new();
    let mut batch = Batch::default();
    let mut areas_seen = BTreeSet::new();
    let mut unmatched = 0usize;
    for row in &t.rows {
        let period = row.get(period_col).trim();
        let year = match opts.year.or_else(|| parse_year_label(period)) {
            Some(y) => y,
            None => {
                return Err(IngestError::at(
                    &t.path,
                    row.line,
                    Some(&t.headers[period_col]),
                    format!("{period:?} is not a time period"),
                ))
            }
        };
        let Some(&level) = level_map.get(&row.get(level_col).trim().to_ascii_uppercase()) else {
            *report
                .rows_by_record
                .entry(format!("{} (skipped)", row.get(level_col).trim()))
                .or_default() += 1;
            continue;
        };
        let code = match level {
            Level::National => ENGLAND.to_string(),
            Level::Region => region_col
                .map(|c| row.get(c).trim().to_string())
                .unwrap_or_default(),
            Level::La => la_col
                .map(|c| row.get(c).trim().to_string())
                .unwrap_or_default(),
            Level::School | Level::Partnership => continue,
        };
        if code.is_empty() {
            return Err(IngestError::at(
                &t.path,
                row.line,
                None,
                format!("a {} row with no area code", level.as_str()),
            ));
        }
        let rule = rules.iter().find(|r| {
            filters.iter().all(|&f| {
                let v = row.get(f).trim().to_ascii_uppercase();
                match r.when.iter().find(|(i, _)| *i == f) {
                    Some((_, vals)) => vals.contains(&v),
                    None => v.is_empty() || totals.contains(&v),
                }
            })
        });
        let Some(rule) = rule else {
            unmatched += 1;
            continue;
        };
        years.insert(year);
        count_record(&mut report, level, "state_funded");
        let version = version_col
            .map(|c| row.get(c).trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into());
        let version = versions
            .entry(version.clone())
            .or_insert_with(|| Arc::from(version.as_str()))
            .clone();
        if level == Level::La && areas_seen.insert(code.clone()) {
            if let Some(name) = la_name_col
                .map(|c| row.get(c).trim().to_string())
                .filter(|s| !s.is_empty())
            {
                batch.areas.push(AreaRow {
                    level,
                    code: code.clone(),
                    name,
                    new_code: new_code_col
                        .map(|c| row.get(c).trim().to_string())
                        .filter(|s| !s.is_empty()),
                    region_code: region_col
                        .map(|c| row.get(c).trim().to_string())
                        .filter(|s| !s.is_empty()),
                    region_name: region_name_col
                        .map(|c| row.get(c).trim().to_string())
                        .filter(|s| !s.is_empty()),
                    source_file: source_file.to_string(),
                });
            }
        }
        for r in &cols {
            let Some(Figures {
                value,
                cohort,
                numerator,
                ci_low,
                ci_high,
                status,
            }) = read_figures(t, row, r)?
            else {
                continue;
            };
            count_status(&mut report, status);
            batch.results.push(ResultRow {
                year,
                level,
                code: code.clone(),
                la_code: (level == Level::La).then(|| code.clone()),
                scope: "state_funded",
                phase: rule.phase,
                key_stage: key_stage.clone(),
                measure: r.measure.clone(),
                group: rule.group.clone(),
                value,
                cohort,
                numerator,
                ci_low,
                ci_high,
                status,
                version: version.clone(),
                dataset: dataset.clone(),
                source_column: r.source.clone(),
                source_file: source_file.clone(),
                source_row: row.line,
            });
        }
    }
    if unmatched > 0 {
        report.notes.push(format!(
            "{unmatched} rows are combinations of filters that no group rule covers (e.g. boys \
            who are disadvantaged): not stored"
        ));
    }
    report.year = years.iter().next_back().copied();
    if years.len() > 1 {
        report.notes.push(format!(
            "years {}",
            years
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    report.version = versions.keys().cloned().collect::<Vec<_>>().join("/");
    Ok((report, batch))
}
