//! Ofsted under both frameworks, from the real report-card management-information file
//! (Leeds schools as at 28 February 2026): the inspections table, `attain ofsted`'s aims,
//! the booklet's Ofsted section and categorise rules on report-card grades. Every expected
//! figure is counted here from the raw CSV (read with the csv crate, not attain's reader).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use attain::analysis::data::Data;
use attain::analysis::facts::{FactTable, FactValue};
use attain::analysis::rules::Rules;
use attain::catalogue::Catalogue;
use attain::store::frame::{inspection_rows, judgement_rows};
use attain::store::Store;
use serde_json::Value;

use crate::common::{bin, raw, raw_dir, scratch};

const LEEDS: &str = "archieabr-leeds-ofsted/leeds_ofsted_data.csv";
const SCALE: [&str; 5] = [
    "Exceptional",
    "Strong standard",
    "Expected standard",
    "Needs attention",
    "Urgent improvement",
];
/// (store area id, raw column) of the report-card evaluation areas.
const AREAS: [(&str, &str); 8] = [
    ("inclusion", "Inclusion"),
    ("curriculum_and_teaching", "Curriculum and teaching"),
    ("achievement", "Achievement"),
    ("attendance_and_behaviour", "Attendance and behaviour"),
    (
        "personal_development_and_wellbeing",
        "Personal development and wellbeing",
    ),
    ("early_years", "Early years (where applicable)"),
    ("post_16", "Post-16 provision (where applicable)"),
    ("leadership_and_governance", "Leadership and governance"),
];
const OEIF_WORDS: [&str; 4] = ["Outstanding", "Good", "Requires improvement", "Inadequate"];

type RawRow = HashMap<String, String>;

fn leeds_rows() -> Vec<RawRow> {
    let mut r = csv::Reader::from_path(raw(LEEDS)).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A value that is a value: not NULL, empty or "Not applicable".
fn given<'a>(r: &'a RawRow, col: &str) -> Option<&'a str> {
    let v = r.get(col).map(|s| s.trim()).unwrap_or("");
    (!v.is_empty() && v != "NULL" && v != "Not applicable").then_some(v)
}

fn has_report_card(r: &RawRow) -> bool {
    given(r, "Inspection start date").is_some()
}

fn scale_grade(label: &str) -> usize {
    SCALE
        .iter()
        .position(|s| *s == label)
        .unwrap_or_else(|| panic!("{label:?} is not on the report-card scale"))
        + 1
}

/// A percentage at 1 dp, half away from zero (f64::round), as attain rounds.
fn pct1(num: f64, den: f64) -> f64 {
    (1000.0 * num / den).round() / 10.0
}

/// Ingest the Leeds file into `store`.
fn ingest_leeds(store: &Path) {
    let out = bin()
        .arg("ingest")
        .arg(raw(LEEDS))
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest of the Leeds file:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A store holding the Leeds file only, built once.
fn leeds_store() -> Option<&'static Path> {
    static STORE: OnceLock<Option<PathBuf>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            raw_dir()?;
            let store = scratch("leeds-ofsted").join("store");
            ingest_leeds(&store);
            Some(store)
        })
        .as_deref()
}

#[test]
fn leeds_inspections_keep_both_frameworks_and_every_graded_area() {
    let Some(store) = leeds_store() else { return };
    let rows = leeds_rows();
    let store = Store::at(store);
    let ins = inspection_rows(store.scan("inspections").unwrap()).unwrap();
    let js = judgement_rows(store.scan("inspection_judgements").unwrap()).unwrap();

    // OEIF overall effectiveness as the raw file gives it: 1-4, "Not judged", NULL.
    let mut raw_oeif: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        *raw_oeif
            .entry(r["Latest OEIF overall effectiveness"].trim().to_string())
            .or_default() += 1;
    }
    // PROVENANCE.md's counts; the file must agree (the stored rows are checked against raw_oeif below).
    let provenance: BTreeMap<String, usize> = [
        ("1", 25),
        ("2", 94),
        ("3", 10),
        ("4", 1),
        ("NULL", 109),
        ("Not judged", 40),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(raw_oeif, provenance);
    let oeif: Vec<_> = ins.iter().filter(|i| i.framework == "oeif").collect();
    for g in 1..=4 {
        let stored = oeif
            .iter()
            .filter(|i| i.overall_effectiveness == Some(g))
            .count();
        assert_eq!(
            stored,
            raw_oeif.get(&g.to_string()).copied().unwrap_or(0),
            "OEIF grade {g}"
        );
        assert!(oeif
            .iter()
            .filter(|i| i.overall_effectiveness == Some(g))
            .all(|i| i.outcome.as_deref() == Some(OEIF_WORDS[g as usize - 1])));
    }
    let not_judged = oeif
        .iter()
        .filter(|i| i.overall_effectiveness.is_none() && i.outcome.as_deref() == Some("Not judged"))
        .count();
    assert_eq!(not_judged, raw_oeif["Not judged"]);
    assert_eq!(
        oeif.len(),
        279 - raw_oeif["NULL"],
        "a NULL overall effectiveness is no OEIF inspection, never a zero"
    );
    assert!(oeif
        .iter()
        .all(|i| i.overall_effectiveness.is_none_or(|g| (1..=4).contains(&g))));

    // Report cards: one inspection per school that has one, each area counted by grade.
    let report_cards: Vec<&RawRow> = rows.iter().filter(|r| has_report_card(r)).collect();
    let stored_rc: Vec<_> = ins
        .iter()
        .filter(|i| i.framework == "report_card")
        .collect();
    assert_eq!(stored_rc.len(), report_cards.len());
    assert!(!report_cards.is_empty());
    for (id, col) in AREAS {
        let mut raw_counts: BTreeMap<String, usize> = BTreeMap::new();
        for r in &report_cards {
            if let Some(v) = given(r, col) {
                *raw_counts.entry(v.to_string()).or_default() += 1;
            }
        }
        let mut stored: BTreeMap<String, usize> = BTreeMap::new();
        for j in js
            .iter()
            .filter(|j| j.framework == "report_card" && j.area == id)
        {
            assert_eq!(
                j.grade as usize,
                scale_grade(&j.grade_label),
                "{id}: {}",
                j.grade_label
            );
            *stored.entry(j.grade_label.clone()).or_default() += 1;
        }
        assert_eq!(stored, raw_counts, "evaluation area {col}");
    }
    let safeguarding_raw: Vec<&str> = report_cards
        .iter()
        .map(|r| r["Safeguarding standards"].as_str())
        .collect();
    let safeguarding: Vec<(i32, String)> = js
        .iter()
        .filter(|j| j.framework == "report_card" && j.area == "safeguarding")
        .map(|j| (j.grade, j.grade_label.clone()))
        .collect();
    assert_eq!(safeguarding.len(), safeguarding_raw.len());
    for (g, label) in &safeguarding {
        assert_eq!(*g, if label == "Met" { 1 } else { 2 }, "{label}");
    }
    // The report card's date and the school's LA (LAESTAB 383xxxx = Leeds).
    for r in &report_cards {
        let i = stored_rc.iter().find(|i| i.urn == r["URN"]).unwrap();
        assert_eq!(
            attain::dates::words_from_days(i.inspection_date.unwrap()),
            crate::common::date_in_words(&r["Inspection start date"])
        );
        assert_eq!(i.la_code.as_deref(), Some(&r["LAESTAB"][..3]));
    }
    assert!(ins.iter().all(|i| i.la_code.as_deref() == Some("383")));
    // Ungraded inspections are inspections too.
    let ungraded = rows
        .iter()
        .filter(|r| given(r, "Date of latest ungraded inspection").is_some())
        .count();
    assert_eq!(
        ins.iter().filter(|i| i.framework == "ungraded").count(),
        ungraded
    );
    // The schools table knows each school's LA from the file.
    let schools =
        attain::store::frame::schools_from_frame(&store.read("schools").unwrap()).unwrap();
    assert_eq!(schools.len(), 279);
    assert!(schools
        .iter()
        .all(|s| s.la_code.as_deref() == Some("383") && s.la_name.as_deref() == Some("Leeds")));
}

/// A school's place in the aims, counted from the raw row.
enum Raw {
    Oeif(u32),
    NotJudged,
    ReportCard(bool),
    None,
}

fn raw_standing(r: &RawRow) -> Raw {
    if has_report_card(r) {
        let areas_ok = AREAS
            .iter()
            .filter_map(|(_, c)| given(r, c))
            .all(|v| scale_grade(v) <= 3);
        return Raw::ReportCard(areas_ok && r["Safeguarding standards"] == "Met");
    }
    match given(r, "Latest OEIF overall effectiveness") {
        Some("Not judged") => Raw::NotJudged,
        Some(g) => Raw::Oeif(g.parse().unwrap()),
        None => Raw::None,
    }
}

#[test]
fn attain_ofsted_reports_leeds_aims_under_both_frameworks() {
    let Some(store) = leeds_store() else { return };
    let rows = leeds_rows();
    let out = bin()
        .args(["ofsted", "--la", "383", "--format", "json", "--store"])
        .arg(store)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the snapshot's own LA (LAESTAB) and pupil numbers"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = v.as_array().unwrap();
    assert_eq!(got.len(), 3);
    for phase in ["primary", "secondary", "all"] {
        let in_phase: Vec<&RawRow> = rows
            .iter()
            .filter(|r| phase == "all" || r["Ofsted phase"].eq_ignore_ascii_case(phase))
            .collect();
        let pupils = |r: &RawRow| r["Total number of pupils"].parse::<f64>().unwrap();
        let (mut oeif, mut good, mut p_oeif, mut p_good) = (0, 0, 0.0, 0.0);
        let (mut rc, mut rc_ok, mut p_rc, mut p_rc_ok, mut nj, mut none) = (0, 0, 0.0, 0.0, 0, 0);
        for r in &in_phase {
            match raw_standing(r) {
                Raw::Oeif(g) => {
                    oeif += 1;
                    p_oeif += pupils(r);
                    if g <= 2 {
                        good += 1;
                        p_good += pupils(r);
                    }
                }
                Raw::ReportCard(ok) => {
                    rc += 1;
                    p_rc += pupils(r);
                    if ok {
                        rc_ok += 1;
                        p_rc_ok += pupils(r);
                    }
                }
                Raw::NotJudged => nj += 1,
                Raw::None => none += 1,
            }
        }
        let row = got.iter().find(|r| r["phase"] == phase).unwrap();
        let n = |k: &str| row[k].as_f64().unwrap_or_else(|| panic!("{k} in {row:#}"));
        assert_eq!(row["la_name"], "Leeds");
        assert_eq!(
            (n("schools"), n("schools_good_or_better")),
            (oeif as f64, good as f64),
            "{phase}"
        );
        assert_eq!(
            n("pct_schools_good_or_better"),
            pct1(good as f64, oeif as f64),
            "{phase}"
        );
        assert_eq!(
            (n("pupils"), n("pupils_good_or_better")),
            (p_oeif, p_good),
            "{phase}"
        );
        assert_eq!(
            n("pct_pupils_good_or_better"),
            pct1(p_good, p_oeif),
            "{phase}"
        );
        assert_eq!(
            (
                n("schools_report_card"),
                n("schools_report_card_expected_or_better")
            ),
            (rc as f64, rc_ok as f64),
            "{phase}"
        );
        assert_eq!(
            (
                n("schools_oeif_not_judged"),
                n("schools_no_graded_inspection")
            ),
            (nj as f64, none as f64),
            "{phase}"
        );
        assert_eq!(
            n("schools")
                + n("schools_report_card")
                + n("schools_oeif_not_judged")
                + n("schools_no_graded_inspection"),
            in_phase.len() as f64,
            "every school counted once"
        );
        if rc > 0 {
            assert_eq!(
                n("pct_schools_report_card_expected_or_better"),
                pct1(rc_ok as f64, rc as f64),
                "{phase}"
            );
            assert_eq!(
                (
                    n("pupils_report_card"),
                    n("pupils_report_card_expected_or_better")
                ),
                (p_rc, p_rc_ok),
                "{phase}"
            );
            assert_eq!(
                n("pct_pupils_report_card_expected_or_better"),
                pct1(p_rc_ok, p_rc),
                "{phase}"
            );
            assert!(
                row["sentence_frameworks"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("{rc_ok} of {rc} schools")),
                "{row:#}"
            );
        } else {
            assert!(
                row["pct_schools_report_card_expected_or_better"].is_null(),
                "no report cards: no percentage, never 0: {row:#}"
            );
        }
        assert_eq!(
            n("census_schools_not_inspected"),
            0.0,
            "a school with any inspection is inspected"
        );
        for k in [
            "definition_good_or_better",
            "definition_report_card",
            "sentence_frameworks",
        ] {
            assert!(
                row[k].as_str().unwrap().contains("attain's definition")
                    || k == "sentence_frameworks" && rc == 0,
                "{k}: {row:#}"
            );
        }
    }
    // The table names the definitions as attain's own.
    let table = bin()
        .args(["ofsted", "--la", "383", "--phase", "all", "--store"])
        .arg(store)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Report cards, expected standard or better — attain's definition")
            && text.contains("under report cards"),
        "{text}"
    );
}

/// A store of the Leeds file plus a census made here for `urns` (January 2026, NOR from the
/// Ofsted file): the booklet is for schools with figures, and no real 2025/26 file exists yet.
fn booklet_store(urns: &[&RawRow]) -> PathBuf {
    let dir = scratch("leeds-booklet");
    let store = dir.join("store");
    ingest_leeds(&store);
    let mut census = String::from("URN,LA,ESTAB,SCHOOLTYPE,NOR,NORG,NORB,PNORG,PNORB,TSENELSE,PSENELSE,TSENELK,\
        PSENELK,NUMEAL,NUMENGFL,NUMUNCFL,PNUMEAL,PNUMENGFL,PNUMUNCFL,NUMFSM,NUMFSMEVER,PNUMFSMEVER\n");
    for r in urns {
        let ty = if r["Ofsted phase"] == "Secondary" {
            "State-funded secondary"
        } else {
            "State-funded primary"
        };
        census.push_str(&format!(
            "{},383,{},{ty},{}{}\n",
            r["URN"],
            &r["LAESTAB"][3..],
            r["Total number of pupils"],
            ",".repeat(17)
        ));
    }
    let file = dir.join("census_jan2026.csv");
    std::fs::write(&file, census).unwrap();
    let out = bin()
        .arg("ingest")
        .arg(&file)
        .args(["--year", "2026", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store
}

fn ofsted_section(html: &str) -> String {
    let start = html
        .find("<section id=\"ofsted\">")
        .expect("an Ofsted section");
    let end = start + html[start..].find("</section>").unwrap();
    html[start..end].to_string()
}

#[test]
fn leeds_booklets_show_the_latest_inspection_in_its_own_terms() {
    if raw_dir().is_none() {
        return;
    }
    let rows = leeds_rows();
    let rc = rows
        .iter()
        .find(|r| has_report_card(r))
        .expect("a report-card school");
    let oeif = rows
        .iter()
        .find(|r| !has_report_card(r) && matches!(raw_standing(r), Raw::Oeif(3)))
        .expect("an OEIF school graded 3");
    let ungraded = rows
        .iter()
        .find(|r| {
            matches!(raw_standing(r), Raw::None)
                && given(r, "Date of latest ungraded inspection").is_some()
        })
        .expect("a school with only an ungraded inspection");
    let store = booklet_store(&[rc, oeif, ungraded]);
    let out = store.parent().unwrap().join("booklets");
    let run = bin()
        .args([
            "booklet",
            "--year",
            "2026",
            "--html-only",
            "--all-schools",
            "--school",
            &rc["URN"],
            "--school",
            &oeif["URN"],
            "--school",
            &ungraded["URN"],
            "--out",
        ])
        .arg(&out)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html_of = |urn: &str| {
        let dir = out.join("383");
        let f = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{urn}-"))
                    && p.extension().is_some_and(|e| e == "html")
            })
            .unwrap();
        ofsted_section(&std::fs::read_to_string(f).unwrap())
    };

    // The report-card school: each graded area with Ofsted's grade, safeguarding, the date.
    let s = html_of(&rc["URN"]);
    assert!(
        s.contains("report card")
            && s.contains(&crate::common::date_in_words(&rc["Inspection start date"])),
        "{s}"
    );
    for (_, col) in AREAS {
        let name = col.trim_end_matches(" (where applicable)");
        match given(rc, col) {
            Some(g) => assert!(
                s.contains(&format!("<td>{name}</td><td>{g}</td>")),
                "{name} {g}: {s}"
            ),
            None => assert!(
                !s.contains(&format!("<td>{name}</td>")),
                "{name} is not graded: {s}"
            ),
        }
    }
    assert!(
        s.contains(&format!(
            "<td>Safeguarding standards</td><td>{}</td>",
            rc["Safeguarding standards"]
        )),
        "{s}"
    );
    let earlier: usize = rc["Latest OEIF overall effectiveness"].parse().unwrap();
    assert!(
        s.contains(&format!(
            "overall effectiveness: {}",
            OEIF_WORDS[earlier - 1]
        )) && s.contains(&crate::common::date_in_words(
            &rc["Inspection start date of latest OEIF graded inspection"]
        )),
        "the superseded grade is named as such: {s}"
    );
    assert!(
        !s.contains("(grade "),
        "a report card has no overall grade: {s}"
    );

    // The OEIF school: its grade in words, the framework and date, its sub-judgements.
    let s = html_of(&oeif["URN"]);
    assert!(
        s.contains("Requires improvement (grade 3)")
            && s.contains("previous framework")
            && s.contains(&crate::common::date_in_words(
                &oeif["Inspection start date of latest OEIF graded inspection"]
            )),
        "{s}"
    );
    let qoe: usize = oeif["Latest OEIF quality of education"].parse().unwrap();
    assert!(
        s.contains(&format!(
            "<td>Quality of education</td><td>{}</td>",
            OEIF_WORDS[qoe - 1]
        )),
        "{s}"
    );

    // Only an ungraded inspection in the file: said so, never "no inspection".
    let s = html_of(&ungraded["URN"]);
    assert!(
        s.contains(&format!(
            "an ungraded inspection on {}: {}",
            crate::common::date_in_words(&ungraded["Date of latest ungraded inspection"]),
            ungraded["Ungraded inspection overall outcome"]
        )),
        "{s}"
    );
    assert!(!s.contains("No inspection outcome"), "{s}");
}

#[test]
fn categorise_rules_test_report_card_grades() {
    let Some(store) = leeds_store() else { return };
    let rows = leeds_rows();
    let store = Store::at(store);
    let cat = Catalogue::builtin();
    let data = Data::open(&store, &cat).unwrap();
    let merton =
        Rules::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/merton.toml"))
            .unwrap();
    let peterborough = Rules::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/peterborough.toml"),
    )
    .unwrap();
    let custom = Rules::parse(
        "name = \"t\"\ndefault = \"ok\"\n[[category]]\nid = \"watch\"\nsupport = \"s\"\n  [[category.rule]]\n  name = \
            \"achievement below expected\"\n  all = [\"inspection_framework == report_card\", \
            \"report_card_achievement >= 4\"]\n[[category]]\nid = \"ok\"\nsupport = \"s\"\n",
        "custom.toml",
    )
    .unwrap();
    let mut facts: std::collections::BTreeSet<String> = merton.facts();
    facts.extend(peterborough.facts());
    facts.extend(custom.facts());
    // Facts as at 31 August 2026: the report cards (November 2025 - February 2026) count.
    let table = FactTable::load(&data, 2026, &facts).unwrap();
    let mut seen_rc = 0;
    for r in &rows {
        let phase = r["Ofsted phase"].to_ascii_lowercase();
        let get = |f: &str| table.get(&r["URN"], &phase, f);
        let id = |rules: &Rules| {
            rules.categories[rules.categorise(&phase, &get).category]
                .id
                .clone()
        };
        match raw_standing(r) {
            Raw::ReportCard(_) => {
                seen_rc += 1;
                let lowest = AREAS
                    .iter()
                    .filter_map(|(_, c)| given(r, c))
                    .map(scale_grade)
                    .max()
                    .unwrap();
                let met = r["Safeguarding standards"] == "Met";
                assert_eq!(
                    get("inspection_framework"),
                    Some(FactValue::Word("report_card"))
                );
                assert_eq!(
                    get("report_card_lowest_area"),
                    Some(FactValue::Num(lowest as f64))
                );
                assert_eq!(get("safeguarding_met"), Some(FactValue::Bool(met)));
                assert_eq!(
                    get("ofsted_grade"),
                    None,
                    "a report card replaces the OEIF grade"
                );
                let expected = if lowest == 5 || !met {
                    "red"
                } else if lowest == 4 {
                    "amber"
                } else {
                    "green"
                };
                // Leeds has no results in the store, so only Ofsted rules can fire.
                assert_eq!(id(&merton), expected, "Merton, URN {}", r["URN"]);
                let o = merton.categorise(&phase, &get);
                if expected == "amber" {
                    assert!(
                        o.fired.iter().any(|f| f
                            == "Amber: Ofsted report card: an evaluation area needs attention"),
                        "{:?}",
                        o.fired
                    );
                }
                assert!(
                    !o.no_data.iter().any(|n| n.contains("ofsted_grade")),
                    "OEIF rules are decided (false) for a report-card school: {:?}",
                    o.no_data
                );
                let p_expected = if lowest == 5 || !met {
                    "4"
                } else if lowest == 4 {
                    "3a"
                } else {
                    "1"
                };
                assert_eq!(
                    id(&peterborough),
                    p_expected,
                    "Peterborough, URN {}",
                    r["URN"]
                );
                let achievement = given(r, "Achievement").map(scale_grade);
                assert_eq!(
                    id(&custom),
                    if achievement.is_some_and(|a| a >= 4) {
                        "watch"
                    } else {
                        "ok"
                    },
                    "URN {}",
                    r["URN"]
                );
            }
            Raw::Oeif(g) => {
                assert_eq!(get("ofsted_grade"), Some(FactValue::Num(g as f64)));
                assert_eq!(get("report_card_lowest_area"), None);
                let expected = match g {
                    4 => "red",
                    3 => "amber",
                    _ => "green",
                };
                // Good schools last inspected 4+ years before 31 August 2026 are yellow.
                let day = attain::dates::parse_date(
                    &r["Inspection start date of latest OEIF graded inspection"],
                )
                .unwrap();
                let years = ((attain::dates::days_from_civil(2026, 8, 31) - day) as f64 / 365.25
                    * 10.0)
                    .round()
                    / 10.0;
                let expected = if g == 2 && years >= 4.0 {
                    "yellow"
                } else {
                    expected
                };
                assert_eq!(id(&merton), expected, "Merton, URN {} grade {g}", r["URN"]);
                assert_eq!(id(&custom), "ok");
            }
            Raw::NotJudged | Raw::None => {
                assert_eq!(get("ofsted_grade"), None);
            }
        }
    }
    assert!(seen_rc > 0);
    // An area graded urgent improvement, or safeguarding not met, maps where inadequate did.
    let fake = |lowest: f64, met: bool| {
        move |f: &str| match f {
            "inspection_framework" => Some(FactValue::Word("report_card")),
            "report_card_lowest_area" => Some(FactValue::Num(lowest)),
            "safeguarding_met" => Some(FactValue::Bool(met)),
            _ => None,
        }
    };
    let cat_of = |rules: &Rules, f: &dyn Fn(&str) -> Option<FactValue>| {
        rules.categories[rules.categorise("primary", f).category]
            .id
            .clone()
    };
    assert_eq!(cat_of(&merton, &fake(5.0, true)), "red");
    assert_eq!(cat_of(&merton, &fake(3.0, false)), "red");
    assert_eq!(cat_of(&peterborough, &fake(5.0, true)), "4");
    assert_eq!(cat_of(&peterborough, &fake(2.0, false)), "4");
}
