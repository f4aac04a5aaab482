//! `attain rank` against LAIT's own rules, with every expected figure computed here from
//! DfE's LAIT files: values at the decimal places of LAIT's data dictionary (where it has
//! none, the 1 place LAIT's global.R gives), ties sharing the best rank, type-7 quartile
//! cut-points with LAIT's intervals ([min, Q1], (Q1, Q2], (Q2, Q3], (Q3, max]), no band
//! for `No_Quartile` measures; and pupil groups as LAIT's dictionary names them.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::Value;

use super::common::{bin, raw, raw_dir, real_store};

const LAIT: &str = "dfe-lait/01_data/02_prod/bds_long_0.parquet";
const DICTIONARY: &str = "dfe-lait/01_data/02_prod/lait_data_dictionary.csv";

/// One LAIT dictionary entry: decimal places, polarity, No_Quartile.
struct Entry {
    dps: u32,
    high_is_good: bool,
    no_quartile: bool,
    measure: String,
}

fn dictionary(short: &str) -> Entry {
    let mut r = csv::Reader::from_path(raw(DICTIONARY)).unwrap();
    let h = r.headers().unwrap().clone();
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (s, d, p, q, m) = (
        at("Measure_short"),
        at("dps"),
        at("Polarity"),
        at("No_Quartile"),
        at("Measure"),
    );
    let rows: Vec<csv::StringRecord> = r
        .records()
        .map(Result::unwrap)
        .filter(|x| x[s].trim() == short)
        .collect();
    assert!(!rows.is_empty(), "{short} is not in LAIT's dictionary");
    Entry {
        // LAIT's global.R: a missing dps is 1; a measure listed twice shows the larger.
        dps: rows
            .iter()
            .map(|x| x[d].trim().parse().unwrap_or(1))
            .max()
            .unwrap(),
        high_is_good: rows[0][p].trim() == "High",
        no_quartile: rows.iter().any(|x| x[q].trim() == "N"),
        measure: rows[0][m].to_string(),
    }
}

/// LAIT's figures for one short description and year (LAIT `2019` = 2018/19), by LA number
/// (201-959), as published text; withheld values ("-", "c", "x") are None.
fn lait_values(short: &str, year: i32) -> BTreeMap<String, Option<f64>> {
    let df = LazyFrame::scan_parquet(
        PlRefPath::try_from_path(&raw(LAIT)).unwrap(),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .select([
        col("Short Desc").cast(DataType::String),
        col("Years").cast(DataType::String),
        col("Values").cast(DataType::String),
        col("LA Number").cast(DataType::String),
    ])
    .filter(
        col("Short Desc")
            .str()
            .strip_chars(lit(NULL))
            .eq(lit(short)),
    )
    .collect()
    .unwrap();
    let years = df.column("Years").unwrap().str().unwrap();
    let values = df.column("Values").unwrap().str().unwrap();
    let las = df.column("LA Number").unwrap().str().unwrap();
    let mut out = BTreeMap::new();
    for i in 0..df.height() {
        let label = years.get(i).unwrap_or("");
        if label.get(..4).and_then(|y| y.parse::<i32>().ok()) != Some(year) {
            continue;
        }
        let la = las.get(i).unwrap_or("").split('.').next().unwrap().trim();
        let Ok(n) = la.parse::<u32>() else { continue };
        if !(200..960).contains(&n) {
            continue;
        }
        let v = values.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        assert!(
            out.insert(la.to_string(), v).is_none(),
            "{short} {year}: two LAIT rows for LA {la}"
        );
    }
    assert!(!out.is_empty(), "LAIT has no {short} for {year}");
    out
}

/// Half away from zero at `dps` places.
fn round_at(v: f64, dps: u32) -> f64 {
    let f = 10f64.powi(dps as i32);
    // The text is decimal: lift a binary x.4999999 back to the half it was written as.
    ((v * f) + v.signum() * 1e-7).round() / f
}

/// R's default (type 7) quantile of ascending values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// LAIT's `calculate_quartile_band`.
fn lait_band(v: f64, sorted: &[f64], high_is_good: bool) -> char {
    let (q1, q2, q3) = (
        quantile(sorted, 0.25),
        quantile(sorted, 0.5),
        quantile(sorted, 0.75),
    );
    let quarter = if v <= q1 {
        0
    } else if v <= q2 {
        1
    } else if v <= q3 {
        2
    } else {
        3
    };
    let letters = if high_is_good {
        ['D', 'C', 'B', 'A']
    } else {
        ['A', 'B', 'C', 'D']
    };
    letters[quarter]
}

fn rank_json(store: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let out = bin()
        .arg("rank")
        .args(args)
        .arg("--store")
        .arg(store)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "attain rank {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// What LAIT's rules give each LA, from the raw file: (value, rank, band, top 10%).
struct Expected {
    by_la: BTreeMap<String, (f64, usize, char, bool)>,
    ties_on_cut_points: usize,
}

fn expected(short: &str, year: i32) -> Expected {
    let e = dictionary(short);
    let values: BTreeMap<String, f64> = lait_values(short, year)
        .into_iter()
        .filter_map(|(la, v)| Some((la, round_at(v?, e.dps))))
        .collect();
    let mut sorted: Vec<f64> = values.values().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let cuts = [
        quantile(&sorted, 0.25),
        quantile(&sorted, 0.5),
        quantile(&sorted, 0.75),
    ];
    let better = |a: f64, b: f64| if e.high_is_good { a > b } else { a < b };
    let by_la = values
        .iter()
        .map(|(la, &v)| {
            let rank = 1 + sorted.iter().filter(|&&o| better(o, v)).count();
            (
                la.clone(),
                (
                    v,
                    rank,
                    lait_band(v, &sorted, e.high_is_good),
                    rank <= n / 10,
                ),
            )
        })
        .collect();
    Expected {
        by_la,
        ties_on_cut_points: values.values().filter(|v| cuts.contains(v)).count(),
    }
}

/// `attain rank` gives every LA LAIT's value, rank, band and top-10% position.
fn assert_lait_ranks(store: &std::path::Path, short: &str, measure: &str, year: i32) -> usize {
    let want = expected(short, year);
    let got = rank_json(store, &["--measure", measure, "--year", &year.to_string()]);
    let with_values: Vec<&Value> = got.iter().filter(|r| !r["value"].is_null()).collect();
    assert_eq!(
        with_values.len(),
        want.by_la.len(),
        "{measure} {year}: LAs with a value"
    );
    for r in with_values {
        let la = r["la_code"].as_str().unwrap();
        let (v, rank, band, top10) = want.by_la[la];
        let ctx = format!("{measure} {year} LA {la}");
        assert_eq!(r["value"].as_f64(), Some(v), "{ctx}: value");
        assert_eq!(r["rank"].as_u64(), Some(rank as u64), "{ctx}: rank");
        assert_eq!(r["of"].as_u64(), Some(want.by_la.len() as u64), "{ctx}");
        assert_eq!(
            r["quartile"].as_str(),
            Some(band.to_string().as_str()),
            "{ctx}: band"
        );
        assert_eq!(r["top10"].as_bool(), Some(top10), "{ctx}: top 10%");
    }
    want.ties_on_cut_points
}

#[test]
fn eyfs_gld_is_ranked_at_lait_one_decimal_place() {
    let Some(store) = real_store() else { return };
    let e = dictionary("FSP_NEW_GOODDEV");
    assert_eq!(e.dps, 1, "no dps in the dictionary: LAIT shows 1 place");
    assert_lait_ranks(store, "FSP_NEW_GOODDEV", "eyfs_gld", 2019);
    // Merton (315) 2019: 75.5 as LAIT publishes it, not 76.
    let want = expected("FSP_NEW_GOODDEV", 2019);
    let merton = rank_json(
        store,
        &["--measure", "eyfs_gld", "--year", "2019", "--la", "315"],
    );
    assert_eq!(merton[0]["value"].as_f64(), Some(75.5));
    assert_eq!(merton[0]["value"].as_f64(), Some(want.by_la["315"].0));
    assert_eq!(merton[0]["rank"].as_u64(), Some(want.by_la["315"].1 as u64));
}

#[test]
fn ks2_progress_is_ranked_at_lait_two_decimal_places() {
    let Some(store) = real_store() else { return };
    assert_eq!(dictionary("KS2R_Prog_VA").dps, 2);
    assert_lait_ranks(store, "KS2R_Prog_VA", "ks2_read_progress", 2019);
}

#[test]
fn absence_low_is_good_ties_on_quartile_cut_points_band_as_lait() {
    let Some(store) = real_store() else { return };
    let e = dictionary("TotAbs");
    assert_eq!((e.dps, e.high_is_good), (2, false));
    // Every year LAIT has: at two places some LAs sit exactly on Q1, Q2 or Q3, and those
    // fall in the lower quarter (A at Q1 when low is good).
    let mut ties = 0;
    for year in [2017, 2018, 2019] {
        ties += assert_lait_ranks(store, "TotAbs", "absence_overall", year);
    }
    assert!(
        ties > 0,
        "no LA on a cut-point: the tie rule is not exercised"
    );
}

#[test]
fn no_quartile_measures_get_no_band() {
    let Some(store) = real_store() else { return };
    let e = dictionary("KS2R_AVG_Scaled_Score");
    assert!(e.no_quartile, "{}", e.measure);
    let want = expected("KS2R_AVG_Scaled_Score", 2019);
    let got = rank_json(
        store,
        &["--measure", "ks2_read_avg_score", "--year", "2019"],
    );
    let ranked: Vec<&Value> = got.iter().filter(|r| !r["value"].is_null()).collect();
    assert_eq!(ranked.len(), want.by_la.len());
    for r in ranked {
        let la = r["la_code"].as_str().unwrap();
        assert_eq!(r["rank"].as_u64(), Some(want.by_la[la].1 as u64), "LA {la}");
        assert!(r["quartile"].is_null(), "LA {la}: {}", r["quartile"]);
    }
    // CSV: an empty field.
    let out = bin()
        .args([
            "rank",
            "--measure",
            "ks2_read_avg_score",
            "--year",
            "2019",
            "--la",
            "850",
            "--format",
            "csv",
        ])
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv::Reader::from_reader(text.as_bytes());
    let h = lines.headers().unwrap().clone();
    let q = h.iter().position(|x| x == "quartile").unwrap();
    let row = lines.records().next().unwrap().unwrap();
    assert_eq!(&row[q], "");
}

#[test]
fn sen_support_and_ehc_plan_are_the_groups_lait_names() {
    let Some(store) = real_store() else { return };
    let _ = raw_dir();
    // KS2 progress "by SEN Statement/EHCP pupils" is the EHC plan group: Hampshire's figure.
    assert!(dictionary("KS2_SEN_Reading_Progress")
        .measure
        .contains("Statement/EHCP"));
    let ehcp = lait_values("KS2_SEN_Reading_Progress", 2019)["850"].unwrap();
    let got = rank_json(
        store,
        &[
            "--measure",
            "ks2_read_progress",
            "--group",
            "ehcp",
            "--year",
            "2019",
            "--la",
            "850",
        ],
    );
    assert_eq!(got[0]["value"].as_f64(), Some(round_at(ehcp, 2)));
    assert_eq!(got[0]["group"].as_str(), Some("ehcp"));
    // SEN support is a separate figure, from KS2_SENSupport_Reading_Progress.
    let support = lait_values("KS2_SENSupport_Reading_Progress", 2019)["850"].unwrap();
    let got = rank_json(
        store,
        &[
            "--measure",
            "ks2_read_progress",
            "--group",
            "sen_support",
            "--year",
            "2019",
            "--la",
            "850",
        ],
    );
    assert_eq!(got[0]["value"].as_f64(), Some(round_at(support, 2)));
    assert_ne!(support, ehcp);
    // Phonics "SEN Support" (KS1P_SEND) is stored as sen_support, beside KS1P_EHCP as ehcp.
    assert!(dictionary("KS1P_SEND").measure.contains("SEN Support"));
    for (short, group) in [("KS1P_SEND", "sen_support"), ("KS1P_EHCP", "ehcp")] {
        let e = dictionary(short);
        let want = lait_values(short, 2019)["850"].map(|v| round_at(v, e.dps));
        let got = rank_json(
            store,
            &[
                "--measure",
                "phonics_expected",
                "--group",
                group,
                "--year",
                "2019",
                "--la",
                "850",
            ],
        );
        assert_eq!(got[0]["value"].as_f64(), want, "{short} as {group}");
        assert!(want.is_some(), "{short}: Hampshire has a 2019 figure");
    }
}
