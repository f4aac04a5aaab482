//! Issue 14's findings on reading files, each made at test time from a real DfE file in
//! ../shared/data/raw or from the demo data: workbooks as Excel saves them (percentage
//! formats, hidden sheets, sheets that disagree, formulas with no saved result, dates),
//! values checked against the catalogue, bounded resources (named pipes, devices, sheets
//! declaring a huge area, zip bombs, huge logos: each ends in seconds under 1 GB, measured),
//! messages (a stray quote, CR-only files) and the disclosure audit's wider reading.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, demo_world, raw, raw_dir, scratch};
use crate::corpus::{
    cells, header_of, lines_of, plain_school_line, read, shown, text_of, Case, Run, KS2,
};

/// A child's limit here: every hostile file must be refused within this, under 1 GB.
const SECONDS: u64 = 20;
const MAX_KIB: u64 = 1 << 20;

/// Run with a deadline (today's code hangs on a named pipe): kill the child when it passes,
/// and measure its peak memory as `corpus::run` does.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its peak memory
fn run_limited(cmd: &mut Command, deadline: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child, which is not waited for elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        let got = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if got == pid {
            break;
        }
        if start.elapsed() > deadline && !killed {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        elapsed,
        peak_kib: usage.ru_maxrss as u64,
    }
}

/// The command ended by itself, quickly, under 1 GB, with `code`, saying `expected`.
fn refused(what: &str, r: &Run, code: i32, expected: &str) {
    assert!(
        r.elapsed < Duration::from_secs(SECONDS),
        "{what}: took {:?} (killed: it hung)\n{}",
        r.elapsed,
        r.stderr
    );
    assert_eq!(r.code, Some(code), "{what}: {}{}", r.stdout, r.stderr);
    assert!(
        r.peak_kib < MAX_KIB,
        "{what}: peak memory {} MiB",
        r.peak_kib / 1024
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains(expected),
        "{what}: expected\n  {expected}\ngot\n{all}"
    );
    assert!(!all.contains("panicked"), "{what}: {all}");
    eprintln!(
        "{what}: refused in {:.2} s, peak {} MiB",
        r.elapsed.as_secs_f64(),
        r.peak_kib / 1024
    );
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates the node.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {}",
        p.display()
    );
}

/// The real KS2 CSV's records, to lay out in workbooks.
fn ks2_records() -> Vec<Vec<String>> {
    let text = text_of(KS2);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Write records into a sheet as text, except what `cell` writes itself (returns true).
fn write_sheet(
    ws: &mut rust_xlsxwriter::Worksheet,
    records: &[Vec<String>],
    mut cell: impl FnMut(&mut rust_xlsxwriter::Worksheet, u32, u16, &str) -> bool,
) {
    for (n, rec) in records.iter().enumerate() {
        for (i, v) in rec.iter().enumerate() {
            if !v.is_empty() && !cell(ws, n as u32, i as u16, v) {
                ws.write_string(n as u32, i as u16, v).unwrap();
            }
        }
    }
}

fn col_of(records: &[Vec<String>], name: &str) -> usize {
    records[0].iter().position(|h| h == name).unwrap()
}

/// The first school row (0-based record index) with a plain whole percentage in PTRWM_EXP.
fn school_record(records: &[Vec<String>]) -> usize {
    let col = col_of(records, "PTRWM_EXP");
    (1..records.len())
        .find(|&i| {
            records[i][0] == "1"
                && records[i][col].ends_with('%')
                && records[i][col].trim_end_matches('%').parse::<u32>().is_ok()
        })
        .unwrap()
}

/// Rewrite members of a zip (an xlsx) through `f`.
fn rezip(path: &Path, mut f: impl FnMut(&str, Vec<u8>) -> Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        w.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        w.write_all(&f(&name, data)).unwrap();
    }
    std::fs::write(path, w.finish().unwrap().into_inner()).unwrap();
}

// ---------------------------------------------------------------- workbooks as people save them

#[test]
fn percentages_in_a_percent_format_read_as_percentages() {
    if raw_dir().is_none() {
        return;
    }
    use rust_xlsxwriter::{Format, Workbook};
    // The KS2 file as Excel re-saves it: every "76%" becomes the number 0.76 shown as 0%.
    let c = Case::new("xlsx-percent");
    let p = c.file("2018-936-ks2.xlsx");
    let records = ks2_records();
    let pct = Format::new().set_num_format("0%");
    let mut converted = 0;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("KS2").unwrap();
    write_sheet(ws, &records, |ws, r, c, v| {
        match v.strip_suffix('%').and_then(|n| n.parse::<f64>().ok()) {
            Some(n) if r > 0 => {
                ws.write_number_with_format(r, c, n / 100.0, &pct).unwrap();
                converted += 1;
                true
            }
            _ => false,
        }
    });
    wb.save(&p).unwrap();
    assert!(converted > 1000, "{converted}");
    let (orig, orig_rows, _, _) = read(&raw(KS2));
    let (figs, rows, warnings, _) = read(&p);
    assert!(warnings.is_empty(), "{warnings:?}");
    // Every figure as published: PTRWM_EXP 76% is 76, not 0.76.
    assert_eq!(figs, orig);
    assert_eq!(rows, orig_rows);
    let i = school_record(&records);
    let urn = &records[i][col_of(&records, "URN")];
    let published: f64 = records[i][col_of(&records, "PTRWM_EXP")]
        .trim_end_matches('%')
        .parse()
        .unwrap();
    let got = figs
        .iter()
        .find(|f| &f.2 == urn && f.3 == "ks2_rwm_expected" && f.4 == "all")
        .unwrap();
    assert_eq!(got.5.map(f64::from_bits), Some(published));
    let r = c.ingest(&p);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

/// The real KS2 data on a visible sheet, and a second sheet (`older`) where one school's
/// PTRWM_EXP differs by 10 points. Returns the changed record's index and both values.
fn two_sheet_workbook(p: &Path, older: &str, hide: bool) -> (usize, String, String) {
    use rust_xlsxwriter::Workbook;
    let records = ks2_records();
    let i = school_record(&records);
    let col = col_of(&records, "PTRWM_EXP");
    let mut old = records.clone();
    let was = records[i][col].clone();
    let v: u32 = was.trim_end_matches('%').parse().unwrap();
    old[i][col] = format!("{}%", if v >= 50 { v - 10 } else { v + 10 });
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(older).unwrap();
    write_sheet(ws, &old, |_, _, _, _| false);
    if hide {
        ws.set_hidden(true);
    }
    let ws = wb.add_worksheet();
    ws.set_name("KS2").unwrap();
    write_sheet(ws, &records, |_, _, _, _| false);
    ws.set_active(true);
    wb.save(p).unwrap();
    (i, old[i][col].clone(), was)
}

#[test]
fn a_hidden_sheet_is_skipped_with_a_warning() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("xlsx-hidden");
    let p = c.file("2018-936-ks2.xlsx");
    two_sheet_workbook(&p, "KS2 (old)", true);
    let w = format!(
        "{}: sheet \"KS2 (old)\" is hidden: not read (unhide it in the workbook if it holds the \
        data)",
        shown(&p)
    );
    c.expect_warnings(&p, &[w]);
    // Only the visible sheet's figures: exactly the published file's.
    let (orig, orig_rows, _, _) = read(&raw(KS2));
    let (figs, rows, _, _) = read(&p);
    assert_eq!((figs, rows), (orig, orig_rows));
}

#[test]
fn two_sheets_that_disagree_about_a_school_are_refused() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("xlsx-conflict");
    let p = c.file("2018-936-ks2.xlsx");
    let (i, old, was) = two_sheet_workbook(&p, "KS2 copy", false);
    let records = ks2_records();
    let urn = &records[i][col_of(&records, "URN")];
    let n = |s: &str| s.trim_end_matches('%').to_string();
    c.expect_error(&p, &format!("{}, row {}, column PTRWM_EXP: sheet \"KS2\": school {urn} (ks2_rwm_expected, all) is \
        {} here but {} on sheet \"KS2 copy\", row {}, column PTRWM_EXP: which is right cannot be told; remove the \
        wrong sheet", shown(&p), i + 1, n(&was), n(&old), i + 1));
}

#[test]
fn a_formula_with_no_saved_result_is_an_error_at_its_cell() {
    if raw_dir().is_none() {
        return;
    }
    use rust_xlsxwriter::{Formula, Workbook};
    let c = Case::new("xlsx-formula");
    let p = c.file("2018-936-ks2.xlsx");
    let records = ks2_records();
    let col = col_of(&records, "PTRWM_EXP");
    // Every school's PTRWM_EXP as a formula, as a program writes one: no result saved.
    let mut first: Option<(u32, String)> = None;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("KS2").unwrap();
    write_sheet(ws, &records, |ws, r, c, v| {
        match v.strip_suffix('%').and_then(|n| n.parse::<u32>().ok()) {
            Some(n) if r > 0 && c as usize == col => {
                let f = format!("{}+0", n);
                first.get_or_insert((r, f.clone()));
                ws.write_formula(r, c, Formula::new(format!("={f}")))
                    .unwrap();
                true
            }
            _ => false,
        }
    });
    wb.save(&p).unwrap();
    rezip(&p, |name, data| {
        if name.starts_with("xl/worksheets/") {
            String::from_utf8(data)
                .unwrap()
                .replace("</f><v>0</v>", "</f>")
                .into_bytes()
        } else {
            data
        }
    });
    let (r, f) = first.unwrap();
    let letter = attain::ingest::table::column_letters(col + 1);
    c.expect_error(&p, &format!("{}, row {}, column {letter}: sheet \"KS2\", cell {letter}{}: a formula (={f}) with \
        no saved result: attain reads the values a spreadsheet saves with its formulas; open the workbook in Excel or \
        LibreOffice, let it calculate, and save it again", shown(&p), r + 1, r + 1));
}

#[test]
fn a_date_in_a_number_column_is_an_error() {
    if raw_dir().is_none() {
        return;
    }
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let c = Case::new("xlsx-date");
    let p = c.file("2018-936-ks2.xlsx");
    let records = ks2_records();
    let i = school_record(&records);
    let col = col_of(&records, "PTRWM_EXP");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("KS2").unwrap();
    write_sheet(ws, &records, |ws, r, c, _| {
        if r as usize == i && c as usize == col {
            ws.write_datetime_with_format(
                r,
                c,
                ExcelDateTime::from_ymd(2019, 7, 1).unwrap(),
                &date,
            )
            .unwrap();
            true
        } else {
            false
        }
    });
    wb.save(&p).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}, row {}, column PTRWM_EXP: \"2019-07-01\": a date, not a number (the cell is \
        formatted as a date: give the figure, formatted as a number)",
            shown(&p),
            i + 1
        ),
    );
}

// ---------------------------------------------------------------- values against the catalogue

/// The KS2 CSV with one cell of a plain school line changed: the file and the line.
fn ks2_with(c: &Case, name: &str, column: &str, value: &str) -> (PathBuf, usize) {
    let text = text_of(KS2);
    let mut lines = lines_of(&text);
    let header = header_of(&text);
    let n = plain_school_line(&lines, &header);
    let mut row = cells(&lines[n - 1]);
    row[header.iter().position(|h| h == column).unwrap()] = value.to_string();
    lines[n - 1] = row.join(",");
    let p = c.file(name);
    std::fs::write(&p, lines.join("\r\n")).unwrap();
    (p, n)
}

#[test]
fn values_out_of_range_are_errors_at_their_cell() {
    if raw_dir().is_none() {
        return;
    }
    for (column, bad, expected) in [
        (
            "PTRWM_EXP",
            "150%",
            "\"150%\" is out of range: ks2_rwm_expected (percent) runs from 0 to 100",
        ),
        (
            "PTRWM_EXP",
            "-5%",
            "\"-5%\" is out of range: ks2_rwm_expected (percent) runs from 0 to 100",
        ),
        (
            "TELIG",
            "-27",
            "\"-27\" is out of range: ks2_cohort (count) takes whole numbers of 0 or more",
        ),
        (
            "READ_AVERAGE",
            "130",
            "\"130\" is out of range: ks2_read_avg_score (score) runs from 80 to 120",
        ),
    ] {
        let c = Case::new(&format!("range-{column}-{bad}"));
        let (p, n) = ks2_with(&c, "2018-936-ks2.csv", column, bad);
        c.expect_error(
            &p,
            &format!("{}, row {n}, column {column}: {expected}", shown(&p)),
        );
    }
}

#[test]
fn a_duplicated_column_is_an_error() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("duplicate-column");
    let text = text_of(KS2);
    let header = header_of(&text);
    let col = header.iter().position(|h| h == "PTRWM_EXP").unwrap();
    // A second PTRWM_EXP at the end, holding other figures: the first used to win silently.
    let lines: Vec<String> = lines_of(&text)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if l.is_empty() {
                l
            } else if i == 0 {
                format!("{l},PTRWM_EXP")
            } else {
                format!("{l},50%")
            }
        })
        .collect();
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, lines.join("\r\n")).unwrap();
    let letters = |n: usize| attain::ingest::table::column_letters(n + 1);
    c.expect_error(&p, &format!("{}, row 1, column PTRWM_EXP: the column name PTRWM_EXP is used twice (fields {} and \
        {}, columns {} and {} in a spreadsheet): which holds the figures cannot be told; rename or remove \
        one", shown(&p), col + 1, header.len() + 1, letters(col), letters(header.len())));
}

#[test]
fn an_unknown_la_code_and_an_implausible_year_are_warnings() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("la-999");
    let (p, n) = ks2_with(&c, "2018-936-ks2.csv", "LEA", "999");
    c.expect_warnings(
        &p,
        &[format!(
            "{}, row {n}, column LEA: LA code 999 is not an English LA code (they run from \
        201 to the 940s): read as given; check the file",
            shown(&p)
        )],
    );

    // The year is read from the newest prior-year column (TELIG_18: the file is 2019's):
    // columns of 2030 make it 2031's.
    let c = Case::new("year-2031");
    let p = c.file("2018-936-ks2.csv");
    let text = text_of(KS2);
    let (header, rest) = text.split_once("\r\n").unwrap();
    let header = header
        .replace(",TELIG_18,", ",TELIG_30,")
        .replace(",PTRWM_EXP_18,", ",PTRWM_EXP_30,");
    std::fs::write(&p, format!("{header}\r\n{rest}")).unwrap();
    let next = attain::dates::this_year() + 1;
    c.expect_warnings(
        &p,
        &[format!(
            "{}: the year 2031 (found from the content (newest prior-year column + 1)) is not plausible for published \
                results (1990 to {next}): check the file name, or pass --year",
            shown(&p)
        )],
    );
}

// ---------------------------------------------------------------- bounded resources

#[test]
fn named_pipes_and_devices_are_refused_not_waited_on() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("fifo");
    let fifo = c.file("2018-936-ks2.csv");
    mkfifo(&fifo);
    let ingest = |p: &Path| {
        run_limited(
            bin().arg("ingest").arg(p).arg("--store").arg(c.store()),
            Duration::from_secs(SECONDS + 10),
        )
    };
    let msg = format!(
        "{}: a named pipe (FIFO), not a regular file: attain reads only regular files",
        shown(&fifo)
    );
    refused("ingest FIFO", &ingest(&fifo), 3, &msg);
    refused(
        "inspect FIFO",
        &run_limited(
            bin().arg("inspect").arg(&fifo),
            Duration::from_secs(SECONDS + 10),
        ),
        3,
        &msg,
    );

    // Met in a directory walk: skipped with a warning, the real file beside it read.
    let dir = c.dir.join("walk");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(raw(KS2), dir.join("2018-936-ks2.csv")).unwrap();
    mkfifo(&dir.join("pipe.csv"));
    let r = ingest(&dir);
    refused(
        "ingest a directory with a FIFO",
        &r,
        1,
        &format!(
            "warning: {}: a named pipe (FIFO), not a regular file: skipped",
            dir.join("pipe.csv").display()
        ),
    );
    assert!(r.stdout.contains("2018-936-ks2.csv"), "{}", r.stdout);

    // /dev/zero behind a link: a device, never read.
    let zero = c.file("zero.csv");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    refused(
        "ingest /dev/zero",
        &ingest(&zero),
        3,
        &format!(
            "{}: a device, not a regular file: attain reads only regular files",
            shown(&zero)
        ),
    );
}

/// A workbook of two cells, at A1 and XFD1048576 (Excel's last cell): 5 KB on disk, and a
/// sheet of 17 billion cells to a reader that lays the sheet out as a grid.
fn far_cells_workbook(p: &Path, sheet: &str) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    ws.write_string(0, 0, "URN").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save(p).unwrap();
}

#[test]
fn a_sheet_declaring_a_huge_area_is_refused_everywhere() {
    let dir = scratch("far-cells");
    let p = dir.join("in").join("far.xlsx");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    far_cells_workbook(&p, "Targets");
    assert!(std::fs::metadata(&p).unwrap().len() < 10_000);
    let expected =
        "sheet \"Targets\" declares its used area as A1:XFD1048576, 1048576 rows by 16384 columns \
        (17179869184 cells): attain lays out at most 8000000 cells a sheet";
    let world = demo_world();
    let store = world.join("store");
    let limit = Duration::from_secs(SECONDS + 10);
    refused(
        "ingest",
        &run_limited(
            bin()
                .arg("ingest")
                .arg(&p)
                .arg("--store")
                .arg(dir.join("store")),
            limit,
        ),
        3,
        expected,
    );
    refused(
        "inspect",
        &run_limited(bin().arg("inspect").arg(&p), limit),
        3,
        expected,
    );
    refused(
        "targets import",
        &run_limited(
            bin()
                .args(["targets", "import"])
                .arg(&p)
                .arg("--store")
                .arg(&store),
            limit,
        ),
        3,
        expected,
    );
    refused(
        "gaps --pupils",
        &run_limited(
            bin()
                .args([
                    "gaps",
                    "--measure",
                    "ks2_rwm_expected",
                    "--group",
                    "disadvantaged",
                    "--pupils",
                ])
                .arg(&p),
            limit,
        ),
        3,
        expected,
    );
    // The audit cannot read it, says so, and finishes.
    let r = run_limited(bin().arg("audit").arg(p.parent().unwrap()), limit);
    refused(
        "audit",
        &r,
        1,
        &format!(
            "not checked: {}: ",
            p.parent().unwrap().join("far.xlsx").display()
        ),
    );
    assert!(
        r.stdout.contains(expected) || r.stderr.contains(expected),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn zip_bombs_are_refused_before_they_are_unpacked() {
    use zip::write::SimpleFileOptions;
    let dir = scratch("zip-bomb");
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // A real little workbook, then one part swollen to 300 MB: of whitespace inside the sheet
    // (read as one text node), and of an honest sheet of many cells.
    let base = dir.join("base.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet()
        .set_name("KS2")
        .unwrap()
        .write_string(0, 0, "URN")
        .unwrap();
    wb.save(&base).unwrap();
    for (name, fill) in [("whitespace", b' '), ("zeros", b'0')] {
        let p = dir.join(format!("{name}.xlsx"));
        let mut z = zip::ZipArchive::new(std::fs::File::open(&base).unwrap()).unwrap();
        let mut w = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
        for i in 0..z.len() {
            let mut e = z.by_index(i).unwrap();
            let member = e.name().unwrap().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            w.start_file(member.as_str(), opts.large_file(false))
                .unwrap();
            if member == "xl/worksheets/sheet1.xml" {
                let text = String::from_utf8(data).unwrap();
                let (head, tail) =
                    text.split_at(text.find("<sheetData>").unwrap() + "<sheetData>".len());
                w.write_all(head.as_bytes()).unwrap();
                if fill == b' ' {
                    let chunk = vec![b' '; 1 << 20];
                    for _ in 0..300 {
                        w.write_all(&chunk).unwrap();
                    }
                } else {
                    let row = format!("<row>{}</row>", "<c><v>0</v></c>".repeat(1000));
                    for _ in 0..(300 << 20) / row.len() {
                        w.write_all(row.as_bytes()).unwrap();
                    }
                }
                w.write_all(tail.as_bytes()).unwrap();
            } else {
                w.write_all(&data).unwrap();
            }
        }
        w.finish().unwrap();
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(size < 5 << 20, "{name}: {size} bytes on disk");
        let r = run_limited(
            bin().arg("inspect").arg(&p),
            Duration::from_secs(SECONDS + 20),
        );
        refused(
            &format!("inspect {name} bomb ({size} bytes)"),
            &r,
            3,
            &format!(
                "{}: the workbook unpacks to more \
            than 268435456 bytes (256 MiB; xl/worksheets/sheet1.xml alone is",
                p.display()
            ),
        );
    }
}

#[test]
fn a_huge_or_piped_logo_is_refused() {
    let world = demo_world();
    let dir = scratch("logo");
    // A PNG that says it is 60000 x 60000 pixels (its header from the png crate; no pixels follow).
    let png = dir.join("logo.png");
    let mut header = Vec::new();
    {
        let mut e = png::Encoder::new(&mut header, 60000, 60000);
        e.set_color(png::ColorType::Grayscale);
        e.set_depth(png::BitDepth::One);
        drop(e.write_header().unwrap());
    }
    std::fs::write(&png, &header).unwrap();
    let fifo = dir.join("pipe.svg");
    mkfifo(&fifo);
    let booklet = |logo: &Path| {
        run_limited(
            bin()
                .args(["booklet", "--html-only", "--la", "650"])
                .arg("--out")
                .arg(dir.join("out"))
                .arg("--store")
                .arg(world.join("store"))
                .arg("--logo")
                .arg(logo),
            Duration::from_secs(SECONDS + 10),
        )
    };
    refused(
        "a 60000 x 60000 logo",
        &booklet(&png),
        2,
        &format!(
            "{}: the logo is 60000 x 60000 pixels; at most \
        16777216 pixels (4096 x 4096) are read: scale it down",
            png.display()
        ),
    );
    refused(
        "a FIFO as the logo",
        &booklet(&fifo),
        2,
        &format!(
            "{}: the logo is a named pipe (FIFO), not a regular file",
            fifo.display()
        ),
    );
}

// ---------------------------------------------------------------- messages

#[test]
fn a_stray_quote_is_reported_at_its_own_row() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("stray-quote");
    let text = text_of(KS2);
    let mut lines = lines_of(&text);
    let header = header_of(&text);
    let n = plain_school_line(&lines, &header);
    let name = header.iter().position(|h| h == "SCHNAME").unwrap();
    let mut row = cells(&lines[n - 1]);
    row[name] = format!("\"{}", row[name]);
    lines[n - 1] = row.join(",");
    let mutated = lines.join("\r\n");
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, &mutated).unwrap();
    // Where the csv reader's field runs to: the next quote mark in the file.
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(mutated.trim_start_matches('\u{feff}').as_bytes());
    let rec = r
        .records()
        .map(|r| r.unwrap())
        .find(|r| r.get(name).is_some_and(|f| f.contains('\n')))
        .unwrap();
    let last = n + rec[name].matches('\n').count();
    c.expect_error(&p, &format!("{}, row {n}, column SCHNAME: a stray quote mark: this field opens a quote that is \
        not closed on its own line, so rows {n}-{last} were read as one field; a quote mark inside a value must be \
        doubled (\"\"), or the whole value quoted", shown(&p)));
}

#[test]
fn cr_only_files_get_their_row_numbers() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("cr-only");
    let (p, n) = ks2_with(&c, "2018-936-ks2.csv", "PTRWM_EXP", "12..5");
    let cr = std::fs::read_to_string(&p).unwrap().replace("\r\n", "\r");
    std::fs::write(&p, cr).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}, row {n}, column PTRWM_EXP: \"12..5\": not a number and not a known status token",
            shown(&p)
        ),
    );
}

// ---------------------------------------------------------------- the audit reads more

fn audit(dir: &Path) -> (Option<i32>, serde_json::Value) {
    let out = bin()
        .arg("audit")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

fn findings(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                f["location"].as_str().unwrap().to_string(),
                f["figure"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_audit_reads_every_encoding_and_format() {
    let dir = scratch("audit-wider");
    let s = |x: &str| x.to_string();
    // Windows-1252 (an en dash, byte 0x96) and UTF-16 HTML.
    let html = "<p>Looked after \u{2013} Boys (n=3): 33%</p>\n";
    std::fs::write(
        dir.join("cp1252.html"),
        encoding_rs::WINDOWS_1252.encode(html).0,
    )
    .unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(html.encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    std::fs::write(dir.join("utf16.html"), utf16).unwrap();
    // Entities, capital N, no-break spaces.
    std::fs::write(
        dir.join("entities.html"),
        "<td>SEN support (n&#61;2)</td>\n<td>EAL (N=4)</td>\n<td>Girls \
        (n\u{202f}=\u{a0}5)</td>\n<td>All (n&nbsp;=&nbsp;12)</td>\n",
    )
    .unwrap();
    // TSV with a cohort column; a cohort stored as text in JSON.
    std::fs::write(
        dir.join("gaps.tsv"),
        "code\tcohort\tvalue\n100\t3\t50\n101\t30\t40\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("gaps.json"),
        r#"[{"code":"100","cohort":"2","value":50,"status":"ok"}]"#,
    )
    .unwrap();
    // An xlsx whose cohort is stored as text.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Gaps").unwrap();
    ws.write_string(0, 0, "code").unwrap();
    ws.write_string(0, 1, "cohort").unwrap();
    ws.write_string(1, 0, "100").unwrap();
    ws.write_string(1, 1, "4").unwrap();
    wb.save(dir.join("text-cohort.xlsx")).unwrap();
    // An ODS (OpenDocument spreadsheet) with a cohort of 1.
    let ods = dir.join("gaps.ods");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&ods).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("mimetype", stored).unwrap();
    w.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    w.start_file("META-INF/manifest.xml", stored).unwrap();
    w.write_all(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" "#,
            r#"manifest:version="1.2"><manifest:file-entry manifest:full-path="/" "#,
            r#"manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>"#,
            r#"<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>"#,
            r#"</manifest:manifest>"#,
        )
        .as_bytes(),
    ).unwrap();
    w.start_file("content.xml", stored).unwrap();
    w.write_all(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
            r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" "#,
            r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">"#,
            r#"<office:body><office:spreadsheet><table:table table:name="Gaps"><table:table-row>"#,
            r#"<table:table-cell office:value-type="string"><text:p>code</text:p></table:table-cell>"#,
            r#"<table:table-cell office:value-type="string"><text:p>cohort</text:p></table:table-cell>"#,
            r#"</table:table-row><table:table-row><table:table-cell office:value-type="float" "#,
            r#"office:value="100"><text:p>100</text:p></table:table-cell>"#,
            r#"<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p>"#,
            r#"</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>"#,
            r#"</office:document-content>"#,
        )
        .as_bytes(),
    ).unwrap();
    w.finish().unwrap();

    let (code, v) = audit(&dir);
    assert_eq!(code, Some(4), "{v}");
    let mut got = findings(&v);
    got.sort();
    let mut want = vec![
        (s("cp1252.html"), s("line 1"), s("n=3")),
        (s("entities.html"), s("line 1"), s("n=2")),
        (s("entities.html"), s("line 2"), s("N=4")),
        (s("entities.html"), s("line 3"), s("n = 5")),
        (s("gaps.json"), s("$[0].cohort"), s("2")),
        (s("gaps.ods"), s("sheet Gaps, row 2, column B"), s("1")),
        (s("gaps.tsv"), s("row 2, column cohort"), s("3")),
        (
            s("text-cohort.xlsx"),
            s("sheet Gaps, row 2, column B"),
            s("4"),
        ),
        (s("utf16.html"), s("line 1"), s("n=3")),
    ];
    want.sort();
    assert_eq!(got, want, "{v}");
    assert_eq!(v["files_checked"], 7, "{v}");
    assert!(v["not_checked"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn published_gap_figures_are_not_pupil_level_disclosures() {
    let world = demo_world();
    let dir = scratch("audit-published-gaps");
    // `attain gaps` on published (DfE) data: school rows whose disadvantaged cohort is small.
    let out = bin()
        .args([
            "gaps",
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--format",
            "json",
            "--store",
        ])
        .arg(world.join("store"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let small = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["group_cohort"]
                .as_f64()
                .is_some_and(|c| (1.0..=5.0).contains(&c))
        })
        .count();
    assert!(
        small > 0,
        "the demo has schools with 1-5 disadvantaged pupils"
    );
    std::fs::write(dir.join("gaps.json"), &out.stdout).unwrap();
    let (code, v) = audit(&dir);
    assert_eq!((code, findings(&v).len()), (Some(0), 0), "{v}");
    // A pupil-level row (its own `status`) with the same cohort is still found.
    std::fs::write(
        dir.join("pupils.json"),
        r#"[{"code":"100","group_cohort":3,"group_status":"ok","status":"ok"}]"#,
    )
    .unwrap();
    let (code, v) = audit(&dir);
    assert_eq!((code, findings(&v).len()), (Some(4), 1), "{v}");
}

#[test]
fn a_known_dfe_oddity_is_read_as_published_and_noted() {
    if raw_dir().is_none() {
        return;
    }
    // DfE's 2024/25 census has special schools with over 100% of pupils on EHC plans: the
    // catalogue records it (`range_oddity`), so the file reads cleanly and each is noted.
    let p = raw("calvinchankf-uk-schools/data_2024-2025/england_census.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let records: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    let col = records[0].iter().position(|h| h == "PSENELSE").unwrap();
    let over: Vec<(usize, String)> = records
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, r)| {
            r.get(col)
                .and_then(|v| v.trim_end_matches('%').parse::<f64>().ok())
                .is_some_and(|v| v > 100.0)
        })
        .map(|(i, r)| (i + 1, r[col].to_string()))
        .collect();
    assert!(!over.is_empty());
    let out = bin()
        .arg("inspect")
        .arg(&p)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes: Vec<String> = v["tables"][0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    for (line, value) in &over {
        let expected = format!("row {line}, column PSENELSE: {value:?} is outside the range: census_ehcp_pct \
            (percent) runs from 0 to 100; read as published (DfE's census counts some special schools' pupils with \
            EHC plans against a smaller headcount, giving over 100%)");
        assert!(notes.contains(&expected), "{expected}\n{notes:?}");
    }
    assert_eq!(v["tables"][0]["warnings"].as_array().unwrap().len(), 0);
}
