//! Per-LA performance-tables downloads (Hertfordshire's census, absence and school
//! information) and the older census layouts. Expected figures are computed here from the
//! raw rows, never taken from attain's output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use attain::store::frame::{query_results, schools_from_frame, ResultFilter, ResultRecord};
use attain::store::Store;
use serde_json::Value;

use crate::common::{bin, raw, raw_dir, scratch};

const HERTS: &str = "jshi12-hertfordshire/data/2023-2024";

/// A CSV as header and rows of trimmed strings (BOM stripped, ragged rows padded).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap())
        .map(|rec| {
            (0..headers.len())
                .map(|i| rec.get(i).unwrap_or("").trim().to_string())
                .collect()
        })
        .collect();
    (headers, rows)
}

fn col(headers: &[String], name: &str) -> usize {
    headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn ingest(files: &[PathBuf], store: &Path) {
    let out = bin()
        .arg("ingest")
        .args(files)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stored(store: &Path, f: ResultFilter) -> Vec<ResultRecord> {
    query_results(Store::at(store).scan("results").unwrap(), &f).unwrap()
}

fn json(args: &[&str], store: &Path) -> Value {
    let out = bin()
        .args(args)
        .arg("--store")
        .arg(store)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The census phase rows: DfE's PRI row covers state-funded primaries, SEC state-funded
/// secondaries, SPE special schools, state-funded and non-maintained.
fn census_phase(school_type: &str) -> Option<&'static str> {
    match school_type {
        "State-funded primary" => Some("PRI"),
        "State-funded secondary" => Some("SEC"),
        "State-funded special school" | "Non-maintained special school" => Some("SPE"),
        _ => None,
    }
}

#[test]
fn hertfordshire_census_la_rows_are_la_records_and_equal_the_pooled_school_rows() {
    if raw_dir().is_none() {
        return;
    }
    let file = raw(&format!("{HERTS}/919_census.csv"));
    let (h, rows) = read_csv(&file);
    let (urn, estab, stype) = (col(&h, "URN"), col(&h, "Estab"), col(&h, "SCHOOLTYPE"));
    let counts = ["NOR", "NORG", "TSENELSE", "TSENELK", "NUMFSM"];
    // From the raw file: each LA phase row, and the sum of its schools.
    let mut published: BTreeMap<(String, &str), f64> = BTreeMap::new();
    let mut pooled: BTreeMap<(String, &str), f64> = BTreeMap::new();
    for r in &rows {
        for c in counts {
            let v: Option<f64> = r[col(&h, c)].parse().ok();
            if r[urn] == "LA" {
                published.insert((r[estab].clone(), c), v.unwrap());
            } else if let (Some(p), Some(v)) = (census_phase(&r[stype]), v) {
                if r[urn] != "NAT" {
                    *pooled.entry((p.to_string(), c)).or_default() += v;
                }
            }
        }
    }
    assert_eq!(
        published.len(),
        15,
        "three LA rows (PRI, SEC, SPE) of five counts"
    );
    assert_eq!(
        published, pooled,
        "the raw LA rows are the sums of their schools"
    );

    let store = scratch("herts-census").join("store");
    ingest(std::slice::from_ref(&file), &store);
    let la_rows = stored(
        &store,
        ResultFilter {
            measure: Some("census_pupils".into()),
            level: Some(attain::store::schema::Level::La),
            ..Default::default()
        },
    );
    let by_phase: BTreeMap<&str, (&str, i32, Option<f64>)> = la_rows
        .iter()
        .map(|r| (r.phase.as_str(), (r.code.as_str(), r.year, r.value)))
        .collect();
    for (code, phase) in [("PRI", "primary"), ("SEC", "secondary"), ("SPE", "special")] {
        assert_eq!(
            by_phase.get(phase),
            Some(&("919", 2024, Some(published[&(code.to_string(), "NOR")]))),
            "LA row {code}"
        );
    }
    // attain's own pooling of the school rows agrees, phase by phase, for counts and rates.
    let rec = json(
        &[
            "reconcile",
            "--measure",
            "census_pupils",
            "--la",
            "919",
            "--year",
            "2024",
        ],
        &store,
    );
    let rec = rec.as_array().unwrap();
    assert_eq!(rec.len(), 3, "{rec:?}");
    for r in rec {
        let code = match r["phase"].as_str().unwrap() {
            "primary" => "PRI",
            "secondary" => "SEC",
            _ => "SPE",
        };
        assert_eq!(
            r["computed"].as_f64(),
            Some(pooled[&(code.to_string(), "NOR")]),
            "{r}"
        );
        assert_eq!(
            r["published"].as_f64(),
            Some(published[&(code.to_string(), "NOR")]),
            "{r}"
        );
        assert_eq!(r["explanation"], "exact", "{r}");
    }
    let rec = json(
        &[
            "reconcile",
            "--measure",
            "census_fsm_pct",
            "--la",
            "919",
            "--year",
            "2024",
        ],
        &store,
    );
    for r in rec.as_array().unwrap() {
        let code = match r["phase"].as_str().unwrap() {
            "primary" => "PRI",
            "secondary" => "SEC",
            _ => "SPE",
        };
        let key = |c: &'static str| (code.to_string(), c);
        let expected = pooled[&key("NUMFSM")] / pooled[&key("NOR")] * 100.0;
        // Rebuilt figures are given at 4 decimals (attain::number::FREE_DPS).
        assert!(
            (r["computed"].as_f64().unwrap() - expected).abs() <= 0.5e-4 + 1e-9,
            "{r}"
        );
        assert!(
            (r["published"].as_f64().unwrap()
                - published[&key("NUMFSM")] / published[&key("NOR")] * 100.0)
                .abs()
                < 1e-9,
            "{r}"
        );
    }
    // The national phase rows stay national.
    let nat = stored(
        &store,
        ResultFilter {
            measure: Some("census_pupils".into()),
            level: Some(attain::store::schema::Level::National),
            phase: Some("secondary".into()),
            ..Default::default()
        },
    );
    let nat_raw: f64 = rows
        .iter()
        .find(|r| r[urn] == "NAT" && r[estab] == "SEC")
        .map(|r| r[col(&h, "NOR")].parse().unwrap())
        .unwrap();
    assert_eq!(
        nat.iter().map(|r| r.value).collect::<Vec<_>>(),
        vec![Some(nat_raw)]
    );
}

#[test]
fn hertfordshire_absence_la_rows_are_la_records_and_a_school_booklet_shows_its_absence() {
    if raw_dir().is_none() {
        return;
    }
    let abs = raw(&format!("{HERTS}/919_abs.csv"));
    let (h, rows) = read_csv(&abs);
    let (la, estab, urn, tot, pa) = (
        col(&h, "LA"),
        col(&h, "ESTAB"),
        col(&h, "URN"),
        col(&h, "PERCTOT"),
        col(&h, "PPERSABS10"),
    );
    let store = scratch("herts-absence").join("store");
    let census = raw(&format!("{HERTS}/919_census.csv"));
    let ks2 = raw(&format!("{HERTS}/919_ks2final.csv"));
    ingest(&[abs.clone(), census, ks2.clone()], &store);
    let la_rows = stored(
        &store,
        ResultFilter {
            measure: Some("absence_overall".into()),
            level: Some(attain::store::schema::Level::La),
            ..Default::default()
        },
    );
    for (code, phase) in [("PRI", "primary"), ("SEC", "secondary"), ("SPE", "special")] {
        let raw_row = rows
            .iter()
            .find(|r| r[la] == "919" && r[estab] == code)
            .unwrap();
        let got: Vec<(&str, Option<f64>)> = la_rows
            .iter()
            .filter(|r| r.phase == phase)
            .map(|r| (r.code.as_str(), r.value))
            .collect();
        assert_eq!(
            got,
            vec![("919", raw_row[tot].parse().ok())],
            "LA {code} row"
        );
    }
    let schools = rows.iter().filter(|r| !r[urn].is_empty()).count();
    let school_rows = stored(
        &store,
        ResultFilter {
            measure: Some("absence_persistent".into()),
            level: Some(attain::store::schema::Level::School),
            ..Default::default()
        },
    );
    assert_eq!(
        school_rows.len(),
        schools,
        "every school row, no LA row read as a school"
    );

    // A primary with KS2 results: its booklet prints its own absence figures and its LA's
    // primary figures from DfE's LA row, in the store of every real file (where other files
    // give all-phase absence figures too).
    let store = crate::common::real_store().unwrap();
    let (kh, krows) = read_csv(&ks2);
    let (rectype, kurn) = (col(&kh, "RECTYPE"), col(&kh, "URN"));
    let school = rows
        .iter()
        .find(|r| {
            !r[urn].is_empty()
                && r[tot].contains('.')
                && krows.iter().any(|k| k[rectype] == "1" && k[kurn] == r[urn])
        })
        .expect("a Hertfordshire primary in both files");
    let out_dir = scratch("herts-absence-booklet");
    let out = bin()
        .args([
            "booklet",
            "--school",
            &school[urn],
            "--year",
            "2024",
            "--html-only",
            "--out",
        ])
        .arg(&out_dir)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_dir(out_dir.join("919"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(school[urn].as_str())
                && p.extension().is_some_and(|x| x == "html")
        })
        .expect("the school's booklet");
    let html = std::fs::read_to_string(html).unwrap();
    // Each attendance row: the school, DfE's Hertfordshire primary row and England's
    // state-funded primary row (the same phase), in that order.
    let find = |code: &str, phase: &str| {
        rows.iter()
            .find(|r| r[la] == code && r[estab] == phase)
            .unwrap()
    };
    let (la_primary, england_primary) = (find("919", "PRI"), find("NAT", "PRI"));
    let pct = |v: &str| format!("{:.1}%", v.parse::<f64>().unwrap());
    for (label, c) in [("Overall absence", tot), ("Persistent absence", pa)] {
        let expected = format!(
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td>",
            pct(&school[c]),
            pct(&la_primary[c]),
            pct(&england_primary[c])
        );
        assert!(
            html.contains(&expected),
            "{expected} in the attendance table"
        );
    }
}

#[test]
fn hertfordshire_school_information_reaches_the_schools_table() {
    if raw_dir().is_none() {
        return;
    }
    let file = raw(&format!("{HERTS}/919_school_information.csv"));
    let (h, rows) = read_csv(&file);
    let store = scratch("herts-info").join("store");
    ingest(std::slice::from_ref(&file), &store);
    let schools = schools_from_frame(&Store::at(&store).read("schools").unwrap()).unwrap();
    assert_eq!(schools.len(), rows.len(), "one school per row");
    let by_urn: BTreeMap<&str, &attain::store::schema::SchoolRow> =
        schools.iter().map(|s| (s.urn.as_str(), s)).collect();
    let c = |n: &str| col(&h, n);
    // A closed school with a close date, and an open one with its address and admissions policy.
    let closed = rows
        .iter()
        .find(|r| !r[c("CLOSEDATE")].is_empty())
        .expect("a closed school");
    let s = by_urn[closed[c("URN")].as_str()];
    let (d, m, y) = {
        let p: Vec<i64> = closed[c("CLOSEDATE")]
            .split('-')
            .map(|x| x.parse().unwrap())
            .collect();
        (p[0], p[1], p[2])
    };
    assert_eq!(
        s.close_date.map(attain::dates::iso_from_days),
        Some(format!("{y:04}-{m:02}-{d:02}"))
    );
    let open = rows
        .iter()
        .find(|r| {
            r[c("SCHSTATUS")] == "Open"
                && !r[c("STREET")].is_empty()
                && r[c("ADMPOL")] != "Not applicable"
                && !r[c("ADMPOL")].is_empty()
        })
        .unwrap();
    let s = by_urn[open[c("URN")].as_str()];
    assert_eq!(s.name.as_deref(), Some(open[c("SCHNAME")].as_str()));
    assert_eq!(s.la_code.as_deref(), Some("919"));
    assert_eq!(s.la_name.as_deref(), Some("Hertfordshire"));
    assert_eq!(s.postcode.as_deref(), Some(open[c("POSTCODE")].as_str()));
    assert_eq!(
        s.admissions_policy.as_deref(),
        Some(open[c("ADMPOL")].as_str())
    );
    assert!(s
        .address
        .as_deref()
        .unwrap()
        .starts_with(&open[c("STREET")]));
    assert_eq!(s.low_age, open[c("AGELOW")].parse().ok());
    // Phase from the flags; LA-maintained from the type group.
    for r in &rows {
        let s = by_urn[r[c("URN")].as_str()];
        let expected = match (r[c("ISPRIMARY")].as_str(), r[c("ISSECONDARY")].as_str()) {
            ("1", "1") => Some("all_through"),
            ("1", _) => Some("primary"),
            (_, "1") => Some("secondary"),
            _ if r[c("ISPOST16")] == "1" => Some("16_plus"),
            _ => None,
        };
        assert_eq!(s.phase.as_deref(), expected, "{}", r[c("URN")]);
        if r[c("MINORGROUP")] == "Maintained school" {
            assert_eq!(s.la_maintained, Some(true), "{}", r[c("URN")]);
        } else if r[c("MINORGROUP")] == "Academy" {
            assert_eq!(s.la_maintained, Some(false), "{}", r[c("URN")]);
        }
    }
}

/// Write a per-LA census download in an older layout, made from the national January 2019
/// file's rows for one LA: its school rows, then LA and national rows per phase computed
/// from them (NOR and FSM; other fields left empty). `keep` is the layout's header.
fn older_census(
    dir: &Path,
    la_code: &str,
    keep: &[&str],
) -> (PathBuf, BTreeMap<&'static str, f64>) {
    let (h, rows) = read_csv(&raw("kspdeveloper-perf-tables/england_census.csv"));
    let c = |n: &str| col(&h, n);
    let mut nor: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut fsm: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut text = keep.join(",") + "\r\n";
    for r in rows.iter().filter(|r| r[c("LA")] == la_code) {
        let line: Vec<String> = keep
            .iter()
            .map(|k| match *k {
                // January 2017/2018: FSM as a percentage of pupils on roll, 1 dp.
                "PNUMFSM" => r[c("NUMFSM")]
                    .parse::<f64>()
                    .ok()
                    .zip(r[c("NOR")].parse::<f64>().ok())
                    .map(|(f, n)| format!("{:.1}", f / n * 100.0))
                    .unwrap_or_else(|| "NA".into()),
                k => r[c(k)].clone(),
            })
            .collect();
        text += &(line.join(",") + "\r\n");
        let phase = match r[c("SCHOOLTYPE")].as_str() {
            "State-funded primary" => "PRI",
            "State-funded secondary" => "SEC",
            _ => continue,
        };
        *nor.entry(phase).or_default() += r[c("NOR")].parse::<f64>().unwrap();
        *fsm.entry(phase).or_default() += r[c("NUMFSM")].parse::<f64>().unwrap();
    }
    for (phase, name) in [
        ("PRI", "State-funded primary"),
        ("SEC", "State-funded secondary"),
    ] {
        for (rec, la) in [("LA", la_code), ("NAT", "")] {
            let line: Vec<String> = keep
                .iter()
                .map(|k| match *k {
                    "URN" => rec.to_string(),
                    "LA" => la.to_string(),
                    "ESTAB" => phase.to_string(),
                    "SCHOOLTYPE" => name.to_string(),
                    "NOR" => format!("{}", nor[phase]),
                    "NUMFSM" => format!("{}", fsm[phase]),
                    "PNUMFSM" => format!("{:.1}", fsm[phase] / nor[phase] * 100.0),
                    _ => String::new(),
                })
                .collect();
            text += &(line.join(",") + "\r\n");
        }
    }
    let path = dir.join(format!("{la_code}_census.csv"));
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&path, text).unwrap();
    (path, nor)
}

#[test]
fn a_2019_per_la_census_with_la_rows_ingests_and_its_la_rows_equal_the_pooled_schools() {
    if raw_dir().is_none() {
        return;
    }
    let header = [
        "URN",
        "LA",
        "ESTAB",
        "SCHOOLTYPE",
        "NOR",
        "NORG",
        "NORB",
        "PNORG",
        "PNORB",
        "TSENELSE",
        "PSENELSE",
        "TSENELK",
        "PSENELK",
        "NUMEAL",
        "NUMENGFL",
        "NUMUNCFL",
        "PNUMEAL",
        "PNUMENGFL",
        "PNUMUNCFL",
        "NUMFSM",
        "NUMFSMEVER",
        "PNUMFSMEVER",
    ];
    let dir = scratch("census-2019-per-la").join("2018-2019");
    let (file, nor) = older_census(&dir, "815", &header);
    let store = dir.parent().unwrap().join("store");
    ingest(&[file], &store);
    let rec = json(
        &[
            "reconcile",
            "--measure",
            "census_pupils",
            "--la",
            "815",
            "--year",
            "2019",
        ],
        &store,
    );
    let rec = rec.as_array().unwrap();
    assert_eq!(rec.len(), 2, "{rec:?}");
    for r in rec {
        let phase = if r["phase"] == "primary" {
            "PRI"
        } else {
            "SEC"
        };
        assert_eq!(
            (
                r["published"].as_f64(),
                r["computed"].as_f64(),
                r["explanation"].as_str()
            ),
            (Some(nor[phase]), Some(nor[phase]), Some("exact")),
            "{r}"
        );
    }
}

#[test]
fn a_january_2018_census_without_schooltype_ingests_with_its_la_and_national_rows() {
    if raw_dir().is_none() {
        return;
    }
    let header = [
        "URN",
        "LA",
        "ESTAB",
        "NOR",
        "NORG",
        "NORB",
        "PNORG",
        "PNORB",
        "TSENELSE",
        "PSENELSE",
        "TSENELK",
        "PSENELK",
        "NUMEAL",
        "NUMENGFL",
        "NUMUNCFL",
        "PNUMEAL",
        "PNUMENGFL",
        "PNUMUNCFL",
        "PNUMFSM",
        "NUMFSMEVER",
        "PNUMFSMEVER",
    ];
    let dir = scratch("census-2018-per-la").join("2017-2018");
    let (file, nor) = older_census(&dir, "815", &header);
    let store = dir.parent().unwrap().join("store");
    ingest(std::slice::from_ref(&file), &store);
    let inspect = json(&["inspect", file.to_str().unwrap()], &store);
    let t = &inspect["tables"][0];
    assert_eq!(
        (t["dataset"].as_str(), t["year"].as_i64()),
        (Some("census_performance_tables"), Some(2018)),
        "{inspect}"
    );
    let la = stored(
        &store,
        ResultFilter {
            measure: Some("census_pupils".into()),
            level: Some(attain::store::schema::Level::La),
            ..Default::default()
        },
    );
    let got: BTreeMap<&str, (&str, Option<f64>)> = la
        .iter()
        .map(|r| (r.phase.as_str(), (r.code.as_str(), r.value)))
        .collect();
    assert_eq!(got.get("primary"), Some(&("815", Some(nor["PRI"]))));
    assert_eq!(got.get("secondary"), Some(&("815", Some(nor["SEC"]))));
    // FSM from the percentage column.
    let fsm = stored(
        &store,
        ResultFilter {
            measure: Some("census_fsm_pct".into()),
            level: Some(attain::store::schema::Level::School),
            ..Default::default()
        },
    );
    assert!(
        fsm.len() > 50 && fsm.iter().all(|r| r.source_column == "PNUMFSM"),
        "{}",
        fsm.len()
    );
}

#[test]
fn inspect_and_the_analysis_follow_the_documented_precedence_between_files() {
    if raw_dir().is_none() {
        return;
    }
    let final_file = raw(&format!("{HERTS}/919_ks2final.csv"));
    let (h, rows) = read_csv(&final_file);
    let (rectype, rwm) = (col(&h, "RECTYPE"), col(&h, "PTRWM_EXP"));
    let la_rwm: f64 = rows.iter().find(|r| r[rectype] == "3").unwrap()[rwm]
        .trim_end_matches('%')
        .parse()
        .unwrap();
    // An earlier, provisional release of the same file whose LA figure differs.
    let dir = scratch("precedence").join("2023-2024");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(&final_file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let la_line = lines.iter().position(|l| l.starts_with("3,")).unwrap();
    let mut cells: Vec<String> = lines[la_line].split(',').map(str::to_string).collect();
    cells[rwm] = format!("{}%", la_rwm - 2.0);
    lines[la_line] = cells.join(",");
    let provisional = dir.join("919_ks2provisional.csv");
    std::fs::write(&provisional, lines.join("\n")).unwrap();
    let store = dir.parent().unwrap().join("store");
    ingest(&[final_file.clone(), provisional.clone()], &store);

    // The analysis reads the final release's LA figure.
    let rec = json(
        &[
            "reconcile",
            "--measure",
            "ks2_rwm_expected",
            "--la",
            "919",
            "--year",
            "2024",
        ],
        &store,
    );
    let published: Vec<f64> = rec
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["published"].as_f64())
        .collect();
    assert!(
        published.contains(&la_rwm) && published.contains(&(la_rwm - 2.0)),
        "both releases are kept apart in the store: {rec}"
    );
    let cat = attain::catalogue::Catalogue::builtin();
    let st = Store::at(&store);
    let data = attain::analysis::data::Data::open(&st, &cat).unwrap();
    let best = data
        .best(
            "ks2_rwm_expected",
            "all",
            2024,
            attain::store::schema::Level::La,
            Some("919"),
        )
        .unwrap();
    assert_eq!(best["919"].value, Some(la_rwm), "the final release wins");

    // `attain inspect --store` says so, for each file.
    let inspect = |f: &Path| -> Value {
        let out = bin()
            .arg("inspect")
            .arg(f)
            .arg("--store")
            .arg(&store)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let in_store = |f: &Path| {
        stored(
            &store,
            ResultFilter {
                dataset: Some("ks2_performance_tables".into()),
                ..Default::default()
            },
        )
        .into_iter()
        .filter(|r| Path::new(&r.source_file) == f)
        .count()
    };
    let p = inspect(&provisional);
    assert_eq!(p["tables"][0]["version"], "provisional");
    assert_eq!(p["tables"][0]["coverage"], "per-LA download (LA 919)");
    assert_eq!(p["precedence"]["figures_used"], 0, "{p}");
    let superseded: u64 = p["precedence"]["superseded_by"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(superseded as usize, in_store(&provisional));
    assert!(
        p["precedence"]["superseded_by"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| k.contains("919_ks2final.csv") && k.ends_with("(final)")),
        "{p}"
    );
    let f = inspect(&final_file);
    assert_eq!(
        f["precedence"]["figures_used"].as_u64().unwrap() as usize,
        in_store(&final_file)
    );
    assert!(f["precedence_rule"]
        .as_str()
        .unwrap()
        .starts_with("where two files give the same figure, the later release wins"));
}
