//! Target returns: the xlsx forms `attain targets forms` sends to schools, filled in and sent
//! back. This reader only finds the cells (by their labels, so a moved row still reads) and
//! keeps each value with its cell reference; whether a value is right is decided in
//! `analysis::target_returns`, which knows the store and the catalogue.

use std::path::{Path, PathBuf};

use crate::error::IngestError;

/// The form's layout: one sheet, labels in column A above a table of measures. The writer
/// (`render::target_form`) and this reader share these names.
pub mod layout {
    pub const SHEET: &str = "Targets";
    pub const URN: &str = "URN";
    pub const SCHOOL: &str = "School";
    pub const LA_CODE: &str = "LA code";
    pub const LA_NAME: &str = "Local authority";
    /// The results year the targets are for, as `2018/19`.
    pub const FOR_YEAR: &str = "Targets for";
    /// The results the suggestions are built on, as `2017/18`.
    pub const BASE_YEAR: &str = "Last results";
    /// Column A of the table's header row.
    pub const MEASURE_ID: &str = "Measure id";
    /// The header of the column schools fill in.
    pub const AGREED: &str = "Agreed target";
    /// 0-based rows of the labels and of the table's header.
    pub const URN_ROW: u32 = 1;
    pub const SCHOOL_ROW: u32 = 2;
    pub const LA_CODE_ROW: u32 = 3;
    pub const LA_NAME_ROW: u32 = 4;
    pub const FOR_YEAR_ROW: u32 = 5;
    pub const BASE_YEAR_ROW: u32 = 6;
    pub const NOTE_ROW: u32 = 7;
    pub const HEADER_ROW: u32 = 9;
}

/// A cell's content as the school left it.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Empty,
    Number(f64),
    Text(String),
}

impl CellValue {
    /// The value as text (numbers without a trailing `.0`).
    pub fn text(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            CellValue::Number(n) => format!("{n}"),
            CellValue::Text(s) => s.clone(),
        }
    }
}

/// A value and where it is (`B2`).
#[derive(Debug, Clone, PartialEq)]
pub struct FormCell {
    pub cell: String,
    pub value: CellValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnRow {
    pub measure: FormCell,
    pub agreed: FormCell,
}

/// What one return says, cell by cell. A label missing from column A leaves its field `None`.
#[derive(Debug, Clone)]
pub struct TargetReturn {
    pub file: PathBuf,
    pub sheet: String,
    pub urn: Option<FormCell>,
    pub school: Option<FormCell>,
    pub la_code: Option<FormCell>,
    pub year: Option<FormCell>,
    pub rows: Vec<ReturnRow>,
}

/// `A1`-style reference of a 0-based row and column.
pub fn cell_ref(row: u32, col: u32) -> String {
    format!(
        "{}{}",
        crate::ingest::table::column_letters(col as usize + 1),
        row + 1
    )
}

fn value_of(d: Option<&calamine::Data>) -> CellValue {
    use calamine::Data;
    match d {
        None | Some(Data::Empty) => CellValue::Empty,
        Some(Data::Float(f)) => CellValue::Number(*f),
        Some(Data::Int(i)) => CellValue::Number(*i as f64),
        Some(Data::String(s)) if s.trim().is_empty() => CellValue::Empty,
        Some(Data::String(s)) => CellValue::Text(s.trim().to_string()),
        Some(Data::Bool(b)) => CellValue::Text(b.to_string()),
        Some(Data::DateTime(dt)) => CellValue::Text(super::table::excel_serial_to_iso(dt.as_f64())),
        Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => CellValue::Text(s.clone()),
        Some(Data::Error(e)) => CellValue::Text(format!("#{e:?}")),
    }
}

/// Read a return. A file that cannot be opened, has no `Targets` sheet or no table header row
/// is an error for the whole file; everything else is left for the checks.
pub fn read(path: &Path) -> Result<TargetReturn, IngestError> {
    use calamine::{open_workbook_auto_from_rs, Reader};
    // A return comes from outside: read it within the limits every workbook is read within
    // (a regular file, its size, what it unpacks to, each sheet's area) before calamine lays
    // out a sheet.
    let bytes = super::table::read_input(path)?;
    super::table::read_workbook(path, &bytes)?;
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| IngestError::at_file(path, format!("cannot open the workbook: {e}")))?;
    let names = wb.sheet_names().to_vec();
    let Some(sheet) = names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case(layout::SHEET))
        .cloned()
    else {
        return Err(IngestError::at_file(
            path,
            format!(
                "no sheet named {} (sheets: {}): not a targets form from `attain targets forms`",
                layout::SHEET,
                names.join(", ")
            ),
        ));
    };
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| IngestError::at_file(path, format!("sheet {sheet}: {e}")))?;
    let Some((last_row, last_col)) = range.end() else {
        return Err(IngestError::at_file(
            path,
            format!("sheet {sheet} is empty"),
        ));
    };
    let at = |r: u32, c: u32| FormCell {
        cell: cell_ref(r, c),
        value: value_of(range.get_value((r, c))),
    };
    let label = |r: u32| value_of(range.get_value((r, 0))).text();
    // The labels are found in column A wherever they are (a school may insert a row), value in B.
    let find = |name: &str| (0..=last_row).find(|&r| label(r).eq_ignore_ascii_case(name));
    let header = find(layout::MEASURE_ID).ok_or_else(|| {
        IngestError::at_file(
            path,
            format!(
                "sheet {sheet}: no row \
        with {:?} in column A: not a targets form from `attain targets forms`",
                layout::MEASURE_ID
            ),
        )
    })?;
    let agreed_col = (0..=last_col)
        .find(|&c| {
            value_of(range.get_value((header, c)))
                .text()
                .starts_with(layout::AGREED)
        })
        .ok_or_else(|| {
            IngestError::at(
                path,
                header as u64 + 1,
                None,
                format!(
                    "sheet {sheet}: no {:?} column in the header row",
                    layout::AGREED
                ),
            )
        })?;
    let info = |name: &str| find(name).filter(|&r| r < header).map(|r| at(r, 1));
    let mut rows = Vec::new();
    for r in header + 1..=last_row {
        let (measure, agreed) = (at(r, 0), at(r, agreed_col));
        if measure.value == CellValue::Empty && agreed.value == CellValue::Empty {
            continue;
        }
        rows.push(ReturnRow { measure, agreed });
    }
    Ok(TargetReturn {
        file: path.to_path_buf(),
        sheet,
        urn: info(layout::URN),
        school: info(layout::SCHOOL),
        la_code: info(layout::LA_CODE),
        year: info(layout::FOR_YEAR),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(1, 1), "B2");
        assert_eq!(cell_ref(11, 12), "M12");
        assert_eq!(cell_ref(0, 25), "Z1");
        assert_eq!(cell_ref(0, 26), "AA1");
        assert_eq!(cell_ref(4, 27), "AB5");
    }
}
