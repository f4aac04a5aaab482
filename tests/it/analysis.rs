//! Analysis oracles from PROVENANCE.md, through the CLI's JSON.

use serde_json::Value;

use crate::common::{bin, real_store};

fn json(args: &[&str]) -> Value {
    let store = real_store().unwrap();
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

fn row<'a>(v: &'a Value, key: &str, code: &str) -> &'a Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == code)
        .unwrap_or_else(|| panic!("no row {code}"))
}

#[test]
fn ks2_rwm_2019_ranks_quartiles_top10_and_neighbours() {
    if real_store().is_none() {
        return;
    }
    let v = json(&[
        "rank",
        "--measure",
        "ks2_rwm_expected",
        "--year",
        "2019",
        "--neighbours",
        "2021",
    ]);
    let barnet = row(&v, "la_code", "302");
    assert_eq!(
        (
            barnet["value"].as_f64(),
            barnet["rank"].as_u64(),
            barnet["of"].as_u64()
        ),
        (Some(73.0), Some(8), Some(149))
    );
    assert_eq!(barnet["top10"], true);
    // floor(0.1 x 149) = 14 LAs make the top 10%; the 14th best value is 73.
    assert_eq!(barnet["top10_threshold"].as_f64(), Some(73.0));
    assert_eq!(barnet["distance_to_top10"].as_f64(), Some(0.0));
    let surrey = row(&v, "la_code", "936");
    assert_eq!(surrey["rank"].as_u64(), Some(21));
    let hants = row(&v, "la_code", "850");
    assert_eq!(hants["rank"].as_u64(), Some(35));
    let tied: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["value"].as_f64() == Some(68.0))
        .collect();
    assert_eq!(tied.len(), 10, "ten LAs tie at 68");
    assert!(tied.iter().all(|r| r["rank"].as_u64() == Some(35)));
    // Q3 is exactly 68: "A if value > Q3" puts Hampshire in B.
    assert_eq!(hants["quartile"], "B");
    assert_eq!(hants["top10"], false);
    assert_eq!(hants["distance_to_top10"].as_f64(), Some(5.0));
    assert_eq!(
        (hants["sn_rank"].as_u64(), hants["sn_of"].as_u64()),
        (Some(1), Some(11))
    );
    assert!((hants["sn_average"].as_f64().unwrap() - 64.7).abs() < 1e-9);
    // Pre-2019 Bournemouth has "-": no value, no rank.
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["value"].is_null())
        .all(|r| r["rank"].is_null()));
}

#[test]
fn attainment8_2019_ranks() {
    if real_store().is_none() {
        return;
    }
    let v = json(&["rank", "--measure", "ks4_attainment8", "--year", "2019"]);
    let get = |c: &str| {
        (
            row(&v, "la_code", c)["value"].as_f64(),
            row(&v, "la_code", c)["rank"].as_u64(),
            row(&v, "la_code", c)["of"].as_u64(),
        )
    };
    assert_eq!(get("302"), (Some(57.1), Some(2), Some(150)));
    assert_eq!(get("936"), (Some(50.3), Some(23), Some(150)));
    assert_eq!(get("850"), (Some(47.6), Some(48), Some(150)));
}

#[test]
fn ks2_la_aggregation_reconciles_with_the_la_rows() {
    if real_store().is_none() {
        return;
    }
    let v = json(&[
        "reconcile",
        "--measure",
        "ks2_rwm_expected",
        "--year",
        "2019",
    ]);
    let h = row(&v, "code", "850");
    assert!(
        (h["computed"].as_f64().unwrap() - 67.75).abs() < 0.005,
        "{h}"
    );
    assert_eq!(
        (h["computed_rounded"].as_f64(), h["published"].as_f64()),
        (Some(68.0), Some(68.0))
    );
    let s = row(&v, "code", "936");
    assert!(
        (s["computed"].as_f64().unwrap() - 70.09).abs() < 0.005,
        "{s}"
    );
    assert_eq!(s["published"].as_f64(), Some(70.0));
    let d = json(&[
        "reconcile",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--year",
        "2019",
        "--la",
        "850",
    ]);
    assert!((d[0]["computed"].as_f64().unwrap() - 49.1).abs() < 0.05);
    assert_eq!(d[0]["published"].as_f64(), Some(49.0));
    let o = json(&[
        "reconcile",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "not_disadvantaged",
        "--year",
        "2019",
        "--la",
        "850",
    ]);
    assert!((o[0]["computed"].as_f64().unwrap() - 72.4).abs() < 0.05);
    assert_eq!(o[0]["published"].as_f64(), Some(73.0));
    assert!(o[0]["difference"].as_f64().unwrap().abs() <= 1.0);
    assert!(o[0]["explanation"]
        .as_str()
        .unwrap()
        .starts_with("suppression"));
    // The TELIG count is exact.
    let c = json(&[
        "reconcile",
        "--measure",
        "ks2_cohort",
        "--year",
        "2019",
        "--la",
        "850",
    ]);
    assert_eq!(
        (c[0]["computed"].as_f64(), c[0]["explanation"].as_str()),
        (Some(14855.0), Some("exact"))
    );
}

#[test]
fn ks4_disadvantage_gaps_from_numerators() {
    if real_store().is_none() {
        return;
    }
    let v = json(&[
        "gaps",
        "--measure",
        "ks4_attainment8",
        "--group",
        "disadvantaged",
        "--year",
        "2019",
    ]);
    let h = row(&v, "code", "850");
    assert!(
        (h["group_value"].as_f64().unwrap() - 74897.0 / 2222.0).abs() < 1e-6,
        "{h}"
    );
    assert!((h["comparison_value"].as_f64().unwrap() - 534941.25 / 10596.0).abs() < 1e-6);
    assert_eq!(h["gap"].as_f64(), Some(-16.8));
    assert_eq!(h["comparison"], "not_disadvantaged");
    let s = row(&v, "code", "936");
    assert_eq!(s["gap"].as_f64(), Some(-17.5));
    let b = row(&v, "code", "302");
    assert_eq!(
        (
            round1(b["group_value"].as_f64()),
            round1(b["comparison_value"].as_f64())
        ),
        (Some(46.4), Some(60.8))
    );
}

fn round1(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 10.0).round() / 10.0)
}

#[test]
fn looked_after_ks2_and_the_hampshire_gap() {
    if real_store().is_none() {
        return;
    }
    let v = json(&[
        "gaps",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "lac",
        "--year",
        "2019",
    ]);
    let h = row(&v, "code", "850");
    assert_eq!(
        (
            h["group_value"].as_f64(),
            h["comparison_value"].as_f64(),
            h["gap"].as_f64()
        ),
        (Some(28.0), Some(68.0), Some(-40.0))
    );
    assert_eq!(h["comparison"], "all");
    assert_eq!(row(&v, "code", "936")["group_value"].as_f64(), Some(27.0));
    let barnet = row(&v, "code", "302");
    assert!(
        barnet["group_value"].is_null() && barnet["gap"].is_null() && barnet["group_status"] == "c"
    );
    let england = json(&[
        "gaps",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "lac",
        "--year",
        "2019",
        "--level",
        "national",
    ]);
    assert_eq!(england[0]["group_value"].as_f64(), Some(37.0));
}

#[test]
fn school_gaps_against_national_other_pupils_match_diffn() {
    if real_store().is_none() {
        return;
    }
    // DfE's DIFFN_RWM_EXP for the Hampshire LA row is -22 = 49 - 71 (national state-funded other pupils).
    let v = json(&[
        "gaps",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--year",
        "2019",
        "--against",
        "national",
        "--la",
        "850",
    ]);
    let h = row(&v, "code", "850");
    assert_eq!(
        (
            h["group_value"].as_f64(),
            h["comparison_value"].as_f64(),
            h["gap"].as_f64()
        ),
        (Some(49.0), Some(71.0), Some(-22.0))
    );
    let schools = json(&[
        "gaps",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--year",
        "2019",
        "--level",
        "school",
        "--la",
        "850",
    ]);
    let rows = schools.as_array().unwrap();
    assert!(rows.len() > 300);
    let with_gap = rows.iter().filter(|r| r["gap"].is_number()).count();
    assert!(with_gap > 100);
    for r in rows.iter().filter(|r| r["gap"].is_number()) {
        let (g, c, gap) = (
            r["group_value"].as_f64().unwrap(),
            r["comparison_value"].as_f64().unwrap(),
            r["gap"].as_f64().unwrap(),
        );
        assert_eq!(gap, g - c, "gap = group - comparison");
        assert!([
            "significantly above",
            "significantly below",
            "not significantly different",
            "not assessed"
        ]
        .contains(&r["significance"].as_str().unwrap()));
    }
}

#[test]
fn school_positions_from_national_school_rows() {
    if real_store().is_none() {
        return;
    }
    // Recompute from the raw 2018/19 absence file: share of schools with higher (worse)
    // overall absence, plus half the ties.
    let text = std::fs::read_to_string(crate::common::raw(
        "kspdeveloper-perf-tables/england_abs.csv",
    ))
    .unwrap();
    let mut vals: Vec<(String, f64)> = Vec::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[0] != "NAT" {
            if let Ok(v) = c[3].parse::<f64>() {
                vals.push((c[2].to_string(), v));
            }
        }
    }
    let store = attain::store::Store::at(real_store().unwrap());
    let cat = attain::catalogue::Catalogue::builtin();
    let data = attain::analysis::data::Data::open(&store, &cat).unwrap();
    let pos = attain::analysis::position::school_positions(&data, "absence_overall", "all", 2019)
        .unwrap();
    assert_eq!(pos.len(), vals.len());
    let (urn, v) = vals[1000].clone();
    let worse = vals.iter().filter(|(_, o)| *o > v).count() as f64;
    let same = vals.iter().filter(|(_, o)| *o == v).count() as f64;
    let expected = (1000.0 * (worse + 0.5 * same) / vals.len() as f64).round() / 10.0;
    let p = pos.iter().find(|(u, _, _)| *u == urn).unwrap();
    assert_eq!(p.2.percentile, expected);
    assert_eq!(
        p.2.quintile,
        (5.0 - (expected / 20.0).floor()).clamp(1.0, 5.0) as u8
    );
}

#[test]
fn hampshire_ks2_trend_marks_the_covid_break() {
    if real_store().is_none() {
        return;
    }
    let v = json(&[
        "trend",
        "--measure",
        "ks2_rwm_expected",
        "--code",
        "850",
        "--from",
        "2017",
        "--to",
        "2022",
    ]);
    let points = v["points"].as_array().unwrap();
    let value = |y: i64| points.iter().find(|p| p["year"] == y).unwrap()["value"].as_f64();
    // LAIT: Hampshire 2017 = 66, 2018 = 68, 2019 = 68.
    assert_eq!(
        (value(2017), value(2018), value(2019)),
        (Some(66.0), Some(68.0), Some(68.0))
    );
    for y in [2020, 2021] {
        let p = points.iter().find(|p| p["year"] == y).unwrap();
        assert!(p["value"].is_null());
        assert!(p["break_note"].as_str().unwrap().contains("COVID-19"));
    }
    assert_eq!(v["name"], "Hampshire");
}
