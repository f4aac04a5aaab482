//! Workbooks for people who live in Excel: headers in words (the column ids, meanings and
//! sources in a "Dictionary" sheet), numbers stored as numbers in a format at their
//! measure's published precision, Yes/No for flags, colour for quartiles, significance,
//! trends and council categories (a colour-blind safe blue-orange scale, the words kept so
//! it prints in grey), frozen headers, an autofilter, and a page set up for print
//! (landscape, fit to width, the header row on every page, the title and date in the margins).
//! Shared by the causing-concern register and the LA workbook.

use rust_xlsxwriter::{
    ConditionalFormatCell, ConditionalFormatCellRule, ConditionalFormatText,
    ConditionalFormatTextRule, DocProperties, ExcelDateTime, Format, FormatAlign, Workbook,
    Worksheet, XlsxError,
};
use serde_json::Value;

use crate::output::{self, Report};

pub mod columns;

use columns::{describe, Kind};

pub struct Sheet<'a> {
    pub name: &'a str,
    pub report: &'a Report,
    /// Columns kept in view when scrolling right (e.g. URN and name).
    pub frozen_columns: u16,
    /// Lines written above the table (what the sheet is, sources); the header follows them.
    pub notes: Vec<String>,
    /// Each row's published decimal places (its measure's precision), which its figures'
    /// number format shows; empty where the sheet's figures have no measure.
    pub dps: Vec<Option<u32>>,
    /// Columns whose values are ordered categories, best first (a council's categories): the
    /// column id and its values.
    pub scales: Vec<(String, Vec<String>)>,
}

impl<'a> Sheet<'a> {
    /// A sheet with no frozen columns, notes, precisions or scales.
    pub fn new(name: &'a str, report: &'a Report) -> Sheet<'a> {
        Sheet {
            name,
            report,
            frozen_columns: 0,
            notes: vec![],
            dps: vec![],
            scales: vec![],
        }
    }
}

/// The widest a column is made, in characters: longer text wraps. Wide enough for nearly every
/// school's name on one line; a row whose cells all fit keeps the default height, so a long
/// table prints about 50 rows to a page.
const WRAP_AT: usize = 60;

/// The dictionary sheet's name (the last sheet of every workbook).
pub const DICTIONARY: &str = "Dictionary";

/// The light fills of the blue-orange scale, best first (Okabe-Ito blue and orange, tinted so
/// black text stays readable on screen and in a grey print).
const SCALE: [&str; 5] = ["#9CC7E6", "#D4E6F3", "#EEEEEE", "#FAD9A8", "#F2B279"];

/// `results_year` dates the file (31 August of that year) instead of the clock, so the
/// same figures give the same bytes. Text cells are always written as strings: a name
/// starting with `=` stays text, never a formula. `title` (which names the LA) heads every
/// printed page.
pub fn xlsx(sheets: &[Sheet], title: &str, results_year: i32) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let header = header_format();
    let note = Format::new().set_italic();
    let text = Format::new().set_align(FormatAlign::Top);
    let wrap = text.clone().set_text_wrap();
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(s.name)?;
        let rep = s.report;
        for (i, n) in s.notes.iter().enumerate() {
            ws.write_string_with_format(i as u32, 0, n, &note)?;
        }
        let top = s.notes.len() as u32;
        let last_row = top + rep.rows.len() as u32;
        let infos: Vec<_> = rep.columns.iter().map(|id| describe(id)).collect();
        // A column is as wide as its longest text up to WRAP_AT characters (a school's name
        // on one line); longer text wraps there, so a page still fits its width.
        let widths: Vec<usize> = infos
            .iter()
            .enumerate()
            .map(|(c, info)| {
                let longest = rep
                    .rows
                    .iter()
                    .map(|r| cell_text(&r[c]).chars().count())
                    .max()
                    .unwrap_or(0);
                (longest + 2)
                    .max(longest_word(&info.header) + 2)
                    .clamp(8, WRAP_AT)
            })
            .collect();
        // Rows of wrapped text are given their height: LibreOffice keeps the default height of
        // a row it is not told, and the wrapped lines would print over the rows below.
        let lines = |texts: &mut dyn Iterator<Item = (String, usize)>| {
            texts.map(|(t, w)| wrapped_lines(&t, w)).max().unwrap_or(1)
        };
        let head_lines = lines(
            &mut infos
                .iter()
                .zip(&widths)
                // Bold text is wider: a little less fits on a line.
                .map(|(i, w)| (i.header.clone(), w.saturating_sub(2))),
        );
        ws.set_row_height(top, 15.0 * head_lines as f64)?;
        for (i, r) in rep.rows.iter().enumerate() {
            let n = lines(
                &mut r
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| (cell_text(v), *w))
                    .filter(|(t, _)| t.chars().count() > WRAP_AT),
            );
            if n > 1 {
                ws.set_row_height(top + 1 + i as u32, 15.0 * n as f64)?;
            }
        }
        for (c, id) in rep.columns.iter().enumerate() {
            let col = c as u16;
            let info = &infos[c];
            ws.write_string_with_format(top, col, &info.header, &header)?;
            ws.set_column_width(col, widths[c] as f64)?;
            for (i, r) in rep.rows.iter().enumerate() {
                let row = top + 1 + i as u32;
                let dps = s.dps.get(i).copied().flatten();
                match &r[c] {
                    Value::Number(n) => {
                        let x = crate::number::denoise(n.as_f64().unwrap_or(0.0));
                        let f = Format::new()
                            .set_num_format(number_format(info.kind, dps, x))
                            .set_align(FormatAlign::Top);
                        ws.write_number_with_format(row, col, x, &f)?;
                    }
                    Value::Bool(b) => {
                        ws.write_string_with_format(row, col, yes_no(*b), &text)?;
                    }
                    Value::Null => {}
                    other => {
                        let t = output::plain(other);
                        let f = if t.chars().count() > WRAP_AT {
                            &wrap
                        } else {
                            &text
                        };
                        ws.write_string_with_format(row, col, t, f)?;
                    }
                }
            }
            if !rep.rows.is_empty() {
                let scale = s
                    .scales
                    .iter()
                    .find(|(c, _)| c == id)
                    .map(|(_, v)| v.as_slice());
                colour(ws, info.kind, scale, (top + 1, last_row, col))?;
            }
        }
        ws.set_freeze_panes(top + 1, s.frozen_columns)?;
        if !rep.rows.is_empty() {
            ws.autofilter(top, 0, last_row, rep.columns.len().saturating_sub(1) as u16)?;
        }
        print_setup(ws, title, s.name, results_year, top)?;
    }
    dictionary(&mut wb, sheets, title, results_year)?;
    set_dated_properties(&mut wb, title, results_year)?;
    wb.save_to_buffer()
}

/// "Yes" or "No": what a flag shows (Excel shows a stored boolean as TRUE/FALSE or 0/1).
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

/// The column's header in words (`measure_label` -> "Measure"), as the workbook prints it.
pub fn heading(id: &str) -> String {
    describe(id).header
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => yes_no(*b).into(),
        other => output::plain(other),
    }
}

/// How many lines `text` takes wrapped at word boundaries in a column `width` characters
/// wide (text of at most [`WRAP_AT`] characters is not wrapped: see the cell formats).
pub(crate) fn wrapped_lines(text: &str, width: usize) -> usize {
    let width = width.saturating_sub(1).max(1);
    let mut lines = 1;
    let mut used = 0;
    for w in text.split_whitespace() {
        let n = w.chars().count();
        if used == 0 {
            used = n;
        } else if used + 1 + n <= width {
            used += 1 + n;
        } else {
            lines += 1;
            used = n;
        }
        // A word longer than the line breaks across lines.
        while used > width {
            lines += 1;
            used -= width;
        }
    }
    lines
}

fn longest_word(s: &str) -> usize {
    s.split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

/// The cell format of a number: the row's published places for a figure (one more for an
/// average or threshold derived from figures), whole for counts; a number no measure
/// describes shows the places it has.
pub fn number_format(kind: Kind, dps: Option<u32>, x: f64) -> String {
    let places = |d: u32| {
        if d == 0 {
            "0".to_string()
        } else {
            format!("0.{}", "0".repeat(d as usize))
        }
    };
    let own = crate::number::places(x);
    match kind {
        Kind::Whole => "0".into(),
        Kind::Figure => places(dps.unwrap_or(own)),
        Kind::Derived => places(dps.map_or(own, |d| d + crate::number::AVERAGE_EXTRA_DPS)),
        Kind::Percent1 => places(1),
        Kind::Signed => {
            let p = places(dps.unwrap_or(own));
            format!("+{p};-{p};{p}")
        }
        _ => places(own),
    }
}

/// Conditional formats on a column's data rows `(first, last, col)`: quartile A-D,
/// significance and gap trends by direction, a council's categories by their order.
fn colour(
    ws: &mut Worksheet,
    kind: Kind,
    scale: Option<&[String]>,
    (first, last, col): (u32, u32, u16),
) -> Result<(), XlsxError> {
    let fill = |i: usize| Format::new().set_background_color(SCALE[i]);
    let equal = |ws: &mut Worksheet, value: &str, i: usize| {
        ws.add_conditional_format(
            first,
            col,
            last,
            col,
            &ConditionalFormatCell::new()
                .set_rule(ConditionalFormatCellRule::EqualTo(value))
                .set_format(fill(i)),
        )
        .map(|_| ())
    };
    let begins = |ws: &mut Worksheet, value: &str, i: usize| {
        ws.add_conditional_format(
            first,
            col,
            last,
            col,
            &ConditionalFormatText::new()
                .set_rule(ConditionalFormatTextRule::BeginsWith(value.to_string()))
                .set_format(fill(i)),
        )
        .map(|_| ())
    };
    if let Some(values) = scale.filter(|v| !v.is_empty()) {
        let n = values.len();
        for (i, v) in values.iter().enumerate() {
            // Spread over the scale: the best at its blue end, the worst at its orange end;
            // the neutral middle only for the middle of an odd number of categories.
            let at = match n {
                1 => 0,
                2 => [0, 4][i],
                4 => [0, 1, 3, 4][i],
                _ => i * (SCALE.len() - 1) / (n - 1),
            };
            equal(ws, v, at)?;
        }
        return Ok(());
    }
    match kind {
        Kind::Quartile => {
            for (q, i) in [("A", 0), ("B", 1), ("C", 3), ("D", 4)] {
                equal(ws, q, i)?;
            }
        }
        Kind::Significance => {
            begins(ws, "significantly above", 0)?;
            begins(ws, "significantly below", 4)?;
        }
        Kind::Trend => {
            begins(ws, "narrowing", 0)?;
            begins(ws, "widening", 4)?;
        }
        Kind::Flag => {
            equal(ws, "Yes", 1)?;
        }
        _ => {}
    }
    Ok(())
}

/// Landscape A4, every column on one page width, the header row repeated on each page, the
/// workbook's title and sheet at the top of each page and the date at the foot.
fn print_setup(
    ws: &mut Worksheet,
    title: &str,
    sheet: &str,
    results_year: i32,
    header_row: u32,
) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.25, 0.25);
    ws.set_header(format!("&L{}&R{}", header_text(title), header_text(sheet)));
    ws.set_footer(format!(
        "&L{}&RPage &P of &N",
        header_text(&dated(results_year))
    ));
    Ok(())
}

/// "Figures for 2018/19, dated 31 August 2019": the documents' date, from the data.
pub fn dated(results_year: i32) -> String {
    format!(
        "Figures for {}, dated 31 August {results_year}",
        crate::year::academic_label(results_year)
    )
}

/// Text for a page header or footer: `&` starts a control code there, so it is doubled.
fn header_text(s: &str) -> String {
    s.replace('&', "&&")
}

/// The last sheet: every column of every sheet with its id, meaning and source.
fn dictionary(
    wb: &mut Workbook,
    sheets: &[Sheet],
    title: &str,
    results_year: i32,
) -> Result<(), XlsxError> {
    let header = header_format();
    let text = Format::new().set_align(FormatAlign::Top).set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name(DICTIONARY)?;
    let cols = ["Sheet", "Column", "Id", "Meaning", "Source"];
    for (c, name) in cols.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *name, &header)?;
    }
    let mut row = 0;
    for s in sheets {
        for id in &s.report.columns {
            let info = describe(id);
            row += 1;
            for (c, v) in [s.name, &info.header, id, &info.meaning, &info.source]
                .iter()
                .enumerate()
            {
                ws.write_string_with_format(row, c as u16, *v, &text)?;
            }
        }
    }
    for (c, w) in [14.0, 24.0, 26.0, 60.0, 40.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    print_setup(ws, title, DICTIONARY, results_year, 0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats_show_the_published_places() {
        assert_eq!(number_format(Kind::Figure, Some(0), 65.0), "0");
        assert_eq!(number_format(Kind::Figure, Some(1), 65.0), "0.0");
        assert_eq!(number_format(Kind::Derived, Some(0), 65.5), "0.0");
        assert_eq!(
            number_format(Kind::Signed, Some(2), -0.5),
            "+0.00;-0.00;0.00"
        );
        assert_eq!(number_format(Kind::Whole, None, 12.0), "0");
        assert_eq!(number_format(Kind::Figure, None, 1.25), "0.00");
        assert_eq!(header_text("Bath & NE Somerset"), "Bath && NE Somerset");
        assert_eq!(dated(2019), "Figures for 2018/19, dated 31 August 2019");
        assert_eq!(wrapped_lines("Distance to the top 10%", 12), 2);
        assert_eq!(wrapped_lines("Rank", 8), 1);
    }
}
