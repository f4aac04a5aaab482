//! Printing results as a table, CSV or JSON (`--format table|csv|json`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

/// Rows of named fields, printed in one of the formats.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Report {
    pub fn new(columns: &[&str]) -> Report {
        Report {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut arr: Vec<Value> = self
                    .rows
                    .iter()
                    .map(|r| {
                        Value::Object(
                            self.columns
                                .iter()
                                .cloned()
                                .zip(r.iter().cloned())
                                .collect(),
                        )
                    })
                    .collect();
                arr.iter_mut().for_each(crate::number::denoise_json);
                serde_json::to_string_pretty(&arr).unwrap_or_default() + "\n"
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let _ = w.write_record(&self.columns);
                for r in &self.rows {
                    let _ = w.write_record(r.iter().map(|v| match v {
                        Value::String(s) => neutralise_formula(s),
                        v => plain(v),
                    }));
                }
                String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
            }
            Format::Table => {
                // Wrapped to the terminal's width, never cut; piped into a file or another
                // tool, cells (paths above all) stay whole on one line.
                let mut t = comfy_table::Table::new();
                t.load_style(comfy_table::presets::ASCII_MARKDOWN)
                    .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
                    .set_header(&self.columns);
                for r in &self.rows {
                    t.add_row(r.iter().map(plain));
                }
                t.to_string() + "\n"
            }
        }
    }

    pub fn print(&self, format: Format) -> Result<(), crate::error::RenderError> {
        stdout(&self.render(format))
    }
}

/// A command's results on stdout. A failed write (a full disk behind `>`, a closed pipe) is
/// an output error (exit 4), not a panic as `print!` would make it.
pub fn stdout(text: &str) -> Result<(), crate::error::RenderError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| crate::error::RenderError::new("stdout", format!("cannot write: {e}")))
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// `-q`: status lines (what was written, notes) are not printed; errors and warnings are.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A status line on stderr (what was written, how long it took), unless `-q`.
pub fn status(line: impl std::fmt::Display) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("{line}");
    }
}

/// A warning on stderr (always shown).
pub fn warn(line: impl std::fmt::Display) {
    eprintln!("warning: {line}");
}

/// A value as plain text (no JSON quoting).
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if !n.is_i64() && !n.is_u64() => {
                Value::from(crate::number::denoise(x)).to_string()
            }
            _ => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A CSV cell that a spreadsheet would run as a formula, made inert as OWASP advises: text
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`. Numbers
/// (`-0.5`) are left alone. JSON and xlsx outputs need no such care.
pub fn neutralise_formula(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && s.trim().parse::<f64>().map_or(true, |v| !v.is_finite()) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise_formula;

    #[test]
    fn formula_cells_are_made_inert_and_numbers_are_not() {
        assert_eq!(
            neutralise_formula("=cmd|' /C calc'!A0"),
            "'=cmd|' /C calc'!A0"
        );
        for s in ["+1+1", "@SUM(A1)", "\tx", "\rx", "-x", "-inf", "+NaN"] {
            assert_eq!(neutralise_formula(s), format!("'{s}"), "{s:?}");
        }
        for s in ["-0.5", "+3", "St Mary's", "", "12%"] {
            assert_eq!(neutralise_formula(s), s);
        }
    }
}
