//! Reading any tabular file (CSV in any of the encodings DfE files arrive in,
//! or a worksheet) into one shape: a header row and data rows, with the line
//! numbers a person would see in a spreadsheet or text editor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::IngestError;

/// One data row: its 1-based line (CSV) or row (sheet) number and its cells.
pub struct Row {
    pub line: u64,
    pub cells: csv::StringRecord,
}

impl Row {
    /// A cell by column index; ragged rows shorter than the header read as empty.
    #[inline]
    pub fn get(&self, col: usize) -> &str {
        self.cells.get(col).unwrap_or("")
    }
}

/// A decoded table. `rows` hold everything after `header_line`.
pub struct Table {
    pub path: PathBuf,
    pub sheet: Option<String>,
    pub headers: Vec<String>,
    pub header_line: u64,
    pub rows: Vec<Row>,
    index: HashMap<String, usize>,
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(path: PathBuf, sheet: Option<String>, headers: Vec<String>, header_line: u64, rows: Vec<Row>, notes: Vec<String>) -> Table {
        let mut index = HashMap::with_capacity(headers.len());
        for (i, h) in headers.iter().enumerate() {
            // Repeated header names (the 2021 SN CSV repeats "SNP"): the first wins for lookups.
            index.entry(h.to_ascii_uppercase()).or_insert(i);
        }
        Table { path, sheet, headers, header_line, rows, index, notes }
    }

    /// Column index by name, case-insensitive (ESTAB / Estab drift).
    pub fn col(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_ascii_uppercase()).copied()
    }

    /// The first of several alternative names that exists (NotFSM / NFSM / NOTFSM drift).
    pub fn col_any<S: AsRef<str>>(&self, names: &[S]) -> Option<usize> {
        names.iter().find_map(|n| self.col(n.as_ref()))
    }

    pub fn has_all<S: AsRef<str>>(&self, names: &[S]) -> bool {
        names.iter().all(|n| self.col(n.as_ref()).is_some())
    }

    /// Human-readable name of where this table came from.
    pub fn display(&self) -> String {
        match &self.sheet {
            Some(s) => format!("{} [sheet {}]", self.path.display(), s),
            None => self.path.display().to_string(),
        }
    }
}

/// The raw text of a file after decoding, with what had to be done to decode it.
pub struct Decoded {
    pub text: String,
    pub notes: Vec<String>,
}

/// Decode bytes: UTF-8 (BOM stripped), UTF-16 (with BOM), else Windows-1252.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Decoded, IngestError> {
    let mut notes = Vec::new();
    if bytes.is_empty() {
        return Err(IngestError::at_file(path, "the file is empty"));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
        let (text, _, bad) = enc.decode(bytes);
        if bad {
            return Err(IngestError::at_file(path, "the file starts with a UTF-16 byte-order mark but is not valid UTF-16"));
        }
        notes.push(format!("decoded as {}", enc.name()));
        return Ok(Decoded { text: text.trim_start_matches('\u{feff}').to_string(), notes });
    }
    let probe = &bytes[..bytes.len().min(8192)];
    if probe.contains(&0) {
        return Err(IngestError::at_file(path, "the file looks binary (it contains NUL bytes), not a CSV or workbook"));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(s) => Ok(Decoded { text: s.to_string(), notes }),
        Err(e) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(body);
            notes.push(format!("not valid UTF-8 (first bad byte at offset {}): decoded as Windows-1252", e.valid_up_to()));
            Ok(Decoded { text: text.into_owned(), notes })
        }
    }
}

/// Pick the delimiter from the first line: DfE files use commas, but re-saved
/// files sometimes come with semicolons or tabs.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    let (commas, semis, tabs) = (count(','), count(';'), count('\t'));
    if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

/// Parse CSV text into raw rows (no header interpretation yet).
pub fn parse_csv(path: &Path, text: &str, notes: &mut Vec<String>) -> Result<Vec<Row>, IngestError> {
    let delim = sniff_delimiter(text);
    if delim != b',' {
        notes.push(format!("delimiter is {:?}, not a comma", delim as char));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Line numbers are counted from byte offsets: the csv crate's own line counter
    // does not advance on CRLF line ends, which most DfE downloads use.
    let bytes = text.as_bytes();
    let (mut seen_byte, mut seen_line) = (0usize, 1u64);
    let mut line_at = |byte: usize| -> u64 {
        // A record's recorded start can sit on the line end before it (after a CR, before its LF).
        let mut byte = byte.min(bytes.len());
        while byte < bytes.len() && (bytes[byte] == b'\n' || bytes[byte] == b'\r') {
            byte += 1;
        }
        if byte > seen_byte {
            seen_line += bytes[seen_byte..byte].iter().filter(|&&b| b == b'\n').count() as u64;
            seen_byte = byte;
        }
        seen_line
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                let line = record.position().map(|p| line_at(p.byte() as usize)).unwrap_or(rows.len() as u64 + 1);
                rows.push(Row { line, cells: record.clone() });
            }
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte() as usize)).unwrap_or(0);
                return Err(IngestError::at(path, line, None, format!("unreadable CSV: {e}")));
            }
        }
    }
    // A file cut off mid-row: its last line has no line break and far fewer fields than the
    // others. (Published files often end without a line break on a row one or two fields short,
    // because trailing empty fields are omitted: that is ragged, not truncated.)
    let widest = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    if let Some(last) = rows.last() {
        if !text.ends_with('\n') && rows.len() > 1 && last.cells.len() * 10 < widest * 9 {
            return Err(IngestError::at(path, last.line, None, format!("the last row has {} of {} fields and no line break: the file looks truncated", last.cells.len(), widest)));
        }
    }
    // A file cut off mid-quote is read by the csv crate as one long last field: catch it.
    if text.matches('"').count() % 2 == 1 {
        let line = rows.last().map(|r| r.line).unwrap_or(1);
        return Err(IngestError::at(path, line, None, "the file ends inside a quoted field: it looks truncated".to_string()));
    }
    Ok(rows)
}

/// Turn raw rows into a table, taking `header_at` (0-based index into `raw`) as the header row.
pub fn into_table(path: &Path, sheet: Option<String>, mut raw: Vec<Row>, header_at: usize, notes: Vec<String>) -> Table {
    let rest = raw.split_off(header_at + 1);
    let header = raw.pop().expect("header row exists");
    let headers: Vec<String> = header
        .cells
        .iter()
        .map(|h| h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '"').to_string())
        .collect();
    // Trailing blank rows (Excel exports) carry nothing.
    let rows: Vec<Row> = rest.into_iter().filter(|r| r.cells.iter().any(|c| !c.trim().is_empty())).collect();
    Table::new(path.to_path_buf(), sheet, headers, header.line, rows, notes)
}

/// Read every worksheet of a workbook (xlsx, xls, ods) into raw rows, one entry per sheet.
pub fn read_workbook(path: &Path) -> Result<Vec<(String, Vec<Row>)>, IngestError> {
    use calamine::{open_workbook_auto, Reader};
    let mut wb = open_workbook_auto(path).map_err(|e| IngestError::at_file(path, format!("cannot open the workbook: {e}")))?;
    let names = wb.sheet_names().to_vec();
    let mut out = Vec::new();
    for name in names {
        let range = match wb.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => return Err(IngestError::at_file(path, format!("cannot read sheet {name:?}: {e}"))),
        };
        let (start_row, _) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::with_capacity(range.height());
        for (i, r) in range.rows().enumerate() {
            let cells: Vec<String> = r.iter().map(cell_text).collect();
            rows.push(Row { line: start_row as u64 + i as u64 + 1, cells: csv::StringRecord::from(cells) });
        }
        out.push((name, rows));
    }
    Ok(out)
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_serial_to_iso(dt.as_f64()),
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#ERR:{e:?}"),
    }
}

/// Excel's 1900 date system serial number to an ISO date (YYYY-MM-DD).
pub fn excel_serial_to_iso(serial: f64) -> String {
    // Serial 25569 is 1970-01-01 (Excel's fictitious 1900-02-29 is accounted for in that offset).
    let days = serial.floor() as i64 - 25569;
    crate::dates::iso_from_days(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_of(bytes: &[u8]) -> Table {
        let p = Path::new("t.csv");
        let d = decode(p, bytes).unwrap();
        let mut notes = d.notes;
        let rows = parse_csv(p, &d.text, &mut notes).unwrap();
        into_table(p, None, rows, 0, notes)
    }

    #[test]
    fn bom_crlf_ragged_rows_and_repeated_headers() {
        let t = table_of(b"\xEF\xBB\xBFURN,Estab,SNP,SNP\r\n100,2000,a,b\r\n101\r\n");
        assert_eq!(t.headers[0], "URN");
        assert_eq!(t.col("ESTAB"), Some(1), "case-insensitive lookup");
        assert_eq!(t.col("SNP"), Some(2), "the first of repeated names");
        assert_eq!(t.rows[1].get(1), "", "a ragged row reads as empty");
        assert_eq!((t.rows[0].line, t.rows[1].line), (2, 3));
    }

    #[test]
    fn windows_1252_and_utf16_decode() {
        let t = table_of(b"URN,SCHNAME\n100,St Mary\x92s Caf\xe9\n");
        assert_eq!(t.rows[0].get(1), "St Mary\u{2019}s Caf\u{e9}");
        assert!(t.notes.iter().any(|n| n.contains("Windows-1252")));
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("URN,X\n1,2\n".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
        let t = table_of(&utf16);
        assert_eq!(t.rows[0].get(1), "2");
    }

    #[test]
    fn other_delimiters_are_noted() {
        let t = table_of(b"URN;NOR\n100;25\n");
        assert_eq!(t.rows[0].get(1), "25");
        assert!(t.notes.iter().any(|n| n.contains("';'")));
    }
}
