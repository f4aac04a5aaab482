//! Reading any tabular file (CSV in any of the encodings DfE files arrive in,
//! or a worksheet) into one shape: a header row and data rows, with the line
//! numbers a person would see in a spreadsheet or text editor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{IngestError, IngestWarning};

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
    /// What had to be read around (encoding, delimiter, merged header cells): exit code 1.
    pub warnings: Vec<IngestWarning>,
}

impl Table {
    pub fn new(
        path: PathBuf,
        sheet: Option<String>,
        headers: Vec<String>,
        header_line: u64,
        rows: Vec<Row>,
        notes: Vec<String>,
    ) -> Table {
        let mut index = HashMap::with_capacity(headers.len());
        for (i, h) in headers.iter().enumerate() {
            // Repeated header names (the 2021 SN CSV repeats "SNP"): the first wins for lookups.
            index.entry(h.to_ascii_uppercase()).or_insert(i);
        }
        Table {
            path,
            sheet,
            headers,
            header_line,
            rows,
            index,
            notes,
            warnings: Vec::new(),
        }
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
    /// The file is not in the form DfE publishes (UTF-8): it was read as something else.
    pub warnings: Vec<IngestWarning>,
    /// Not valid UTF-8: the 1-based line of the first bad byte and the byte, so that the
    /// warning can name the row and column once the header is known.
    pub not_utf8: Option<(u64, u8)>,
}

/// The longest line a published CSV could plausibly have. The widest real files (KS4 with
/// about 400 columns) have lines of about 8 KB; a longer line is a file whose line breaks
/// were lost, or not a CSV at all, and reading it as one row would cost memory for nothing.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Decode bytes: UTF-8 (BOM stripped), UTF-16 (with a BOM, or without one when every other
/// byte of ASCII text is NUL), else Windows-1252.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Decoded, IngestError> {
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    if bytes.is_empty() {
        return Err(IngestError::at_file(path, "the file is empty"));
    }
    let utf16 = if bytes.starts_with(&[0xFF, 0xFE]) {
        Some((encoding_rs::UTF_16LE, true))
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        Some((encoding_rs::UTF_16BE, true))
    } else {
        utf16_without_bom(bytes).map(|e| (e, false))
    };
    if let Some((enc, bom)) = utf16 {
        let (text, bad) =
            enc.decode_without_bom_handling(bytes.get(if bom { 2 } else { 0 }..).unwrap_or(&[]));
        if bad {
            return Err(IngestError::at_file(
                path,
                format!(
                    "the file looks like {} text but is not valid {}",
                    enc.name(),
                    enc.name()
                ),
            ));
        }
        let how = if bom {
            "with a byte-order mark"
        } else {
            "without a byte-order mark"
        };
        notes.push(format!("decoded as {}", enc.name()));
        warnings.push(IngestWarning::at_file(
            path,
            format!(
                "encoded as {} ({how}), not UTF-8: decoded, check any accented names",
                enc.name()
            ),
        ));
        return Ok(Decoded {
            text: text.trim_start_matches('\u{feff}').to_string(),
            notes,
            warnings,
            not_utf8: None,
        });
    }
    let probe = &bytes[..bytes.len().min(8192)];
    if probe.contains(&0) {
        return Err(IngestError::at_file(
            path,
            "the file looks binary (it contains NUL bytes), not a CSV or workbook",
        ));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(s) => Ok(Decoded {
            text: s.to_string(),
            notes,
            warnings,
            not_utf8: None,
        }),
        Err(e) => {
            let at = e.valid_up_to();
            let line = line_breaks(&body[..at], cr_only(body)) + 1;
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
            notes.push(format!(
                "not valid UTF-8 (first bad byte 0x{:02X} at offset {at}, row {line}): decoded as \
                Windows-1252",
                body[at]
            ));
            Ok(Decoded {
                text: text.into_owned(),
                notes,
                warnings,
                not_utf8: Some((line, body[at])),
            })
        }
    }
}

/// UTF-16 saved without a byte-order mark: in text that is mostly ASCII, one byte of each
/// pair is NUL. Returns the byte order.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let probe = &bytes[..bytes.len().min(4096) & !1];
    if probe.len() < 8 {
        return None;
    }
    let pairs = probe.len() / 2;
    let even_nul = probe.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = probe.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 9 && even_nul * 10 <= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even_nul * 10 >= pairs * 9 && odd_nul * 10 <= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// The warning for a file that is not UTF-8, naming the row and column of its first bad byte.
pub fn not_utf8_warning(t: &Table, line: u64, byte: u8) -> IngestWarning {
    // The record holding that line (a quoted field can run over lines), and in it the first
    // cell with a non-ASCII character: that is where the bad byte was.
    let row = if line <= t.header_line {
        None
    } else {
        t.rows.iter().rev().find(|r| r.line <= line)
    };
    let line = row.map_or(t.header_line, |r| r.line);
    let cells: Vec<&str> = match row {
        Some(r) => r.cells.iter().collect(),
        None => t.headers.iter().map(String::as_str).collect(),
    };
    let column = cells
        .iter()
        .position(|c| !c.is_ascii())
        .and_then(|i| t.headers.get(i))
        .map(String::as_str);
    IngestWarning::at(
        &t.path,
        line,
        column,
        format!(
            "not valid UTF-8 (byte 0x{byte:02X}): decoded as Windows-1252, \
        check the accented characters"
        ),
    )
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

/// How a text's lines end: LF or CRLF, or (old Mac files, some exports) CR alone. A file
/// with any LF is read as LF-ended, so a stray CR inside a quoted cell is not a line.
pub fn cr_only(bytes: &[u8]) -> bool {
    !bytes.contains(&b'\n') && bytes.contains(&b'\r')
}

/// Line breaks in `bytes`, as [`cr_only`] says the whole text ends its lines.
pub fn line_breaks(bytes: &[u8], cr_only: bool) -> u64 {
    let brk = if cr_only { b'\r' } else { b'\n' };
    bytes.iter().filter(|&&b| b == brk).count() as u64
}

/// The first line longer than [`MAX_LINE_BYTES`]: its 1-based number and length.
fn overlong_line(text: &str) -> Option<(u64, usize)> {
    let mut line = 1u64;
    let bytes = text.as_bytes();
    let brk = if cr_only(bytes) { b'\r' } else { b'\n' };
    let mut start = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b == brk {
            // A CRLF line's CR belongs to its line end, not its length.
            let end = if b == b'\n' && i > start && bytes[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            if end - start > MAX_LINE_BYTES {
                return Some((line, end - start));
            }
            line += 1;
            start = i + 1;
        }
    }
    (bytes.len() - start > MAX_LINE_BYTES).then_some((line, bytes.len() - start))
}

/// Parse CSV text into raw rows (no header interpretation yet).
pub fn parse_csv(
    path: &Path,
    text: &str,
    notes: &mut Vec<String>,
    warnings: &mut Vec<IngestWarning>,
) -> Result<Vec<Row>, IngestError> {
    if let Some((line, len)) = overlong_line(text) {
        return Err(IngestError::at(
            path,
            line,
            None,
            format!(
                "this line is {len} bytes long (a CSV line of more than \
            {} bytes is refused): the file has lost its line breaks, or is not a CSV",
                MAX_LINE_BYTES
            ),
        ));
    }
    let delim = sniff_delimiter(text);
    if delim != b',' {
        let name = if delim == b'\t' { "tabs" } else { "semicolons" };
        notes.push(format!("delimiter is {:?}, not a comma", delim as char));
        warnings.push(IngestWarning::at(
            path,
            1,
            None,
            format!(
                "fields are separated by {name}, not commas (the file \
            was re-saved from a spreadsheet?): read with {name}"
            ),
        ));
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
    let cr = cr_only(bytes);
    let (mut seen_byte, mut seen_line) = (0usize, 1u64);
    let mut line_at = |byte: usize| -> u64 {
        // A record's recorded start can sit on the line end before it (after a CR, before its LF).
        let mut byte = byte.min(bytes.len());
        while byte < bytes.len() && (bytes[byte] == b'\n' || bytes[byte] == b'\r') {
            byte += 1;
        }
        if byte > seen_byte {
            seen_line += line_breaks(&bytes[seen_byte..byte], cr);
            seen_byte = byte;
        }
        seen_line
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                let line = record
                    .position()
                    .map(|p| line_at(p.byte() as usize))
                    .unwrap_or(rows.len() as u64 + 1);
                rows.push(Row {
                    line,
                    cells: record.clone(),
                });
            }
            Ok(false) => break,
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| line_at(p.byte() as usize))
                    .unwrap_or(0);
                return Err(IngestError::at(
                    path,
                    line,
                    None,
                    format!("unreadable CSV: {e}"),
                ));
            }
        }
    }
    Ok(rows)
}

/// Refuse a file that was cut off: its last row stops part-way (no line break, and far fewer
/// fields than the widest row), or it ends inside a quoted field. `header` names the column
/// the cut fell in.
pub fn check_complete(
    path: &Path,
    text: &str,
    rows: &[Row],
    header: Option<&Row>,
) -> Result<(), IngestError> {
    // The header's name for the last field of the last row: where the cut fell.
    let column = match (rows.last(), header) {
        (Some(last), Some(h)) => h
            .cells
            .get(last.cells.len().saturating_sub(1))
            .map(|c| c.trim_matches(|ch: char| ch.is_whitespace() || ch == '\u{feff}')),
        _ => None,
    };
    // A quote mark opening a field that is never closed (a school name typed as `"Oak Tree`)
    // swallows the lines after it into one field: report it where it starts, not where the
    // merged row happens to end.
    if let Some(h) = header {
        let width = h.cells.len();
        for r in rows.iter().filter(|r| r.line > h.line) {
            let Some(i) = r.cells.iter().position(|c| c.contains(['\n', '\r'])) else {
                continue;
            };
            let last = r.line + line_breaks(r.get(i).as_bytes(), cr_only(text.as_bytes()));
            if r.cells.len() != width
                || std::ptr::eq(r, rows.last().unwrap_or(r)) && text.matches('"').count() % 2 == 1
            {
                let name = h
                    .cells
                    .get(i)
                    .map(|c| c.trim_matches(|ch: char| ch.is_whitespace() || ch == '\u{feff}'));
                return Err(IngestError::at(path, r.line, name, format!("a stray quote mark: this field opens a quote \
                    that is not closed on its own line, so rows {}-{last} were read as one field; a quote mark inside \
                    a value must be doubled (\"\"), or the whole value quoted", r.line)));
            }
        }
    }
    // A file cut off mid-quote is read by the csv crate as one long last field: catch it.
    if text.matches('"').count() % 2 == 1 {
        let line = rows.last().map(|r| r.line).unwrap_or(1);
        return Err(IngestError::at(
            path,
            line,
            column,
            "the file ends inside a quoted field: it looks truncated".to_string(),
        ));
    }
    // Published files often end without a line break on a row one or two fields short, because
    // trailing empty fields are omitted: that is ragged, not truncated.
    let widest = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    if let Some(last) = rows.last() {
        if !text.ends_with(['\n', '\r']) && rows.len() > 1 && last.cells.len() * 10 < widest * 9 {
            return Err(IngestError::at(
                path,
                last.line,
                column,
                format!(
                    "the last row stops in this column, after {} \
                of {} fields, with no line break: the file looks truncated",
                    last.cells.len(),
                    widest
                ),
            ));
        }
    }
    Ok(())
}

/// Turn raw rows into a table, taking `header_at` (0-based index into `raw`) as the header row.
pub fn into_table(
    path: &Path,
    sheet: Option<String>,
    mut raw: Vec<Row>,
    header_at: usize,
    notes: Vec<String>,
) -> Table {
    let rest = raw.split_off(header_at + 1);
    let header = raw.pop().expect("header row exists");
    let headers: Vec<String> = header
        .cells
        .iter()
        .map(|h| {
            h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '"')
                .to_string()
        })
        .collect();
    // Trailing blank rows (Excel exports) carry nothing.
    let rows: Vec<Row> = rest
        .into_iter()
        .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()))
        .collect();
    Table::new(path.to_path_buf(), sheet, headers, header.line, rows, notes)
}

/// One worksheet: its rows, and its merged cell ranges as 0-based (first row, first column,
/// last row, last column) indices into `rows` and their cells.
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Row>,
    pub merged: Vec<(usize, usize, usize, usize)>,
    /// The 0-based sheet column of each row's first cell.
    pub first_col: usize,
    /// Hidden in the workbook (not read unless asked for: `rows` is empty).
    pub hidden: bool,
}

/// What to tell a person whose workbook is locked with a password.
pub const PASSWORD_MESSAGE: &str =
    "password-protected workbook: attain cannot read an encrypted file; open it in \
    Excel and save it without a password (File > Info > Protect Workbook), then ingest it again";

/// An Office file encrypted with a password is not a zip but an OLE compound file holding
/// the streams `EncryptionInfo` and `EncryptedPackage` (MS-OFFCRYPTO). Their names sit in
/// 128-byte directory entries as UTF-16LE, followed at byte 64 by the name's length.
pub fn is_encrypted_office(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return false;
    }
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let name_len = ((name.len() + 2) as u16).to_le_bytes();
    bytes
        .chunks_exact(128)
        .skip(4)
        .any(|entry| entry.starts_with(&name) && entry[64..66] == name_len)
}

/// Limits on what is read, checked before anything is allocated for it: a published file
/// is far inside each (the widest KS4 file is about 5,000 rows of 400 columns, 2 million
/// cells), and a file beyond one is refused with a message rather than read until memory
/// runs out.
pub mod limits {
    /// Any input file (CSV, workbook, pupil file, target return).
    pub const FILE_BYTES: u64 = 256 << 20;
    /// A workbook (xlsx, ods and xlsb are zip files).
    pub const WORKBOOK_BYTES: u64 = 100 << 20;
    /// Everything in a workbook's zip, unpacked: the sheets' XML is read as it is unpacked,
    /// but a run of whitespace or one huge string is held whole.
    pub const UNZIPPED_BYTES: u64 = 256 << 20;
    pub const ZIP_ENTRIES: usize = 10_000;
    /// Cells holding a value, over every sheet of a workbook.
    pub const CELLS: u64 = 8_000_000;
    /// A sheet's used area (rows x columns from its first to its last cell), which is
    /// laid out as a grid.
    pub const SHEET_AREA: u64 = 8_000_000;
    /// An image given as the LA's logo.
    pub const LOGO_BYTES: u64 = 4 << 20;
    pub const LOGO_PIXELS: u64 = 4096 * 4096;
}

/// What kind of thing a path is, when it is not a regular file.
pub fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    if meta.is_dir() {
        return Some("a directory");
    }
    (!meta.is_file()).then_some("not a regular file")
}

/// Read an input file whole. Only regular files are read (a named pipe would block for
/// ever, /dev/zero never ends), and only up to [`limits::FILE_BYTES`].
pub fn read_input(path: &Path) -> Result<Vec<u8>, IngestError> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path)
        .map_err(|e| IngestError::at_file(path, format!("cannot read: {e}")))?;
    if let Some(kind) = not_regular(&meta) {
        return Err(IngestError::at_file(
            path,
            format!("{kind}, not a regular file: attain reads only regular files"),
        ));
    }
    let too_big = |len: u64| {
        IngestError::at_file(
            path,
            format!(
                "the file is {len} bytes; attain reads files of up to {} bytes (256 MiB)",
                limits::FILE_BYTES
            ),
        )
    };
    if meta.len() > limits::FILE_BYTES {
        return Err(too_big(meta.len()));
    }
    let f = std::fs::File::open(path)
        .map_err(|e| IngestError::at_file(path, format!("cannot read: {e}")))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file can grow after its size was read: never read past the limit.
    f.take(limits::FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IngestError::at_file(path, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limits::FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Check a workbook's container before a reader opens it: its size, and for a zip (xlsx,
/// ods, xlsb) the number of members, what they unpack to (unpacked here as a stream, so a
/// zip that lies about its sizes is caught too), and the shared-string count the reader
/// would reserve room for.
pub fn check_workbook_container(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    use std::io::Read as _;
    let err = |m: String| IngestError::at_file(path, m);
    if bytes.len() as u64 > limits::WORKBOOK_BYTES {
        return Err(err(format!(
            "the workbook is {} bytes; attain reads workbooks of up to {} bytes (100 MiB): save \
            the data as CSV",
            bytes.len(),
            limits::WORKBOOK_BYTES
        )));
    }
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| err(format!("cannot open the workbook: {e}")))?;
    if zip.len() > limits::ZIP_ENTRIES {
        return Err(err(format!(
            "the workbook holds {} parts (at most {} are read): it is not a spreadsheet as Excel \
            saves one",
            zip.len(),
            limits::ZIP_ENTRIES
        )));
    }
    let too_big = |name: &str, n: u64| {
        err(format!("the workbook unpacks to more than {} bytes (256 MiB; {name} alone is {n} bytes or more): attain \
            refuses it rather than run out of memory; save the data as CSV", limits::UNZIPPED_BYTES))
    };
    let declared: u64 = (0..zip.len())
        .filter_map(|i| zip.by_index_raw(i).ok().map(|f| f.size()))
        .fold(0u64, u64::saturating_add);
    if declared > limits::UNZIPPED_BYTES {
        let (name, size) = (0..zip.len())
            .filter_map(|i| {
                zip.by_index_raw(i)
                    .ok()
                    .map(|f| (String::from_utf8_lossy(f.name_raw()).into_owned(), f.size()))
            })
            .max_by_key(|x| x.1)
            .unwrap_or_default();
        return Err(too_big(&name, size));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| err(format!("cannot open the workbook: {e}")))?;
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let mut head: Vec<u8> = Vec::new();
        let mut size = 0u64;
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| err(format!("cannot unpack {name} in the workbook: {e}")))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            total += n as u64;
            if total > limits::UNZIPPED_BYTES {
                return Err(too_big(&name, size));
            }
            if head.len() < 4096 {
                head.extend_from_slice(&buf[..n.min(4096 - head.len())]);
            }
        }
        // calamine reserves room for the strings the shared-string table says it holds.
        if name.ends_with("sharedStrings.xml") {
            let head = String::from_utf8_lossy(&head);
            if let Some(n) = head
                .split("uniqueCount=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|n| n.parse::<u64>().ok())
            {
                if n > limits::CELLS {
                    return Err(err(format!(
                        "{name} in the workbook declares {n} strings; attain reads at most {} \
                        cells: it is not a spreadsheet as Excel saves one",
                        limits::CELLS
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Refuse a sheet whose used area (declared, or found) is larger than a grid attain lays out.
fn check_area(
    path: &Path,
    sheet: &str,
    start: (u32, u32),
    end: (u32, u32),
    what: &str,
) -> Result<(), IngestError> {
    let (h, w) = (
        (end.0 as u64).saturating_sub(start.0 as u64) + 1,
        (end.1 as u64).saturating_sub(start.1 as u64) + 1,
    );
    if h.saturating_mul(w) > limits::SHEET_AREA {
        let (a, b) = (
            format!(
                "{}{}",
                column_letters(start.1 as usize + 1),
                start.0 as u64 + 1
            ),
            format!("{}{}", column_letters(end.1 as usize + 1), end.0 as u64 + 1),
        );
        return Err(IngestError::at(path, end.0 as u64 + 1, Some(&column_letters(end.1 as usize + 1)), format!("sheet \
            {sheet:?} {what} {a}:{b}, {h} rows by {w} columns ({} cells): attain lays out at most {} cells a sheet; a \
            value far from the data (cell {b})? delete it and save again", h * w, limits::SHEET_AREA)));
    }
    Ok(())
}

/// Is this number format a percentage (`0%`, `0.0%`; a `%` outside quotes and brackets)?
fn is_percent_format(nf: &calamine::NumberFormat) -> bool {
    if matches!(nf.format_id, Some(9) | Some(10)) {
        return true;
    }
    let (mut quoted, mut bracket, mut escaped) = (false, false, false);
    for ch in nf.format_code.chars() {
        match ch {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            '%' if !quoted && !bracket => return true,
            _ => {}
        }
    }
    false
}

/// A cell shown as a percentage holds a fraction (76% is 0.76): give it as the percentage
/// published CSVs carry, without the float noise of the multiplication.
fn percent_text(f: f64) -> String {
    let v = (f * 100.0 * 1e9).round() / 1e9;
    float_text(v)
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// One xlsx sheet's cells with a value, read as a stream: positions and text, with
/// percentage formats applied and every formula that has no saved result refused.
fn xlsx_cells<RS: std::io::Read + std::io::Seek>(
    path: &Path,
    x: &mut calamine::Xlsx<RS>,
    name: &str,
    budget: &mut u64,
) -> Result<Vec<(u32, u32, String)>, IngestError> {
    use calamine::DataRef;
    let open_err = |e: calamine::XlsxError| {
        IngestError::at_file(path, format!("cannot read sheet {name:?}: {e}"))
    };
    let mut cells = Vec::new();
    let mut has_empty = false;
    {
        let mut reader = x.worksheet_cells_reader(name).map_err(open_err)?;
        let dim = reader.dimensions();
        check_area(path, name, dim.start, dim.end, "declares its used area as")?;
        let percent: Vec<bool> = reader
            .styles()
            .iter()
            .map(|s| s.number_format.as_ref().is_some_and(is_percent_format))
            .collect();
        let (mut lo, mut hi) = ((u32::MAX, u32::MAX), (0u32, 0u32));
        while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(open_err)? {
            let (r, c) = cell.get_position();
            let pct = percent.get(style).copied().unwrap_or(false);
            let text = match cell.get_value() {
                DataRef::Empty => {
                    has_empty = true;
                    continue;
                }
                DataRef::Float(f) if pct => percent_text(*f),
                DataRef::Int(i) if pct => percent_text(*i as f64),
                DataRef::SharedString(s) => s.to_string(),
                DataRef::String(s) => s.clone(),
                DataRef::Int(i) => i.to_string(),
                DataRef::Float(f) => float_text(*f),
                DataRef::Bool(b) => b.to_string(),
                DataRef::DateTime(dt) => excel_serial_to_iso(dt.as_f64()),
                DataRef::DateTimeIso(s) => s.chars().take(10).collect(),
                DataRef::DurationIso(s) => s.clone(),
                DataRef::Error(e) => format!("#ERR:{e:?}"),
            };
            *budget += 1;
            if *budget > limits::CELLS {
                return Err(IngestError::at(path, r as u64 + 1, Some(&column_letters(c as usize + 1)), format!("sheet \
                    {name:?}: the workbook holds more than {} cells with values: attain refuses it rather than run \
                    out of memory; save the data as CSV", limits::CELLS)));
            }
            (lo, hi) = ((lo.0.min(r), lo.1.min(c)), (hi.0.max(r), hi.1.max(c)));
            cells.push((r, c, text));
        }
        if !cells.is_empty() {
            check_area(path, name, lo, hi, "has cells over")?;
        }
    }
    if has_empty {
        // A formula saved without its result (written by a program, or saved with manual
        // calculation) reads as an empty cell: the figure would vanish without a word.
        cells.sort_unstable_by_key(|c| (c.0, c.1));
        let mut reader = x.worksheet_cells_reader(name).map_err(open_err)?;
        while let Some(f) = reader.next_formula().map_err(open_err)? {
            let (r, c) = f.get_position();
            if f.get_value().is_empty()
                || cells.binary_search_by_key(&(r, c), |x| (x.0, x.1)).is_ok()
            {
                continue;
            }
            let letter = column_letters(c as usize + 1);
            return Err(IngestError::at(path, r as u64 + 1, Some(&letter), format!("sheet {name:?}, cell {letter}{}: a \
                formula (={}) with no saved result: attain reads the values a spreadsheet saves with its formulas; \
                open the workbook in Excel or LibreOffice, let it calculate, and save it \
                again", r as u64 + 1, f.get_value())));
        }
    }
    Ok(cells)
}

/// Read every visible worksheet of a workbook (xlsx, xls, xlsb, ods) into raw rows; hidden
/// sheets come back empty, marked `hidden`. The container and each sheet's area are checked
/// before anything is laid out (see [`limits`]).
pub fn read_workbook(path: &Path, bytes: &[u8]) -> Result<Vec<Sheet>, IngestError> {
    read_workbook_sheets(path, bytes, false)
}

/// [`read_workbook`], reading hidden sheets too when `hidden_too` is set (the audit looks at
/// everything a file carries).
pub fn read_workbook_sheets(
    path: &Path,
    bytes: &[u8],
    hidden_too: bool,
) -> Result<Vec<Sheet>, IngestError> {
    use calamine::{
        open_workbook_auto_from_rs, open_workbook_from_rs, Error, Ods, OdsError, Reader, SheetType,
        SheetVisible, Sheets, Xls, XlsError, Xlsb, Xlsx,
    };
    if is_encrypted_office(bytes) {
        return Err(IngestError::at_file(path, PASSWORD_MESSAGE));
    }
    check_workbook_container(path, bytes)?;
    let cursor = std::io::Cursor::new(bytes);
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let opened: Result<Sheets<_>, Error> = match ext.as_str() {
        "xlsx" | "xlsm" => open_workbook_from_rs::<Xlsx<_>, _>(cursor)
            .map(Sheets::Xlsx)
            .map_err(Error::Xlsx),
        "xls" => open_workbook_from_rs::<Xls<_>, _>(cursor)
            .map(Sheets::Xls)
            .map_err(Error::Xls),
        "xlsb" => open_workbook_from_rs::<Xlsb<_>, _>(cursor)
            .map(Sheets::Xlsb)
            .map_err(Error::Xlsb),
        "ods" => open_workbook_from_rs::<Ods<_>, _>(cursor)
            .map(Sheets::Ods)
            .map_err(Error::Ods),
        _ => open_workbook_auto_from_rs(cursor),
    };
    let password = |e: &Error| {
        matches!(
            e,
            Error::Xls(XlsError::Password) | Error::Ods(OdsError::Password)
        )
    };
    let mut wb = match opened {
        Ok(wb) => wb,
        Err(e) if password(&e) => return Err(IngestError::at_file(path, PASSWORD_MESSAGE)),
        Err(e) => {
            return Err(IngestError::at_file(
                path,
                format!("cannot open the workbook: {e}"),
            ))
        }
    };
    let metas = wb.sheets_metadata().to_vec();
    let mut out = Vec::new();
    let mut budget = 0u64;
    for meta in metas {
        let name = meta.name.clone();
        let hidden = meta.visible != SheetVisible::Visible;
        if meta.typ != SheetType::WorkSheet || (hidden && !hidden_too) {
            // Chart and macro sheets hold no table; hidden sheets are not read (the caller says so).
            out.push(Sheet {
                name,
                rows: Vec::new(),
                merged: Vec::new(),
                first_col: 0,
                hidden,
            });
            continue;
        }
        let cells = match &mut wb {
            Sheets::Xlsx(x) => xlsx_cells(path, x, &name, &mut budget)?,
            other => {
                let range = match other.worksheet_range(&name) {
                    Ok(r) => r,
                    Err(e) if password(&e) => {
                        return Err(IngestError::at_file(path, PASSWORD_MESSAGE))
                    }
                    Err(e) => {
                        return Err(IngestError::at_file(
                            path,
                            format!("cannot read sheet {name:?}: {e}"),
                        ))
                    }
                };
                if let (Some(s), Some(e)) = (range.start(), range.end()) {
                    check_area(path, &name, s, e, "has cells over")?;
                }
                let (s0, s1) = range.start().unwrap_or((0, 0));
                let mut cells = Vec::new();
                for (r, c, d) in range.used_cells() {
                    let text = cell_text(d);
                    if text.is_empty() {
                        continue;
                    }
                    budget += 1;
                    if budget > limits::CELLS {
                        return Err(IngestError::at_file(
                            path,
                            format!(
                                "sheet {name:?}: the workbook holds more than \
                            {} cells with values: save the data as CSV",
                                limits::CELLS
                            ),
                        ));
                    }
                    cells.push((s0 + r as u32, s1 + c as u32, text));
                }
                cells
            }
        };
        // The grid from the first to the last cell holding a value (its area was checked).
        let (start_row, start_col) = (
            cells.iter().map(|c| c.0).min().unwrap_or(0),
            cells.iter().map(|c| c.1).min().unwrap_or(0),
        );
        let (end_row, end_col) = (
            cells.iter().map(|c| c.0).max().unwrap_or(0),
            cells.iter().map(|c| c.1).max().unwrap_or(0),
        );
        let mut rows = Vec::new();
        if !cells.is_empty() {
            let width = (end_col - start_col + 1) as usize;
            let mut grid: Vec<Vec<String>> = vec![Vec::new(); (end_row - start_row + 1) as usize];
            for (r, c, text) in cells {
                let row = &mut grid[(r - start_row) as usize];
                if row.is_empty() {
                    row.resize(width, String::new());
                }
                row[(c - start_col) as usize] = text;
            }
            for (i, mut cells) in grid.into_iter().enumerate() {
                cells.resize(width, String::new());
                rows.push(Row {
                    line: start_row as u64 + i as u64 + 1,
                    cells: csv::StringRecord::from(cells),
                });
            }
        }
        // Merged ranges, as indices into `rows` (a range can start above or left of the data).
        let merged = match &mut wb {
            Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
            Sheets::Xls(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
            _ => Vec::new(),
        };
        let merged = merged
            .into_iter()
            .filter(|d| !rows.is_empty() && d.end.0 >= start_row && d.end.1 >= start_col)
            .map(|d| {
                let (r0, c0) = (
                    d.start.0.max(start_row) - start_row,
                    d.start.1.max(start_col) - start_col,
                );
                (
                    r0 as usize,
                    c0 as usize,
                    (d.end.0 - start_row) as usize,
                    (d.end.1 - start_col) as usize,
                )
            })
            .collect();
        out.push(Sheet {
            name,
            rows,
            merged,
            first_col: start_col as usize,
            hidden,
        });
    }
    Ok(out)
}

/// A header laid out over several rows, with some names in cells merged down over them
/// (URN in A3:A4, the measure names in row 4 under group titles in row 3): copy each value
/// merged down over rows into every row it covers, so that one row holds every name.
/// Only the first 20 rows (where headers are looked for) are touched. Returns the merged
/// ranges filled, as spreadsheet references (A3:A4).
pub fn fill_merged_down(sheet: &mut Sheet) -> Vec<String> {
    let mut filled = Vec::new();
    for &(r0, c0, r1, c1) in &sheet.merged {
        if r1 <= r0 || c1 < c0 || r0 >= 20 || r1 >= sheet.rows.len() {
            continue;
        }
        let value = sheet.rows[r0].get(c0).to_string();
        if value.trim().is_empty() {
            continue;
        }
        for r in r0 + 1..=r1.min(19) {
            let row = &mut sheet.rows[r];
            let mut cells: Vec<String> = row.cells.iter().map(str::to_string).collect();
            if cells.len() <= c1 {
                cells.resize(c1 + 1, String::new());
            }
            for cell in cells.iter_mut().take(c1 + 1).skip(c0) {
                if cell.trim().is_empty() {
                    *cell = value.clone();
                }
            }
            row.cells = csv::StringRecord::from(cells);
        }
        let first = sheet.rows[r0].line;
        let (a, b) = (
            column_letters(sheet.first_col + c0 + 1),
            column_letters(sheet.first_col + c1 + 1),
        );
        filled.push(format!("{a}{first}:{b}{}", first + (r1 - r0) as u64));
    }
    filled
}

/// Spreadsheet column letters for a 1-based column number (1 = A, 27 = AA).
pub fn column_letters(mut n: usize) -> String {
    let mut s = Vec::new();
    while n > 0 {
        n -= 1;
        s.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
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
        let (mut notes, mut warnings) = (d.notes, d.warnings);
        let rows = parse_csv(p, &d.text, &mut notes, &mut warnings).unwrap();
        let mut t = into_table(p, None, rows, 0, notes);
        t.warnings = warnings;
        t
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
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("URN,X\n1,2\n".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        let t = table_of(&utf16);
        assert_eq!(t.rows[0].get(1), "2");
    }

    #[test]
    fn spreadsheet_column_letters() {
        let got: Vec<String> = [1, 26, 27, 52, 53, 16384]
            .iter()
            .map(|&n| column_letters(n))
            .collect();
        assert_eq!(got, ["A", "Z", "AA", "AZ", "BA", "XFD"]);
    }

    #[test]
    fn utf16_is_told_by_its_nul_bytes() {
        let le: Vec<u8> = "URN,X\n1,2\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let be: Vec<u8> = "URN,X\n1,2\n"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(utf16_without_bom(&le), Some(encoding_rs::UTF_16LE));
        assert_eq!(utf16_without_bom(&be), Some(encoding_rs::UTF_16BE));
        assert_eq!(utf16_without_bom(b"URN,X\n1,2\n"), None);
        let t = table_of(&be);
        assert_eq!(t.rows[0].get(1), "2");
        assert_eq!(t.warnings.len(), 1);
    }

    #[test]
    fn cr_only_files_count_their_lines() {
        assert_eq!(
            line_breaks(b"a\rb\r\nc\nd\r", cr_only(b"a\rb\r\nc\nd\r")),
            2,
            "LF-ended: a CR in a cell is not a line"
        );
        assert!(cr_only(b"a\rb\r"));
        let t = table_of(b"URN,NOR\r100,25\r101,26\r");
        assert_eq!((t.rows[0].line, t.rows[1].line), (2, 3));
        assert_eq!(overlong_line("a\rb\r"), None);
    }

    #[test]
    fn percent_formats() {
        let f = |code: &str, id| {
            let mut n = calamine::NumberFormat::default();
            n.format_code = code.into();
            n.format_id = id;
            n
        };
        assert!(is_percent_format(&f("0%", None)));
        assert!(is_percent_format(&f("0.0%;[Red]-0.0%", None)));
        assert!(is_percent_format(&f("General", Some(9))));
        assert!(
            !is_percent_format(&f("0.0\"%\"", None)),
            "a quoted % is text, not a scale"
        );
        assert!(!is_percent_format(&f("0.00", None)));
        assert_eq!(percent_text(0.76), "76");
        assert_eq!(percent_text(0.333), "33.3");
    }

    #[test]
    fn other_delimiters_are_noted() {
        let t = table_of(b"URN;NOR\n100;25\n");
        assert_eq!(t.rows[0].get(1), "25");
        assert!(t.notes.iter().any(|n| n.contains("';'")));
    }
}
