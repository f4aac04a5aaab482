//! Pupil-level data: validation, aggregation, disclosure control, ad-hoc gap questions,
//! booklets with pupil-only groups, and the disclosure audit over a demo run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{bin, demo_world, scratch};

const HEADER: &str = "pupil_id,urn,year,key_stage,gender,disadvantaged,fsm,lac,sen,eal,ethnicity,ks1_aps,ks2_reading,\
    ks2_writing,ks2_maths,ks2_gps";

/// A KS2 pupil who reaches the expected standard in RWM (or not).
fn pupil(out: &mut String, id: &str, urn: u32, dis: bool, lac: bool, reaches: bool) {
    let yn = |b: bool| if b { "Y" } else { "N" };
    let (r, w, m) = if reaches {
        ("105", "EXS", "104")
    } else {
        ("95", "WTS", "98")
    };
    let _ = writeln!(
        out,
        "{id},{urn},2019,KS2,F,{},{},{},N,N,WHIT,15,{r},{w},{m},101",
        yn(dis || lac),
        yn(dis && !lac),
        yn(lac)
    );
}

/// Five schools built to exercise every disclosure rule:
/// * 100001: 3 disadvantaged (1 reaches; one of them looked after, who does not) and 17 others (12 reach);
/// * 100002: 4 disadvantaged (1 reaches), 16 others (12 reach);
/// * 100003: 10 disadvantaged (4 reach), 20 others (15 reach);
/// * 100004: 12 disadvantaged (6 reach; 7 looked after, of whom 3 reach), 13 others (10 reach);
/// * 100005: 18 disadvantaged (9 reach) and only 2 others (both reach).
fn edge_cases(dir: &Path) -> PathBuf {
    let mut s = String::from(HEADER);
    s.push('\n');
    let mut n = 0;
    let mut add = |s: &mut String, urn: u32, dis: bool, lac: bool, reach: usize, total: usize| {
        for k in 0..total {
            n += 1;
            pupil(s, &format!("T{n:05}"), urn, dis, lac, k < reach);
        }
    };
    add(&mut s, 100001, true, true, 0, 1);
    add(&mut s, 100001, true, false, 1, 2);
    add(&mut s, 100001, false, false, 12, 17);
    add(&mut s, 100002, true, false, 1, 4);
    add(&mut s, 100002, false, false, 12, 16);
    add(&mut s, 100003, true, false, 4, 10);
    add(&mut s, 100003, false, false, 15, 20);
    add(&mut s, 100004, true, true, 3, 7);
    add(&mut s, 100004, true, false, 3, 5);
    add(&mut s, 100004, false, false, 10, 13);
    add(&mut s, 100005, true, false, 9, 18);
    add(&mut s, 100005, false, false, 2, 2);
    let p = dir.join("pupils.csv");
    std::fs::write(&p, s).unwrap();
    p
}

fn gaps(args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .arg("gaps")
        .args(args)
        .arg("--store")
        .arg("/nonexistent-store")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn by_code(rows: &Value) -> std::collections::BTreeMap<String, Value> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn small_groups_their_complements_and_recoverable_figures_are_withheld() {
    let dir = scratch("pupil-edges");
    let file = edge_cases(&dir);
    let f = file.to_str().unwrap();
    let (code, out, err) = gaps(&[
        "--pupils",
        f,
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--level",
        "school",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = by_code(&serde_json::from_str(&out).unwrap());
    let status = |u: &str| rows[u]["status"].as_str().unwrap().to_string();
    // 3 and 4 disadvantaged pupils: withheld (and, as a pair, each other's cover across schools).
    assert_eq!(status("100001"), "suppressed_small");
    assert_eq!(status("100002"), "suppressed_small");
    // 18 disadvantaged but only 2 other pupils: the group would give the 2 away.
    assert_eq!(status("100005"), "suppressed_complement");
    for u in ["100001", "100002", "100005"] {
        for field in [
            "cohort",
            "value",
            "comparison_cohort",
            "comparison_value",
            "gap",
        ] {
            assert!(
                rows[u][field].is_null(),
                "{u} {field} must be withheld: {}",
                rows[u]
            );
        }
    }
    // The rest are shown, exactly: 4 of 10 against 15 of 20; 6 of 12 against 10 of 13.
    assert_eq!(status("100003"), "ok");
    assert_eq!(
        (
            rows["100003"]["cohort"].as_u64(),
            rows["100003"]["value"].as_f64(),
            rows["100003"]["comparison_value"].as_f64(),
            rows["100003"]["gap"].as_f64()
        ),
        (Some(10), Some(40.0), Some(75.0), Some(-35.0))
    );
    assert_eq!(
        (
            rows["100004"]["cohort"].as_u64(),
            rows["100004"]["value"].as_f64(),
            rows["100004"]["comparison_value"].as_f64(),
            rows["100004"]["gap"].as_f64()
        ),
        (Some(12), Some(50.0), Some(76.9), Some(-26.9))
    );
    assert_eq!(rows["100003"]["comparison_cohort"].as_u64(), Some(20));
    // Widest gap first; CSV prints DfE's c for every withheld figure.
    let (_, csv, _) = gaps(&[
        "--pupils",
        f,
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--level",
        "school",
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "code,name,group,cohort,value,comparison_cohort,comparison_value,gap,significance,trend,\
        status"
    );
    assert!(
        lines[1].starts_with("100003,,disadvantaged,10,40.0,20,75.0,-35.0,"),
        "{}",
        lines[1]
    );
    assert!(
        lines.contains(&"100001,,disadvantaged,c,c,c,c,c,not assessed,,suppressed_small"),
        "{csv}"
    );
}

#[test]
fn one_looked_after_pupil_is_never_shown_nor_recoverable_from_the_la_figure() {
    let dir = scratch("pupil-lac");
    let file = edge_cases(&dir);
    let f = file.to_str().unwrap();
    let (code, out, err) = gaps(&[
        "--pupils",
        f,
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "lac",
        "--level",
        "school",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = by_code(&serde_json::from_str(&out).unwrap());
    // Only schools with looked-after pupils have a row.
    assert_eq!(
        rows.keys().cloned().collect::<Vec<_>>(),
        vec!["100001", "100004"]
    );
    assert_eq!(rows["100001"]["status"], "suppressed_small");
    // 100004's 7 are enough on their own, but with the LA figure shown they would give
    // away 100001's one pupil: withheld too.
    assert_eq!(rows["100004"]["status"], "suppressed_secondary");
    assert!(rows["100004"]["value"].is_null());
    // The LA figure: 3 of 8 looked-after pupils against 69 of the other 107.
    let (_, out, _) = gaps(&[
        "--pupils",
        f,
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "lac",
        "--level",
        "la",
        "--format",
        "json",
    ]);
    let la: Value = serde_json::from_str(&out).unwrap();
    let r = &la[0];
    assert_eq!(
        (
            r["code"].as_str(),
            r["status"].as_str(),
            r["cohort"].as_u64(),
            r["value"].as_f64()
        ),
        (Some("all"), Some("ok"), Some(8), Some(37.5))
    );
    assert_eq!(
        (
            r["comparison_cohort"].as_u64(),
            r["comparison_value"].as_f64(),
            r["gap"].as_f64()
        ),
        (Some(107), Some(64.5), Some(-27.0))
    );
    // A higher threshold withholds the 8 too.
    let (_, out, _) = gaps(&[
        "--pupils",
        f,
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "lac",
        "--level",
        "la",
        "--threshold",
        "10",
        "--format",
        "json",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()[0]["status"],
        "suppressed_small"
    );
}

#[test]
fn combined_groups_use_every_dimension() {
    let dir = scratch("pupil-combined");
    let file = edge_cases(&dir);
    // Everyone is a girl in the edge cases: disadvantaged girls are the disadvantaged pupils,
    // compared with all other pupils of the school.
    let (code, out, err) = gaps(&[
        "--pupils",
        file.to_str().unwrap(),
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged+girls",
        "--level",
        "school",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = by_code(&serde_json::from_str(&out).unwrap());
    assert_eq!(
        (
            rows["100003"]["value"].as_f64(),
            rows["100003"]["comparison_value"].as_f64()
        ),
        (Some(40.0), Some(75.0))
    );
    assert_eq!(rows["100001"]["status"], "suppressed_small");
    let (code, _, err) = gaps(&[
        "--pupils",
        file.to_str().unwrap(),
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "boys+girls",
        "--level",
        "school",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("combines two groups of the same kind"),
        "{err}"
    );
}

#[test]
fn every_kind_of_bad_row_is_named_with_its_row_and_column() {
    let dir = scratch("pupil-bad");
    let mut s = String::from(HEADER);
    s.push('\n');
    let good = "P1,100001,2019,KS2,F,N,N,N,N,N,WHIT,15,105,EXS,104,101";
    s.push_str(good);
    s.push('\n');
    for bad in [
        "P2,12345,2019,KS2,F,N,N,N,N,N,WHIT,15,105,EXS,104,101", // row 3: URN
        "P3,100001,19,KS2,F,N,N,N,N,N,WHIT,15,105,EXS,104,101",  // row 4: year
        "P4,100001,2019,KS3,F,N,N,N,N,N,WHIT,15,105,EXS,104,101", // row 5: key stage
        "P5,100001,2019,KS2,X,N,N,N,N,N,WHIT,15,105,EXS,104,101", // row 6: gender
        "P6,100001,2019,KS2,F,maybe,N,N,N,N,WHIT,15,105,EXS,104,101", // row 7: flag
        "P7,100001,2019,KS2,F,N,N,N,Q,N,WHIT,15,105,EXS,104,101", // row 8: SEN code
        "P8,100001,2019,KS2,F,N,N,N,N,N,WBRI,15,105,EXS,104,101", // row 9: ethnicity
        "P9,100001,2019,KS2,F,N,N,N,N,N,WHIT,15,125,EXS,104,101", // row 10: score range
        "P10,100001,2019,KS2,F,N,N,N,N,N,WHIT,15,105,EXP,104,101", // row 11: TA code
        "P11,100001,2019,KS2,F,N,Y,N,N,N,WHIT,15,105,EXS,104,101", // row 12: fsm without disadvantaged
        "P1,100001,2019,KS2,F,N,N,N,N,N,WHIT,15,105,EXS,104,101",  // row 13: duplicate
    ] {
        s.push_str(bad);
        s.push('\n');
    }
    let p = dir.join("bad.csv");
    std::fs::write(&p, &s).unwrap();
    let (code, out, err) = gaps(&[
        "--pupils",
        p.to_str().unwrap(),
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--level",
        "school",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        out.is_empty(),
        "nothing is printed from a file with bad rows: {out}"
    );
    let f = p.display().to_string();
    for expected in [
        format!("{f}, row 3, column urn: \"12345\" is not a URN (six digits)"),
        format!("{f}, row 4, column year: \"19\" is not a results year"),
        format!("{f}, row 5, column key_stage: \"KS3\" is not a key stage (KS1, KS2 or KS4)"),
        format!("{f}, row 6, column gender: \"X\" is not a gender code (M or F)"),
        format!("{f}, row 7, column disadvantaged: \"MAYBE\" is not Y or N"),
        format!("{f}, row 8, column sen: \"Q\" is not a SEN provision code"),
        format!("{f}, row 9, column ethnicity: \"WBRI\" is not a major ethnic group code"),
        format!("{f}, row 10, column ks2_reading: \"125\" is not a scaled score (80-120)"),
        format!("{f}, row 11, column ks2_writing: \"EXP\" is not a teacher assessment code"),
        format!("{f}, row 12, column disadvantaged: disadvantaged is N but fsm is Y"),
        format!(
            "{f}, row 13, column pupil_id: pupil P1… appears twice in KS2 2019 (first at row 2)"
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
    assert!(
        err.contains("11 problem(s) in the pupil files; nothing was computed"),
        "{err}"
    );
    // A KS4 result on a KS2 row, and a file without a required column.
    std::fs::write(
        dir.join("ks4col.csv"),
        format!("{HEADER},att8\nP1,100001,2019,KS2,F,N,N,N,N,N,WHIT,15,105,EXS,104,101,50\n"),
    )
    .unwrap();
    let (code, _, err) = gaps(&[
        "--pupils",
        dir.join("ks4col.csv").to_str().unwrap(),
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "all",
        "--level",
        "school",
    ]);
    assert_eq!(code, 3);
    assert!(
        err.contains("row 2, column att8: att8 is a KS4 column but this is a KS2 row"),
        "{err}"
    );
    std::fs::write(
        dir.join("nocol.csv"),
        "pupil_id,urn,year,key_stage,gender\nP1,100001,2019,KS2,F\n",
    )
    .unwrap();
    let (code, _, err) = gaps(&[
        "--pupils",
        dir.join("nocol.csv").to_str().unwrap(),
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "all",
        "--level",
        "school",
    ]);
    assert_eq!(code, 3);
    assert!(err.contains("row 1, column disadvantaged: the header has no column disadvantaged, fsm, lac, sen, eal, \
        ethnicity"), "{err}");
    // --allow-bad-rows: the good row is used, the others are warnings, exit status 1.
    let (code, out, err) = gaps(&[
        "--pupils",
        p.to_str().unwrap(),
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "all",
        "--level",
        "school",
        "--threshold",
        "0",
        "--format",
        "json",
        "--allow-bad-rows",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.matches("warning: dropped a bad pupil row").count(),
        11,
        "{err}"
    );
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (rows[0]["cohort"].as_u64(), rows[0]["value"].as_f64()),
        (Some(1), Some(100.0))
    );
}

#[test]
fn xlsx_pupil_files_read_like_csv() {
    let dir = scratch("pupil-xlsx");
    let csv = std::fs::read_to_string(edge_cases(&dir)).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in csv.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(v) if r > 0 && c != 0 => ws.write_number(r as u32, c as u16, v).map(|_| ()),
                _ => ws.write_string(r as u32, c as u16, cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    let x = dir.join("pupils.xlsx");
    wb.save(&x).unwrap();
    let args = |f: &Path| -> Vec<String> {
        [
            "--pupils",
            f.to_str().unwrap(),
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a = gaps(&args(&x).iter().map(String::as_str).collect::<Vec<_>>());
    let b = gaps(
        &args(&dir.join("pupils.csv"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(a.0, 0, "{}", a.2);
    assert_eq!(a.1, b.1);
}

/// (URN -> row) of the demo LA's schools in a demo performance-tables file.
fn published(
    file: &Path,
    la: &str,
) -> std::collections::BTreeMap<String, std::collections::HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .unwrap();
    let h: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|x| x.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for rec in r.records().map(|x| x.unwrap()) {
        let row: std::collections::HashMap<String, String> = h
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        if row.get("LEA").map(String::as_str) == Some(la)
            && matches!(row.get("RECTYPE").map(String::as_str), Some("1" | "2"))
        {
            out.insert(row["URN"].clone(), row);
        }
    }
    out
}

fn pupil_rows(extra: &[&str]) -> Vec<Value> {
    let dir = demo_world();
    let out = bin()
        .arg("gaps")
        .arg("--pupils")
        .arg(dir.join("data/pupils"))
        .args(extra)
        .args(["--threshold", "0", "--format", "json", "--store"])
        .arg(dir.join("store"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A published percentage rebuilt from a pupil-level figure: the count of pupils is exact
/// (a 1-decimal percentage of a cohort under 1,000), then rounded as DfE rounds.
fn as_published(value: f64, cohort: u64) -> String {
    let k = (value * cohort as f64 / 100.0).round();
    format!(
        "{}%",
        attain::value::round_half_away(100.0 * k / cohort as f64, 0)
    )
}

#[test]
fn demo_pupil_files_agree_with_the_demo_las_published_figures() {
    let dir = demo_world();
    for year in [2017, 2018, 2019] {
        let ks2 = published(
            &dir.join(format!("data/{}-{year}/england_ks2final.csv", year - 1)),
            "650",
        );
        assert!(
            ks2.len() > 40,
            "the demo LA has its primary schools in the file"
        );
        let y = year.to_string();
        let all = pupil_rows(&[
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "all",
            "--level",
            "school",
            "--year",
            &y,
        ]);
        assert_eq!(
            all.len(),
            ks2.len(),
            "one pupil-level school per published school in {year}"
        );
        for r in &all {
            let p = &ks2[r["code"].as_str().unwrap()];
            let n = r["cohort"].as_u64().unwrap();
            assert_eq!(n.to_string(), p["TELIG"], "{year} {}: cohort", r["code"]);
            if p["PTRWM_EXP"] != "SUPP" {
                assert_eq!(
                    as_published(r["value"].as_f64().unwrap(), n),
                    p["PTRWM_EXP"],
                    "{year} {}: % RWM",
                    r["code"]
                );
            }
        }
        let dis = pupil_rows(&[
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--year",
            &y,
        ]);
        for r in &dis {
            let p = &ks2[r["code"].as_str().unwrap()];
            let n = r["cohort"].as_u64().unwrap();
            assert_eq!(
                n.to_string(),
                p["TFSM6CLA1A"],
                "{year} {}: disadvantaged cohort",
                r["code"]
            );
            if !matches!(p["PTRWM_EXP_FSM6CLA1A"].as_str(), "SUPP" | "") {
                assert_eq!(
                    as_published(r["value"].as_f64().unwrap(), n),
                    p["PTRWM_EXP_FSM6CLA1A"]
                );
            }
        }
        // Progress: each pupil's score against the national mean of their KS1 group.
        let means = dir.join("data/national/ks2_prior_attainment_means.csv");
        let prog = pupil_rows(&[
            "--measure",
            "ks2_read_progress",
            "--group",
            "all",
            "--level",
            "school",
            "--year",
            &y,
            "--prior-means",
            means.to_str().unwrap(),
        ]);
        let mut compared = 0;
        for r in &prog {
            let p = &ks2[r["code"].as_str().unwrap()];
            if let Ok(published) = p["READPROG"].parse::<f64>() {
                let v = r["value"].as_f64().unwrap();
                assert!(
                    (v - published).abs() <= 0.0501,
                    "{year} {}: reading progress {v} vs {published}",
                    r["code"]
                );
                compared += 1;
            }
        }
        assert!(
            compared > 30,
            "{compared} schools' progress compared in {year}"
        );
    }
    // Looked-after children: the LA's published KS2 figure (EES file) from the same pupils.
    let lac = pupil_rows(&[
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "lac",
        "--level",
        "la",
        "--year",
        "2019",
    ]);
    let ees = std::fs::read_to_string(dir.join("data/ees/ks2_la.csv")).unwrap();
    let line = ees
        .lines()
        .find(|l| l.starts_with("201819,") && l.contains(",650,"))
        .unwrap();
    let h: Vec<&str> = ees
        .lines()
        .next()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let c: Vec<&str> = line.split(',').collect();
    let col = |n: &str| c[h.iter().position(|x| *x == n).unwrap()];
    let r = lac.iter().find(|r| r["code"] == "650").unwrap();
    assert_eq!(
        r["cohort"].as_u64().unwrap().to_string(),
        col("t_rwm_eligible_pupils")
    );
    let k = (r["value"].as_f64().unwrap() * r["cohort"].as_f64().unwrap() / 100.0).round();
    assert_eq!(k.to_string(), col("t_rwm_met_expected_standard"));
    // KS4: Attainment 8 and English and maths grade 5+.
    let ks4 = published(&dir.join("data/2018-2019/england_ks4final.csv"), "650");
    let a8 = pupil_rows(&[
        "--measure",
        "ks4_attainment8",
        "--group",
        "all",
        "--level",
        "school",
        "--year",
        "2019",
    ]);
    assert_eq!(a8.len(), ks4.len());
    for r in &a8 {
        let p = &ks4[r["code"].as_str().unwrap()];
        assert_eq!(r["cohort"].as_u64().unwrap().to_string(), p["TPUP"]);
        let published: f64 = p["ATT8SCR"].parse().unwrap_or(f64::NAN);
        if published.is_finite() {
            assert!(
                (r["value"].as_f64().unwrap() - published).abs() <= 0.0501,
                "{}: A8",
                r["code"]
            );
        }
    }
    let em5 = pupil_rows(&[
        "--measure",
        "ks4_em_grade5",
        "--group",
        "all",
        "--level",
        "school",
        "--year",
        "2019",
    ]);
    for r in &em5 {
        let p = &ks4[r["code"].as_str().unwrap()];
        if p["PTL2BASICS_95"] != "SUPP" {
            assert_eq!(
                as_published(r["value"].as_f64().unwrap(), r["cohort"].as_u64().unwrap()),
                p["PTL2BASICS_95"]
            );
        }
    }
}

#[test]
fn a_demo_run_with_pupil_data_passes_the_disclosure_audit_and_a_planted_figure_does_not() {
    let dir = demo_world();
    let run = scratch("pupil-run");
    let data = dir.join("data");
    let toml = format!(
        r#"name = "pupil-run"
output = "{out}"
[la]
code = "650"
[[stage]]
name = "booklets"
run = "booklet"
inputs = ["{store}"]
outputs = ["{booklets}"]
options = {{ pupils = "{data}/pupils", prior_means = "{data}/national/ks2_prior_attainment_means.csv" }}
[[stage]]
name = "pupil-gaps"
run = "pupil-gaps"
inputs = ["{store}"]
outputs = ["{questions}"]
[stage.options]
pupils = "{data}/pupils"
[[stage.options.queries]]
name = "lac-by-school"
measure = "ks2_rwm_expected"
group = "lac"
level = "school"
[[stage.options.queries]]
name = "widest-disadvantaged-writing"
measure = "ks2_writ_expected"
group = "disadvantaged"
level = "school"
widest = 5
[[stage]]
name = "audit"
run = "audit"
inputs = ["{booklets}", "{questions}"]
"#,
        out = run.join("out").display(),
        store = dir.join("store").display(),
        data = data.display(),
        booklets = run.join("booklets").display(),
        questions = run.join("questions").display()
    );
    let p = run.join("pipeline.toml");
    std::fs::write(&p, toml).unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("no disclosive figure"),
        "{stdout}\n{stderr}"
    );
    // The booklets do carry pupil-data figures, labelled for the audit, some withheld.
    let htmls: Vec<PathBuf> = std::fs::read_dir(run.join("booklets/650"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    let text: String = htmls
        .iter()
        .map(|h| std::fs::read_to_string(h).unwrap())
        .collect();
    assert!(text.contains("From the LA's pupil-level data"));
    // Groups withheld at a school are listed on one line, not as rows of "c".
    assert!(
        text.contains("too small to show at this school: Looked after"),
        "small looked-after groups are withheld"
    );
    assert!(text.matches("(n=").count() > 100);
    // The PDFs were read too (through pdftotext).
    let audit = bin()
        .arg("audit")
        .arg(run.join("booklets"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&audit.stdout).to_string();
    assert_eq!(audit.status.code(), Some(0), "{said}");
    let pdfs = htmls.len();
    assert!(
        said.contains(&format!(
            "{} file(s) checked, 0 disclosive figure(s)",
            2 * pdfs + 1
        )),
        "{said}"
    );

    // Plant a disclosive figure in a copy of a booklet and in an exported table.
    let planted = run.join("planted");
    std::fs::create_dir_all(&planted).unwrap();
    let html = std::fs::read_to_string(&htmls[0]).unwrap().replacen(
        "Looked after (n=c)",
        "Looked after (n=3)",
        1,
    );
    let html = if html.contains("Looked after (n=3)") {
        html
    } else {
        html.replacen(
            "</table>",
            "<tr><td>Looked after (n=3)</td><td>33.3</td></tr></table>",
            1,
        )
    };
    std::fs::write(planted.join("booklet.html"), &html).unwrap();
    let line = html
        .lines()
        .position(|l| l.contains("Looked after (n=3)"))
        .unwrap()
        + 1;
    std::fs::write(
        planted.join("lac.csv"),
        "code,group,cohort,value,status\n100001,lac,2,50.0,ok\n100002,lac,c,,suppressed_small\n",
    )
    .unwrap();
    let audit = bin().arg("audit").arg(&planted).output().unwrap();
    assert_eq!(
        audit.status.code(),
        Some(4),
        "a disclosive figure fails the audit"
    );
    let said = String::from_utf8_lossy(&audit.stdout);
    assert!(
        said.contains(&format!("booklet.html, line {line}: n=3")),
        "{said}"
    );
    assert!(said.contains("lac.csv, row 2, column cohort: 2"), "{said}");
    assert!(said.contains("2 disclosive figure(s)"), "{said}");
}
