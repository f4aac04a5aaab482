//! Ofsted files: the latest-inspection workbook (one graded inspection per school, overall
//! effectiveness 1-4) and the report-card management information (from November 2025: each
//! school's latest report card, latest graded inspection under the previous framework and
//! latest ungraded inspection). Both go into the one `inspections` table, each inspection
//! with its framework; graded areas go into `inspection_judgements`.

use std::sync::Arc;

use super::perf::find;
use super::table::{Row, Table};
use super::{IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::dates::{academic_year_of, parse_date};
use crate::error::IngestError;
use crate::store::schema::{
    framework, AreaRow, Batch, InspectionRow, JudgementRow, Level, ResultRow, SchoolRow,
};
use crate::value::{parse_cell, Status};

pub fn read(
    t: &Table,
    ds: &Dataset,
    _opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let s = |k: &str| super::setting_column(t, ds, k);
    let urn_col = find(t, &ds.keys.urn).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("URN"),
            "key column missing".into(),
        )
    })?;
    let (phase, insp, publ, overall) = (
        s("phase"),
        s("inspection_date"),
        s("publication_date"),
        s("overall"),
    );
    let overall = overall.ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("Overall effectiveness"),
            "key column missing".into(),
        )
    })?;
    let source_file = super::display_path(&t.path);
    let overall_result = OverallResult::new(ds, &t.headers[overall], &source_file);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year_from: "content (inspection dates)".into(),
        version: "final".into(),
        ..Default::default()
    };
    let mut latest = None;
    for row in &t.rows {
        let Some(urn) = urn_of(t, row, urn_col)? else {
            continue;
        };
        let date_of = |c: Option<usize>, what: &str| -> Result<Option<i64>, IngestError> {
            let Some(c) = c else { return Ok(None) };
            let raw = row.get(c).trim();
            if raw.is_empty() || raw == "NULL" {
                return Ok(None);
            }
            parse_date(raw).map(Some).ok_or_else(|| {
                IngestError::at(
                    &t.path,
                    row.line,
                    Some(what),
                    format!("{raw:?} is not a date"),
                )
            })
        };
        let d = date_of(insp, "Inspection date")?;
        let p = date_of(publ, "Publication date")?;
        let cell = parse_cell(row.get(overall)).map_err(|b| {
            IngestError::at(
                &t.path,
                row.line,
                Some(&t.headers[overall]),
                format!("{:?}: {}", b.text, b.reason),
            )
        })?;
        let grade = cell.value.map(|v| v as i32);
        if let Some(g) = grade {
            if !(1..=4).contains(&g) || cell.value != Some(g as f64) {
                return Err(IngestError::at(
                    &t.path,
                    row.line,
                    Some(&t.headers[overall]),
                    format!(
                        "overall effectiveness must be 1-4, found {}",
                        row.get(overall)
                    ),
                ));
            }
        }
        *report.rows_by_record.entry("school".into()).or_default() += 1;
        *report
            .status_counts
            .entry(cell.status.token().to_string())
            .or_default() += 1;
        latest = latest.max(d);
        batch.inspections.push(InspectionRow {
            urn: urn.to_string(),
            la_code: None,
            framework: framework::OEIF,
            inspection_type: None,
            inspection_date: d,
            publication_date: p,
            overall_effectiveness: grade,
            outcome: grade.and_then(oeif_words).map(str::to_string),
            ofsted_phase: phase
                .map(|c| row.get(c).trim().to_string())
                .filter(|s| !s.is_empty()),
            pupils: None,
            source_file: source_file.clone(),
            source_row: row.line,
        });
        if let (Some(g), Some(day)) = (grade, d) {
            batch
                .results
                .push(overall_result.row(urn, None, g, day, row.line));
        }
    }
    report.year = latest.map(academic_year_of);
    report.mapped_columns = [Some(urn_col), phase, insp, publ, Some(overall)]
        .iter()
        .flatten()
        .map(|&i| t.headers[i].clone())
        .collect();
    Ok((report, batch))
}

/// The `ofsted_overall` result (OEIF grade 1-4) both Ofsted readers give a graded school.
struct OverallResult {
    dataset: Arc<str>,
    measure: Arc<str>,
    group: Arc<str>,
    key_stage: Arc<str>,
    version: Arc<str>,
    column: Arc<str>,
    file: Arc<str>,
}

impl OverallResult {
    fn new(ds: &Dataset, column: &str, file: &str) -> OverallResult {
        OverallResult {
            dataset: Arc::from(ds.id.as_str()),
            measure: Arc::from("ofsted_overall"),
            group: Arc::from("all"),
            key_stage: Arc::from("ofsted"),
            version: Arc::from("final"),
            column: Arc::from(column),
            file: Arc::from(file),
        }
    }

    fn row(
        &self,
        urn: &str,
        la_code: Option<String>,
        grade: i32,
        day: i64,
        line: u64,
    ) -> ResultRow {
        ResultRow {
            year: academic_year_of(day),
            level: Level::School,
            code: urn.to_string(),
            la_code,
            scope: "state_funded",
            phase: "all",
            key_stage: self.key_stage.clone(),
            measure: self.measure.clone(),
            group: self.group.clone(),
            value: Some(grade as f64),
            cohort: None,
            numerator: None,
            ci_low: None,
            ci_high: None,
            status: Status::Ok,
            version: self.version.clone(),
            dataset: self.dataset.clone(),
            source_column: self.column.clone(),
            source_file: self.file.clone(),
            source_row: line,
        }
    }
}

/// Overall effectiveness in Ofsted's words.
pub fn oeif_words(grade: i32) -> Option<&'static str> {
    ["Outstanding", "Good", "Requires improvement", "Inadequate"]
        .get(usize::try_from(grade - 1).ok()?)
        .copied()
}

/// The report-card scale, best first: grade 1 = exceptional ... 5 = urgent improvement.
pub const REPORT_CARD_SCALE: [&str; 5] = [
    "Exceptional",
    "Strong standard",
    "Expected standard",
    "Needs attention",
    "Urgent improvement",
];

/// A report-card grade's place on the scale (1 exceptional - 5 urgent improvement).
pub fn report_card_grade(label: &str) -> Option<i32> {
    REPORT_CARD_SCALE
        .iter()
        .position(|g| g.eq_ignore_ascii_case(label.trim()))
        .map(|i| i as i32 + 1)
}

/// The row's URN: None for a row without one (skipped), an error if it is not all digits.
fn urn_of<'r>(t: &Table, row: &'r Row, c: usize) -> Result<Option<&'r str>, IngestError> {
    let urn = row.get(c).trim();
    if urn.is_empty() {
        return Ok(None);
    }
    if !urn.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IngestError::at(
            &t.path,
            row.line,
            Some(&t.headers[c]),
            format!("{urn:?} is not a URN"),
        ));
    }
    Ok(Some(urn))
}

/// Empty, `NULL` and "Not applicable" are not values (never zeros).
fn blank(raw: &str) -> bool {
    let r = raw.trim();
    r.is_empty() || r.eq_ignore_ascii_case("NULL") || r.eq_ignore_ascii_case("Not applicable")
}

/// `(id, columns...)` pairs from a setting such as `report_card_areas = [["inclusion", "Inclusion", "..."]]`.
fn setting_lists(ds: &Dataset, key: &str) -> Vec<Vec<String>> {
    ds.settings
        .get(key)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_array())
                .map(|x| {
                    x.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The Ofsted management-information file in the report-card layout (from November 2025).
pub fn read_report_cards(
    t: &Table,
    ds: &Dataset,
    _opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let name_of = |k: &str| {
        ds.settings
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let s = |k: &str| super::setting_column(t, ds, k);
    let need = |k: &str| -> Result<usize, IngestError> {
        let n = name_of(k).unwrap_or_else(|| k.to_string());
        t.col(&n).ok_or_else(|| {
            IngestError::at(
                &t.path,
                t.header_line,
                Some(&n),
                "key column missing".into(),
            )
        })
    };
    let urn_col = find(t, &ds.keys.urn).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("URN"),
            "key column missing".into(),
        )
    })?;
    let name_col = find(t, &ds.keys.name);
    let laestab = need("laestab")?;
    let (rc_date, oeif_date, oeif_overall) = (
        need("report_card_date")?,
        need("oeif_date")?,
        need("oeif_overall")?,
    );
    let (la_name, region, phase, stype, postcode, relig, trust, pupils_col, low, high) = (
        s("la_name"),
        s("region"),
        s("phase"),
        s("school_type"),
        s("postcode"),
        s("religious_character"),
        s("trust"),
        s("pupils"),
        s("low_age"),
        s("high_age"),
    );
    let admissions = s("admissions_policy");
    let (rc_type, rc_publ, oeif_type, oeif_publ, ug_date, ug_publ, ug_outcome) = (
        s("report_card_type"),
        s("report_card_publication"),
        s("oeif_type"),
        s("oeif_publication"),
        s("ungraded_date"),
        s("ungraded_publication"),
        s("ungraded_outcome"),
    );
    let maintained = super::setting_values(ds, "maintained_types");
    // Area columns the file has; a missing optional area (a later edition may drop one) is simply absent.
    let col_of = |n: Option<&String>| n.and_then(|n| t.col(n));
    let rc_areas: Vec<(String, usize, Option<usize>)> = setting_lists(ds, "report_card_areas")
        .into_iter()
        .filter_map(|v| Some((v.first()?.clone(), col_of(v.get(1))?, col_of(v.get(2)))))
        .collect();
    let oeif_areas: Vec<(String, usize)> = setting_lists(ds, "oeif_judgements")
        .into_iter()
        .filter_map(|v| Some((v.first()?.clone(), col_of(v.get(1))?)))
        .collect();

    let source_file = super::display_path(&t.path);
    let overall_result = OverallResult::new(ds, &t.headers[oeif_overall], &source_file);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year_from: "content (inspection dates)".into(),
        version: "final".into(),
        ..Default::default()
    };
    let mut latest: Option<i64> = None;
    let mut las: std::collections::BTreeMap<String, (String, Option<String>)> =
        std::collections::BTreeMap::new();
    let mut pending_schools = Vec::new();
    for row in &t.rows {
        let at = |c: usize, m: String| IngestError::at(&t.path, row.line, Some(&t.headers[c]), m);
        let text = |c: Option<usize>| {
            c.map(|c| row.get(c).trim())
                .filter(|v| !blank(v))
                .map(str::to_string)
        };
        let date = |c: Option<usize>| -> Result<Option<i64>, IngestError> {
            let Some(c) = c else { return Ok(None) };
            let raw = row.get(c).trim();
            if blank(raw) {
                return Ok(None);
            }
            parse_date(raw)
                .map(Some)
                .ok_or_else(|| at(c, format!("{raw:?} is not a date")))
        };
        let Some(urn) = urn_of(t, row, urn_col)? else {
            continue;
        };
        // LAESTAB = 3-digit LA code + 4-digit establishment number.
        let le = row.get(laestab).trim();
        let (la_code, estab) = if blank(le) {
            (None, None)
        } else if le.len() == 7 && le.bytes().all(|b| b.is_ascii_digit()) {
            (Some(le[..3].to_string()), Some(le[3..].to_string()))
        } else {
            return Err(at(
                laestab,
                format!("{le:?} is not a LAESTAB (7 digits: LA code and establishment number)"),
            ));
        };
        let pupils = match pupils_col {
            Some(c) if !blank(row.get(c)) => {
                let raw = row.get(c).trim();
                Some(
                    raw.parse::<f64>()
                        .ok()
                        .filter(|n| n.is_finite() && *n >= 0.0)
                        .ok_or_else(|| at(c, format!("{raw:?} is not a number of pupils")))?,
                )
            }
            _ => None,
        };
        let ofsted_phase = text(phase);
        if let (Some(la), Some(n)) = (&la_code, text(la_name)) {
            las.entry(la.clone()).or_insert((n, text(region)));
        }
        *report.rows_by_record.entry("school".into()).or_default() += 1;
        let inspection = |fw: &'static str,
                          itype: Option<String>,
                          d: Option<i64>,
                          p: Option<i64>,
                          grade: Option<i32>,
                          outcome: Option<String>| InspectionRow {
            urn: urn.to_string(),
            la_code: la_code.clone(),
            framework: fw,
            inspection_type: itype,
            inspection_date: d,
            publication_date: p,
            overall_effectiveness: grade,
            outcome,
            ofsted_phase: ofsted_phase.clone(),
            pupils,
            source_file: source_file.clone(),
            source_row: row.line,
        };
        let judgement = |fw: &'static str,
                         d: Option<i64>,
                         area: &str,
                         grade: i32,
                         label: &str,
                         jd: Option<i64>,
                         c: usize| JudgementRow {
            urn: urn.to_string(),
            framework: fw,
            inspection_date: d,
            area: area.to_string(),
            grade,
            grade_label: label.to_string(),
            judgement_date: jd,
            source_file: source_file.clone(),
            source_row: row.line,
            source_column: t.headers[c].clone(),
        };

        // The latest report-card inspection: every area graded, safeguarding met or not.
        let rc_day = date(Some(rc_date))?;
        for (area, c, dc) in &rc_areas {
            let raw = row.get(*c).trim();
            if blank(raw) {
                continue;
            }
            let grade = if area == "safeguarding" {
                match raw.to_ascii_lowercase().as_str() {
                    "met" => 1,
                    "not met" => 2,
                    _ => {
                        return Err(at(
                            *c,
                            format!("safeguarding standards must be Met or Not met, found {raw:?}"),
                        ))
                    }
                }
            } else {
                report_card_grade(raw).ok_or_else(|| {
                    at(
                        *c,
                        format!(
                            "{raw:?} is not a report-card grade (one of {})",
                            REPORT_CARD_SCALE.join(", ")
                        ),
                    )
                })?
            };
            if rc_day.is_none() {
                return Err(at(
                    rc_date,
                    format!(
                        "the report card grades {} but gives no inspection date",
                        t.headers[*c]
                    ),
                ));
            }
            *report
                .status_counts
                .entry(format!("report card: {raw}"))
                .or_default() += 1;
            batch.judgements.push(judgement(
                framework::REPORT_CARD,
                rc_day,
                area,
                grade,
                raw,
                date(*dc)?,
                *c,
            ));
        }
        if rc_day.is_some() {
            batch.inspections.push(inspection(
                framework::REPORT_CARD,
                text(rc_type),
                rc_day,
                date(rc_publ)?,
                None,
                None,
            ));
            latest = latest.max(rc_day);
        }

        // The latest graded inspection under the previous framework: 1-4, "Not judged" or none.
        let oeif_day = date(Some(oeif_date))?;
        let raw = row.get(oeif_overall).trim();
        let (grade, outcome) = if blank(raw) {
            (None, None)
        } else if raw.eq_ignore_ascii_case("Not judged") {
            (None, Some("Not judged".to_string()))
        } else {
            match raw.parse::<i32>() {
                Ok(g) if (1..=4).contains(&g) => (Some(g), oeif_words(g).map(str::to_string)),
                _ => {
                    return Err(at(
                        oeif_overall,
                        format!("overall effectiveness must be 1-4 or Not judged, found {raw:?}"),
                    ))
                }
            }
        };
        *report
            .status_counts
            .entry(format!(
                "OEIF overall: {}",
                if blank(raw) { "NULL" } else { raw }
            ))
            .or_default() += 1;
        if oeif_day.is_none() && outcome.is_some() {
            return Err(at(
                oeif_date,
                format!("overall effectiveness {raw:?} has no inspection date"),
            ));
        }
        if oeif_day.is_some() {
            for (area, c) in &oeif_areas {
                let v = row.get(*c).trim();
                // 9: the judgement does not apply to this school (no early years, no sixth form).
                if blank(v) || v == "9" {
                    continue;
                }
                let g = if area == "safeguarding" {
                    match v.to_ascii_lowercase().as_str() {
                        "yes" => 1,
                        "no" => 2,
                        _ => {
                            return Err(at(
                                *c,
                                format!("safeguarding effective must be Yes or No, found {v:?}"),
                            ))
                        }
                    }
                } else {
                    v.parse::<i32>()
                        .ok()
                        .filter(|g| (1..=4).contains(g))
                        .ok_or_else(|| {
                            at(
                                *c,
                                format!(
                                    "a judgement must be 1-4 (9 = not applicable), found {v:?}"
                                ),
                            )
                        })?
                };
                batch
                    .judgements
                    .push(judgement(framework::OEIF, oeif_day, area, g, v, None, *c));
            }
            batch.inspections.push(inspection(
                framework::OEIF,
                text(oeif_type),
                oeif_day,
                date(oeif_publ)?,
                grade,
                outcome,
            ));
            latest = latest.max(oeif_day);
            if let (Some(g), Some(day)) = (grade, oeif_day) {
                batch
                    .results
                    .push(overall_result.row(urn, la_code.clone(), g, day, row.line));
            }
        }

        // The latest ungraded inspection: an outcome sentence, no grades.
        if let Some(d) = date(ug_date)? {
            batch.inspections.push(inspection(
                framework::UNGRADED,
                None,
                Some(d),
                date(ug_publ)?,
                None,
                text(ug_outcome),
            ));
            latest = latest.max(Some(d));
        }

        let age = |c: Option<usize>| text(c).and_then(|v| v.parse::<i32>().ok());
        let school_type = text(stype);
        pending_schools.push(SchoolRow {
            urn: urn.to_string(),
            name: text(name_col),
            la_code: la_code.clone(),
            la_name: text(la_name),
            estab,
            phase: ofsted_phase
                .as_deref()
                .and_then(store_phase)
                .map(str::to_string),
            la_maintained: school_type
                .as_ref()
                .map(|ty| maintained.iter().any(|m| m.eq_ignore_ascii_case(ty))),
            school_type,
            school_type_code: None,
            status: Some("open".into()),
            address: None,
            town: None,
            postcode: text(postcode),
            low_age: age(low),
            high_age: age(high),
            open_date: None,
            close_date: None,
            religious_character: text(relig).filter(|r| {
                !r.eq_ignore_ascii_case("Does not apply") && !r.eq_ignore_ascii_case("None")
            }),
            gender: None,
            admissions_policy: text(admissions).filter(|a| !a.eq_ignore_ascii_case("Unknown")),
            trust: text(trust),
            pupils,
            as_of_year: 0,
            precedence: 1,
            source_file: source_file.clone(),
        });
    }
    let year = latest.map(academic_year_of);
    for mut sr in pending_schools {
        sr.as_of_year = year.unwrap_or(0);
        batch.schools.push(sr);
    }
    for (code, (name, region)) in las {
        batch.areas.push(AreaRow {
            level: Level::La,
            code,
            name,
            new_code: None,
            region_code: None,
            region_name: region,
            source_file: source_file.clone(),
        });
    }
    report.year = year;
    let mut mapped: Vec<usize> = vec![urn_col, laestab, rc_date, oeif_date, oeif_overall];
    mapped.extend(
        [
            name_col, la_name, region, phase, stype, postcode, relig, admissions, trust,
            pupils_col, low, high, rc_type, rc_publ, oeif_type, oeif_publ, ug_date, ug_publ,
            ug_outcome,
        ]
        .into_iter()
        .flatten(),
    );
    mapped.extend(
        rc_areas
            .iter()
            .flat_map(|(_, c, d)| std::iter::once(*c).chain(*d)),
    );
    mapped.extend(oeif_areas.iter().map(|(_, c)| *c));
    mapped.sort();
    mapped.dedup();
    report.mapped_columns = mapped.iter().map(|&i| t.headers[i].clone()).collect();
    report.unmapped_columns = (0..t.headers.len())
        .filter(|i| !mapped.contains(i))
        .map(|i| t.headers[i].clone())
        .collect();
    Ok((report, batch))
}

/// Ofsted's phase in the store's phase vocabulary.
pub(crate) fn store_phase(p: &str) -> Option<&'static str> {
    Some(match p.trim().to_ascii_lowercase().as_str() {
        "primary" => "primary",
        "secondary" => "secondary",
        "special" => "special",
        "nursery" => "nursery",
        "alternative provision" | "pru" => "ap",
        "all-through" | "all through" => "all_through",
        _ => return None,
    })
}
