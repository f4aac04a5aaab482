//! Booklets for real Hampshire and Surrey schools: the school's own figure, the LA figure and
//! the national figure from the 2018/19 files appear in the HTML and in the PDF's text; the
//! PDF's pages, turned into images, are counted and none is blank.

use std::path::Path;
use std::process::Command;

use crate::common::{bin, raw, real_store, scratch, succeeded};

/// A school row from a real KS2 file: (URN, name, PTRWM_EXP as printed, TELIG).
fn a_school(file: &str) -> (String, String, String) {
    let text = std::fs::read_to_string(raw(file)).unwrap();
    let mut lines = text.split("\r\n");
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    for line in lines {
        if line.contains('"') {
            continue; // keep the test's own CSV reading simple: no quoted commas
        }
        let c: Vec<&str> = line.split(',').collect();
        if c.len() > col("PTRWM_EXP")
            && c[col("RECTYPE")] == "1"
            && c[col("PTRWM_EXP")].ends_with('%')
            && c[col("TELIG")].parse::<u32>().unwrap_or(0) > 20
        {
            return (
                c[col("URN")].to_string(),
                c[col("SCHNAME")].to_string(),
                c[col("PTRWM_EXP")].to_string(),
            );
        }
    }
    panic!("no school found in {file}");
}

/// The school's name in the real GIAS extract, if it is there.
fn gias_name(urn: &str) -> Option<String> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(raw(
            "clarelgibson-hants-surrey/data-in/info/retired/20220420_gias.csv",
        ))
        .unwrap();
    let h = r.headers().unwrap().clone();
    let (u, n) = (
        h.iter().position(|x| x == "URN").unwrap(),
        h.iter().position(|x| x == "EstablishmentName").unwrap(),
    );
    r.records()
        .map(|x| x.unwrap())
        .find(|rec| &rec[u] == urn)
        .map(|rec| rec[n].to_string())
}

/// (NUMFSM, NOR) summed over an LA's state-funded primary schools in the January 2019 census.
fn la_primary_census(la: &str) -> (f64, f64) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(raw("kspdeveloper-perf-tables/england_census.csv"))
        .unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim_start_matches('\u{feff}') == n)
            .unwrap()
    };
    let (l, t, f, n) = (col("LA"), col("SCHOOLTYPE"), col("NUMFSM"), col("NOR"));
    let mut sums = (0.0, 0.0);
    for rec in r.records().map(|x| x.unwrap()) {
        if &rec[l] == la && &rec[t] == "State-funded primary" {
            if let (Ok(a), Ok(b)) = (rec[f].parse::<f64>(), rec[n].parse::<f64>()) {
                sums.0 += a;
                sums.1 += b;
            }
        }
    }
    sums
}

fn tool(name: &str) -> bool {
    let ok = Command::new(name).arg("-v").output().is_ok();
    if !ok && std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{name} (poppler-utils) is missing: .ci/run installs it");
    }
    ok
}

/// Share of dark pixels in a greyscale PGM (P5) image.
fn ink(pgm: &[u8]) -> f64 {
    // Header: "P5\n<w> <h>\n<max>\n" then w*h bytes.
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        while !pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    let pixels = &pgm[i + 1..];
    pixels.iter().filter(|&&p| p < 128).count() as f64 / pixels.len() as f64
}

fn check(file: &str, la: &str, la_figure: &str, national: &str) {
    let (urn, name, own) = a_school(file);
    let out = scratch(&format!("booklet-{urn}"));
    succeeded(
        bin()
            .args(["booklet", "--school", &urn, "--year", "2019", "--out"])
            .arg(&out)
            .arg("--store")
            .arg(real_store().unwrap()),
    );
    let dir = std::fs::read_dir(out.join(la))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>();
    let html_path = dir
        .iter()
        .find(|p| p.extension().unwrap() == "html")
        .unwrap();
    assert!(html_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&format!("{urn}-")));
    let html = std::fs::read_to_string(html_path).unwrap();
    // Names come from Get Information About Schools where it lists the school (the store's
    // documented precedence), else from the results file.
    let name = gias_name(&urn).unwrap_or(name);
    let escaped = name.replace('&', "&amp;").replace('\'', "&#x27;");
    assert!(
        html.contains(&format!("<h1 dir=\"auto\">{escaped}</h1>")),
        "school name {name}"
    );
    let ks2 = &html[html.find("id=\"ks2\"").unwrap()..];
    let rwm_row = &ks2[ks2
        .find(&crate::common::measure_label("ks2_rwm_expected"))
        .unwrap()..];
    let rwm_row = &rwm_row[..rwm_row.find("</tr>").unwrap()];
    for fig in [&own, la_figure, national] {
        assert!(
            rwm_row.contains(&format!("<td>{fig}</td>")),
            "{fig} missing from the RWM row: {rwm_row}"
        );
    }
    // The LA's census figures have no LA row in the file: they are pooled from the LA's
    // state-funded primary schools (the school's phase), from pupil counts.
    let (fsm, nor) = la_primary_census(la);
    let row = |label: &str| {
        let at = html
            .find(&format!("<tr><td>{label}</td>"))
            .unwrap_or_else(|| panic!("{label} row"));
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    let cells = |r: String| {
        r.split("<td>")
            .skip(1)
            .map(|c| c.trim_end_matches("</td>").to_string())
            .collect::<Vec<_>>()
    };
    // Pooled LA figures carry the mark the notes explain.
    assert_eq!(
        cells(row("Pupils on roll"))[2],
        format!("{}<sup>†</sup>", nor as i64)
    );
    assert_eq!(
        cells(row("% FSM"))[2],
        format!("{:.1}%<sup>†</sup>", 100.0 * fsm / nor)
    );
    assert!(html.contains("LA figure pooled from the LA"));
    assert!(Path::new(&out.join("index.html")).exists());
    // The same inputs give the same bytes, HTML and PDF.
    let again = scratch(&format!("booklet-again-{urn}"));
    succeeded(
        bin()
            .args(["booklet", "--school", &urn, "--year", "2019", "--out"])
            .arg(&again)
            .arg("--store")
            .arg(real_store().unwrap()),
    );
    for p in &dir {
        let twin = again.join(la).join(p.file_name().unwrap());
        assert!(
            std::fs::read(p).unwrap() == std::fs::read(&twin).unwrap(),
            "{} differs between two runs",
            p.display()
        );
    }
    if !tool("pdftotext") {
        return;
    }
    let pdf = dir
        .iter()
        .find(|p| p.extension().unwrap() == "pdf")
        .unwrap();
    let text = String::from_utf8(
        Command::new("pdftotext")
            .args(["-layout"])
            .arg(pdf)
            .arg("-")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Reading, writing and"))
        .unwrap();
    for fig in [&own, la_figure, national] {
        assert!(
            line.contains(fig),
            "{fig} missing from the PDF line: {line}"
        );
    }
    let pages = Command::new("pdfinfo").arg(pdf).output().unwrap();
    let info = String::from_utf8_lossy(&pages.stdout).to_string();
    let n: usize = info
        .lines()
        .find(|l| l.starts_with("Pages:"))
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    // Every section is there, in the booklet's order, on the page the contents say.
    let page_text = |p: usize| {
        String::from_utf8(
            Command::new("pdftotext")
                .args(["-f", &p.to_string(), "-l", &p.to_string(), "-layout"])
                .arg(pdf)
                .arg("-")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
    };
    let pages: Vec<String> = (1..=n).map(page_text).collect();
    // Page one: the title, the contents and the first section (the cover merged into it).
    assert!(
        pages[0].contains("Achievement and Target Setting Booklet 2018/19"),
        "page one: {}",
        pages[0]
    );
    // The contents list, from its heading on (a summary sentence above it may name a section).
    let contents = &pages[0][pages[0].find("\nContents").unwrap_or(0)..];
    // A heading's own line: the heading alone, or a key stage's with its year (the
    // contents' lines carry page numbers after it).
    let heading_line =
        |l: &str, heading: &str| l.trim() == heading || l.trim() == format!("{heading}: 2018/19");
    let mut last = 1;
    for heading in [
        "School context",
        "Key stage 2 (end of Year 6)",
        "Gaps between groups of pupils",
        "Attendance",
        "Ofsted",
        "Targets for 2019/20",
        "Notes",
    ] {
        let at = 1 + pages
            .iter()
            .position(|t| t.lines().any(|l| heading_line(l, heading)))
            .unwrap_or_else(|| panic!("{heading} missing"));
        assert!(
            at >= last,
            "{heading} on page {at}, before the previous section (page {last})"
        );
        // The contents run in two columns: the number after the heading is its page.
        let listed_page = contents
            .lines()
            .find_map(|l| {
                let after = &l[l.find(heading)? + heading.len()..];
                after
                    .trim_start_matches(": 2018/19")
                    .split_whitespace()
                    .next()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| panic!("{heading} not in the contents"));
        assert_eq!(
            listed_page,
            at.to_string(),
            "contents say page {listed_page} for {heading}, the heading is on page {at}"
        );
        last = at;
    }
    assert!((3..=8).contains(&n), "{n} pages");
    let prefix = out.join("page");
    assert!(Command::new("pdftoppm")
        .args(["-gray", "-r", "50"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap()
        .success());
    let mut seen = 0;
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("page") {
            let share = ink(&std::fs::read(&p).unwrap());
            assert!(share > 0.001, "{} is blank", p.display());
            seen += 1;
        }
    }
    assert_eq!(seen, n);
}

#[test]
fn hampshire_booklet_shows_school_la_and_national_figures() {
    if real_store().is_none() {
        return;
    }
    check(
        "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv",
        "850",
        "68%",
        "65%",
    );
}

#[test]
fn surrey_booklet_shows_school_la_and_national_figures() {
    if real_store().is_none() {
        return;
    }
    check(
        "clarelgibson-hants-surrey/data-in/ks2/2018-936-ks2.csv",
        "936",
        "70%",
        "65%",
    );
}

/// URNs of the first `n` schools of a real KS2 file with a published RWM figure.
fn schools(file: &str, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(raw(file)).unwrap();
    let mut lines = text.split("\r\n");
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    lines
        .filter(|l| !l.contains('"'))
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| {
            c.len() > col("PTRWM_EXP")
                && c[col("RECTYPE")] == "1"
                && c[col("PTRWM_EXP")].ends_with('%')
        })
        .map(|c| c[col("URN")].to_string())
        .take(n)
        .collect()
}

/// Typst reuses layout between the booklets of one run (that is where the speed comes
/// from): a booklet rendered after others is byte for byte the booklet rendered alone, and
/// every label of its charts (read from the HTML's inline SVG) is text in its PDF.
#[test]
fn a_booklet_rendered_with_others_is_the_booklet_rendered_alone() {
    let Some(store) = real_store() else { return };
    let urns = schools("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv", 6);
    assert_eq!(urns.len(), 6);
    let together = scratch("booklets-together");
    let mut run = bin();
    run.args(["booklet", "--year", "2019", "--out"])
        .arg(&together)
        .arg("--store")
        .arg(store);
    for u in &urns {
        run.args(["--school", u]);
    }
    let out = run.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Workers take schools in URN order: the highest is rendered after the others.
    let last = urns.iter().max().unwrap();
    let alone = scratch("booklet-alone");
    succeeded(
        bin()
            .args(["booklet", "--year", "2019", "--school", last, "--out"])
            .arg(&alone)
            .arg("--store")
            .arg(store),
    );
    let find = |dir: &Path, ext: &str| {
        std::fs::read_dir(dir.join("850"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{last}-"))
                    && p.extension().unwrap() == ext
            })
            .unwrap()
    };
    let pdf = find(&together, "pdf");
    assert!(
        std::fs::read(&pdf).unwrap() == std::fs::read(find(&alone, "pdf")).unwrap(),
        "{} differs from the same booklet rendered alone",
        pdf.display()
    );
    if !tool("pdftotext") {
        return;
    }
    let html = std::fs::read_to_string(find(&together, "html")).unwrap();
    let labels: Vec<String> = html
        .split("</text>")
        .filter_map(|part| {
            part.rfind("<text").map(|at| {
                part[at..]
                    .split_once('>')
                    .unwrap()
                    .1
                    .trim()
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
            })
        })
        .collect();
    assert!(labels.len() >= 10, "chart labels in the HTML: {labels:?}");
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = words(
        &String::from_utf8(
            Command::new("pdftotext")
                .arg("-raw")
                .arg(&pdf)
                .arg("-")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap(),
    );
    for l in &labels {
        assert!(
            text.contains(&words(l)),
            "chart label {l:?} is not in the PDF's text"
        );
    }
}
