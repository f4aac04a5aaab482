//! Oracle checks against the real DfE / Ofsted files in ../shared/data/raw.
//! Expected figures are DfE's own rows, as listed in PROVENANCE.md there.

use attain::store::frame::{
    inspection_grades, neighbour_rows, query_results, ResultFilter, ResultRecord,
};
use attain::store::schema::Level;
use attain::store::Store;

use crate::common::{raw_dir, real_store};

fn results(f: ResultFilter) -> Vec<ResultRecord> {
    let store = Store::at(real_store().unwrap());
    query_results(store.scan("results").unwrap(), &f).unwrap()
}

fn filter(measure: &str, file: &str) -> ResultFilter {
    ResultFilter {
        measure: Some(measure.into()),
        group: Some("all".into()),
        source_file: Some(file.into()),
        ..Default::default()
    }
}

#[test]
fn ks2_telig_sum_of_schools_equals_la_row_in_all_six_files() {
    if real_store().is_none() {
        return;
    }
    // (file, year, LA, LA-row TELIG read from the file's RECTYPE 3 row)
    let cases = [
        ("ks2/2016-850-ks2.csv", 2017, "850", 14040.0),
        ("ks2/2017-850-ks2.csv", 2018, "850", 14463.0),
        ("ks2/2018-850-ks2.csv", 2019, "850", 14855.0),
        ("ks2/2016-936-ks2.csv", 2017, "936", 11395.0),
        ("ks2/2017-936-ks2.csv", 2018, "936", 12122.0),
        ("ks2/2018-936-ks2.csv", 2019, "936", 12400.0),
    ];
    for (file, year, la, expected) in cases {
        let rows = results(filter("ks2_cohort", file));
        assert!(
            rows.iter().all(|r| r.year == year),
            "{file}: year should be {year}"
        );
        let la_row: Vec<&ResultRecord> = rows.iter().filter(|r| r.level == "la").collect();
        assert_eq!(la_row.len(), 1, "{file}: one LA row");
        assert_eq!(la_row[0].code, la);
        assert_eq!(la_row[0].value, Some(expected), "{file}: LA row TELIG");
        let sum: f64 = rows
            .iter()
            .filter(|r| r.level == "school")
            .filter_map(|r| r.value)
            .sum();
        assert_eq!(sum, expected, "{file}: sum of school TELIG");
    }
}

#[test]
fn ks2_percentages_and_tokens_are_kept() {
    if real_store().is_none() {
        return;
    }
    let rows = results(filter("ks2_rwm_expected", "ks2/2018-850-ks2.csv"));
    let la = rows.iter().find(|r| r.level == "la").unwrap();
    assert_eq!(la.value, Some(68.0)); // "68%" in the LA row
    assert_eq!(la.cohort, Some(14855.0));
    let national = rows
        .iter()
        .find(|r| r.level == "national" && r.scope == "state_funded")
        .unwrap();
    assert_eq!(national.value, Some(65.0)); // RECTYPE 5 row
    let supp = rows.iter().filter(|r| r.status == "SUPP").count();
    assert!(supp > 0, "suppressed school values keep their SUPP status");
    assert!(
        rows.iter()
            .filter(|r| r.status == "SUPP")
            .all(|r| r.value.is_none()),
        "SUPP never becomes a number"
    );
    let diffn = results(ResultFilter {
        measure: Some("ks2_rwm_diffn".into()),
        level: Some(Level::La),
        source_file: Some("ks2/2018-850-ks2.csv".into()),
        ..Default::default()
    });
    assert_eq!(diffn[0].value, Some(-22.0));
}

#[test]
fn census_school_rows_sum_to_the_national_rows() {
    if real_store().is_none() {
        return;
    }
    // (file, year, phase, NOR, NUMFSM) from the NAT rows of each file
    let cases = [
        (
            "kspdeveloper-perf-tables/england_census.csv",
            2019,
            "primary",
            4_727_089.0,
            745_453.0,
        ),
        (
            "kspdeveloper-perf-tables/england_census.csv",
            2019,
            "secondary",
            3_327_970.0,
            468_779.0,
        ),
        (
            "calvinchankf-uk-schools/data_2024-2025/england_census.csv",
            2025,
            "primary",
            4_554_974.0,
            1_126_353.0,
        ),
        (
            "calvinchankf-uk-schools/data_2024-2025/england_census.csv",
            2025,
            "secondary",
            3_671_427.0,
            948_951.0,
        ),
    ];
    for (file, year, phase, nor, fsm) in cases {
        let pupils = results(ResultFilter {
            phase: Some(phase.into()),
            ..filter("census_pupils", file)
        });
        assert!(pupils.iter().all(|r| r.year == year), "{file}: year {year}");
        let nat = pupils.iter().find(|r| r.level == "national").unwrap();
        assert_eq!(nat.value, Some(nor), "{file} {phase}: NAT row NOR");
        let sum: f64 = pupils
            .iter()
            .filter(|r| r.level == "school" && r.scope == "state_funded")
            .filter_map(|r| r.value)
            .sum();
        assert_eq!(sum, nor, "{file} {phase}: sum of school NOR");
        let fsm_rows = results(ResultFilter {
            phase: Some(phase.into()),
            ..filter("census_fsm_pct", file)
        });
        let nat = fsm_rows.iter().find(|r| r.level == "national").unwrap();
        assert_eq!(nat.numerator, Some(fsm), "{file} {phase}: NAT row NUMFSM");
        let sum: f64 = fsm_rows
            .iter()
            .filter(|r| r.level == "school" && r.scope == "state_funded")
            .filter_map(|r| r.numerator)
            .sum();
        assert_eq!(sum, fsm, "{file} {phase}: sum of school NUMFSM");
    }
}

#[test]
fn lait_ks2_rwm_2019() {
    if real_store().is_none() {
        return;
    }
    let f = ResultFilter {
        measure: Some("ks2_rwm_expected".into()),
        group: Some("all".into()),
        year: Some(2019),
        dataset: Some("lait_long".into()),
        ..Default::default()
    };
    let rows = results(f);
    let value = |code: &str| rows.iter().find(|r| r.code == code).and_then(|r| r.value);
    assert_eq!(value("850"), Some(68.0), "Hampshire");
    assert_eq!(value("936"), Some(70.0), "Surrey");
    assert_eq!(value("E92000001"), Some(65.0), "England (LAIT 970)");
    assert_eq!(value("302"), Some(73.0), "Barnet");
    // Bournemouth (Pre LG) has "-": kept as a status, not a zero.
    let pre_lg = rows.iter().find(|r| r.code == "837").unwrap();
    assert_eq!((pre_lg.value, pre_lg.status.as_str()), (None, "-"));
    let lac = results(ResultFilter {
        group: Some("lac".into()),
        ..ResultFilter {
            measure: Some("ks2_rwm_expected".into()),
            year: Some(2019),
            dataset: Some("lait_long".into()),
            ..Default::default()
        }
    });
    assert_eq!(
        lac.iter().find(|r| r.code == "850").and_then(|r| r.value),
        Some(28.0)
    );
}

#[test]
fn hampshire_neighbours_in_both_models_and_all_layouts() {
    if real_store().is_none() {
        return;
    }
    let store = Store::at(real_store().unwrap());
    let rows = neighbour_rows(&store.read("neighbours").unwrap()).unwrap();
    let list = |model: i32, file: &str| -> Vec<String> {
        let mut v: Vec<(i32, String)> = rows
            .iter()
            .filter(|r| r.0 == model && r.1 == "850" && r.5.ends_with(file))
            .map(|r| (r.2, r.3.clone()))
            .collect();
        v.sort();
        v.into_iter().map(|x| x.1).collect()
    };
    let m2021 = [
        "938", "803", "823", "873", "802", "916", "855", "885", "937", "919",
    ];
    let m2025 = [
        "865", "802", "916", "938", "869", "867", "803", "937", "931", "855",
    ];
    assert_eq!(
        list(2021, "New_Statistical_Neighbour_Groupings_April_2021.csv"),
        m2021
    );
    assert_eq!(list(2021, "sn_april_2021.xlsx"), m2021);
    assert_eq!(list(2025, "sn_may_2025.xlsx"), m2025);
    assert_eq!(list(2025, "sn_model_2025_wide.csv"), m2025);
    let close = rows
        .iter()
        .find(|r| r.0 == 2025 && r.1 == "850" && r.2 == 1 && r.5.ends_with(".csv"))
        .unwrap();
    assert_eq!(close.4.as_deref(), Some("extremely close"));
}

#[test]
fn ofsted_2018_workbook_grade_counts() {
    if real_store().is_none() {
        return;
    }
    let store = Store::at(real_store().unwrap());
    let grades = inspection_grades(&store.read("inspections").unwrap()).unwrap();
    let from_workbook: Vec<_> = grades
        .iter()
        .filter(|g| g.2.ends_with("england_ofsted-schools.xlsx"))
        .collect();
    assert_eq!(from_workbook.len(), 21739);
    let count = |g: i32| from_workbook.iter().filter(|r| r.1 == Some(g)).count();
    assert_eq!(
        [count(1), count(2), count(3), count(4)],
        [4498, 14114, 2338, 789]
    );
}

#[test]
fn ks4_final_and_characteristics() {
    if real_store().is_none() {
        return;
    }
    // Surrey 2018/19 KS4 final LA row: ATT8SCR 50.3, disadvantaged 35.5, other 53, P8 0.18.
    let file = "2018-2019_936_ks4final.csv";
    let la = |m: &str, g: &str| {
        results(ResultFilter {
            measure: Some(m.into()),
            group: Some(g.into()),
            level: Some(Level::La),
            source_file: Some(file.into()),
            ..Default::default()
        })[0]
            .clone()
    };
    assert_eq!(la("ks4_attainment8", "all").value, Some(50.3));
    assert_eq!(la("ks4_attainment8", "all").year, 2019);
    assert_eq!(la("ks4_attainment8", "disadvantaged").value, Some(35.5));
    assert_eq!(la("ks4_attainment8", "not_disadvantaged").value, Some(53.0));
    assert_eq!(la("ks4_progress8", "all").value, Some(0.18));
    // EES characteristics: Hampshire disadvantaged numerator / denominator = 74897 / 2222.
    let chars = "201819_LA_characteristics_data_including_sen_description.xlsx";
    let dis = results(ResultFilter {
        measure: Some("ks4_attainment8".into()),
        group: Some("disadvantaged".into()),
        code: Some("850".into()),
        source_file: Some(chars.into()),
        ..Default::default()
    });
    assert_eq!(dis.len(), 1);
    assert_eq!(
        (dis[0].numerator, dis[0].cohort),
        (Some(74897.0), Some(2222.0))
    );
    let all = results(ResultFilter {
        measure: Some("ks4_attainment8".into()),
        group: Some("all".into()),
        code: Some("850".into()),
        source_file: Some(chars.into()),
        ..Default::default()
    });
    assert_eq!(
        all.len(),
        1,
        "only the row whose every characteristic is Total is the all-pupil row"
    );
    assert_eq!(
        (all[0].numerator, all[0].cohort),
        (Some(609838.25), Some(12818.0))
    );
}

#[test]
fn looked_after_ks2_from_ees() {
    if real_store().is_none() {
        return;
    }
    let f = ResultFilter {
        measure: Some("ks2_rwm_expected".into()),
        group: Some("lac".into()),
        year: Some(2019),
        dataset: Some("ees_cin_outcomes_ks2".into()),
        ..Default::default()
    };
    let rows = results(f);
    let get = |code: &str| rows.iter().find(|r| r.code == code).unwrap().clone();
    let e = get("E92000001");
    assert_eq!(
        (e.numerator, e.cohort, e.value),
        (Some(1180.0), Some(3220.0), Some(37.0))
    );
    let h = get("850");
    assert_eq!(
        (h.numerator, h.cohort, h.value),
        (Some(19.0), Some(69.0), Some(28.0))
    );
    let s = get("936");
    assert_eq!(
        (s.numerator, s.cohort, s.value),
        (Some(8.0), Some(30.0), Some(27.0))
    );
    let b = get("302");
    assert_eq!((b.value, b.status.as_str()), (None, "c"));
}

#[test]
fn every_real_file_is_read_or_skipped_with_a_reason() {
    let Some(raw) = raw_dir() else { return };
    let out = crate::common::bin()
        .arg("ingest")
        .arg(&raw)
        .arg("--store")
        .arg(crate::common::scratch("walk").join("s"))
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
    let rows = v.as_array().unwrap();
    let mut files = std::collections::BTreeSet::new();
    for r in rows {
        let outcome = r["outcome"].as_str().unwrap();
        assert!(outcome == "ingested" || outcome == "skipped", "{r}");
        if outcome == "skipped" {
            assert!(
                !r["note"].as_str().unwrap().is_empty(),
                "a skipped file says why: {r}"
            );
        }
        files.insert(r["file"].as_str().unwrap().to_string());
    }
    // PROVENANCE.md states how many data files the folder holds ("Total: 64 data files").
    let provenance = std::fs::read_to_string(raw.join("PROVENANCE.md")).unwrap();
    let total: usize = provenance
        .lines()
        .find_map(|l| {
            l.strip_prefix("Total: ")?
                .split_once(" data files")?
                .0
                .parse()
                .ok()
        })
        .expect("PROVENANCE.md states the total");
    assert_eq!(
        files.len(),
        total + 1,
        "{total} data files and PROVENANCE.md"
    );
}

#[test]
fn inspect_gives_a_sensible_report_for_every_real_file() {
    let Some(raw) = raw_dir() else { return };
    let files = attain::ingest::collect_files(&[raw]).unwrap();
    for (f, _) in files {
        let out = crate::common::bin()
            .arg("inspect")
            .arg(&f)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let name = f.display().to_string();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        match v["outcome"].as_str().unwrap() {
            "skipped" => assert!(!v["reason"].as_str().unwrap().is_empty()),
            "recognised" => {
                for t in v["tables"].as_array().unwrap() {
                    // A family and a year (or why a year does not apply: a code list, a dictionary).
                    assert!(!t["dataset"].as_str().unwrap().is_empty(), "{name}");
                    assert!(
                        t["year"]
                            .as_i64()
                            .is_some_and(|y| (2010..=2026).contains(&y))
                            || t["year_from"]
                                .as_str()
                                .unwrap()
                                .starts_with("not applicable"),
                        "{name}: {t}"
                    );
                    assert!(t["data_rows"].as_u64().unwrap() > 0, "{name}");
                    assert!(
                        !t["mapped_columns"].as_array().unwrap().is_empty(),
                        "{name}"
                    );
                    assert!(
                        !t["rows_by_record"].as_object().unwrap().is_empty(),
                        "{name}"
                    );
                }
            }
            other => panic!("{name}: {other}"),
        }
    }
}
