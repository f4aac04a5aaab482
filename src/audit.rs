//! `attain audit OUTPUT_DIR`: look through every rendered or exported file for a figure
//! about a group of 1 to `threshold` pupils that disclosure control should have removed.
//!
//! What it can see, by the conventions every attain output follows for figures built
//! from pupil-level data:
//! * CSV and xlsx tables with a column named `cohort` (or ending `_cohort`): a number from
//!   1 to the threshold in it is disclosive (withheld cohorts print as `c`);
//! * JSON: any `cohort` / `*_cohort` field holding such a number;
//! * text a person reads (HTML, SVG, Markdown, text, and PDF through `pdftotext`): every
//!   pupil-data figure is labelled with its group size as `n=K` (withheld: `n=c`), so
//!   `n=1` ... `n=5` is disclosive.
//!
//! Published figures (already controlled by the DfE) do not carry these labels; in JSON, a
//! row of `attain gaps` on published data (`group_status` holding a published status
//! token, no pupil-data `status`) carries DfE's own cohorts and is not a disclosure.
//!
//! Files are read in every encoding attain can write and a person may re-save them in
//! (UTF-8, UTF-16, Windows-1252), CSV and TSV, and workbooks (xlsx, xls, ods, hidden sheets
//! too) within the limits every workbook is read within. Cohorts stored as text, `N=4`,
//! HTML entities (`n&#61;2`) and no-break spaces are seen through.

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub file: String,
    /// Where in the file: "row 12, column cohort", "line 40", "$[3].cohort", "sheet Gaps, cell D7".
    pub location: String,
    pub figure: String,
}

#[derive(Debug, Default, Serialize)]
pub struct AuditReport {
    pub files_checked: usize,
    pub findings: Vec<Finding>,
    /// Files that could not be checked (a PDF with no pdftotext on the machine ...).
    pub not_checked: Vec<String>,
}

pub fn audit(dir: &Path, threshold: u64) -> anyhow::Result<AuditReport> {
    let mut report = AuditReport::default();
    // Pupil-data tables for the differencing check, from the text read here.
    let mut tables = crate::audit_diff::Tables::default();
    let files = crate::ingest::collect_files(&[dir.to_path_buf()])?;
    for (path, _) in files {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let shown = crate::ingest::display_path(&path);
        let found = match ext.as_str() {
            "csv" | "tsv" | "tab" => {
                let delimiter = if ext == "csv" { b',' } else { b'\t' };
                Some(read_text(&path).map(|t| {
                    tables.csv(&path, &shown, &t, delimiter);
                    audit_csv(&t, delimiter, threshold)
                }))
            }
            "json" => Some(read_text(&path).map(|t| {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) else {
                    return vec![];
                };
                tables.json(&path, &shown, &v);
                let mut out = Vec::new();
                walk_json(&v, "$".into(), threshold, &mut out);
                out
            })),
            "html" | "htm" | "svg" | "md" | "txt" | "typ" => {
                Some(read_text(&path).map(|t| audit_text(&t, threshold)))
            }
            "xlsx" | "xlsm" | "xls" | "ods" => {
                Some(audit_workbook(&path, &shown, threshold, &mut tables))
            }
            "pdf" => match pdf_text(&path) {
                Some(t) => Some(Ok(audit_text(&t, threshold))),
                None => {
                    report.not_checked.push(format!(
                        "{shown}: pdftotext (poppler-utils) is not installed"
                    ));
                    None
                }
            },
            _ => None,
        };
        let found = match found {
            Some(Ok(f)) => Some(f),
            Some(Err(why)) => {
                report.not_checked.push(format!("{shown}: {why}"));
                None
            }
            None => None,
        };
        if let Some(found) = found {
            report.files_checked += 1;
            report
                .findings
                .extend(found.into_iter().map(|(location, figure)| Finding {
                    file: shown.clone(),
                    location,
                    figure,
                }));
        }
    }
    // Figures that are safe one by one may not be together (src/audit_diff.rs).
    report
        .findings
        .extend(crate::audit_diff::check(tables, threshold)?);
    Ok(report)
}

fn disclosive(v: f64, threshold: u64) -> bool {
    v >= 1.0 && v <= threshold as f64
}

fn is_cohort_column(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n == "cohort" || n.ends_with("_cohort")
}

/// A file's text in whatever encoding it was written or re-saved in (read as ingest reads).
fn read_text(path: &Path) -> Result<String, String> {
    let bytes = crate::ingest::table::read_input(path).map_err(|e| e.message)?;
    if bytes.is_empty() {
        return Ok(String::new());
    }
    crate::ingest::table::decode(path, &bytes)
        .map(|d| d.text)
        .map_err(|e| e.message)
}

/// A number as written in a cell or field: `3`, ` 3 `, `"3"`, `3.0`.
fn number_in(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| {
        c.is_whitespace() || c == '"' || c == '\'' || c == '\u{a0}' || c == '\u{202f}'
    });
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn audit_csv(text: &str, delimiter: u8, threshold: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let Ok(headers) = rdr.headers().cloned() else {
        return out;
    };
    let cols: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| is_cohort_column(h))
        .map(|(i, h)| (i, h.to_string()))
        .collect();
    if cols.is_empty() {
        return out;
    }
    for (i, rec) in rdr.records().enumerate() {
        let Ok(rec) = rec else { continue };
        for (c, name) in &cols {
            let raw = rec.get(*c).unwrap_or("").trim();
            if number_in(raw).is_some_and(|v| disclosive(v, threshold)) {
                out.push((format!("row {}, column {name}", i + 2), raw.to_string()));
            }
        }
    }
    out
}

/// A row of `attain gaps` on published data: its cohorts are DfE's published ones.
fn published_gap_row(m: &serde_json::Map<String, serde_json::Value>) -> bool {
    !m.contains_key("status")
        && m.get("group_status")
            .and_then(|s| s.as_str())
            .and_then(crate::value::Status::from_token)
            .is_some()
}

fn walk_json(v: &serde_json::Value, at: String, threshold: u64, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let here = format!("{at}.{k}");
                // A cohort stored as text ("3") is as disclosive as the number.
                let n = x.as_f64().or_else(|| x.as_str().and_then(number_in));
                if is_cohort_column(k) && !published_gap_row(m) {
                    if let Some(n) = n.filter(|n| disclosive(*n, threshold)) {
                        out.push((here.clone(), n.to_string()));
                    }
                }
                walk_json(x, here, threshold, out);
            }
        }
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| walk_json(x, format!("{at}[{i}]"), threshold, out)),
        _ => {}
    }
}

/// `n=K`, `N=K`, `n = K`, with no-break spaces or HTML entities (`n&#61;2`,
/// `n&nbsp;=&nbsp;3`) between, as a whole word.
pub fn audit_text(text: &str, threshold: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let decoded = if text.contains('&') {
        html_escape::decode_html_entities(text)
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    // Every kind of space a label can be typed or rendered with reads as a space.
    let spaced: String = decoded
        .chars()
        .map(|c| {
            if matches!(
                c,
                '\u{a0}' | '\u{202f}' | '\u{2007}' | '\u{2009}' | '\u{200a}' | '\t'
            ) {
                ' '
            } else {
                c
            }
        })
        .collect();
    for (ln, line) in spaced.lines().enumerate() {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if (b[i] == b'n' || b[i] == b'N') && word_start {
                let mut j = i + 1;
                while j < b.len()
                    && (b[j] == b' ' || line.is_char_boundary(j) && line[j..].starts_with('\u{a0}'))
                {
                    j += if b[j] == b' ' { 1 } else { '\u{a0}'.len_utf8() };
                }
                if j < b.len() && b[j] == b'=' {
                    j += 1;
                    while j < b.len() && b[j] == b' ' {
                        j += 1;
                    }
                    let start = j;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    let followed_by_digitlike = j < b.len()
                        && (b[j] == b'.' && j + 1 < b.len() && b[j + 1].is_ascii_digit());
                    if j > start && !followed_by_digitlike {
                        if let Ok(v) = line[start..j].parse::<f64>() {
                            if disclosive(v, threshold) {
                                out.push((format!("line {}", ln + 1), line[i..j].to_string()));
                            }
                        }
                    }
                }
            }
            i += 1;
        }
    }
    out
}

/// Workbooks (xlsx, xls, ods) through the ingest reader, within its limits, hidden sheets
/// included; cohorts read whether stored as numbers or text.
fn audit_workbook(
    path: &Path,
    shown: &str,
    threshold: u64,
    tables: &mut crate::audit_diff::Tables,
) -> Result<Vec<(String, String)>, String> {
    let bytes = crate::ingest::table::read_input(path).map_err(|e| e.message)?;
    let sheets = crate::ingest::table::read_workbook_sheets(path, &bytes, true)
        .map_err(|e| e.to_string())?;
    tables.sheets(shown, &sheets);
    let mut out = Vec::new();
    for sheet in &sheets {
        let name = &sheet.name;
        let mut cohort_cols: Vec<usize> = Vec::new();
        for row in &sheet.rows {
            for (c, cell) in row.cells.iter().enumerate() {
                let at = || {
                    format!(
                        "sheet {name}{}, row {}, column {}",
                        if sheet.hidden { " (hidden)" } else { "" },
                        row.line,
                        crate::ingest::table::column_letters(sheet.first_col + c + 1)
                    )
                };
                if is_cohort_column(cell) {
                    cohort_cols.push(c);
                } else if cohort_cols.contains(&c)
                    && number_in(cell).is_some_and(|v| disclosive(v, threshold))
                {
                    out.push((at(), cell.trim().to_string()));
                } else {
                    out.extend(
                        audit_text(cell, threshold)
                            .into_iter()
                            .map(|(_, f)| (at(), f)),
                    );
                }
            }
        }
    }
    Ok(out)
}

/// The text of a PDF as a reader sees it, through poppler's pdftotext.
fn pdf_text(path: &Path) -> Option<String> {
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// For messages: the files of a directory that were audited.
pub fn describe(report: &AuditReport, dir: &Path) -> String {
    let mut s = format!(
        "audit of {}: {} file(s) checked, {} disclosive figure(s)",
        dir.display(),
        report.files_checked,
        report.findings.len()
    );
    for f in &report.findings {
        s.push_str(&format!("\n  {}, {}: {}", f.file, f.location, f.figure));
    }
    for n in &report.not_checked {
        s.push_str(&format!("\n  not checked: {n}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_labels_of_small_groups_are_found() {
        let found = audit_text(
            "Looked after (n=3) 33.3%\nDisadvantaged (n=12) 50%\nn = 5 here; n=c; nn=2; n=2.5 SD; \
            an=4",
            5,
        );
        assert_eq!(
            found,
            vec![
                ("line 1".to_string(), "n=3".to_string()),
                ("line 3".to_string(), "n = 5".to_string())
            ]
        );
        assert_eq!(
            audit_text("Boys (n\u{a0}=4)", 5).len(),
            1,
            "a non-breaking space does not hide a label"
        );
    }
}
