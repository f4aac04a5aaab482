//! The LA workbook and a target form as a spreadsheet user meets them: opened and printed to
//! PDF by LibreOffice (headless, Debian's libreoffice-calc-nogui), the pages counted and read
//! with poppler, and the workbook's cells read back with calamine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{open_workbook, Data, Reader, Xlsx};

use crate::common::{bin, csv_rows, demo_world, poppler, raw, real_store, scratch, zip_entry};

/// `xlsx` printed to PDF by LibreOffice, beside it. None where LibreOffice is absent (which
/// fails under CI=true: .ci/run installs libreoffice-calc-nogui).
fn print_to_pdf(xlsx: &Path) -> Option<PathBuf> {
    let dir = xlsx.parent().unwrap();
    // A profile of its own, so a LibreOffice already running (or another test) is not reused.
    let profile = dir.join("lo-profile");
    let o = match Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(xlsx)
        .output()
    {
        Ok(o) => o,
        Err(_) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: soffice (libreoffice-calc-nogui) not found; printing not checked");
            return None;
        }
        Err(e) => panic!("soffice: {e} (CI=true: .ci/run installs libreoffice-calc-nogui)"),
    };
    let pdf = xlsx.with_extension("pdf");
    assert!(
        o.status.success() && pdf.exists(),
        "soffice: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(pdf)
}

/// Each page's (width, height) in points, from pdfinfo.
fn page_sizes(pdf: &Path) -> Option<Vec<(f64, f64)>> {
    let info = poppler("pdfinfo", &[], pdf)?;
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sizes = poppler("pdfinfo", &["-f", "1", "-l", &pages.to_string()], pdf)?;
    let out: Vec<(f64, f64)> = sizes
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size: "))
        .map(|l| {
            let dims = l.split(" size: ").nth(1).unwrap();
            let mut n = dims.split_whitespace();
            let w: f64 = n.next().unwrap().parse().unwrap();
            assert_eq!(n.next(), Some("x"));
            let h: f64 = n.next().unwrap().parse().unwrap();
            (w, h)
        })
        .collect();
    assert_eq!(out.len(), pages);
    Some(out)
}

fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

#[test]
fn the_la_workbook_prints_each_sheet_landscape_at_one_page_wide() {
    let world = demo_world();
    let dir = scratch("spreadsheets-workbook");
    let xlsx = dir.join("650.xlsx");
    let o = bin()
        .args(["workbook", "--la", "650", "--out"])
        .arg(&xlsx)
        .args([
            "--rules",
            concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/rules/merton.toml"),
            "--map",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/pipelines/partnerships/borsetshire-650.csv"
            ),
            "--store",
        ])
        .arg(world.join("store"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The cells: headers in words, a dictionary naming every column's id, flags as Yes/No.
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names.last().map(String::as_str), Some("Dictionary"));
    let dictionary: Vec<Vec<String>> = wb
        .worksheet_range("Dictionary")
        .unwrap()
        .rows()
        .map(|r| r.iter().map(text).collect())
        .collect();
    assert_eq!(
        dictionary[0],
        ["Sheet", "Column", "Id", "Meaning", "Source"]
    );
    // sheet -> (header row's index, headings); the first and last heading of each.
    let mut sheets: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
    let mut latest_year = 0;
    for name in names.iter().filter(|n| *n != "Dictionary") {
        let rows: Vec<Vec<String>> = wb
            .worksheet_range(name)
            .unwrap()
            .rows()
            .map(|r| r.iter().map(text).collect())
            .collect();
        let listed: Vec<&Vec<String>> = dictionary.iter().filter(|r| &r[0] == name).collect();
        // The header row is the one holding the dictionary's headings for the sheet, in order.
        let headings: Vec<String> = listed.iter().map(|r| r[1].clone()).collect();
        let at = rows
            .iter()
            .position(|r| r[..headings.len().min(r.len())] == headings[..])
            .unwrap_or_else(|| panic!("{name}: no header row {headings:?}"));
        for r in &listed {
            assert!(!r[3].is_empty(), "{name}: {} has no meaning", r[2]);
            assert_ne!(r[1], r[2], "{name}: {} is not in words", r[2]);
        }
        if name == "Rankings" {
            let id = |i: &str| {
                let h = attain::render::workbook::heading(i);
                headings.iter().position(|x| *x == h).unwrap()
            };
            let (top10, year) = (id("top10"), id("year"));
            let flags: Vec<&str> = rows[at + 1..].iter().map(|r| r[top10].as_str()).collect();
            assert!(!flags.is_empty());
            assert!(
                flags.iter().all(|f| ["Yes", "No", ""].contains(f)),
                "{flags:?}"
            );
            latest_year = rows[at + 1..]
                .iter()
                .filter_map(|r| r[year].parse::<i32>().ok())
                .max()
                .unwrap();
        }
        sheets.insert(name.clone(), (headings, rows.len() - at - 1));
    }

    // The page setup as saved: landscape, one page wide, the header row repeated.
    let bytes = std::fs::read(&xlsx).unwrap();
    let workbook_xml = zip_entry(&bytes, "xl/workbook.xml");
    for i in 1..=names.len() {
        let sheet = zip_entry(&bytes, &format!("xl/worksheets/sheet{i}.xml"));
        assert!(
            sheet.contains(r#"orientation="landscape""#)
                && sheet.contains(r#"fitToHeight="0""#)
                && sheet.contains(r#"<pageSetUpPr fitToPage="1"/>"#),
            "sheet {i}: {}",
            &sheet[..sheet.find("<sheetData").unwrap_or(0)]
        );
    }
    assert_eq!(
        workbook_xml.matches("_xlnm.Print_Titles").count(),
        names.len(),
        "every sheet repeats its header row"
    );

    // Printed by LibreOffice: every page landscape, and every page of a sheet carries its
    // whole header row (its first and last headings): no sheet is split across columns.
    let Some(pdf) = print_to_pdf(&xlsx) else {
        return;
    };
    let sizes = page_sizes(&pdf).unwrap();
    assert!(
        sizes.iter().all(|(w, h)| w > h),
        "a portrait page: {sizes:?}"
    );
    let all = poppler("pdftotext", &[], &pdf).unwrap();
    let pages: Vec<&str> = all
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(pages.len(), sizes.len());
    sheets.insert(
        "Dictionary".into(),
        (dictionary[0].clone(), dictionary.len() - 1),
    );
    // Sheets print in order, each from a new page whose header names it (a line of its own).
    let order: Vec<&String> = names.iter().collect();
    let names_sheet = |page: &str, s: &str| page.lines().any(|l| l.trim() == s);
    let words =
        |page: &str| -> Vec<String> { page.split_whitespace().map(str::to_string).collect() };
    let has_words = |page: &[String], heading: &str| {
        heading
            .split_whitespace()
            .all(|w| page.iter().any(|p| p == w))
    };
    let mut per_sheet: BTreeMap<&str, usize> = BTreeMap::new();
    let mut at = 0;
    let date = format!("dated 31 August {latest_year}");
    for (n, page) in pages.iter().enumerate() {
        if at + 1 < order.len() && names_sheet(page, order[at + 1]) {
            at += 1;
        }
        let sheet = order[at].as_str();
        assert!(
            names_sheet(page, sheet),
            "page {}: not {sheet}: {page}",
            n + 1
        );
        *per_sheet.entry(sheet).or_default() += 1;
        // The title (naming the LA) at the top, the date from the data at the foot.
        assert!(
            page.contains("Borsetshire: LA workbook"),
            "page {}: no title",
            n + 1
        );
        let flat = page.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&date), "page {}: no {date}", n + 1);
        let (headings, _) = &sheets[sheet];
        let (first, last) = (&headings[0], headings.last().unwrap());
        let w = words(page);
        assert!(
            has_words(&w, first) && has_words(&w, last),
            "page {} of {sheet} lacks {first:?} or {last:?}: {page}",
            n + 1
        );
    }
    // Every sheet is printed; the short ones on one page each.
    assert_eq!(per_sheet.len(), names.len(), "{per_sheet:?}");
    for (name, (_, rows)) in &sheets {
        if *rows <= 10 {
            assert_eq!(per_sheet[name.as_str()], 1, "{name} ({rows} rows)");
        }
    }
    eprintln!("LA workbook: {} pages {per_sheet:?}", pages.len());
}

/// Hampshire's (850) LA workbook from the real files, printed: every page one page wide (its
/// sheet's first and last headings on it), a long table dense enough to read through (3,500
/// school gap rows), and the whole within the pages measured when it was set up (57).
#[test]
fn the_real_la_workbook_prints_one_page_wide_with_its_categories_filled() {
    let Some(store) = real_store() else {
        return;
    };
    let dir = scratch("spreadsheets-real-workbook");
    let xlsx = dir.join("850.xlsx");
    let o = bin()
        .args(["workbook", "--la", "850", "--out"])
        .arg(&xlsx)
        .args([
            "--rules",
            concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/rules/merton.toml"),
            "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Each sheet's headings (from the Dictionary) and rows below its header row.
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let names = wb.sheet_names();
    let dictionary: Vec<Vec<String>> = wb
        .worksheet_range("Dictionary")
        .unwrap()
        .rows()
        .map(|r| r.iter().map(text).collect())
        .collect();
    let mut sheets: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
    for name in &names {
        let rows: Vec<Vec<String>> = wb
            .worksheet_range(name)
            .unwrap()
            .rows()
            .map(|r| r.iter().map(text).collect())
            .collect();
        let headings: Vec<String> = if name == "Dictionary" {
            dictionary[0].clone()
        } else {
            dictionary
                .iter()
                .filter(|r| &r[0] == name)
                .map(|r| r[1].clone())
                .collect()
        };
        let at = rows
            .iter()
            .position(|r| r[..headings.len().min(r.len())] == headings[..])
            .unwrap_or_else(|| panic!("{name}: no header row {headings:?}"));
        sheets.insert(name.clone(), (headings, rows.len() - at - 1));
    }
    let school_gaps = sheets["School gaps"].1;
    assert!(school_gaps > 3000, "{school_gaps} school gap rows");
    // Hampshire's own latest year is categorised (not the store's latest, which is another
    // LA's): a row for each of its schools with KS2 or KS4 results in 2018/19.
    let ks2 = csv_rows(&raw(
        "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv",
    ));
    let primaries = ks2.iter().filter(|r| r["RECTYPE"] == "1").count();
    let categorised = sheets["Categories"].1;
    assert!(
        categorised >= primaries && primaries > 300,
        "{categorised} categorised, {primaries} KS2 schools in the raw file"
    );

    let Some(pdf) = print_to_pdf(&xlsx) else {
        return;
    };
    let sizes = page_sizes(&pdf).unwrap();
    assert!(sizes.iter().all(|(w, h)| w > h), "a portrait page");
    let all = poppler("pdftotext", &[], &pdf).unwrap();
    let pages: Vec<&str> = all
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(pages.len(), sizes.len());
    // Pages in sheet order, each headed by its sheet's name; every one carries the sheet's
    // first and last headings, so no sheet is split across columns.
    let mut per_sheet: BTreeMap<&str, usize> = BTreeMap::new();
    let mut at = 0;
    for (n, page) in pages.iter().enumerate() {
        let names_sheet = |s: &str| page.lines().any(|l| l.trim() == s);
        if at + 1 < names.len() && names_sheet(&names[at + 1]) {
            at += 1;
        }
        let sheet = names[at].as_str();
        assert!(names_sheet(sheet), "page {}: not {sheet}", n + 1);
        *per_sheet.entry(sheet).or_default() += 1;
        let words: Vec<&str> = page.split_whitespace().collect();
        let (headings, _) = &sheets[sheet];
        for h in [&headings[0], headings.last().unwrap()] {
            assert!(
                h.split_whitespace().all(|w| words.contains(&w)),
                "page {} of {sheet} lacks {h:?}: one page wide?",
                n + 1
            );
        }
    }
    eprintln!("Hampshire LA workbook: {} pages {per_sheet:?}", pages.len());
    assert_eq!(per_sheet.len(), names.len(), "{per_sheet:?}");
    // A long table prints at least 60 rows to a page (rows of one line; 72 when measured).
    let gap_pages = per_sheet["School gaps"];
    assert!(
        gap_pages <= school_gaps.div_ceil(60),
        "{gap_pages} pages for {school_gaps} rows"
    );
    // Categories: its evidence column wraps to several lines a row (9 to 10 rows a page
    // when measured, 44 pages); the whole: 100 pages when measured (72 before school names
    // stopped wrapping, when Categories was empty).
    assert!(
        per_sheet["Categories"] <= categorised.div_ceil(8),
        "{per_sheet:?} for {categorised} categorised schools"
    );
    assert!(
        (90..=110).contains(&pages.len()),
        "{} pages {per_sheet:?}",
        pages.len()
    );
}

#[test]
fn a_target_form_prints_on_one_landscape_page() {
    let world = demo_world();
    let dir = scratch("spreadsheets-form");
    let o = bin()
        .args(["targets", "forms", "--la", "650", "--out"])
        .arg(dir.join("forms"))
        .arg("--store")
        .arg(world.join("store"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The form with the most measures: the hardest to fit.
    let forms: Vec<PathBuf> = std::fs::read_dir(dir.join("forms/650"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let ids = |p: &Path| -> Vec<String> {
        let mut wb: Xlsx<_> = open_workbook(p).unwrap();
        let rows: Vec<Vec<String>> = wb
            .worksheet_range("Targets")
            .unwrap()
            .rows()
            .map(|r| r.iter().map(text).collect())
            .collect();
        let header = rows.iter().position(|r| r[0] == "Measure id").unwrap();
        rows[header + 1..]
            .iter()
            .map(|r| r[0].clone())
            .filter(|m| !m.is_empty())
            .collect()
    };
    let form = forms.iter().max_by_key(|p| ids(p).len()).unwrap();
    let measures = ids(form);
    assert!(measures.len() >= 5, "{measures:?}");
    let copy = dir.join("form.xlsx");
    std::fs::copy(form, &copy).unwrap();
    let Some(pdf) = print_to_pdf(&copy) else {
        return;
    };
    let sizes = page_sizes(&pdf).unwrap();
    assert_eq!(sizes.len(), 1, "{sizes:?}");
    assert!(sizes[0].0 > sizes[0].1, "landscape: {sizes:?}");
    // Everything on that page: each measure's row and the column schools fill in.
    let page = poppler("pdftotext", &[], &pdf).unwrap();
    for m in &measures {
        assert!(page.contains(m.as_str()), "{m} not printed: {page}");
    }
    assert!(page.contains("Agreed") && page.contains("target"));
}
