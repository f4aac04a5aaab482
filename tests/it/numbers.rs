//! Numbers as published, everywhere: on the real store, the JSON and CSV of the analysis
//! commands, the workbook's cells and the chart pack's alt text carry no float noise
//! (`3.1000000000000014`) and no negative zero; gaps and their intervals and changes have
//! at most the measure's decimals (averages and thresholds one more, other numbers 4).

use std::path::Path;

use attain::catalogue::Catalogue;
use serde_json::Value;

use crate::common::{bin, raw, real_store, scratch};

/// Decimals of a number as written (its shortest representation); an exponent counts as many.
fn decimals(text: &str) -> u32 {
    if text.contains(['e', 'E']) {
        return u32::MAX;
    }
    match text.split_once('.') {
        Some((_, frac)) => frac.trim_end_matches('0').len() as u32,
        None => 0,
    }
}

fn negative_zero(text: &str) -> bool {
    text.starts_with('-') && text[1..].parse::<f64>() == Ok(0.0)
}

/// The most decimals a field may carry for a measure published at `dps` places.
fn limit(field: &str, dps: Option<u32>) -> u32 {
    match (field, dps) {
        ("sn_average" | "sn_top_quartile" | "top10_threshold" | "distance_to_top10", Some(d)) => {
            d + 1
        }
        // Figures as stored (a figure rebuilt from numerators has more places than DfE
        // prints) are checked for noise only; what attain computes is at the measure's places.
        ("gap" | "gap_ci" | "trend_change" | "previous_gaps" | "computed_rounded", Some(d)) => d,
        _ => 4,
    }
}

fn dps(cat: &Catalogue, measure: &str) -> Option<u32> {
    cat.measure(measure).map(|m| m.dps)
}

/// The places of a row's figures: its measure's, or up to 2 for a figure from LAIT, whose
/// dictionary publishes some measures at more places than the catalogue (ks2_rwm_expected at
/// 1 dp, percentages at 2).
fn row_dps(dps: Option<u32>, source: &str) -> Option<u32> {
    if source.contains("lait") {
        dps.map(|d| d.max(2))
    } else {
        dps
    }
}

/// Every number under `v` checked against the limit of the field it sits in; `dps` is that
/// of the nearest enclosing object with a `measure`.
fn check_json(
    cat: &Catalogue,
    v: &Value,
    field: &str,
    dps_here: Option<u32>,
    what: &str,
    bad: &mut Vec<String>,
) {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            if negative_zero(&text) || decimals(&text) > limit(field, dps_here) {
                bad.push(format!("{what}: {field} = {text}"));
            }
        }
        Value::Array(a) => a
            .iter()
            .for_each(|x| check_json(cat, x, field, dps_here, what, bad)),
        Value::Object(o) => {
            let d = o
                .get("measure")
                .and_then(Value::as_str)
                .and_then(|m| dps(cat, m))
                .or(dps_here);
            let d = row_dps(d, o.get("source").and_then(Value::as_str).unwrap_or(""));
            for (k, x) in o {
                check_json(cat, x, k, d, what, bad);
            }
        }
        _ => {}
    }
}

fn run(store: &Path, args: &[&str], format: &str) -> String {
    let out = bin()
        .args(args)
        .arg("--store")
        .arg(store)
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Rankings, gaps (LA and school, percentages, scores, progress with intervals), trends,
/// reconciliation and Ofsted standing.
const COMMANDS: &[&[&str]] = &[
    &[
        "rank",
        "--measure",
        "ks2_rwm_expected",
        "--year",
        "2019",
        "--neighbours",
        "2021",
    ],
    &["rank", "--measure", "ks4_attainment8"],
    &["rank", "--measure", "ks4_ebacc_aps"],
    &[
        "rank",
        "--measure",
        "absence_overall",
        "--neighbours",
        "2021",
    ],
    &[
        "gaps",
        "--measure",
        "ks4_attainment8",
        "--group",
        "disadvantaged",
    ],
    &[
        "gaps",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantaged",
        "--level",
        "school",
        "--la",
        "919",
        "--year",
        "2024",
    ],
    &[
        "gaps",
        "--measure",
        "ks4_progress8",
        "--group",
        "disadvantaged",
        "--level",
        "school",
        "--la",
        "919",
        "--year",
        "2019",
    ],
    &["trend", "--measure", "ks4_attainment8", "--code", "919"],
    &["trend", "--measure", "ks4_progress8", "--code", "E92000001"],
    &[
        "reconcile",
        "--measure",
        "ks2_rwm_expected",
        "--year",
        "2019",
        "--la",
        "850",
    ],
    &["ofsted"],
];

#[test]
fn json_and_csv_of_every_analysis_command_carry_no_float_noise_or_negative_zero() {
    let Some(store) = real_store() else { return };
    let cat = Catalogue::builtin();
    let mut bad = Vec::new();
    let mut numbers = 0;
    for args in COMMANDS {
        let measure = args
            .iter()
            .position(|a| *a == "--measure")
            .map(|i| args[i + 1]);
        let what = args.join(" ");
        let json: Value = serde_json::from_str(&run(store, args, "json")).unwrap();
        check_json(&cat, &json, "", None, &what, &mut bad);
        numbers += json.to_string().matches('.').count();
        let csv = run(store, args, "csv");
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        for (i, rec) in r.records().enumerate() {
            // CSV rows are the JSON rows, in order: the JSON says where each figure is from.
            let source = json[i]["source"].as_str().unwrap_or("");
            let d = row_dps(measure.and_then(|m| dps(&cat, m)), source);
            for (col, cell) in header.iter().zip(rec.unwrap().iter()) {
                if cell.parse::<f64>().is_ok()
                    && (negative_zero(cell) || decimals(cell) > limit(col, d))
                {
                    bad.push(format!("{what} (csv): {col} = {cell}"));
                }
            }
        }
    }
    assert!(numbers > 1000, "the commands printed figures ({numbers})");
    assert!(
        bad.is_empty(),
        "{} noisy numbers: {:#?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );
}

/// A school's Attainment 8 gap in Hertfordshire 2023/24, from the performance tables' own
/// columns: the difference of two 1-dp figures, rounded half away from zero to 1 dp.
#[test]
fn school_attainment8_gaps_are_the_raw_difference_rounded_to_one_place() {
    let Some(store) = real_store() else { return };
    let file = raw("jshi12-hertfordshire/data/2023-2024/919_ks4final.csv");
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::fs::File::open(file).unwrap());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (rectype, urn, dis, other) = (
        col("RECTYPE"),
        col("URN"),
        col("ATT8SCR_FSM6CLA1A"),
        col("ATT8SCR_NFSM6CLA1A"),
    );
    let mut expected = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        if !matches!(rec.get(rectype), Some("1" | "2")) {
            continue;
        }
        let num = |i: usize| rec.get(i).and_then(|s| s.parse::<f64>().ok());
        if let (Some(a), Some(b)) = (num(dis), num(other)) {
            // f64::round is half away from zero; a - b is a 1-dp decimal up to binary error.
            expected.push((rec[urn].to_string(), a - b, ((a - b) * 10.0).round() / 10.0));
        }
    }
    assert!(
        expected.len() > 50,
        "{} schools with both figures",
        expected.len()
    );
    assert!(
        expected.iter().any(|(_, raw, _)| raw.to_string().len() > 8),
        "some raw differences carry float noise"
    );
    let json: Value = serde_json::from_str(&run(
        store,
        &[
            "gaps",
            "--measure",
            "ks4_attainment8",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--la",
            "919",
            "--year",
            "2024",
        ],
        "json",
    ))
    .unwrap();
    for (urn, _, gap) in &expected {
        let row = json
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == urn.as_str())
            .unwrap_or_else(|| panic!("no gap row for {urn}"));
        assert_eq!(row["gap"].as_f64(), Some(*gap), "{urn}: {row}");
        assert!(decimals(&row["gap"].to_string()) <= 1, "{row}");
    }
}

#[test]
fn workbook_cells_hold_rounded_numbers() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let Some(store) = real_store() else { return };
    let cat = Catalogue::builtin();
    let out = scratch("numbers-workbook").join("850.xlsx");
    let o = bin()
        .args(["workbook", "--la", "850", "--out"])
        .arg(&out)
        .args([
            "--rules",
            concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/rules/merton.toml"),
            "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let (mut bad, mut floats) = (Vec::new(), 0);
    for sheet in wb.sheet_names() {
        let range = wb.worksheet_range(&sheet).unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        // The header row names the columns; a row's measure sets its places.
        // Headers are printed in words: read back as the JSON field names.
        let id = |c: &Data| attain::render::workbook::columns::id_of(&c.to_string());
        let header = rows
            .iter()
            .position(|r| r.iter().any(|c| id(c) == "measure"));
        let names: Vec<String> = header
            .map(|h| rows[h].iter().map(id).collect())
            .unwrap_or_default();
        let measure_col = names.iter().position(|n| n == "measure");
        let source_col = names.iter().position(|n| n == "source");
        for r in &rows {
            let d = row_dps(
                measure_col.and_then(|c| dps(&cat, &r[c].to_string())),
                &source_col.map(|c| r[c].to_string()).unwrap_or_default(),
            );
            for (i, c) in r.iter().enumerate() {
                if let Data::Float(f) = c {
                    floats += 1;
                    let text = f.to_string();
                    let field = names.get(i).map_or("", String::as_str);
                    if negative_zero(&text)
                        || (*f == 0.0 && f.is_sign_negative())
                        || decimals(&text) > limit(field, d)
                    {
                        bad.push(format!("{sheet}: {field} = {text}"));
                    }
                }
            }
        }
    }
    assert!(floats > 50, "{floats} numeric cells");
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Numbers in running text: no negative zero, at most two decimals.
fn noisy_in_text(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            let mut j = i;
            while j < b.len()
                && (b[j].is_ascii_digit()
                    || (b[j] == b'.' && j + 1 < b.len() && b[j + 1].is_ascii_digit()))
            {
                j += 1;
            }
            let token = &text[start..j];
            if negative_zero(token) || decimals(token) > 2 {
                out.push(token.to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn chart_alt_text_and_chart_data_carry_no_float_noise() {
    let Some(store) = real_store() else { return };
    let cat = Catalogue::builtin();
    let dir = scratch("numbers-charts");
    let cfg = dir.join("charts.toml");
    std::fs::write(
        &cfg,
        "[charts]\nmeasures = [\"ks2_rwm_expected\", \"ks4_attainment8\", \"ks4_progress8\", \
            \"absence_overall\"]\nyear = 2019\nyears = 4\nneighbours = 2021\n",
    )
    .unwrap();
    let o = bin()
        .args(["charts", "--la", "850", "--store"])
        .arg(store)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/charts.json")).unwrap()).unwrap();
    let charts = json["charts"].as_array().unwrap();
    assert!(charts.len() >= 9);
    let mut bad = Vec::new();
    for c in charts {
        let alt = c["alt_text"].as_str().unwrap();
        assert!(alt.chars().any(|ch| ch.is_ascii_digit()), "{alt}");
        for t in noisy_in_text(alt) {
            bad.push(format!("{}: {t} in {alt}", c["name"]));
        }
    }
    assert_eq!(
        noisy_in_text("a -0.0, b 3.1000000000000014, 64.7, -0.18, 2015/16"),
        ["-0.0", "3.1000000000000014"]
    );
    check_json(&cat, &json, "", None, "charts.json", &mut bad);
    assert!(bad.is_empty(), "{bad:#?}");
}
