//! Workbooks for people: a bold, wrapped header row, frozen header (and key columns),
//! column widths from the content, numbers stored as numbers with a number format,
//! and an autofilter. Shared by the causing-concern register and the LA workbook.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};
use serde_json::Value;

use crate::output::{self, Report};

pub struct Sheet<'a> {
    pub name: &'a str,
    pub report: &'a Report,
    /// Columns kept in view when scrolling right (e.g. URN and name).
    pub frozen_columns: u16,
    /// Lines written above the table (what the sheet is, sources); the header follows them.
    pub notes: Vec<String>,
}

/// `results_year` dates the file (31 August of that year) instead of the clock, so the
/// same figures give the same bytes. Text cells are always written as strings: a name
/// starting with `=` stays text, never a formula.
pub fn xlsx(sheets: &[Sheet], title: &str, results_year: i32) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let header = header_format();
    let note = Format::new().set_italic();
    let text = Format::new().set_align(FormatAlign::Top);
    let whole = Format::new()
        .set_num_format("0")
        .set_align(FormatAlign::Top);
    let decimal = Format::new()
        .set_num_format("0.0#")
        .set_align(FormatAlign::Top);
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(s.name)?;
        let rep = s.report;
        for (i, n) in s.notes.iter().enumerate() {
            ws.write_string_with_format(i as u32, 0, n, &note)?;
        }
        let top = s.notes.len() as u32;
        for (c, name) in rep.columns.iter().enumerate() {
            ws.write_string_with_format(top, c as u16, name, &header)?;
            let longest = rep
                .rows
                .iter()
                .map(|r| output::plain(&r[c]).chars().count())
                .max()
                .unwrap_or(0)
                .max(name.chars().count());
            ws.set_column_width(c as u16, (longest as f64 + 2.0).clamp(8.0, 60.0))?;
        }
        for (i, r) in rep.rows.iter().enumerate() {
            let row = top + i as u32 + 1;
            for (c, v) in r.iter().enumerate() {
                let col = c as u16;
                match v {
                    Value::Number(n) => {
                        let x = crate::number::denoise(n.as_f64().unwrap_or(0.0));
                        ws.write_number_with_format(
                            row,
                            col,
                            x,
                            if x.fract() == 0.0 { &whole } else { &decimal },
                        )?;
                    }
                    Value::Bool(b) => {
                        ws.write_boolean_with_format(row, col, *b, &text)?;
                    }
                    Value::Null => {}
                    other => {
                        ws.write_string_with_format(row, col, output::plain(other), &text)?;
                    }
                }
            }
        }
        ws.set_freeze_panes(top + 1, s.frozen_columns)?;
        if !rep.rows.is_empty() {
            ws.autofilter(
                top,
                0,
                top + rep.rows.len() as u32,
                rep.columns.len().saturating_sub(1) as u16,
            )?;
        }
    }
    set_dated_properties(&mut wb, title, results_year)?;
    wb.save_to_buffer()
}

/// The header row's look in every workbook attain writes.
pub fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color("#DDEBF7")
}

/// Title and a creation date of 31 August of the results year, not the clock: the same
/// figures give the same bytes.
pub fn set_dated_properties(
    wb: &mut Workbook,
    title: &str,
    results_year: i32,
) -> Result<(), XlsxError> {
    let created = ExcelDateTime::from_ymd(results_year.clamp(1900, 9998) as u16, 8, 31)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_creation_datetime(&created),
    );
    Ok(())
}
