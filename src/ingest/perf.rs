//! Performance-tables files (KS2, KS4, census, absence, destinations): one row per
//! school, plus LA and national rows told apart by a record-type column.
//! Which column is which measure comes from the catalogue.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::table::Table;
use super::{
    cell, count_record, count_status, resolve_year, version_hint, IngestOptions, TableReport,
};
use crate::catalogue::{Dataset, Names};
use crate::dates::parse_date;
use crate::error::{IngestError, IngestWarning};
use crate::store::schema::{link_source, Batch, Level, LinkRow, ResultRow, SchoolRow, ENGLAND};
use crate::value::Status;

/// A mapping resolved against this file's header.
pub(crate) struct Resolved {
    pub idx: usize,
    pub measure: Arc<str>,
    pub group: Arc<str>,
    pub source: Arc<str>,
    pub cohort: Option<usize>,
    pub numerator: Option<usize>,
    pub ci: Option<(usize, usize)>,
    pub ratio: Option<f64>,
    pub levels: Vec<Level>,
}

pub(crate) fn find(t: &Table, names: &Option<Names>) -> Option<usize> {
    names.as_ref().and_then(|n| t.col_any(&n.list()))
}

/// Resolve the catalogue's column mappings for `year` against the header.
pub(crate) fn resolve_columns(t: &Table, ds: &Dataset, year: i32) -> (Vec<Resolved>, Vec<String>) {
    let mut out = Vec::new();
    let mut used = HashSet::new();
    let mut used_pairs = HashSet::new();
    for c in ds.columns.iter().filter(|c| c.applies_to(year)) {
        let Some(idx) = t.col_any(&c.source.list()) else {
            continue;
        };
        // One source column feeds one mapping; one measure+group comes from its first available mapping.
        if used.contains(&idx) || !used_pairs.insert((c.measure.as_str(), c.group.as_str())) {
            continue;
        }
        used.insert(idx);
        let ci =
            c.ci.as_ref()
                .and_then(|[lo, hi]| Some((t.col(lo)?, t.col(hi)?)));
        out.push(Resolved {
            idx,
            measure: Arc::from(c.measure.as_str()),
            group: Arc::from(c.group.as_str()),
            source: Arc::from(t.headers[idx].as_str()),
            cohort: find(t, &c.cohort),
            numerator: find(t, &c.numerator),
            ci,
            ratio: c.ratio_scale,
            levels: c.levels.iter().filter_map(|l| Level::parse(l)).collect(),
        });
    }
    // Every column a mapping reads: the value, and its cohort, numerator and confidence limits.
    let mut idx: Vec<usize> = Vec::new();
    for r in &out {
        idx.push(r.idx);
        idx.extend(r.cohort.iter().chain(r.numerator.iter()));
        if let Some((lo, hi)) = r.ci {
            idx.extend([lo, hi]);
        }
    }
    let mut seen = HashSet::new();
    idx.retain(|i| seen.insert(*i));
    let mapped: Vec<String> = idx.iter().map(|&i| t.headers[i].clone()).collect();
    (out, mapped)
}

/// A mapping's copies of earlier years in this file: `PTRWM_EXP_18` (with `TELIG_18` as its
/// cohort and `READPROG_LOWER_18`/`_UPPER_18` as limits) beside `PTRWM_EXP` in the 2019 file.
/// Only two-digit suffixes of the four years before the file's year count (the 2023 file
/// repeats 2019 as `_19`; `PT5EM_94_18` in the 2018 file is not a prior year).
pub(crate) fn resolve_prior_columns(
    t: &Table,
    cols: &[Resolved],
    year: i32,
) -> Vec<(i32, Resolved)> {
    let mut out = Vec::new();
    for y in (year - 4..year).rev() {
        let yy = format!("_{:02}", y.rem_euclid(100));
        let at = |i: usize| t.col(&format!("{}{yy}", t.headers[i]));
        for r in cols.iter().filter(|r| r.ratio.is_none()) {
            let Some(idx) = at(r.idx) else { continue };
            out.push((
                y,
                Resolved {
                    idx,
                    measure: r.measure.clone(),
                    group: r.group.clone(),
                    source: Arc::from(t.headers[idx].as_str()),
                    cohort: r.cohort.and_then(at),
                    numerator: None,
                    ci: r.ci.and_then(|(lo, hi)| Some((at(lo)?, at(hi)?))),
                    ratio: None,
                    levels: r.levels.clone(),
                },
            ));
        }
    }
    out
}

/// The figures one mapping reads from one row: value, cohort, numerator, confidence
/// limits and status. `None` for a blank cell (the field does not apply to the row).
pub(crate) struct Figures {
    pub value: Option<f64>,
    pub cohort: Option<f64>,
    pub numerator: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub status: Status,
}

pub(crate) fn read_figures(
    t: &Table,
    row: &super::table::Row,
    r: &Resolved,
) -> Result<Option<Figures>, IngestError> {
    let c = cell(t, row, r.idx)?;
    if c.status == Status::Blank {
        return Ok(None);
    }
    let num = |i: Option<usize>| -> Result<Option<f64>, IngestError> {
        i.map(|i| cell(t, row, i).map(|c| c.value))
            .transpose()
            .map(Option::flatten)
    };
    let cohort = num(r.cohort)?;
    let (mut value, mut numerator) = (c.value, num(r.numerator)?);
    if let Some(scale) = r.ratio {
        // The source column is a count: the value is count / cohort x scale.
        numerator = c.value;
        value = match (c.value, cohort) {
            (Some(n), Some(d)) if d > 0.0 => {
                let v = n / d * scale;
                // A cohort such as 4.9e-324 would make the figure infinite: refuse it.
                if !v.is_finite() {
                    let column = r.cohort.and_then(|i| t.headers.get(i)).map(String::as_str);
                    let (count, cohort) = (
                        row.get(r.idx).trim(),
                        r.cohort.map(|i| row.get(i).trim()).unwrap_or(""),
                    );
                    return Err(IngestError::at(
                        &t.path,
                        row.line,
                        column,
                        format!(
                            "{count} ({}) divided by the cohort \
                        {cohort} is out of range: the cohort cannot be right",
                            t.headers[r.idx]
                        ),
                    ));
                }
                Some(v)
            }
            _ => None,
        };
    }
    let (ci_low, ci_high) = match r.ci {
        Some((lo, hi)) => (cell(t, row, lo)?.value, cell(t, row, hi)?.value),
        None => (None, None),
    };
    let status = if value.is_none() && c.status == Status::Ok {
        Status::Blank
    } else {
        c.status
    };
    Ok(Some(Figures {
        value,
        cohort,
        numerator,
        ci_low,
        ci_high,
        status,
    }))
}

/// What a record-type value says a row is.
#[derive(Clone, Copy)]
enum Kind {
    Row(Level, &'static str),
    Skip,
}

fn classify(
    ds: &Dataset,
    value: Option<&str>,
    markers: &[(usize, Vec<String>)],
    row: &super::table::Row,
) -> Kind {
    let r = &ds.records;
    let v = value.map(str::trim).unwrap_or("");
    let is = |list: &Vec<String>| list.iter().any(|x| x.eq_ignore_ascii_case(v));
    let marked_la = || {
        markers.iter().any(|(c, values)| {
            values
                .iter()
                .any(|x| x.eq_ignore_ascii_case(row.get(*c).trim()))
        })
    };
    if is(&r.school) {
        Kind::Row(Level::School, "state_funded")
    } else if is(&r.la) {
        Kind::Row(Level::La, "state_funded")
    } else if is(&r.national_state) {
        Kind::Row(Level::National, "state_funded")
    } else if is(&r.national_all) {
        Kind::Row(Level::National, "all_schools")
    } else if marked_la() {
        Kind::Row(Level::La, "state_funded")
    } else if r.other == "school" {
        Kind::Row(Level::School, "state_funded")
    } else {
        Kind::Skip
    }
}

/// An LA row's code: from the first of the dataset's `la_code_columns` holding a three-digit
/// code, else the LA key column.
fn la_row_code(
    row: &super::table::Row,
    code_cols: &[usize],
    la_col: Option<usize>,
) -> Option<String> {
    let is_code = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    code_cols
        .iter()
        .map(|&c| row.get(c).trim())
        .find(|s| is_code(s))
        .or_else(|| la_col.map(|c| row.get(c).trim()).filter(|s| !s.is_empty()))
        .map(str::to_string)
}

/// Scope and phase names are few and fixed: keep them as static strings.
fn intern(s: &str) -> &'static str {
    match s {
        "primary" => "primary",
        "secondary" => "secondary",
        "special" => "special",
        "nursery" => "nursery",
        "ap" => "ap",
        "all_through" => "all_through",
        "independent" => "independent",
        "non_maintained_special" => "non_maintained_special",
        "further_education" => "further_education",
        "all_schools" => "all_schools",
        "state_funded" => "state_funded",
        _ => "other",
    }
}

pub fn read(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let (year, year_from) = resolve_year(t, ds, opts, None)?;
    let version: Arc<str> = Arc::from(version_hint(&t.path));
    let (cols, mut mapped) = resolve_columns(t, ds, year);
    let prior_cols = resolve_prior_columns(t, &cols, year);
    for (_, r) in &prior_cols {
        let read = [Some(r.idx), r.cohort, r.ci.map(|c| c.0), r.ci.map(|c| c.1)];
        for i in read.into_iter().flatten() {
            if !mapped.contains(&t.headers[i]) {
                mapped.push(t.headers[i].clone());
            }
        }
    }
    if cols.is_empty() {
        return Err(IngestError::at(
            &t.path,
            t.header_line,
            None,
            format!(
                "recognised as {} but none of the catalogue's columns for {} are present",
                ds.id, year
            ),
        ));
    }
    let rec_col = find(t, &ds.records.column);
    let k = &ds.keys;
    let urn_col = find(t, &k.urn);
    let la_col = find(t, &k.la);
    let (estab_col, name_col, type_col) =
        (find(t, &k.estab), find(t, &k.name), find(t, &k.school_type));
    let (successor_col, successor_open_col) =
        (find(t, &k.successor_urn), find(t, &k.successor_open));
    if urn_col.is_none() {
        return Err(IngestError::at(
            &t.path,
            t.header_line,
            Some(k.urn.as_ref().map(|n| n.first()).unwrap_or("URN")),
            "key column missing".into(),
        ));
    }
    let phase_cols: Vec<usize> = ds
        .records
        .phase_columns
        .iter()
        .filter_map(|c| t.col(c))
        .collect();
    let markers: Vec<(usize, Vec<String>)> = ds
        .records
        .la_row_markers
        .iter()
        .filter_map(|(c, v)| Some((t.col(c)?, v.clone())))
        .collect();
    let la_code_cols: Vec<usize> = ds
        .records
        .la_code_columns
        .iter()
        .filter_map(|c| t.col(c))
        .collect();
    let scope_cols: Vec<usize> = ds
        .records
        .scope_columns
        .iter()
        .filter_map(|c| t.col(c))
        .collect();
    let phase_map: HashMap<String, &'static str> = ds
        .records
        .phase_values
        .iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), intern(v)))
        .collect();
    let scope_map: HashMap<String, &'static str> = ds
        .records
        .scope_values
        .iter()
        .map(|(k, v)| (k.to_ascii_uppercase(), intern(v)))
        .collect();

    let source_file: Arc<str> = Arc::from(super::display_path(&t.path));
    let dataset: Arc<str> = Arc::from(ds.id.as_str());
    let key_stage: Arc<str> = Arc::from(ds.key_stage.as_str());
    for key in [
        rec_col,
        urn_col,
        la_col,
        estab_col,
        name_col,
        type_col,
        successor_col,
        successor_open_col,
    ]
    .into_iter()
    .flatten()
    .chain(phase_cols.iter().copied())
    .chain(scope_cols.iter().copied())
    {
        if !mapped.contains(&t.headers[key]) {
            mapped.push(t.headers[key].clone());
        }
    }
    super::check::duplicate_columns(t, &mapped)?;
    let mut report = TableReport {
        year: Some(year),
        year_from,
        version: version.to_string(),
        mapped_columns: mapped.clone(),
        ..Default::default()
    };
    report
        .warnings
        .extend(super::check::plausible_year(t, year, &report.year_from));
    let mut la_codes = super::check::LaCodes::default();
    let mapped_set: HashSet<&str> = mapped.iter().map(String::as_str).collect();
    report.unmapped_columns = t
        .headers
        .iter()
        .filter(|h| !mapped_set.contains(h.as_str()) && !h.is_empty())
        .cloned()
        .collect();

    // One LA row per LA and one national row per scope and phase: a second one means two
    // files (or two years of one) pasted together, which would be merged without a trace.
    let mut area_rows: HashMap<(Level, String, &'static str, &'static str), u64> = HashMap::new();
    for row in &t.rows {
        let Kind::Row(level, scope) = classify(ds, rec_col.map(|c| row.get(c)), &markers, row)
        else {
            continue;
        };
        if level == Level::School {
            continue;
        }
        let phase = phase_cols
            .iter()
            .find_map(|&c| {
                phase_map
                    .get(&row.get(c).trim().to_ascii_uppercase())
                    .copied()
            })
            .unwrap_or("all");
        let code = if level == Level::La {
            la_row_code(row, &la_code_cols, la_col).unwrap_or_default()
        } else {
            ENGLAND.to_string()
        };
        if let Some(first) = area_rows.insert((level, code.clone(), scope, phase), row.line) {
            let what = if level == Level::La {
                format!("LA row for LA {code}")
            } else {
                format!(
                    "national row ({}{})",
                    scope.replace('_', "-"),
                    if phase == "all" {
                        String::new()
                    } else {
                        format!(", {phase}")
                    }
                )
            };
            let column = rec_col.map(|c| t.headers[c].as_str());
            return Err(IngestError::at(&t.path, row.line, column, format!("a second {what} (the first is row \
                {first}): the file holds two files or two years one after the other; split it into one file each")));
        }
    }

    let mut batch = Batch::default();
    batch.results.reserve(t.rows.len() * cols.len() / 2);
    let mut seen_urns: HashMap<String, usize> = HashMap::new();
    let mut school_las: HashSet<String> = HashSet::new();
    for (index, row) in t.rows.iter().enumerate() {
        let (level, mut scope) = match classify(ds, rec_col.map(|c| row.get(c)), &markers, row) {
            Kind::Row(l, s) => (l, s),
            Kind::Skip => {
                *report
                    .rows_by_record
                    .entry("other (skipped)".into())
                    .or_default() += 1;
                continue;
            }
        };
        let phase = phase_cols
            .iter()
            .find_map(|&c| {
                phase_map
                    .get(&row.get(c).trim().to_ascii_uppercase())
                    .copied()
            })
            .unwrap_or("all");
        if level == Level::School {
            if let Some(s) = scope_cols.iter().find_map(|&c| {
                scope_map
                    .get(&row.get(c).trim().to_ascii_uppercase())
                    .copied()
            }) {
                scope = s;
            }
        }
        let la_code = if level == Level::La {
            la_row_code(row, &la_code_cols, la_col)
        } else {
            la_col
                .map(|c| row.get(c).trim().to_string())
                .filter(|s| !s.is_empty())
        };
        if let (Some(c), Some(la), true) = (la_col, &la_code, level != Level::National) {
            report
                .warnings
                .extend(la_codes.check(t, row, Some(&t.headers[c]), la));
        }
        let code = match level {
            Level::School => {
                let urn = urn_col.map(|c| row.get(c).trim()).unwrap_or("");
                if urn.is_empty() || !urn.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IngestError::at(
                        &t.path,
                        row.line,
                        Some(&t.headers[urn_col.unwrap()]),
                        format!("a school row needs a numeric URN, found {urn:?}"),
                    ));
                }
                if let Some(&first) = seen_urns.get(urn) {
                    // The same school twice: an exact repeat is read once; two different rows
                    // cannot both be right, and choosing one would hide the problem.
                    let earlier = &t.rows[first];
                    match first_difference(earlier, row) {
                        None => {
                            report.warnings.push(IngestWarning::at(
                                &t.path,
                                row.line,
                                Some(&t.headers[urn_col.unwrap()]),
                                format!(
                                    "URN \
                                {urn} repeats row {} exactly: the repeat is ignored (counted once)",
                                    earlier.line
                                ),
                            ));
                            continue;
                        }
                        Some(i) => {
                            let column = t.headers.get(i).map(String::as_str).unwrap_or("");
                            return Err(IngestError::at(&t.path, row.line, Some(column), format!("URN {urn} is also on \
                                row {}, with different figures ({column} is {:?} there and {:?} here): remove the \
                                wrong row", earlier.line, earlier.get(i).trim(), row.get(i).trim())));
                        }
                    }
                }
                seen_urns.insert(urn.to_string(), index);
                if let Some(la) = &la_code {
                    school_las.insert(la.clone());
                }
                urn.to_string()
            }
            Level::La => match &la_code {
                Some(c) => c.clone(),
                None => {
                    return Err(IngestError::at(
                        &t.path,
                        row.line,
                        la_col.map(|c| t.headers[c].as_str()),
                        "an LA row with no LA code".into(),
                    ))
                }
            },
            Level::National => ENGLAND.to_string(),
            Level::Region | Level::Partnership => {
                unreachable!("performance tables have no region or partnership rows")
            }
        };
        count_record(&mut report, level, scope);
        if level == Level::School {
            let get = |c: Option<usize>| {
                c.map(|i| row.get(i).trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let school_type = get(type_col);
            batch.schools.push(SchoolRow {
                urn: code.clone(),
                name: get(name_col),
                la_code: la_code.clone(),
                estab: get(estab_col),
                la_maintained: school_type
                    .as_deref()
                    .and_then(|c| opts.catalogue.school_types.la_maintained(c)),
                school_type,
                phase: (phase != "all").then(|| phase.to_string()),
                as_of_year: year,
                precedence: 1,
                source_file: source_file.to_string(),
                ..Default::default()
            });
        }
        if level == Level::School {
            // The academy this school became (`URN_AC`, 0 or empty when none).
            let successor = successor_col.map(|c| row.get(c).trim()).unwrap_or("");
            if successor.bytes().all(|b| b.is_ascii_digit())
                && successor.bytes().any(|b| b != b'0')
                && successor != code
            {
                batch.links.push(LinkRow {
                    urn: successor.to_string(),
                    linked_urn: code.clone(),
                    link_type: "Predecessor".into(),
                    link_date: successor_open_col.and_then(|c| parse_date(row.get(c))),
                    source: link_source::URN_AC,
                    source_file: source_file.to_string(),
                    source_row: row.line,
                });
            }
            // The school's figures of earlier years that this file repeats: kept apart from
            // `results` (see docs/data-sources.md, "Predecessor schools and prior-year columns").
            for (y, r) in &prior_cols {
                if !r.levels.is_empty() && !r.levels.contains(&level) {
                    continue;
                }
                let Some(f) = read_figures(t, row, r)? else {
                    continue;
                };
                batch.prior_results.push(ResultRow {
                    year: *y,
                    level,
                    code: code.clone(),
                    la_code: la_code.clone(),
                    scope,
                    phase,
                    key_stage: key_stage.clone(),
                    measure: r.measure.clone(),
                    group: r.group.clone(),
                    value: f.value,
                    cohort: f.cohort,
                    numerator: f.numerator,
                    ci_low: f.ci_low,
                    ci_high: f.ci_high,
                    status: f.status,
                    version: version.clone(),
                    dataset: dataset.clone(),
                    source_column: r.source.clone(),
                    source_file: source_file.clone(),
                    source_row: row.line,
                });
            }
        }
        for r in &cols {
            if !r.levels.is_empty() && !r.levels.contains(&level) {
                continue;
            }
            let Some(figures) = read_figures(t, row, r)? else {
                continue;
            };
            report
                .notes
                .extend(super::check::figures(t, row, r, &figures, &opts.catalogue)?);
            let Figures {
                value,
                cohort,
                numerator,
                ci_low,
                ci_high,
                status,
            } = figures;
            count_status(&mut report, status);
            batch.results.push(ResultRow {
                year,
                level,
                code: code.clone(),
                la_code: if level == Level::National {
                    None
                } else {
                    la_code.clone()
                },
                scope,
                phase,
                key_stage: key_stage.clone(),
                measure: r.measure.clone(),
                group: r.group.clone(),
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
    report.coverage = Some(match school_las.len() {
        0 => "national and LA rows only".to_string(),
        1 => format!(
            "per-LA download (LA {})",
            school_las.iter().next().cloned().unwrap_or_default()
        ),
        n => format!("national file ({n} LAs)"),
    });
    // A per-LA download (every school in one LA) comes with the LA's own row: without it the
    // LA's published figures are missing, and only rebuilt figures can stand in for them.
    if !ds.records.la.is_empty()
        && rec_col.is_some()
        && school_las.len() == 1
        && !area_rows.keys().any(|k| k.0 == Level::La)
    {
        let la = school_las.iter().next().cloned().unwrap_or_default();
        let column = rec_col.map(|c| t.headers[c].as_str());
        report.warnings.push(IngestWarning {
            file: t.path.clone(),
            row: None,
            column: column.map(str::to_string),
            message: format!("every school is in LA {la} but the file has no LA row ({} {}): LA {la}'s published \
                figures for {year} are not in this file", column.unwrap_or(""), ds.records.la.join(" or ")),
        });
    }
    Ok((report, batch))
}

/// The first column in which two rows differ (ignoring padding and trailing empty fields).
fn first_difference(a: &super::table::Row, b: &super::table::Row) -> Option<usize> {
    (0..a.cells.len().max(b.cells.len())).find(|&i| a.get(i).trim() != b.get(i).trim())
}
