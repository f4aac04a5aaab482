//! Council outputs: Ofsted standing and school categorisation, checked against figures
//! computed here from the raw DfE / Ofsted rows (never from attain's own readers).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use serde_json::Value;

use crate::common::{bin, csv_rows, raw, real_store, scratch};

fn cell(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::DateTime(dt) => format!("{}", dt.as_f64()),
        Data::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The first sheet of a workbook as header -> cell maps.
fn sheet(path: &Path) -> Vec<HashMap<String, String>> {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(cell).collect();
    rows.map(|r| header.iter().cloned().zip(r.iter().map(cell)).collect())
        .collect()
}

/// The register's sheet as column id -> cell maps (its headers are printed in words).
fn register(path: &Path) -> Vec<HashMap<String, String>> {
    sheet(path)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|(h, v)| (attain::render::workbook::columns::id_of(&h), v))
                .collect()
        })
        .collect()
}

fn num(s: Option<&String>) -> Option<f64> {
    s?.trim().trim_end_matches('%').parse().ok()
}

/// 100 x num / den to 1 dp, half away from zero, in exact integer arithmetic.
fn pct1(num: u64, den: u64) -> f64 {
    ((2000 * num + den) / (2 * den)) as f64 / 10.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn json_out(args: &[&str]) -> (Value, String) {
    let out = bin()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[derive(Default, Clone, Copy)]
struct Count {
    schools: usize,
    good: usize,
    pupils: f64,
    pupils_good: f64,
    pupils_weak: f64,
}

fn rank_of(all: &[f64], v: f64) -> usize {
    1 + all.iter().filter(|&&o| o > v).count()
}

#[test]
fn ofsted_standing_matches_the_workbook_joined_to_the_census() {
    let Some(store) = real_store() else { return };
    let store = store.to_str().unwrap();
    // The raw rows: the Ofsted workbook (31 July 2018) and the January 2019 census.
    let ofsted = sheet(&raw("datajamne-attainment/england_ofsted-schools.xlsx"));
    let census: HashMap<String, HashMap<String, String>> =
        csv_rows(&raw("kspdeveloper-perf-tables/england_census.csv"))
            .into_iter()
            .filter(|r| r["URN"] != "NAT" && r["SCHOOLTYPE"] != "Independent school")
            .map(|r| (r["URN"].clone(), r))
            .collect();
    let regions: HashMap<String, String> =
        sheet(&raw("dfe-lait/01_data/02_prod/la_code_list.xlsx"))
            .into_iter()
            .map(|r| (r["LA Number"].clone(), r["Region"].clone()))
            .collect();
    let matched = ofsted
        .iter()
        .filter(|o| census.contains_key(&o["URN"]))
        .count();
    let unmatched = ofsted.len() - matched;
    for phase in ["primary", "secondary", "all"] {
        let mut by_la: BTreeMap<String, Count> = BTreeMap::new();
        let mut england = Count::default();
        let mut south_east = Count::default();
        for c in census.values() {
            by_la.entry(c["LA"].clone()).or_default();
        }
        for o in &ofsted {
            let in_phase = phase == "all" || o["Ofsted phase"].eq_ignore_ascii_case(phase);
            let Some(g) = num(o.get("Overall effectiveness")) else {
                continue;
            };
            let Some(c) = census.get(&o["URN"]) else {
                continue;
            };
            if !in_phase {
                continue;
            }
            let nor = num(c.get("NOR"));
            for t in [by_la.get_mut(&c["LA"]).unwrap(), &mut england] {
                t.schools += 1;
                t.good += (g <= 2.0) as usize;
                t.pupils += nor.unwrap_or(0.0);
                if g <= 2.0 {
                    t.pupils_good += nor.unwrap_or(0.0);
                } else {
                    t.pupils_weak += nor.unwrap_or(0.0);
                }
            }
            if regions.get(&c["LA"]).map(String::as_str) == Some("South East") {
                south_east.schools += 1;
                south_east.good += (g <= 2.0) as usize;
                south_east.pupils += nor.unwrap_or(0.0);
                south_east.pupils_good += if g <= 2.0 { nor.unwrap_or(0.0) } else { 0.0 };
            }
        }
        let pct_s = |t: &Count| pct1(t.good as u64, t.schools as u64);
        let pct_p = |t: &Count| pct1(t.pupils_good as u64, t.pupils as u64);
        let ranked: Vec<&Count> = by_la.values().filter(|t| t.schools > 0).collect();
        let all_s: Vec<f64> = ranked.iter().map(|t| pct_s(t)).collect();
        let all_p: Vec<f64> = ranked.iter().map(|t| pct_p(t)).collect();

        let (v, stderr) = json_out(&["ofsted", "--phase", phase, "--store", store]);
        assert!(
            stderr.contains(&format!("{unmatched} inspected schools not in the census")),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("{matched} matched")), "{stderr}");
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), by_la.len(), "one row per census LA");
        for la in ["850", "936", "302", "420", "201"] {
            let t = by_la[la];
            let r = rows
                .iter()
                .find(|r| r["la_code"] == la && r["phase"] == phase)
                .unwrap_or_else(|| panic!("no row for {la} {phase}"));
            assert_eq!(
                r["schools"].as_u64(),
                Some(t.schools as u64),
                "{la} {phase}"
            );
            if t.schools == 0 {
                assert!(
                    r["rank_schools"].is_null() && r["pct_schools_good_or_better"].is_null(),
                    "{r}"
                );
                continue;
            }
            assert_eq!(
                r["pct_schools_good_or_better"].as_f64(),
                Some(pct_s(&t)),
                "{la} {phase}"
            );
            assert_eq!(
                r["rank_schools"].as_u64(),
                Some(rank_of(&all_s, pct_s(&t)) as u64),
                "{la} {phase}"
            );
            assert_eq!(r["of"].as_u64(), Some(ranked.len() as u64));
            assert_eq!(r["pupils"].as_f64(), Some(t.pupils), "{la} {phase}");
            assert_eq!(
                r["pct_pupils_good_or_better"].as_f64(),
                Some(pct_p(&t)),
                "{la} {phase}"
            );
            assert_eq!(
                r["rank_pupils"].as_u64(),
                Some(rank_of(&all_p, pct_p(&t)) as u64),
                "{la} {phase}"
            );
            assert_eq!(
                r["pupils_in_ri_or_inadequate"].as_f64(),
                Some(t.pupils_weak),
                "{la} {phase}"
            );
            assert_eq!(
                r["england_pct_schools_good_or_better"].as_f64(),
                Some(pct_s(&england))
            );
            assert_eq!(
                r["england_pct_pupils_good_or_better"].as_f64(),
                Some(pct_p(&england))
            );
            let sentence = r["sentence"].as_str().unwrap();
            let rank = r["rank_schools"].as_u64().unwrap();
            let suffix = match (rank % 100, rank % 10) {
                (11..=13, _) => "th",
                (_, 1) => "st",
                (_, 2) => "nd",
                (_, 3) => "rd",
                _ => "th",
            };
            assert!(
                sentence.contains(&format!("{:.1}% of ", pct_s(&t)))
                    && sentence.contains(&format!("ranks {rank}{suffix} of {}", ranked.len())),
                "{sentence}"
            );
        }
        let hants = rows
            .iter()
            .find(|r| r["la_code"] == "850" && r["phase"] == phase)
            .unwrap();
        assert_eq!(hants["region"], "South East");
        assert_eq!(
            hants["region_pct_schools_good_or_better"].as_f64(),
            Some(pct_s(&south_east))
        );
        assert_eq!(
            hants["region_pct_pupils_good_or_better"].as_f64(),
            Some(pct_p(&south_east))
        );
    }
    // --la keeps one LA's rows; --year names the snapshot; a year with no snapshot is a usage error.
    let (v, _) = json_out(&[
        "ofsted", "--la", "936", "--phase", "primary", "--year", "2018", "--store", store,
    ]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (v, _) = json_out(&["ofsted", "--la", "936", "--store", store]);
    let phases: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        ["primary", "secondary", "all"],
        "without --phase, every phase"
    );
    let bad = bin()
        .args(["ofsted", "--year", "2012", "--store", store])
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let table = bin()
        .args(["ofsted", "--la", "850", "--store", store])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Hampshire: ")
            && text.contains("of primary schools are good or outstanding — ranks "),
        "{text}"
    );
}

/// One year's raw KS2 figures: each school's row by URN, and the national row.
type Ks2Year = (
    HashMap<String, HashMap<String, String>>,
    HashMap<String, String>,
);

/// The school's raw KS2 figures for one year's per-LA file.
fn ks2_file(rel: &str) -> Ks2Year {
    let rows = csv_rows(&raw(rel));
    let national = rows.iter().find(|r| r["RECTYPE"] == "5").unwrap().clone();
    let schools = rows
        .into_iter()
        .filter(|r| r["RECTYPE"] == "1" || r["RECTYPE"] == "2")
        .map(|r| (r["URN"].clone(), r))
        .collect();
    (schools, national)
}

/// Three-valued helpers, as the rules engine's: None = no data.
fn and(v: &[Option<bool>]) -> Option<bool> {
    if v.contains(&Some(false)) {
        Some(false)
    } else if v.contains(&None) {
        None
    } else {
        Some(true)
    }
}
fn or(v: &[Option<bool>]) -> Option<bool> {
    if v.contains(&Some(true)) {
        Some(true)
    } else if v.contains(&None) {
        None
    } else {
        Some(false)
    }
}
fn cmp(x: Option<f64>, f: impl Fn(f64) -> bool) -> Option<bool> {
    x.map(f)
}

#[test]
fn merton_categories_of_hampshire_and_surrey_primaries_follow_the_raw_figures() {
    let Some(store) = real_store() else { return };
    let store = store.to_str().unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/merton.toml");
    let rules = rules.to_str().unwrap();
    // Raw figures: KS2 2016/17-2018/19, absence 2018/19, Ofsted (workbook and GIAS), GIAS phase.
    let mut ks2: Vec<Ks2Year> = Vec::new();
    for year in ["2016", "2017", "2018"] {
        let (mut s, nat) = ks2_file(&format!(
            "clarelgibson-hants-surrey/data-in/ks2/{year}-850-ks2.csv"
        ));
        let (s2, _) = ks2_file(&format!(
            "clarelgibson-hants-surrey/data-in/ks2/{year}-936-ks2.csv"
        ));
        s.extend(s2);
        ks2.push((s, nat));
    }
    let (now, nat) = &ks2[2];
    let absence: HashMap<String, HashMap<String, String>> =
        csv_rows(&raw("kspdeveloper-perf-tables/england_abs.csv"))
            .into_iter()
            .map(|r| {
                (
                    if r["LA"] == "NAT" {
                        format!("NAT-{}", r["ESTAB"])
                    } else {
                        r["URN"].clone()
                    },
                    r,
                )
            })
            .collect();
    let gias: HashMap<String, HashMap<String, String>> = csv_rows(&raw(
        "clarelgibson-hants-surrey/data-in/info/retired/20220420_gias.csv",
    ))
    .into_iter()
    .map(|r| (r["URN"].clone(), r))
    .collect();
    let reference = attain::dates::days_from_civil(2019, 8, 31);
    let mut inspections: HashMap<String, (i64, f64)> = HashMap::new();
    let mut note = |urn: &str, day: i64, grade: f64| {
        if day <= reference {
            let e = inspections.entry(urn.to_string()).or_insert((day, grade));
            if day > e.0 {
                *e = (day, grade);
            }
        }
    };
    for o in sheet(&raw("datajamne-attainment/england_ofsted-schools.xlsx")) {
        if let (Some(serial), Some(g)) = (
            num(o.get("Inspection date")),
            num(o.get("Overall effectiveness")),
        ) {
            note(&o["URN"], serial as i64 - 25_569, g);
        }
    }
    for (urn, g) in &gias {
        let grade = match g["OfstedRating (name)"].as_str() {
            "Outstanding" => 1.0,
            "Good" => 2.0,
            "Requires improvement" | "Satisfactory" => 3.0,
            "Inadequate" | "Serious Weaknesses" | "Special Measures" => 4.0,
            _ => continue,
        };
        let Some(day) = attain::dates::parse_date(&g["OfstedLastInsp"]) else {
            continue;
        };
        note(urn, day, grade);
    }

    let (v, _) = json_out(&[
        "categorise",
        "--rules",
        rules,
        "--year",
        "2019",
        "--store",
        store,
    ]);
    let results: HashMap<String, &Value> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["urn"].as_str().unwrap().to_string(), r))
        .collect();
    // Predecessors: GIAS's "NNN Predecessor" links and the KS2 files' URN_AC.
    let mut predecessors: HashMap<&str, Vec<&str>> = HashMap::new();
    for (urn, g) in &gias {
        for part in g["Linked establishments"].split(',') {
            let Some((other, kind)) = part.trim().split_once(' ') else {
                continue;
            };
            let (school, pred) = if kind.starts_with("Predecessor") {
                (urn.as_str(), other)
            } else if kind.starts_with("Successor") {
                (other, urn.as_str())
            } else {
                continue;
            };
            let e = predecessors.entry(school).or_default();
            if !e.contains(&pred) {
                e.push(pred);
            }
        }
    }
    for (file, _) in &ks2 {
        for (urn, row) in file {
            let ac = row["URN_AC"].trim();
            if !ac.is_empty() && ac != "0" {
                let e = predecessors.entry(ac).or_default();
                if !e.contains(&urn.as_str()) {
                    e.push(urn.as_str());
                }
            }
        }
    }
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();
    for (urn, s) in now {
        // Mainstream primaries that GIAS calls primary (the rules' phase), with a result.
        if s["RECTYPE"] != "1"
            || gias.get(urn).map(|g| g["PhaseOfEducation (name)"].as_str()) != Some("Primary")
        {
            continue;
        }
        // A school row with no KS2 cells at all (a new school: "NEW" then blanks) has no results to categorise.
        if s.get("PTRWM_EXP").is_none_or(|v| v.trim().is_empty()) {
            assert!(
                !results.contains_key(urn),
                "{urn} has no KS2 results but was categorised"
            );
            continue;
        }
        let r = results
            .get(urn)
            .unwrap_or_else(|| panic!("school {urn} not categorised"));
        let rwm = num(s.get("PTRWM_EXP"));
        let nat_rwm = num(nat.get("PTRWM_EXP")).unwrap();
        let vs = rwm.map(|x| x - nat_rwm);
        let (read, writ, mat) = (
            num(s.get("READPROG")),
            num(s.get("WRITPROG")),
            num(s.get("MATPROG")),
        );
        let gap = num(s.get("PTRWM_EXP_FSM6CLA1A"))
            .map(|x| x - num(nat.get("PTRWM_EXP_NotFSM6CLA1A")).unwrap());
        // A converter's earlier years: its predecessor's row (GIAS link or URN_AC), else the
        // prior-year column of its own 2018/19 row (docs/data-sources.md).
        let preds = predecessors.get(urn.as_str()).cloned().unwrap_or_default();
        let series: Vec<Option<f64>> = ks2
            .iter()
            .zip(["_17", "_18", ""])
            .map(|((y, _), suffix)| match y.get(urn) {
                Some(row) => num(row.get("PTRWM_EXP")),
                None => preds
                    .iter()
                    .find_map(|p| y.get(*p))
                    .map(|row| num(row.get("PTRWM_EXP")))
                    .unwrap_or_else(|| num(s.get(&format!("PTRWM_EXP{suffix}")))),
            })
            .collect();
        let (declining, change) = match (series[0], series[1], series[2]) {
            (Some(a), Some(b), Some(c)) => (Some(a > b && b > c), Some(c - a)),
            (Some(a), _, Some(c)) => (None, Some(c - a)),
            _ => (None, None),
        };
        // A school with no inspection of its own has its predecessor's.
        let inspected = inspections
            .get(urn)
            .or_else(|| preds.iter().find_map(|p| inspections.get(*p)));
        let (grade, years) = match inspected {
            Some((day, g)) => (Some(*g), Some(round1((reference - day) as f64 / 365.25))),
            None => (None, None),
        };
        let abs = absence.get(urn);
        let abs_vs = abs
            .and_then(|a| num(a.get("PERCTOT")))
            .map(|x| x - num(absence["NAT-PRI"].get("PERCTOT")).unwrap());
        let pa_vs = abs
            .and_then(|a| num(a.get("PPERSABS10")))
            .map(|x| x - num(absence["NAT-PRI"].get("PPERSABS10")).unwrap());
        // pipelines/rules/merton.toml, for a primary school.
        let red = [
            cmp(grade, |g| g == 4.0),
            and(&[
                cmp(rwm, |x| x < 65.0),
                or(&[
                    cmp(read, |x| x < -5.0),
                    cmp(writ, |x| x < -7.0),
                    cmp(mat, |x| x < -5.0),
                ]),
            ]),
        ];
        let amber = [
            cmp(grade, |g| g == 3.0),
            cmp(vs, |x| x <= -10.0),
            and(&[declining, cmp(change, |x| x <= -10.0)]),
        ];
        let yellow = [
            cmp(vs, |x| x < 0.0),
            cmp(gap, |x| x <= -20.0),
            or(&[
                cmp(abs_vs, |x| x >= 1.0 - 1e-9),
                cmp(pa_vs, |x| x >= 3.0 - 1e-9),
            ]),
            and(&[cmp(grade, |g| g == 2.0), cmp(years, |y| y >= 4.0)]),
        ];
        let expected = if red.contains(&Some(true)) {
            "red"
        } else if amber.contains(&Some(true)) {
            "amber"
        } else if yellow.contains(&Some(true)) {
            "yellow"
        } else {
            "green"
        };
        assert_eq!(r["category_id"], expected, "school {urn}: {r:#}");
        *checked.entry(expected).or_default() += 1;
        // Evidence: the figures used, and "no data" where the raw file has none.
        let ev = &r["evidence"];
        match rwm {
            Some(x) => assert_eq!(ev["ks2_rwm_expected"].as_f64(), Some(x), "{urn}"),
            None => assert_eq!(ev["ks2_rwm_expected"], "no data", "{urn}"),
        }
        if expected != "red" {
            assert_eq!(ev["ks2_rwm_expected_national"].as_f64(), Some(nat_rwm));
        }
        // Every category up to the chosen one is tried: an undecided rule in any of them is reported.
        let undecided = red.contains(&None)
            || (expected != "red" && amber.contains(&None))
            || ((expected == "yellow" || expected == "green") && yellow.contains(&None));
        assert_eq!(
            !r["no_data"].as_array().unwrap().is_empty(),
            undecided,
            "{urn}: {r:#}"
        );
        if expected == "red" && red[0] != Some(true) {
            assert!(
                r["rules_fired"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f == "Red: Below the KS2 floor standard"),
                "{r:#}"
            );
        }
    }
    eprintln!("Merton categories checked against the raw figures: {checked:?}");
    // The test means something only if it met several categories.
    assert!(
        checked.len() >= 3 && checked.values().sum::<usize>() > 300,
        "{checked:?}"
    );
}

#[test]
fn the_register_reopens_with_the_json_figures_and_bad_rules_are_config_errors() {
    let Some(store) = real_store() else { return };
    let store = store.to_str().unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/peterborough.toml");
    let out = scratch("register");
    let run = bin()
        .args(["categorise", "--rules"])
        .arg(&rules)
        .args([
            "--la", "936", "--year", "2019", "--store", store, "--format", "json", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: Value = serde_json::from_slice(&run.stdout).unwrap();
    let concern: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["concern"] == true)
        .collect();
    assert!(!concern.is_empty());
    assert!(v.as_array().unwrap().iter().all(|r| r["la_code"] == "936"));
    let rows = register(&out.join("schools-causing-concern.xlsx"));
    assert_eq!(rows.len(), concern.len());
    for (x, j) in rows.iter().zip(&concern) {
        assert_eq!(x["urn"], j["urn"].as_str().unwrap());
        assert_eq!(x["category"], j["category"].as_str().unwrap());
        assert_eq!(
            x["level_of_support"],
            j["level_of_support"].as_str().unwrap()
        );
        assert_eq!(
            x["rules_fired"],
            j["rules_fired"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("; ")
        );
        for (fact, val) in j["evidence"].as_object().unwrap() {
            match val {
                Value::Number(n) => assert_eq!(
                    x[fact].parse::<f64>().ok(),
                    n.as_f64(),
                    "{fact} of {}",
                    j["urn"]
                ),
                // Flags print as Yes / No.
                Value::Bool(b) => assert_eq!(x[fact], if *b { "Yes" } else { "No" }, "{fact}"),
                other => assert_eq!(&x[fact], other.as_str().unwrap(), "{fact}"),
            }
        }
    }
    let csv = csv_rows(&out.join("schools-causing-concern.csv"));
    assert_eq!(csv.len(), concern.len());
    assert_eq!(csv[0]["urn"], rows[0]["urn"]);

    // A bad rules file: exit code 2, the file and the problem named.
    let bad = out.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&rules)
            .unwrap()
            .replace("ks4_progress8 < -0.5", "ks4_progress_8 < -0.5"),
    )
    .unwrap();
    let run = bin()
        .args(["categorise", "--rules"])
        .arg(&bad)
        .args(["--store", store])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("bad.toml")
            && err.contains("unknown fact \"ks4_progress_8\"")
            && err.contains("Below the KS4 floor standard"),
        "{err}"
    );
    std::fs::write(
        &bad,
        "name = \"x\"\ndefault = \"a\"\n[[category]]\nid = \"a\"\n",
    )
    .unwrap();
    let run = bin()
        .args(["categorise", "--rules"])
        .arg(&bad)
        .args(["--store", store])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("missing field `support`"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_categorise_stage_writes_the_register_and_is_skipped_when_unchanged() {
    if crate::common::raw_dir().is_none() {
        return;
    }
    let dir = scratch("categorise-stage");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        raw("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv"),
        input.join("2018-850-ks2.csv"),
    )
    .unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/merton.toml");
    let toml = format!(
        "name = \"c\"\noutput = \"{out}\"\n[[stage]]\nname = \"ingest\"\nrun = \"ingest\"\ninputs = \
            [\"{inp}\"]\noutputs = [\"{store}\"]\n\
         [[stage]]\nname = \"categorise\"\nrun = \"categorise\"\ninputs = [\"{rules}\", \"{store}\"]\noutputs = \
             [\"{reg}\"]\noptions = {{ rules = \"{rules}\", la = \"850\", store = \"{store}\" }}\n",
        out = dir.join("out").display(),
        inp = input.display(),
        store = dir.join("store").display(),
        rules = rules.display(),
        reg = dir.join("register").display()
    );
    let p = dir.join("c.toml");
    std::fs::write(&p, toml).unwrap();
    let first = bin().arg("run").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{err}");
    assert!(
        err.contains("schools categorised with Merton school categories"),
        "{err}"
    );
    let xlsx = register(&dir.join("register/schools-causing-concern.xlsx"));
    let csv = csv_rows(&dir.join("register/schools-causing-concern.csv"));
    assert_eq!(xlsx.len(), csv.len());
    assert!(
        !csv.is_empty()
            && csv
                .iter()
                .all(|r| r["la_code"] == "850"
                    && (r["category"] == "Red" || r["category"] == "Amber"))
    );
    let second = bin().arg("run").arg(&p).output().unwrap();
    assert!(String::from_utf8_lossy(&second.stderr)
        .contains("stage categorise: inputs unchanged, skipped"));
}
