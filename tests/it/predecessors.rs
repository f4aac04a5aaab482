//! Academy converters: their history and Ofsted outcome continue through the predecessor
//! school that GIAS and the KS2 files link, labelled. Expected figures are read from the raw
//! files here.

use std::collections::HashMap;

use serde_json::Value;

use crate::common::{bin, raw, real_store, scratch};
use attain::analysis::data::Data;
use attain::catalogue::Catalogue;
use attain::store::Store;

/// Bordon Junior School became an academy (URN 146002) in September 2018.
const CONVERTER: &str = "146002";

fn csv(rel: &str) -> Vec<HashMap<String, String>> {
    crate::common::csv_rows(&raw(rel))
}

fn row<'a>(rows: &'a [HashMap<String, String>], urn: &str) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["URN"] == urn)
        .unwrap_or_else(|| panic!("URN {urn} not in the file"))
}

fn pct(s: &str) -> f64 {
    s.trim().trim_end_matches('%').parse().unwrap()
}

const GIAS: &str = "clarelgibson-hants-surrey/data-in/info/retired/20220420_gias.csv";
const KS2: [(i32, &str); 3] = [
    (
        2017,
        "clarelgibson-hants-surrey/data-in/ks2/2016-850-ks2.csv",
    ),
    (
        2018,
        "clarelgibson-hants-surrey/data-in/ks2/2017-850-ks2.csv",
    ),
    (
        2019,
        "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv",
    ),
];

/// The converter's predecessor by GIAS ("NNN Predecessor"), checked against URN_AC in the
/// 2017/18 KS2 file; and its name.
fn predecessor() -> (String, String) {
    let gias = csv(GIAS);
    let links = &row(&gias, CONVERTER)["Linked establishments"];
    let pred = links
        .strip_suffix(" Predecessor")
        .unwrap_or_else(|| panic!("{links}"))
        .to_string();
    let ks2_2018 = csv(KS2[1].1);
    assert_eq!(row(&ks2_2018, &pred)["URN_AC"], CONVERTER);
    let name = row(&gias, &pred)["EstablishmentName"].clone();
    (pred, name)
}

#[test]
fn a_converter_s_history_continues_through_its_predecessor_labelled() {
    let Some(store_dir) = real_store() else {
        return;
    };
    let (pred, name) = predecessor();
    // Raw: the predecessor's own rows for 2017 and 2018, the converter's own row for 2019.
    let expected: Vec<(i32, f64, Option<String>)> = KS2
        .iter()
        .map(|(year, file)| {
            let rows = csv(file);
            let (urn, label) = if *year < 2019 {
                (
                    pred.as_str(),
                    Some(format!("predecessor school: {name} ({pred})")),
                )
            } else {
                (CONVERTER, None)
            };
            (*year, pct(&row(&rows, urn)["PTRWM_EXP"]), label)
        })
        .collect();
    let cat = Catalogue::builtin();
    let store = Store::at(store_dir);
    let data = Data::open(&store, &cat).unwrap();
    let lineage = data.lineage(CONVERTER).unwrap();
    assert_eq!(lineage[0].urn, pred, "{lineage:?}");
    assert_eq!(lineage[0].name, name);
    assert_eq!(lineage[0].link_type, "Predecessor");
    assert_eq!(lineage[0].source, "gias, urn_ac");
    // GIAS's open date of the academy.
    let gias = csv(GIAS);
    let opened = &row(&gias, CONVERTER)["OpenDate"];
    let (d, m, y) = (&opened[..2], &opened[3..5], &opened[6..]);
    assert_eq!(
        lineage[0].date.as_deref(),
        Some(format!("{y}-{m}-{d}").as_str())
    );

    let history = data
        .school_history(CONVERTER, "ks2_rwm_expected", "all", &[2017, 2018, 2019])
        .unwrap();
    let got: Vec<(i32, f64, Option<String>)> = history
        .iter()
        .map(|p| (p.year, p.value().unwrap(), p.label.clone()))
        .collect();
    assert_eq!(got, expected);

    // `attain trend` at school level shows the same series with the labels.
    let out = bin()
        .args([
            "trend",
            "--measure",
            "ks2_rwm_expected",
            "--code",
            CONVERTER,
            "--from",
            "2017",
            "--to",
            "2019",
            "--format",
            "json",
            "--store",
        ])
        .arg(store_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (p, (year, value, label)) in v["points"].as_array().unwrap().iter().zip(&expected) {
        assert_eq!(p["year"], *year);
        assert_eq!(p["value"].as_f64(), Some(*value));
        assert_eq!(p["source"].as_str(), label.as_deref());
    }
}

#[test]
fn without_the_predecessor_s_files_the_prior_year_columns_give_the_history() {
    // Only the 2018/19 file: the converter's earlier years come from its PTRWM_EXP_18 / _17.
    let store_dir = scratch("prior-year-columns").join("store");
    let out = bin()
        .arg("ingest")
        .arg(raw(KS2[2].1))
        .arg("--store")
        .arg(&store_dir)
        .output()
        .unwrap();
    if !out.status.success() {
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let rows = csv(KS2[2].1);
    let own = row(&rows, CONVERTER);
    let cat = Catalogue::builtin();
    let store = Store::at(&store_dir);
    let data = Data::open(&store, &cat).unwrap();
    let history = data
        .school_history(CONVERTER, "ks2_rwm_expected", "all", &[2017, 2018, 2019])
        .unwrap();
    for (p, column) in history.iter().zip(["PTRWM_EXP_17", "PTRWM_EXP_18"]) {
        assert_eq!(p.value(), Some(pct(&own[column])), "{p:?}");
        assert_eq!(
            p.label.as_deref(),
            Some(format!("prior-year column {column} in the 2019 file").as_str())
        );
        assert_eq!(
            p.record.as_ref().unwrap().cohort,
            Some(own[&column.replace("PTRWM_EXP", "TELIG")].parse().unwrap())
        );
    }
    assert_eq!(history[2].value(), Some(pct(&own["PTRWM_EXP"])));
    assert_eq!(history[2].label, None);
    // The prior-year columns are not results of their own year: the results table has no 2018.
    assert_eq!(
        data.years("ks2_rwm_expected", attain::store::schema::Level::School)
            .unwrap(),
        [2019]
    );
}

#[test]
fn categorise_takes_a_converter_s_three_year_facts_and_ofsted_from_its_predecessor() {
    let Some(store_dir) = real_store() else {
        return;
    };
    let (pred, name) = predecessor();
    let label = format!("predecessor school: {name} ({pred})");
    let series: Vec<f64> = KS2
        .iter()
        .map(|(year, file)| {
            let rows = csv(file);
            pct(&row(&rows, if *year < 2019 { &pred } else { CONVERTER })["PTRWM_EXP"])
        })
        .collect();
    // The predecessor's inspection as GIAS gives it; the converter has none of its own.
    let gias = csv(GIAS);
    assert_eq!(row(&gias, CONVERTER)["OfstedRating (name)"], "");
    let p = row(&gias, &pred);
    let grade: i32 = match p["OfstedRating (name)"].as_str() {
        "Outstanding" => 1,
        "Good" => 2,
        "Requires improvement" => 3,
        "Inadequate" => 4,
        other => panic!("{other}"),
    };
    let inspected = attain::dates::parse_date(&p["OfstedLastInsp"]).unwrap();

    let rules = scratch("converter-rules").join("rules.toml");
    std::fs::write(
        &rules,
        r#"name = "Three-year test"
default = "steady"

[[category]]
id = "falling"
support = "Review"
  [[category.rule]]
  name = "Fell over three years"
  all = ["ks2_rwm_expected_change_3y < 0", "ofsted_grade >= 1"]

[[category]]
id = "steady"
support = "Universal"
"#,
    )
    .unwrap();
    let out = bin()
        .args(["categorise", "--rules"])
        .arg(&rules)
        .args([
            "--year", "2019", "--la", "850", "--format", "json", "--store",
        ])
        .arg(store_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["urn"] == CONVERTER)
        .unwrap();
    let change = series[2] - series[0];
    assert_eq!(
        r["evidence"]["ks2_rwm_expected_change_3y"].as_f64(),
        Some(change),
        "{r:#}"
    );
    assert_eq!(
        r["evidence"]["ofsted_grade"].as_i64(),
        Some(grade as i64),
        "{r:#}"
    );
    assert_eq!(
        r["category_id"],
        if change < 0.0 { "falling" } else { "steady" }
    );
    assert_eq!(
        r["history_from"],
        serde_json::json!([
            format!("ks2_rwm_expected 2017: {label}"),
            format!("ks2_rwm_expected 2018: {label}"),
        ])
    );

    // The Ofsted outcome: the predecessor's latest inspection, labelled as the predecessor's.
    let cat = Catalogue::builtin();
    let store = Store::at(store_dir);
    let data = Data::open(&store, &cat).unwrap();
    let all = data.school_inspections(None).unwrap();
    let s = &all[CONVERTER];
    let latest = s.latest_graded.as_ref().unwrap();
    assert_eq!((latest.overall, latest.date), (Some(grade), inspected));
    assert_eq!(s.inherited_from.as_deref(), Some(label.as_str()));
    assert_eq!(all[pred.as_str()].inherited_from, None);
    let view = attain::analysis::inspection::view(s).unwrap();
    assert!(
        view.summary
            .starts_with(&format!("Inspected as its {label}")),
        "{}",
        view.summary
    );
    assert_eq!(view.grade, Some(grade));
}

#[test]
fn a_converter_s_booklet_shows_its_predecessor_s_years_and_inspection_labelled() {
    let Some(store) = real_store() else {
        return;
    };
    let (pred, name) = predecessor();
    let out = scratch("converter-booklet");
    let o = bin()
        .args(["booklet", "--school", CONVERTER, "--year", "2019", "--out"])
        .arg(&out)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html_path = std::fs::read_dir(out.join("850"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .unwrap();
    let html = std::fs::read_to_string(html_path)
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    // The RWM chart: the predecessor's 2016/17 and 2017/18 figures, then the academy's own.
    let values: Vec<String> = KS2
        .iter()
        .map(|(year, file)| {
            let urn = if *year < 2019 {
                pred.as_str()
            } else {
                CONVERTER
            };
            format!("{}", pct(&row(&csv(file), urn)["PTRWM_EXP"]))
        })
        .collect();
    let caption = format!(
        "{}. School: 2016/17 {}, 2017/18 {}, 2018/19 {}.",
        crate::common::measure_label("ks2_rwm_expected"),
        values[0],
        values[1],
        values[2]
    );
    assert!(html.contains(&caption), "{caption}");
    let label = format!("predecessor school: {name} ({pred})");
    for year in ["2016/17", "2017/18"] {
        assert!(html.contains(&format!("School {year}: {label}.")), "{year}");
    }
    assert!(!html.contains("School 2018/19: predecessor"));
    assert!(html.contains(&format!("Inspected as its {label}")));
    // A primary's sources are its own key stage's files, not KS4 files read for nothing.
    assert!(html.contains("2018-850-ks2.csv"));
    assert!(
        !html.contains("ks4final"),
        "a KS4 file among a primary's sources"
    );
}
