//! Target forms and returns for real Hampshire primary schools: forms built on the 2017/18
//! KS2 results (targets for 2018/19), filled in, imported (with returns that have errors),
//! compared with the 2018/19 results read from the raw file, and shown in the 2018/19 booklet.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};

use crate::common::{bin, raw, real_store, scratch};

const KS2_2018: &str = "clarelgibson-hants-surrey/data-in/ks2/2017-850-ks2.csv";
const KS2_2019: &str = "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv";
/// The KS2 headline measures and the performance-tables columns they come from.
const MEASURES: [(&str, &str); 5] = [
    ("ks2_rwm_expected", "PTRWM_EXP"),
    ("ks2_rwm_higher", "PTRWM_HIGH"),
    ("ks2_read_progress", "READPROG"),
    ("ks2_writ_progress", "WRITPROG"),
    ("ks2_mat_progress", "MATPROG"),
];

/// School rows of a KS2 file by URN: column -> value as published.
fn ks2_rows(file: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(raw(file))
        .unwrap();
    let h: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|x| x.trim_start_matches('\u{feff}').to_string())
        .collect();
    // Short (ragged) rows leave their last columns empty.
    r.records()
        .map(|x| x.unwrap())
        .map(|rec| {
            h.iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), rec.get(i).unwrap_or("").to_string()))
                .collect::<HashMap<_, _>>()
        })
        .filter(|row| row["RECTYPE"] == "1" || row["RECTYPE"] == "2")
        .collect()
}

/// A published figure as a number (`68%` -> 68), or None for SUPP, NE ...
fn figure(v: &str) -> Option<f64> {
    v.trim_end_matches('%').parse().ok()
}

fn dps(measure: &str) -> i32 {
    if measure.contains("progress") {
        1
    } else {
        0
    }
}

/// Half away from zero, as DfE rounds.
fn round(v: f64, dps: i32) -> f64 {
    let f = 10f64.powi(dps);
    (v * f).round() / f
}

/// Every cell of the Targets sheet, by absolute position.
fn grid(path: &Path) -> Vec<Vec<Data>> {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range("Targets").unwrap();
    let (rows, cols) = range.end().unwrap();
    (0..=rows)
        .map(|r| {
            (0..=cols)
                .map(|c| range.get_value((r, c)).cloned().unwrap_or(Data::Empty))
                .collect()
        })
        .collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

/// An edit to a copy of a form.
#[derive(Clone)]
enum Put {
    Num(f64),
    Text(String),
    Blank,
}

/// Write a return: the form's cells (as the school would keep them) with `edits` applied.
fn fill(form: &[Vec<Data>], path: &Path, edits: &[((u32, u16), Put)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Targets").unwrap();
    for (r, row) in form.iter().enumerate() {
        for (c, d) in row.iter().enumerate() {
            match d {
                Data::String(s) => {
                    ws.write_string(r as u32, c as u16, s).unwrap();
                }
                Data::Float(f) => {
                    ws.write_number(r as u32, c as u16, *f).unwrap();
                }
                _ => {}
            }
        }
    }
    for ((r, c), p) in edits {
        match p {
            Put::Num(n) => ws.write_number(*r, *c, *n).map(|_| ()).unwrap(),
            Put::Text(t) => ws.write_string(*r, *c, t).map(|_| ()).unwrap(),
            Put::Blank => ws.write_string(*r, *c, "").map(|_| ()).unwrap(),
        }
    }
    wb.save(path).unwrap();
}

/// A copy of the shared real store (imports write to it).
fn copy_store(to: &Path) -> PathBuf {
    let from = real_store().unwrap();
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    to.to_path_buf()
}

fn form_path(out: &Path, urn: &str) -> PathBuf {
    let dir = out.join("850");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{urn}-"))
        })
        .unwrap_or_else(|| panic!("no form for {urn} in {}", dir.display()))
}

/// The sheet XML of a form (for protection and data validation, which calamine does not read).
fn sheet_xml(path: &Path) -> String {
    crate::common::zip_entry(&std::fs::read(path).unwrap(), "xl/worksheets/sheet1.xml")
}

#[test]
fn hampshire_forms_returns_and_results() {
    if real_store().is_none() {
        return;
    }
    let dir = scratch("targets");
    let store = copy_store(&dir.join("store"));
    let (y18, y19) = (ks2_rows(KS2_2018), ks2_rows(KS2_2019));
    let by_urn19: HashMap<&str, &HashMap<String, String>> =
        y19.iter().map(|r| (r["URN"].as_str(), r)).collect();
    let all_published =
        |r: &HashMap<String, String>| MEASURES.iter().all(|(_, c)| figure(&r[*c]).is_some());
    // Two schools with every headline figure in both years, and one whose 2018/19 figures were withheld.
    let full: Vec<&HashMap<String, String>> = y18
        .iter()
        .filter(|r| {
            all_published(r)
                && r["TELIG"].parse::<u32>().unwrap_or(0) > 20
                && by_urn19
                    .get(r["URN"].as_str())
                    .is_some_and(|n| all_published(n))
        })
        .take(2)
        .collect();
    let withheld = y18
        .iter()
        .find(|r| {
            all_published(r)
                && by_urn19
                    .get(r["URN"].as_str())
                    .is_some_and(|n| n["PTRWM_EXP"] == "SUPP")
        })
        .expect("a school with figures in 2017/18 and SUPP in 2018/19");
    let schools: Vec<&HashMap<String, String>> = vec![full[0], full[1], withheld];
    let urns: Vec<String> = schools.iter().map(|r| r["URN"].clone()).collect();

    // Forms for the 2017/18 results: targets for 2018/19.
    let forms = dir.join("forms");
    let mut cmd = bin();
    cmd.args(["targets", "forms", "--year", "2018", "--out"])
        .arg(&forms)
        .arg("--store")
        .arg(&store);
    for u in &urns {
        cmd.args(["--school", u]);
    }
    let run = cmd.output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut grids = Vec::new();
    for (s, urn) in schools.iter().zip(&urns) {
        let path = form_path(&forms, urn);
        assert!(
            path.to_string_lossy().ends_with("-targets.xlsx"),
            "{}",
            path.display()
        );
        let g = grid(&path);
        assert_eq!(text(&g[1][0]), "URN");
        assert_eq!(text(&g[1][1]), *urn);
        assert_eq!(text(&g[3][1]), "850");
        assert_eq!(text(&g[5][1]), "2018/19", "the year the targets are for");
        assert_eq!(text(&g[6][1]), "2017/18", "the results they build on");
        assert_eq!(text(&g[9][0]), "Measure id");
        assert_eq!(text(&g[9][4]), "Result 2017/18");
        assert_eq!(text(&g[9][13]), "Agreed target");
        for (i, (m, col)) in MEASURES.iter().enumerate() {
            let row = &g[10 + i];
            assert_eq!(text(&row[0]), *m);
            match &row[4] {
                Data::Float(v) => assert_eq!(
                    *v,
                    figure(&s[*col]).unwrap(),
                    "{urn} {m}: last result against {col} in the raw file"
                ),
                other => panic!("{urn} {m}: last result {other:?}"),
            }
            assert_eq!(
                row[13],
                Data::Empty,
                "the agreed target is for the school to fill in"
            );
        }
        assert_eq!(g.len(), 15, "one row per headline measure, nothing after");
        // Only the agreed cells are unlocked; each accepts a number in the measure's range.
        let xml = sheet_xml(&path);
        assert!(
            xml.contains("<sheetProtection") && !xml.contains("password="),
            "protected without a password"
        );
        assert_eq!(xml.matches("<dataValidation ").count(), 5);
        for (i, (lo, hi)) in [(0, 100), (0, 100), (-20, 20), (-20, 20), (-20, 20)]
            .iter()
            .enumerate()
        {
            let at = xml.find(&format!("sqref=\"N{}\"", 11 + i)).unwrap();
            let dv = &xml[at..at + xml[at..].find("</dataValidation>").unwrap()];
            assert!(
                dv.contains(&format!(
                    "<formula1>{lo}</formula1><formula2>{hi}</formula2>"
                )),
                "{dv}"
            );
        }
        grids.push(g);
    }

    // The form's figures are the booklet's: the 2017/18 booklet prints the same estimate.
    let b18 = dir.join("booklets-2018");
    let run = bin()
        .args([
            "booklet",
            "--html-only",
            "--year",
            "2018",
            "--school",
            &urns[0],
            "--out",
        ])
        .arg(&b18)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(
        std::fs::read_dir(b18.join("850"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    let targets = &html[html.find("<section id=\"targets\">").unwrap()..];
    let row = &targets[targets
        .find(&format!(
            "<td>{}</td>",
            crate::common::measure_label("ks2_rwm_expected")
        ))
        .unwrap()..];
    let estimate = match &grids[0][10][6] {
        Data::Float(e) => format!("{e}% (estimate)"),
        _ => "no estimate".into(),
    };
    assert!(
        row[..row.find("</tr>").unwrap()].contains(&format!(
            "<td>{}%</td><td>{estimate}</td>",
            figure(&schools[0]["PTRWM_EXP"]).unwrap()
        )),
        "{}",
        &row[..row.find("</tr>").unwrap()]
    );

    // Returns: each school's agreed target is its 2017/18 figure plus 2 points (percentages) or 0.5 (progress).
    let agreed = |s: &HashMap<String, String>, m: &str, col: &str| {
        round(
            figure(&s[col]).unwrap() + if dps(m) == 0 { 2.0 } else { 0.5 },
            dps(m),
        )
    };
    let returns = dir.join("returns");
    std::fs::create_dir_all(&returns).unwrap();
    let mut files = Vec::new();
    for (k, s) in schools.iter().enumerate() {
        let p = returns.join(format!("ok-{}.xlsx", urns[k]));
        let edits: Vec<((u32, u16), Put)> = MEASURES
            .iter()
            .enumerate()
            .map(|(i, (m, c))| ((10 + i as u32, 13), Put::Num(agreed(s, m, c))))
            .collect();
        fill(&grids[k], &p, &edits);
        files.push(p);
    }
    // A return with a URN not in the store, a form from another year, an out-of-range, a
    // non-numeric and a missing target.
    let bad_values = returns.join("bad-values.xlsx");
    fill(
        &grids[1],
        &bad_values,
        &[
            ((1, 1), Put::Text("999999".into())),
            ((5, 1), Put::Text("2017/18".into())),
            ((10, 13), Put::Num(140.0)),
            ((11, 13), Put::Text("sixty".into())),
            ((12, 13), Put::Blank),
            ((13, 13), Put::Num(1.5)),
            ((14, 13), Put::Num(0.5)),
        ],
    );
    // The URN of one school on another school's form.
    let bad_school = returns.join("bad-school.xlsx");
    let full_edits: Vec<((u32, u16), Put)> = MEASURES
        .iter()
        .enumerate()
        .map(|(i, (m, c))| ((10 + i as u32, 13), Put::Num(agreed(schools[0], m, c))))
        .collect();
    fill(
        &grids[0],
        &bad_school,
        &[
            full_edits.clone(),
            vec![((1, 1), Put::Text(urns[1].clone()))],
        ]
        .concat(),
    );
    // A measure that is not in the form, in place of one that is.
    let bad_measure = returns.join("bad-measure.xlsx");
    fill(
        &grids[0],
        &bad_measure,
        &[
            full_edits.clone(),
            vec![
                ((14, 0), Put::Text("ks4_attainment8".into())),
                ((14, 13), Put::Num(50.0)),
            ],
        ]
        .concat(),
    );
    files.extend([bad_values.clone(), bad_school.clone(), bad_measure.clone()]);

    let run = bin()
        .args(["targets", "import", "--year", "2019", "--store"])
        .arg(&store)
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(3),
        "a return had errors: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let name = |g: &Vec<Vec<Data>>| text(&g[2][1]);
    let d = |p: &Path| attain::ingest::display_path(p);
    let mut want = String::new();
    for (k, f) in files[..3].iter().enumerate() {
        want += &format!(
            "{}: stored 5 agreed target(s) for 2018/19 for URN {} {}\n",
            d(f),
            urns[k],
            name(&grids[k])
        );
    }
    let bv = d(&bad_values);
    want += &format!("{bv}, sheet Targets, cell B2: URN 999999 is not a school in the store\n");
    want += &format!("{bv}, sheet Targets, cell B6: the form is for 2017/18 targets; this import is for 2018/19 \
        (--year 2019)\n");
    want += &format!("{bv}, sheet Targets, cell N11: agreed target 140 for ks2_rwm_expected is outside 0 to 100, the \
        range of the measure\n");
    want += &format!("{bv}, sheet Targets, cell N12: agreed target \"sixty\" for ks2_rwm_higher is not a number\n");
    want += &format!("{bv}, sheet Targets, cell N13: no agreed target for ks2_read_progress\n");
    want += &format!(
        "{}, sheet Targets, cell B2: URN {} is {} in the store, not {} (cell B3)\n",
        d(&bad_school),
        urns[1],
        name(&grids[1]),
        name(&grids[0])
    );
    want += &format!(
        "{}, sheet Targets, cell A15: measure ks4_attainment8 is not in the form\n",
        d(&bad_measure)
    );
    want += &format!("{}, sheet Targets: no row for measure ks2_mat_progress, which the form has: no agreed target \
        for it\n", d(&bad_measure));
    assert_eq!(String::from_utf8_lossy(&run.stdout), want);
    let json = bin()
        .args([
            "targets", "import", "--year", "2019", "--format", "json", "--store",
        ])
        .arg(&store)
        .arg(&bad_values)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
    assert_eq!(
        v[2],
        serde_json::json!({
            "file": bv,
            "sheet": "Targets",
            "cell": "N11",
            "urn": "999999",
            "measure": "ks2_rwm_expected",
            "outcome": "error",
            "target": null,
            "message": "agreed target 140 for ks2_rwm_expected is outside 0 to 100, \
                the range of the measure"
        })
    );
    assert!(
        String::from_utf8_lossy(&run.stderr).contains(
            "6 return(s) for 2018/19: 3 stored (15 targets), 3 with \
        errors (8 problem(s)); the store holds 15 target(s)"
        ),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // Each stored target against the 2018/19 result in the raw file.
    let compare = || {
        let run = bin()
            .args([
                "targets", "compare", "--la", "850", "--year", "2019", "--format", "json",
                "--store",
            ])
            .arg(&store)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&run.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let check = |rows: &[serde_json::Value], first_rwm_target: f64| {
        assert_eq!(rows.len(), 15, "three schools' returns, five measures each");
        for (k, s) in schools.iter().enumerate() {
            let now = by_urn19[urns[k].as_str()];
            for (m, col) in MEASURES {
                let r = rows
                    .iter()
                    .find(|r| r["urn"] == urns[k].as_str() && r["measure"] == m)
                    .unwrap_or_else(|| panic!("{} {m}", urns[k]));
                let target = if k == 0 && m == "ks2_rwm_expected" {
                    first_rwm_target
                } else {
                    agreed(s, m, col)
                };
                assert!((r["target"].as_f64().unwrap() - target).abs() < 1e-9, "{r}");
                match figure(&now[col]) {
                    Some(actual) => {
                        let diff = round(actual - target, dps(m));
                        assert_eq!(r["actual"].as_f64().unwrap(), actual, "{r}");
                        assert!(
                            (r["difference"].as_f64().unwrap() - diff).abs() < 1e-9,
                            "{r}"
                        );
                        assert_eq!(
                            r["outcome"],
                            if diff >= 0.0 { "met" } else { "not met" },
                            "{r}"
                        );
                    }
                    None => {
                        assert!(r["actual"].is_null() && r["difference"].is_null(), "{r}");
                        assert_eq!(r["outcome"], format!("no result ({})", now[col]), "{r}");
                    }
                }
                assert!(
                    r["source"]
                        .as_str()
                        .unwrap()
                        .contains("sheet Targets, cell N1"),
                    "{r}"
                );
            }
        }
    };
    check(
        &compare(),
        agreed(schools[0], "ks2_rwm_expected", "PTRWM_EXP"),
    );

    // A second return for the first school replaces its targets, nothing else.
    let again = returns.join("again.xlsx");
    let mut edits = full_edits.clone();
    edits[0].1 = Put::Num(50.0);
    fill(&grids[0], &again, &edits);
    let run = bin()
        .args(["targets", "import", "--year", "2019", "--store"])
        .arg(&store)
        .arg(&again)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check(&compare(), 50.0);

    // Ingest rewrites the store's tables and keeps the imported targets.
    let run = bin()
        .arg("ingest")
        .arg(raw(KS2_2019))
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check(&compare(), 50.0);

    // Forms on the 2018/19 results (which have census context, so estimates) carry the
    // figures the 2018/19 booklet prints in its Targets section.
    let forms19 = dir.join("forms-2019");
    let run = bin()
        .args([
            "targets", "forms", "--year", "2019", "--school", &urns[0], "--out",
        ])
        .arg(&forms19)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let g19 = grid(&form_path(&forms19, &urns[0]));
    assert_eq!(text(&g19[5][1]), "2019/20");

    // The 2018/19 booklet shows last year's targets against the results.
    let b19 = dir.join("booklets-2019");
    let run = bin()
        .args([
            "booklet",
            "--html-only",
            "--year",
            "2019",
            "--school",
            &urns[0],
            "--school",
            &urns[2],
            "--out",
        ])
        .arg(&b19)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html_of = |urn: &str| std::fs::read_to_string(form_path(&b19, urn)).unwrap();
    let section = |html: &str| {
        let at = html
            .find("<section id=\"last-targets\">")
            .expect("a Last year's targets section");
        assert!(
            at < html.find("<section id=\"targets\">").unwrap(),
            "just before the targets for next year"
        );
        html[at..at + html[at..].find("</section>").unwrap()].to_string()
    };
    let first = section(&html_of(&urns[0]));
    let actual = figure(&by_urn19[urns[0].as_str()]["PTRWM_EXP"]).unwrap();
    let diff = actual - 50.0;
    let rwm = crate::common::measure_label("ks2_rwm_expected");
    assert!(
        first.contains(&format!(
            "<tr><td>{rwm}</td><td>50%</td><td>{actual}%</td><td>{diff:+}</td><td>{}</td></tr>",
            if diff >= 0.0 { "met" } else { "not met" }
        )),
        "{first}"
    );
    let hyde = section(&html_of(&urns[2]));
    let t = agreed(schools[2], "ks2_rwm_expected", "PTRWM_EXP");
    assert!(
        hyde.contains(&format!(
            "<tr><td>{rwm}</td><td>{t}%</td><td>–</td><td></td><td>no result (SUPP)</td></tr>"
        )),
        "{hyde}"
    );
    let booklet_targets = {
        let h = html_of(&urns[0]);
        let at = h.find("<section id=\"targets\">").unwrap();
        h[at..at + h[at..].find("</section>").unwrap()].to_string()
    };
    let printed = |m: &str, d: &Data| match d {
        Data::Float(v) if dps(m) == 0 => format!("{v}%"),
        Data::Float(v) if *v > 0.0 => format!("+{v:.1}"),
        Data::Float(v) => format!("{v:.1}"),
        other => panic!("{m}: {other:?}"),
    };
    for (i, (m, _)) in MEASURES.iter().enumerate() {
        let r = &g19[10 + i];
        assert_eq!(text(&r[0]), *m);
        let want = format!(
            "<td>{} (estimate)</td><td>{} to {}</td><td>{}</td><td>{}</td><td>{}",
            printed(m, &r[6]),
            printed(m, &r[7]),
            printed(m, &r[8]),
            printed(m, &r[9]),
            printed(m, &r[10]),
            printed(m, &r[11])
        );
        assert!(
            booklet_targets.contains(&want),
            "{m}: {want} not in {booklet_targets}"
        );
    }
    // The 2017/18 booklet, rendered again now that targets for 2018/19 are stored, has no
    // "Last year's targets": none were agreed for 2017/18.
    let again = dir.join("booklets-2018-after-import");
    let run = bin()
        .args([
            "booklet",
            "--html-only",
            "--year",
            "2018",
            "--school",
            &urns[0],
            "--out",
        ])
        .arg(&again)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(
        std::fs::read_dir(again.join("850"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(html.contains("<section id=\"targets\">"));
    assert!(!html.contains("id=\"last-targets\""));
}

#[test]
fn the_annual_booklet_pipeline_writes_target_forms_for_the_demo_la() {
    let dir = scratch("target-forms-pipeline");
    let toml = format!(
        "name = \"forms\"\noutput = \"{out}\"\n[la]\ncode = \"650\"\n[[stage]]\nname = \"demo-data\"\nrun = \
            \"demo\"\noutputs = [\"{data}\"]\noptions = {{ schools = 1500, las = 20 }}\n[[stage]]\nname = \
            \"ingest\"\nrun = \"ingest\"\ninputs = [\"{data}\"]\noutputs = [\"{store}\"]\n[[stage]]\nname = \
            \"target-forms\"\nrun = \"target-forms\"\ninputs = [\"{store}\"]\noutputs = [\"{forms}\"]\n",
        out = dir.join("out").display(),
        data = dir.join("data").display(),
        store = dir.join("store").display(),
        forms = dir.join("forms").display(),
    );
    let p = dir.join("forms.toml");
    std::fs::write(&p, toml).unwrap();
    let run = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/manifest.json")).unwrap()).unwrap();
    let stage = &manifest["stages"][2];
    assert_eq!(stage["outcome"], "ran");
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("forms/650"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty());
    assert_eq!(
        stage["detail"],
        format!("{} target forms for 2019/20", files.len())
    );
    // Every form is the demo LA's, for the year after the demo's latest results (2018/19).
    for f in &files {
        let g = grid(f);
        assert_eq!(text(&g[3][1]), "650", "{}", f.display());
        assert_eq!(text(&g[5][1]), "2019/20");
        assert!(f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("{}-", text(&g[1][1]))));
    }
    // Forms sent back unfilled are rejected, each agreed cell reported empty.
    let run = bin()
        .args(["targets", "import", "--store"])
        .arg(dir.join("store"))
        .arg(&files[0])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    let out = String::from_utf8_lossy(&run.stdout).to_string();
    let rows = grid(&files[0]).len() - 10;
    assert_eq!(
        out.lines()
            .filter(|l| l.contains(": no agreed target for "))
            .count(),
        rows,
        "{out}"
    );
}
