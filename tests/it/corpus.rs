//! The bad-input corpus: every case is made here, at test time, from a real DfE file in
//! ../shared/data/raw (nothing bad is checked in), then given to the built `attain` as a
//! person would. Each case asserts the exact message (file, row, column), the exit code of
//! `attain ingest` and `attain inspect`, and what is left in the store: untouched after an
//! error, complete after a warning. The expected figures are read from the real files.
//!
//! Errors (exit 3): truncated mid-row or mid-quote, a URN twice with different figures, two
//! files or years in one, a required column renamed or deleted, a header only, `12..5`,
//! `1e400`, a workbook with only an empty sheet, a password, a 50 MB line.
//! Warnings (exit 1, the file is read): semicolons, tabs, UTF-16, Windows-1252, a URN
//! repeated exactly, a per-LA file without its LA row, a header in merged cells, links in
//! a directory that loop.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use attain::catalogue::Catalogue;
use attain::ingest::{FileOutcome, IngestOptions};
use attain::store::frame::{query_results, ResultFilter};
use attain::store::schema::Level;
use attain::store::Store;

use crate::common::{bin, copy_dir, raw, raw_dir, scratch};

pub(crate) const KS2: &str = "clarelgibson-hants-surrey/data-in/ks2/2018-936-ks2.csv";
const KS2_2017_850: &str = "clarelgibson-hants-surrey/data-in/ks2/2017-850-ks2.csv";
const KS2_2018_850: &str = "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv";
const LAIT_DICTIONARY: &str = "dfe-lait/01_data/02_prod/lait_data_dictionary.csv";
const SN_XLSX: &str = "dfe-lait/01_data/02_prod/sn_april_2021.xlsx";

// ---------------------------------------------------------------- running attain

/// What one run of the binary did.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
    /// Peak resident memory of the process, in KiB (from wait4's rusage).
    pub(crate) peak_kib: u64,
}

/// Run the command, timing it and measuring its peak memory (its own, not the test's).
// The child is reaped by `libc::wait4` (which gives its peak memory), not `Child::wait`.
#[allow(clippy::zombie_processes)]
pub(crate) fn run(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let mut child = cmd
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
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we spawned and have not waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
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

/// Every file under `dir` with its bytes: to tell that nothing was written or changed.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// A store built once from a real file that is not part of any case: every failing case
/// runs against a copy of it, which must come out byte for byte the same.
fn baseline_store() -> &'static Path {
    static STORE: OnceLock<PathBuf> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = scratch("corpus-baseline").join("store");
        let r = run(bin()
            .arg("ingest")
            .arg(raw(KS2_2018_850))
            .arg("--store")
            .arg(&store));
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        store
    })
}

/// A case: a directory holding the bad file (named like the real file it came from, so
/// that its year is found the same way) and an output directory with a copy of the baseline store.
pub(crate) struct Case {
    pub(crate) dir: PathBuf,
    pub(crate) out: PathBuf,
}

impl Case {
    pub(crate) fn new(name: &str) -> Case {
        let dir = scratch(&format!("corpus-{name}"));
        let out = dir.join("out");
        copy_dir(baseline_store(), &out.join("store"));
        Case { dir, out }
    }
    pub(crate) fn store(&self) -> PathBuf {
        self.out.join("store")
    }
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        let d = self.dir.join("input");
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }
    pub(crate) fn ingest(&self, path: &Path) -> Run {
        run(bin()
            .arg("ingest")
            .arg(path)
            .arg("--store")
            .arg(self.store()))
    }

    /// `attain ingest` and `attain inspect` both stop with exit code 3 and print `expected`
    /// (the whole located message), and the store directory is exactly as it was.
    pub(crate) fn expect_error(&self, path: &Path, expected: &str) {
        let before = snapshot(&self.out);
        let r = self.ingest(path);
        assert_eq!(r.code, Some(3), "ingest {}: {}", path.display(), r.stderr);
        assert!(
            r.stderr
                .contains(&format!("input file(s) failed:\n  {expected}\n")),
            "ingest: expected\n  {expected}\ngot\n{}",
            r.stderr
        );
        assert_eq!(
            snapshot(&self.out),
            before,
            "a failed ingest leaves the store (and its parent directory) as it was"
        );
        let i = run(bin().arg("inspect").arg(path));
        assert_eq!(i.code, Some(3), "inspect {}: {}", path.display(), i.stderr);
        assert_eq!(i.stderr, format!("error: {expected}\n"), "inspect");
        assert!(!r.stderr.contains("panicked") && !i.stderr.contains("panicked"));
    }

    /// Both commands finish with exit code 1 and print each expected warning; the store is
    /// written. Returns the ingest run.
    pub(crate) fn expect_warnings(&self, path: &Path, expected: &[String]) -> Run {
        let r = self.ingest(path);
        assert_eq!(r.code, Some(1), "ingest {}: {}", path.display(), r.stderr);
        for w in expected {
            assert!(
                r.stderr.contains(&format!("warning: {w}\n")),
                "ingest: expected\nwarning: {w}\ngot\n{}",
                r.stderr
            );
        }
        let i = run(bin().arg("inspect").arg(path).args(["--format", "json"]));
        assert_eq!(i.code, Some(1), "inspect {}: {}", path.display(), i.stderr);
        for w in expected {
            assert!(
                i.stderr.contains(&format!("warning: {w}\n")),
                "inspect: expected\nwarning: {w}\ngot\n{}",
                i.stderr
            );
        }
        let v: serde_json::Value = serde_json::from_str(&i.stdout).unwrap();
        let listed = v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["warnings"].as_array().unwrap().len())
            .sum::<usize>();
        assert_eq!(
            listed,
            expected.len(),
            "inspect --format json lists each warning: {}",
            i.stdout
        );
        r
    }
}

// ---------------------------------------------------------------- reading the real files

pub(crate) fn catalogue() -> Arc<Catalogue> {
    static CAT: OnceLock<Arc<Catalogue>> = OnceLock::new();
    CAT.get_or_init(|| Arc::new(Catalogue::load(None).unwrap()))
        .clone()
}

/// A real CSV as text (with its BOM, if it has one) and its lines (split on CRLF).
pub(crate) fn text_of(rel: &str) -> String {
    String::from_utf8(std::fs::read(raw(rel)).unwrap()).unwrap()
}

pub(crate) fn lines_of(text: &str) -> Vec<String> {
    text.split("\r\n").map(str::to_string).collect()
}

/// The header cells of a real CSV, as the csv crate reads them (BOM removed).
pub(crate) fn header_of(text: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

pub(crate) fn cells(line: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

/// The 1-based line of the first data line with this RECTYPE.
pub(crate) fn rectype_line(lines: &[String], rectype: &str) -> usize {
    lines
        .iter()
        .position(|l| l.split(',').next() == Some(rectype))
        .unwrap()
        + 1
}

/// A school line (RECTYPE 1) with no quoted fields, with a plain percentage in PTRWM_EXP, from line 10 on.
pub(crate) fn plain_school_line(lines: &[String], header: &[String]) -> usize {
    let col = header.iter().position(|h| h == "PTRWM_EXP").unwrap();
    (9..lines.len())
        .find(|&i| {
            lines[i].starts_with("1,")
                && !lines[i].contains('"')
                && cells(&lines[i])[col].ends_with('%')
        })
        .unwrap()
        + 1
}

/// The results a file gives, in the library (no store), with what `attain` warned about.
pub(crate) type Figure = (
    i32,
    Level,
    String,
    String,
    String,
    Option<u64>,
    String,
    String,
    Option<String>,
);

pub(crate) fn read(path: &Path) -> (Vec<Figure>, Vec<u64>, Vec<String>, FileOutcome) {
    let outcome = attain::ingest::read_file(
        path,
        &IngestOptions {
            catalogue: catalogue(),
            year: None,
        },
    );
    let FileOutcome::Ingested { batch, tables, .. } = &outcome else {
        panic!("{}: {outcome:?}", path.display())
    };
    let figs = batch
        .results
        .iter()
        .map(|r| {
            (
                r.year,
                r.level,
                r.code.clone(),
                r.measure.to_string(),
                r.group.to_string(),
                r.value.map(f64::to_bits),
                r.status.token().to_string(),
                r.source_column.to_string(),
                r.la_code.clone(),
            )
        })
        .collect();
    let rows = batch.results.iter().map(|r| r.source_row).collect();
    let warnings = tables
        .iter()
        .flat_map(|t| t.warnings.iter().map(|w| w.to_string()))
        .collect();
    (figs, rows, warnings, outcome)
}

pub(crate) fn store_results(
    store: &Path,
    file_suffix: &str,
) -> Vec<attain::store::frame::ResultRecord> {
    let s = Store::at(store);
    query_results(
        s.scan("results").unwrap(),
        &ResultFilter {
            source_file: Some(file_suffix.into()),
            ..Default::default()
        },
    )
    .unwrap()
}

pub(crate) fn shown(p: &Path) -> String {
    p.display().to_string()
}

// ---------------------------------------------------------------- the cases

#[test]
fn truncated_mid_row() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("truncated-row");
    let text = text_of(KS2);
    let lines = lines_of(&text);
    let header = header_of(&text);
    // Cut 60 bytes into line 100 (a plain school line: no quotes in it).
    let start: usize = lines.iter().take(99).map(|l| l.len() + 2).sum();
    assert!(!lines[99][..60].contains('"'));
    let kept = cells(&lines[99][..60]);
    let widest = lines.iter().map(|l| cells(l).len()).max().unwrap();
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, &text[..start + 60]).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}, row 100, column {}: the last row stops in this column, after {} of {widest} \
        fields, with no line break: the file looks truncated",
            shown(&p),
            header[kept.len() - 1],
            kept.len()
        ),
    );
}

#[test]
fn truncated_inside_a_quoted_field() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("truncated-quote");
    let text = text_of(KS2);
    let lines = lines_of(&text);
    let header = header_of(&text);
    // The first line with a quoted field (a school name with a comma), cut just after its opening quote.
    let n = lines.iter().position(|l| l.contains('"')).unwrap();
    let quote = lines[n].find('"').unwrap();
    let field = cells(&(lines[n][..quote].to_string() + "x")).len() - 1;
    let start: usize = lines.iter().take(n).map(|l| l.len() + 2).sum();
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, &text[..start + quote + 3]).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}, row {}, column {}: the file ends inside a quoted field: it looks truncated",
            shown(&p),
            n + 1,
            header[field]
        ),
    );
}

/// Re-write a real CSV with another delimiter, quoting as the csv crate does.
fn redelimit(text: &str, delim: u8) -> Vec<u8> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for rec in r.records() {
        w.write_record(&rec.unwrap()).unwrap();
    }
    w.into_inner().unwrap()
}

fn same_figures_as_the_original(case: &Case, p: &Path, run: &Run) {
    let (orig, orig_rows, orig_warnings, _) = read(&raw(KS2));
    assert!(
        orig_warnings.is_empty(),
        "the published file itself reads without warnings: {orig_warnings:?}"
    );
    let (figs, rows, _, _) = read(p);
    assert!(!orig.is_empty());
    assert_eq!(
        figs, orig,
        "every figure is read as from the published file"
    );
    assert_eq!(rows, orig_rows, "and from the same rows");
    // The store holds every result (nothing partial).
    let stored = store_results(&case.store(), &p.file_name().unwrap().to_string_lossy());
    assert_eq!(stored.len(), orig.len(), "{}", run.stderr);
}

#[test]
fn semicolons_and_tabs_instead_of_commas() {
    if raw_dir().is_none() {
        return;
    }
    for (delim, name) in [(b';', "semicolons"), (b'\t', "tabs")] {
        let c = Case::new(&format!("delimiter-{name}"));
        let p = c.file("2018-936-ks2.csv");
        std::fs::write(&p, redelimit(&text_of(KS2), delim)).unwrap();
        let w = format!(
            "{}, row 1: fields are separated by {name}, not commas (the file was re-saved from a \
            spreadsheet?): read with {name}",
            shown(&p)
        );
        let r = c.expect_warnings(&p, &[w]);
        same_figures_as_the_original(&c, &p, &r);
    }
}

#[test]
fn utf16_with_and_without_a_byte_order_mark() {
    if raw_dir().is_none() {
        return;
    }
    let text = text_of(KS2);
    let body = text.trim_start_matches('\u{feff}');
    for (bom, how) in [
        (true, "with a byte-order mark"),
        (false, "without a byte-order mark"),
    ] {
        let c = Case::new(&format!("utf16-{bom}"));
        let p = c.file("2018-936-ks2.csv");
        let mut bytes: Vec<u8> = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        bytes.extend(body.encode_utf16().flat_map(|u| u.to_le_bytes()));
        std::fs::write(&p, bytes).unwrap();
        let w = format!(
            "{}: encoded as UTF-16LE ({how}), not UTF-8: decoded, check any accented names",
            shown(&p)
        );
        let r = c.expect_warnings(&p, &[w]);
        same_figures_as_the_original(&c, &p, &r);
    }
}

#[test]
fn windows_1252() {
    if raw_dir().is_none() {
        return;
    }
    // The LAIT dictionary is the real file with the most non-ASCII text (curly quotes, dashes).
    let c = Case::new("windows-1252");
    let text = text_of(LAIT_DICTIONARY);
    // Saved as Windows-1252 the way Excel does it: a character the code page lacks (here a
    // narrow no-break space and a private-use bullet) becomes "?".
    let body: String = text
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|ch| {
            if encoding_rs::WINDOWS_1252.encode(&ch.to_string()).2 {
                '?'
            } else {
                ch
            }
        })
        .collect();
    let body = body.as_str();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(body);
    assert!(!unmappable);
    let p = c.file("lait_data_dictionary.csv");
    std::fs::write(&p, &bytes).unwrap();
    // The same text as UTF-8, to compare with.
    let utf8 = c.dir.join("utf8").join("lait_data_dictionary.csv");
    std::fs::create_dir_all(utf8.parent().unwrap()).unwrap();
    std::fs::write(&utf8, body).unwrap();
    // Where the first non-ASCII character is: its line, and the column of the cell holding it.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let header: Vec<String> = rdr
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let (line, column, byte) = rdr
        .records()
        .map(|r| r.unwrap())
        .find_map(|r| {
            let i = r.iter().position(|c| !c.is_ascii())?;
            let ch = r[i].chars().find(|c| !c.is_ascii()).unwrap();
            let ch = ch.to_string();
            let (b, _, _) = encoding_rs::WINDOWS_1252.encode(&ch);
            let byte = b[0];
            // The record's line: the csv crate can put a record's start on the line break before it.
            let start = r.position().unwrap().byte() as usize;
            let start =
                start + body[start..].len() - body[start..].trim_start_matches(['\r', '\n']).len();
            let line = body[..start].matches('\n').count() + 1;
            Some((line, header[i].clone(), byte))
        })
        .unwrap();
    let w = format!("{}, row {line}, column {column}: not valid UTF-8 (byte 0x{byte:02X}): decoded as Windows-1252, \
        check the accented characters", shown(&p));
    c.expect_warnings(&p, &[w]);
    // Every cell (the descriptions with their curly quotes, dashes and pound signs) reads
    // exactly as from the UTF-8 text, and so does every measure stored.
    let cells_of = |path: &Path| {
        let d = attain::ingest::table::decode(path, &std::fs::read(path).unwrap()).unwrap();
        let (mut notes, mut warnings) = (d.notes, d.warnings);
        let rows =
            attain::ingest::table::parse_csv(path, &d.text, &mut notes, &mut warnings).unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.line,
                    r.cells.iter().map(str::to_string).collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (orig, got) = (cells_of(&utf8), cells_of(&p));
    assert!(
        orig.iter()
            .flat_map(|(_, c)| c)
            .filter(|c| !c.is_ascii())
            .count()
            > 100
    );
    assert_eq!(got, orig);
    let measures = |o: &FileOutcome| match o {
        FileOutcome::Ingested { batch, .. } => batch
            .measures
            .iter()
            .map(|m| (m.measure.clone(), m.description.clone(), m.polarity.clone()))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let orig = measures(&read_lenient(&utf8));
    assert!(!orig.is_empty());
    assert_eq!(measures(&read_lenient(&p)), orig);
}

pub(crate) fn read_lenient(p: &Path) -> FileOutcome {
    attain::ingest::read_file(
        p,
        &IngestOptions {
            catalogue: catalogue(),
            year: None,
        },
    )
}

#[test]
fn a_urn_repeated_exactly_is_counted_once() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("urn-repeated");
    let text = text_of(KS2);
    let mut lines = lines_of(&text);
    let header = header_of(&text);
    let n = plain_school_line(&lines, &header);
    let urn = cells(&lines[n - 1])[header.iter().position(|h| h == "URN").unwrap()].clone();
    lines.insert(n, lines[n - 1].clone()); // the repeat is line n + 1
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, lines.join("\r\n")).unwrap();
    let w = format!("{}, row {}, column URN: URN {urn} repeats row {n} exactly: the repeat is ignored (counted \
        once)", shown(&p), n + 1);
    c.expect_warnings(&p, &[w]);
    // Not double-counted: the schools' TELIG still sums to the LA row's TELIG, as in the published file.
    let telig = header.iter().position(|h| h == "TELIG").unwrap();
    let la_line = &lines[rectype_line(&lines, "3") - 1];
    let la_telig: f64 = cells(la_line)[telig].parse().unwrap();
    let stored = store_results(&c.store(), "input/2018-936-ks2.csv");
    let cohort: Vec<_> = stored
        .iter()
        .filter(|r| r.measure == "ks2_cohort" && r.group == "all")
        .collect();
    let schools: f64 = cohort
        .iter()
        .filter(|r| r.level == "school")
        .filter_map(|r| r.value)
        .sum();
    assert_eq!(schools, la_telig);
    assert_eq!(cohort.iter().filter(|r| r.code == urn).count(), 1);
}

#[test]
fn a_urn_twice_with_different_figures_is_refused() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("urn-different");
    let text = text_of(KS2);
    let mut lines = lines_of(&text);
    let header = header_of(&text);
    let n = plain_school_line(&lines, &header);
    let col = header.iter().position(|h| h == "PTRWM_EXP").unwrap();
    let mut row = cells(&lines[n - 1]);
    let urn = row[header.iter().position(|h| h == "URN").unwrap()].clone();
    let was = row[col].clone();
    let v: f64 = was.trim_end_matches('%').parse().unwrap();
    row[col] = format!("{}%", if v >= 50.0 { v - 10.0 } else { v + 10.0 });
    lines.insert(n, row.join(","));
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, lines.join("\r\n")).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}, row {}, column PTRWM_EXP: URN {urn} is also on row {n}, with different figures \
        (PTRWM_EXP is {was:?} there and {:?} here): remove the wrong row",
            shown(&p),
            n + 1,
            row[col]
        ),
    );
}

#[test]
fn two_years_in_one_file_are_refused() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("two-years");
    // The 2018/19 file's rows pasted under the 2017/18 file (no second header).
    let older = text_of(KS2_2017_850);
    let newer = lines_of(&text_of(KS2_2018_850));
    let older_lines = lines_of(&older);
    let first_la = rectype_line(&older_lines, "3");
    let second_la = older_lines.len() + rectype_line(&newer, "3") - 1;
    let p = c.file("2017-850-ks2.csv");
    std::fs::write(&p, format!("{older}\r\n{}", newer[1..].join("\r\n"))).unwrap();
    let la = cells(&older_lines[first_la - 1])[2].clone();
    c.expect_error(&p, &format!("{}, row {second_la}, column RECTYPE: a second LA row for LA {la} (the first is row \
        {first_la}): the file holds two files or two years one after the other; split it into one file \
        each", shown(&p)));

    // The same with the second file's header pasted too (`cat a.csv b.csv`).
    let c = Case::new("two-files");
    let p = c.file("2018-850-ks2.csv");
    let one = text_of(KS2_2018_850);
    std::fs::write(
        &p,
        format!("{one}\r\n{}", one.trim_start_matches('\u{feff}')),
    )
    .unwrap();
    let second_header = lines_of(&one).len() + 1;
    c.expect_error(
        &p,
        &format!(
            "{}, row {second_header}, column RECTYPE: this row repeats the header (row 1): the \
        file holds two files one after the other; split it",
            shown(&p)
        ),
    );
}

#[test]
fn a_per_la_file_without_its_la_row() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("no-la-row");
    let text = text_of(KS2);
    let mut lines = lines_of(&text);
    let la_line = rectype_line(&lines, "3");
    let la = cells(&lines[la_line - 1])[2].clone();
    lines.remove(la_line - 1);
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, lines.join("\r\n")).unwrap();
    // The year the published file is read as (from `attain inspect` of the original).
    let i = run(bin()
        .arg("inspect")
        .arg(raw(KS2))
        .args(["--format", "json"]));
    let year = serde_json::from_str::<serde_json::Value>(&i.stdout).unwrap()["tables"][0]["year"]
        .as_i64()
        .unwrap();
    let w = format!("{}, column RECTYPE: every school is in LA {la} but the file has no LA row (RECTYPE 3): LA {la}'s \
        published figures for {year} are not in this file", shown(&p));
    c.expect_warnings(&p, &[w]);
    // Every school and national figure of the published file is stored; no LA figure.
    let stored = store_results(&c.store(), "input/2018-936-ks2.csv");
    let (orig, _, _, _) = read(&raw(KS2));
    assert!(orig.iter().any(|f| f.1 == Level::La));
    assert_eq!(
        stored.len(),
        orig.iter().filter(|f| f.1 != Level::La).count()
    );
    assert!(stored.iter().all(|r| r.level != "la"));
}

#[test]
fn a_required_column_renamed_or_deleted() {
    if raw_dir().is_none() {
        return;
    }
    let text = text_of(KS2);
    let header = header_of(&text);

    // PTRWM_EXP renamed: the file is no longer recognised; the message says which column is missing.
    let c = Case::new("column-renamed");
    let p = c.file("2018-936-ks2.csv");
    let renamed = text.replacen(",PTRWM_EXP,", ",PTRWM_EXP (%),", 1);
    std::fs::write(&p, &renamed).unwrap();
    let shown_header: Vec<String> = header.iter().take(12).cloned().collect();
    c.expect_error(&p, &format!("{}, row 1, column PTRWM_EXP: not recognised: header [{}, ...] matches no dataset in \
        the catalogue; the header on row 1 has 2 of the columns ks2_performance_tables needs, but not \
        PTRWM_EXP", shown(&p), shown_header.join(", ")));

    // The URN column deleted from every row.
    let c = Case::new("column-deleted");
    let p = c.file("2018-936-ks2.csv");
    let urn = header.iter().position(|h| h == "URN").unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for rec in r.records() {
        let rec = rec.unwrap();
        w.write_record(
            rec.iter()
                .enumerate()
                .filter(|(i, _)| *i != urn)
                .map(|(_, c)| c),
        )
        .unwrap();
    }
    std::fs::write(&p, w.into_inner().unwrap()).unwrap();
    c.expect_error(
        &p,
        &format!("{}, row 1, column URN: key column missing", shown(&p)),
    );
}

#[test]
fn a_header_and_no_rows() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("header-only");
    let text = text_of(KS2);
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, format!("{}\r\n", lines_of(&text)[0])).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}, row 1: recognised as ks2_performance_tables but has a header and no data rows",
            shown(&p)
        ),
    );
}

#[test]
fn values_that_are_not_numbers() {
    if raw_dir().is_none() {
        return;
    }
    let text = text_of(KS2);
    let header = header_of(&text);
    let col = header.iter().position(|h| h == "PTRWM_EXP").unwrap();
    for (bad, reason) in [
        ("12..5", "not a number and not a known status token"),
        ("1e400", "number out of range"),
    ] {
        let c = Case::new(&format!("value-{bad}"));
        let mut lines = lines_of(&text);
        let n = plain_school_line(&lines, &header);
        let mut row = cells(&lines[n - 1]);
        row[col] = bad.to_string();
        lines[n - 1] = row.join(",");
        let p = c.file("2018-936-ks2.csv");
        std::fs::write(&p, lines.join("\r\n")).unwrap();
        c.expect_error(
            &p,
            &format!(
                "{}, row {n}, column PTRWM_EXP: {bad:?}: {reason}",
                shown(&p)
            ),
        );
    }
}

/// A workbook made from the real KS2 CSV: a title merged over the top row, then a header over
/// two rows: the first columns' names in cells merged down over both, a group title over the
/// rest, and their names in the second row; the data below.
fn merged_header_workbook(text: &str, path: &Path) -> usize {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("KS2").unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    let header = &rows[0];
    let keys = 8u16;
    let f = Format::new();
    ws.merge_range(
        0,
        0,
        0,
        9,
        "Key stage 2 results, Surrey (re-typed for the committee)",
        &f,
    )
    .unwrap();
    for (i, name) in header.iter().enumerate().take(keys as usize) {
        ws.merge_range(2, i as u16, 3, i as u16, name, &f).unwrap();
    }
    ws.merge_range(2, keys, 2, header.len() as u16 - 1, "Results", &f)
        .unwrap();
    for (i, name) in header.iter().enumerate().skip(keys as usize) {
        ws.write_string(3, i as u16, name).unwrap();
    }
    for (n, rec) in rows.iter().enumerate().skip(1) {
        for (i, v) in rec.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(3 + n as u32, i as u16, v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
    keys as usize
}

#[test]
fn a_workbook_with_a_header_in_merged_cells() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("xlsx-merged");
    let text = text_of(KS2);
    let p = c.file("2018-936-ks2.xlsx");
    let keys = merged_header_workbook(&text, &p);
    let letters: Vec<String> = (0..keys)
        .map(|i| format!("{0}3:{0}4", (b'A' + i as u8) as char))
        .collect();
    let w = format!("{}, row 4: sheet \"KS2\": the header is spread over merged cells ({}): read row 4 as the header, \
        with the merged names copied down", shown(&p), letters.join(", "));
    let r = c.expect_warnings(&p, &[w]);
    // The same figures as the CSV, each from three rows further down (the title, a blank row and the extra header row).
    let (orig, orig_rows, _, _) = read(&raw(KS2));
    let (figs, rows, _, _) = read(&p);
    assert_eq!(figs, orig);
    assert_eq!(rows, orig_rows.iter().map(|r| r + 3).collect::<Vec<_>>());
    assert_eq!(
        store_results(&c.store(), "input/2018-936-ks2.xlsx").len(),
        orig.len(),
        "{}",
        r.stderr
    );
}

#[test]
fn workbooks_with_an_empty_sheet() {
    if raw_dir().is_none() {
        return;
    }
    use rust_xlsxwriter::Workbook;
    // Only an empty sheet: an error.
    let c = Case::new("xlsx-empty");
    let p = c.file("2018-936-ks2.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("KS2").unwrap();
    wb.save(&p).unwrap();
    c.expect_error(
        &p,
        &format!(
            "{}: the workbook has no data: every sheet is empty",
            shown(&p)
        ),
    );

    // The real data on one sheet and an empty sheet beside it: read, the empty sheet listed as ignored.
    let c = Case::new("xlsx-empty-beside");
    let p = c.file("2018-936-ks2.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("KS2").unwrap();
    let text = text_of(KS2);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for (n, rec) in r.records().enumerate() {
        for (i, v) in rec.unwrap().iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(n as u32, i as u16, v).unwrap();
            }
        }
    }
    wb.add_worksheet().set_name("Notes").unwrap();
    wb.save(&p).unwrap();
    let i = run(bin().arg("inspect").arg(&p).args(["--format", "json"]));
    assert_eq!(i.code, Some(0), "{}", i.stderr);
    let v: serde_json::Value = serde_json::from_str(&i.stdout).unwrap();
    assert_eq!(
        v["ignored_sheets"],
        serde_json::json!(["sheet \"Notes\": empty"])
    );
    let (orig, orig_rows, _, _) = read(&raw(KS2));
    let (figs, rows, _, _) = read(&p);
    assert_eq!((figs, rows), (orig, orig_rows));
}

/// A password-protected workbook as Excel writes one (MS-OFFCRYPTO agile encryption): not a
/// zip but an OLE compound file with an `EncryptionInfo` stream (version 4.4, an XML key
/// descriptor) and an `EncryptedPackage` stream (the package's size, then its bytes). The
/// package here is a real workbook scrambled with a SHA-512 key stream rather than AES:
/// attain never decrypts, so what matters is the container it must recognise.
fn password_workbook(real: &[u8], path: &Path) {
    use sha2::{Digest, Sha512};
    let mut cf = cfb::create(path).unwrap();
    let xml = concat!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
        "\n",
        r#"<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" "#,
        r#"xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password">"#,
        r#"<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" "#,
        r#"cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" "#,
        r#"saltValue="AAECAwQFBgcICQoLDA0ODw=="/><keyEncryptors>"#,
        r#"<keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">"#,
        r#"<p:encryptedKey spinCount="100000" saltSize="16" blockSize="16" keyBits="256" "#,
        r#"hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" "#,
        r#"hashAlgorithm="SHA512" saltValue="EBESExQVFhcYGRobHB0eHw=="/></keyEncryptor>"#,
        r#"</keyEncryptors></encryption>"#,
    );
    let mut info = Vec::new();
    info.extend(4u16.to_le_bytes());
    info.extend(4u16.to_le_bytes());
    info.extend(0x40u32.to_le_bytes());
    info.extend(xml.as_bytes());
    let mut package = (real.len() as u64).to_le_bytes().to_vec();
    let mut key = Sha512::digest(b"password").to_vec();
    for chunk in real.chunks(64) {
        package.extend(chunk.iter().zip(&key).map(|(b, k)| b ^ k));
        key = Sha512::digest(&key).to_vec();
    }
    use std::io::Write as _;
    cf.create_stream("/EncryptionInfo")
        .unwrap()
        .write_all(&info)
        .unwrap();
    cf.create_stream("/EncryptedPackage")
        .unwrap()
        .write_all(&package)
        .unwrap();
    cf.flush().unwrap();
}

#[test]
fn a_password_protected_workbook() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("xlsx-password");
    let p = c.file("sn_april_2021.xlsx");
    password_workbook(&std::fs::read(raw(SN_XLSX)).unwrap(), &p);
    // Check the container with the cfb crate: the two streams are there.
    let cf = cfb::open(&p).unwrap();
    assert!(cf.is_stream("/EncryptionInfo") && cf.is_stream("/EncryptedPackage"));
    c.expect_error(&p, &format!("{}: password-protected workbook: attain cannot read an encrypted file; open it in \
        Excel and save it without a password (File > Info > Protect Workbook), then ingest it again", shown(&p)));
}

#[test]
fn a_50_mb_single_line_is_refused_quickly() {
    if raw_dir().is_none() {
        return;
    }
    let c = Case::new("long-line");
    // The real file with its line breaks lost (turned into commas), repeated to 50 MB.
    let text = text_of(KS2).replace("\r\n", ",");
    let mut big = String::with_capacity(50 << 20);
    while big.len() < 50 << 20 {
        big.push_str(&text);
        big.push(',');
    }
    let p = c.file("2018-936-ks2.csv");
    std::fs::write(&p, &big).unwrap();
    let len = big.trim_start_matches('\u{feff}').len();
    let expected = format!(
        "{}, row 1: this line is {len} bytes long (a CSV line of more than 1048576 bytes is \
        refused): the file has lost its line breaks, or is not a CSV",
        shown(&p)
    );
    c.expect_error(&p, &expected);
    let r = c.ingest(&p);
    assert_eq!(r.code, Some(3));
    assert!(r.elapsed < Duration::from_secs(10), "{:?}", r.elapsed);
    // The file is held twice at most (bytes, then text): about 100 MB, never gigabytes.
    assert!(r.peak_kib < 400 * 1024, "peak memory {} KiB", r.peak_kib);
    eprintln!(
        "50 MB line: refused in {:.2} s, peak memory {} MiB",
        r.elapsed.as_secs_f64(),
        r.peak_kib / 1024
    );
    let _ = std::fs::remove_dir_all(&c.dir); // 50 MB of scratch
}

#[test]
fn a_directory_of_symlink_loops() {
    if raw_dir().is_none() {
        return;
    }
    use std::os::unix::fs::symlink;
    let c = Case::new("symlinks");
    let d = c.dir.join("input");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::copy(raw(KS2), d.join("2018-936-ks2.csv")).unwrap();
    symlink(".", d.join("self")).unwrap(); // the directory itself
    symlink("..", d.join("sub/up")).unwrap(); // back up the tree
    symlink("loop_b", d.join("loop_a")).unwrap(); // a -> b -> a
    symlink("loop_a", d.join("loop_b")).unwrap();
    symlink("../2018-936-ks2.csv", d.join("sub/again.csv")).unwrap(); // the same file by another name
    symlink("nowhere.csv", d.join("sub/missing.csv")).unwrap(); // a link to nothing
    let before = snapshot(&c.out);
    let r = c.ingest(&d);
    assert!(
        r.elapsed < Duration::from_secs(30),
        "the walk ends: {:?}",
        r.elapsed
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    for (l, why) in [
        ("loop_a", "Too many levels of symbolic links"),
        ("loop_b", "Too many levels of symbolic links"),
        ("sub/missing.csv", "No such file or directory"),
    ] {
        let w = format!(
            "warning: {}: a symbolic link that cannot be followed ({why} (os error ",
            d.join(l).display()
        );
        assert!(r.stderr.contains(&w), "{w}\n{}", r.stderr);
    }
    assert_eq!(r.stderr.matches("warning: ").count(), 3, "{}", r.stderr);
    assert!(
        r.stdout.contains("sub/up")
            && r.stdout.contains("self")
            && r.stdout.contains("sub/again.csv"),
        "links to what was already read are listed: {}",
        r.stdout
    );
    // The file was read once: as many results as the published file gives.
    let (orig, _, _, _) = read(&raw(KS2));
    let s = Store::at(c.store());
    let all = query_results(
        s.scan("results").unwrap(),
        &ResultFilter {
            dataset: Some("ks2_performance_tables".into()),
            year: Some(orig[0].0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        all.iter()
            .filter(|r| r.source_file.contains("input/"))
            .count(),
        orig.len()
    );
    assert_ne!(snapshot(&c.out), before, "the store was written");
}
