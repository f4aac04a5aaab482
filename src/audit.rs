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
//! Published figures (already controlled by the DfE) do not carry these labels.

use std::path::{Path, PathBuf};

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
    let files = crate::ingest::collect_files(&[dir.to_path_buf()])?;
    for (path, _) in files {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let shown = crate::ingest::display_path(&path);
        let found = match ext.as_str() {
            "csv" => Some(audit_csv(&path, threshold)),
            "json" => Some(audit_json(&path, threshold)),
            "html" | "htm" | "svg" | "md" | "txt" | "typ" => std::fs::read_to_string(&path).ok().map(|t| audit_text(&t, threshold)),
            "xlsx" => Some(audit_xlsx(&path, threshold)),
            "pdf" => match pdf_text(&path) {
                Some(t) => Some(audit_text(&t, threshold)),
                None => {
                    report.not_checked.push(format!("{shown}: pdftotext (poppler-utils) is not installed"));
                    None
                }
            },
            _ => None,
        };
        if let Some(found) = found {
            report.files_checked += 1;
            report.findings.extend(found.into_iter().map(|(location, figure)| Finding { file: shown.clone(), location, figure }));
        }
    }
    Ok(report)
}

fn disclosive(v: f64, threshold: u64) -> bool {
    v >= 1.0 && v <= threshold as f64
}

fn is_cohort_column(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n == "cohort" || n.ends_with("_cohort")
}

fn audit_csv(path: &Path, threshold: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(mut rdr) = csv::ReaderBuilder::new().flexible(true).from_path(path) else { return out };
    let Ok(headers) = rdr.headers().cloned() else { return out };
    let cols: Vec<(usize, String)> = headers.iter().enumerate().filter(|(_, h)| is_cohort_column(h)).map(|(i, h)| (i, h.to_string())).collect();
    if cols.is_empty() {
        return out;
    }
    for (i, rec) in rdr.records().enumerate() {
        let Ok(rec) = rec else { continue };
        for (c, name) in &cols {
            let raw = rec.get(*c).unwrap_or("").trim();
            if raw.parse::<f64>().is_ok_and(|v| disclosive(v, threshold)) {
                out.push((format!("row {}, column {name}", i + 2), raw.to_string()));
            }
        }
    }
    out
}

fn audit_json(path: &Path, threshold: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(text) = std::fs::read_to_string(path) else { return out };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { return out };
    walk_json(&v, "$".into(), threshold, &mut out);
    out
}

fn walk_json(v: &serde_json::Value, at: String, threshold: u64, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let here = format!("{at}.{k}");
                if is_cohort_column(k) {
                    if let Some(n) = x.as_f64().filter(|n| disclosive(*n, threshold)) {
                        out.push((here.clone(), n.to_string()));
                    }
                }
                walk_json(x, here, threshold, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk_json(x, format!("{at}[{i}]"), threshold, out)),
        _ => {}
    }
}

/// `n=K`, `n = K` or `n=K` with a non-breaking space, as a whole word.
pub fn audit_text(text: &str, threshold: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if b[i] == b'n' && word_start {
                let mut j = i + 1;
                while j < b.len() && (b[j] == b' ' || line.is_char_boundary(j) && line[j..].starts_with('\u{a0}')) {
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
                    let followed_by_digitlike = j < b.len() && (b[j] == b'.' && j + 1 < b.len() && b[j + 1].is_ascii_digit());
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

fn audit_xlsx(path: &Path, threshold: u64) -> Vec<(String, String)> {
    use calamine::{open_workbook_auto, Data, Reader};
    let mut out = Vec::new();
    let Ok(mut wb) = open_workbook_auto(path) else { return out };
    for name in wb.sheet_names().to_vec() {
        let Ok(range) = wb.worksheet_range(&name) else { continue };
        let mut cohort_cols: Vec<usize> = Vec::new();
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Data::String(s) if is_cohort_column(s) => cohort_cols.push(c),
                    Data::String(s) => out.extend(audit_text(s, threshold).into_iter().map(|(_, f)| (format!("sheet {name}, row {}, column {}", r + 1, c + 1), f))),
                    Data::Int(_) | Data::Float(_) if cohort_cols.contains(&c) => {
                        let v = match cell {
                            Data::Int(i) => *i as f64,
                            Data::Float(f) => *f,
                            _ => 0.0,
                        };
                        if disclosive(v, threshold) {
                            out.push((format!("sheet {name}, row {}, column {}", r + 1, c + 1), v.to_string()));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The text of a PDF as a reader sees it, through poppler's pdftotext.
fn pdf_text(path: &Path) -> Option<String> {
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(path).arg("-").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// For messages: the files of a directory that were audited.
pub fn describe(report: &AuditReport, dir: &PathBuf) -> String {
    let mut s = format!("audit of {}: {} file(s) checked, {} disclosive figure(s)", dir.display(), report.files_checked, report.findings.len());
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
        let found = audit_text("Looked after (n=3) 33.3%\nDisadvantaged (n=12) 50%\nn = 5 here; n=c; nn=2; n=2.5 SD; an=4", 5);
        assert_eq!(found, vec![("line 1".to_string(), "n=3".to_string()), ("line 3".to_string(), "n = 5".to_string())]);
        assert_eq!(audit_text("Boys (n\u{a0}=4)", 5).len(), 1, "a non-breaking space does not hide a label");
    }
}
