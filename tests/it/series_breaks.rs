//! Series breaks on real figures: no change, direction, chart line or rule fact spans a break
//! after which figures do not compare (KS4 teacher-assessed grades in 2019/20 and 2020/21, the
//! 2016/17 GCSE 9-1 reform). Expected figures are read here from the raw files (LAIT's parquet,
//! Surrey's KS4 performance tables), not from attain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{bin, copy_dir, raw, raw_dir, real_store, scratch};

const LAIT: &str = "dfe-lait/01_data/02_prod/bds_long_0.parquet";

/// A store of LAIT alone (one source per LA figure), built once.
fn lait_store() -> Option<&'static Path> {
    static STORE: OnceLock<Option<PathBuf>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            raw_dir()?;
            let store = scratch("breaks-lait").join("store");
            let out = bin()
                .arg("ingest")
                .arg(raw(LAIT))
                .arg("--store")
                .arg(&store)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "ingest of LAIT failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(store)
        })
        .as_deref()
}

/// LAIT's figures for one short description: LA number -> year -> value, rounded half away
/// from zero to `dps` (LAIT keeps float artefacts such as 46.700000000000003). The year is
/// the summer one (`2019`, or `2018/19` -> 2019).
fn lait(short: &str, dps: i32) -> BTreeMap<String, BTreeMap<i32, f64>> {
    let (_, cols) = attain::store::frame::parquet_string_columns(
        &raw(LAIT),
        &["Short Desc", "Years", "LA Number", "Values"],
    )
    .unwrap();
    let scale = 10f64.powi(dps);
    let mut out: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    let rows = cols[0].iter().zip(&cols[1]).zip(&cols[2]).zip(&cols[3]);
    for (((desc, years), la), value) in rows {
        let cell = |v: &Option<String>| -> String { v.as_deref().unwrap_or("").trim().into() };
        if cell(desc) != short {
            continue;
        }
        let years = cell(years);
        let label = years.split('(').next().unwrap_or("");
        let digits: String = label.chars().filter(char::is_ascii_digit).collect();
        let year = match digits.len() {
            4 => digits.parse::<i32>().unwrap(),
            6 => digits[..4].parse::<i32>().unwrap() + 1,
            8 => digits[4..].parse::<i32>().unwrap(),
            _ => continue,
        };
        // LA numbers are stored as numbers: `850.0`.
        let code = cell(la).split('.').next().unwrap_or("").to_string();
        if let Ok(v) = cell(value).parse::<f64>() {
            let v = v.signum() * ((v.abs() * scale) + 0.5).floor() / scale;
            let previous = out.entry(code).or_default().insert(year, v);
            assert!(
                previous.is_none_or(|p| p == v),
                "two LAIT figures for {short} {year}: {previous:?} and {v}"
            );
        }
    }
    out
}

fn attain_json(args: &[&str], store: &Path) -> Value {
    let out = bin()
        .args(args)
        .arg("--store")
        .arg(store)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "attain {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn trend(store: &Path, measure: &str, code: &str, from: i32, to: i32) -> Value {
    attain_json(
        &[
            "trend",
            "--measure",
            measure,
            "--code",
            code,
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
        ],
        store,
    )
}

fn values(t: &Value) -> Vec<(i64, Option<f64>, bool)> {
    t["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["year"].as_i64().unwrap(),
                p["value"].as_f64(),
                p["comparable"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn ks4_teacher_assessed_grades_break_the_trend() {
    let Some(store) = lait_store() else { return };
    let raw = lait("AVG_Attain8_Score", 1);
    let hants = &raw["850"];
    let v = |y: i32| {
        *hants
            .get(&y)
            .unwrap_or_else(|| panic!("LAIT has no Hampshire Attainment 8 for {y}"))
    };
    let t = trend(store, "ks4_attainment8", "850", 2019, 2023);
    // Every year has its real figure, and 2019/20, 2020/21 (grades awarded by teachers) and
    // 2021/22 (exams again) each start afresh.
    assert_eq!(
        values(&t),
        vec![
            (2019, Some(v(2019)), true),
            (2020, Some(v(2020)), false),
            (2021, Some(v(2021)), false),
            (2022, Some(v(2022)), false),
            (2023, Some(v(2023)), true),
        ]
    );
    for p in &t["points"].as_array().unwrap()[1..4] {
        assert!(
            p["break_note"]
                .as_str()
                .unwrap()
                .contains("teacher-assessed grades"),
            "{p}"
        );
    }
    // The change runs from 2021/22 only, never from 2018/19 across the teacher-assessed years.
    let change = t["change"].as_f64().unwrap();
    assert!((change - (v(2023) - v(2022))).abs() < 1e-9, "{t}");
    assert_eq!(t["since"], 2022);
    let word = if v(2023) > v(2022) {
        "improving"
    } else if v(2023) < v(2022) {
        "declining"
    } else {
        "no change"
    };
    assert_eq!(t["direction"], word);
    assert!(
        t["summary"].as_str().unwrap().starts_with(&format!(
            "{word} since 2021/22 (the series restarts in 2021/22"
        )),
        "{}",
        t["summary"]
    );
    // Ending in 2021/22: nothing after the break to compare with, so no change and no direction.
    let t = trend(store, "ks4_attainment8", "850", 2019, 2022);
    assert_eq!(
        (t["change"].is_null(), &t["direction"]),
        (true, &"not comparable".into())
    );
    assert!(t["summary"].as_str().unwrap().starts_with("not comparable"));
    // CSV marks each point too.
    let out = bin()
        .args(["trend", "--measure", "ks4_attainment8", "--code", "850"])
        .args([
            "--from", "2019", "--to", "2022", "--format", "csv", "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("year,value,comparable,reason,break_note,source")
    );
    let flags: Vec<&str> = lines.map(|l| l.split(',').nth(2).unwrap()).collect();
    assert_eq!(flags, ["true", "false", "false", "false"], "{csv}");
}

/// The LA whose 2015/16-2018/19 Attainment 8 would read as declining across the 9-1 reform
/// but not since it (the example), found in LAIT.
#[test]
fn direction_does_not_span_the_2017_gcse_reform() {
    let Some(store) = lait_store() else { return };
    let raw = lait("AVG_Attain8_Score", 1);
    let (code, s) = raw
        .iter()
        .filter(|(c, _)| c.len() == 3 && c.as_str() < "970")
        .find(|(_, s)| {
            let (Some(a), Some(b), Some(c)) = (s.get(&2016), s.get(&2017), s.get(&2019)) else {
                return false;
            };
            c < a && c > b
        })
        .expect("an LA whose Attainment 8 fell from 2016 to 2019 but rose from 2017");
    let t = trend(store, "ks4_attainment8", code, 2016, 2019);
    let flags: Vec<bool> = values(&t).iter().map(|p| p.2).collect();
    assert_eq!(flags, [true, false, true, true], "{t}");
    assert!(t["points"][1]["break_note"]
        .as_str()
        .unwrap()
        .contains("9-1"));
    let change = t["change"].as_f64().unwrap();
    assert!((change - (s[&2019] - s[&2017])).abs() < 1e-9, "{t}");
    assert_eq!(
        (&t["direction"], &t["since"]),
        (&"improving".into(), &2017.into()),
        "{code}: {t}"
    );
    assert!(t["summary"]
        .as_str()
        .unwrap()
        .starts_with("improving since 2016/17 (the series restarts in 2016/17"));
}

/// Hampshire's committee trend chart over 2017/18-2022/23: the LA's line stops at each break
/// (runs 2017/18-2018/19, 2019/20, 2020/21 and 2021/22-2022/23).
#[test]
fn committee_trend_lines_stop_at_the_break() {
    let Some(store) = real_store() else { return };
    let raw = lait("AVG_Attain8_Score", 1);
    let hants = &raw["850"];
    let out = scratch("breaks-charts");
    let cfg = out.join("charts.toml");
    std::fs::write(
        &cfg,
        "[charts]\nmeasures = [\"ks4_attainment8\"]\nyear = 2023\nyears = 6\nneighbours = 2021\ngaps = []\nofsted = \
            false\n",
    )
    .unwrap();
    let o = bin()
        .args(["charts", "--la", "850", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("charts.json")).unwrap()).unwrap();
    let c = json["charts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "850-ks4-attainment8-trend")
        .unwrap();
    let fig = &c["figure"];
    let la: Vec<(i64, Option<f64>)> = fig["lines"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64()))
        .collect();
    let expected: Vec<(i64, Option<f64>)> = (2018..=2023)
        .map(|y| (y as i64, hants.get(&y).copied()))
        .collect();
    assert_eq!(la, expected, "Hampshire's line, from LAIT");
    let breaks: Vec<i64> = fig["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["year"].as_i64().unwrap())
        .collect();
    assert_eq!(breaks, [2020, 2021, 2022]);
    assert!(c["alt_text"]
        .as_str()
        .unwrap()
        .contains("Break in the series before 2019/20, 2020/21 and 2021/22: centre- and teacher-assessed grades in \
            2019/20 and 2020/21: not comparable with exam years or with each other; the lines are not joined across \
            it."));
    assert!(c["caption"]
        .as_str()
        .unwrap()
        .contains("Lines are not joined across the break before 2019/20, 2020/21 and 2021/22 (dashed rule): centre- \
            and teacher-assessed grades"));
    // In the SVG: the LA's polylines (its colour, #0072B2) stop at every break: only the two
    // runs of neighbouring years are lines, three years apart.
    let svg = std::fs::read_to_string(out.join(c["svg"].as_str().unwrap())).unwrap();
    let runs: Vec<Vec<f64>> = svg
        .split("<polyline")
        .skip(1)
        // The LA's line is 4 px wide in the SVG (its legend swatch is 5).
        .filter(|p| p.contains("stroke=\"#0072B2\" stroke-width=\"4\""))
        .map(|p| {
            let pts = p
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            pts.split_whitespace()
                .map(|xy| xy.split(',').next().unwrap().parse::<f64>().unwrap())
                .collect()
        })
        .filter(|xs: &Vec<f64>| xs.len() >= 2)
        .collect();
    assert_eq!(
        runs.len(),
        2,
        "two joined runs (2017/18-2018/19, 2021/22-2022/23): {runs:?}"
    );
    // Pixel x of each year: the runs' own points give two pairs of neighbouring years.
    let step = runs[0][1] - runs[0][0];
    assert!((runs[1][1] - runs[1][0] - step).abs() < 1.5, "{runs:?}");
    assert!(
        runs[1][0] - runs[0][1] > 3.0 * step - 1.5,
        "the second run starts three years after the first ends: {runs:?}"
    );
    // Three dashed rules, one per break.
    assert_eq!(
        svg.matches("series break").count(),
        3,
        "one label per break"
    );
}

/// Surrey's KS4 schools, 2016/17 to 2018/19: `ks4_attainment8_declining_3y` is decided from the
/// raw figures; once a break lies inside those three years it is no data, and the category it
/// would have decided is not given.
#[test]
fn a_three_year_fact_across_a_break_is_no_data() {
    let Some(store) = real_store() else { return };
    // Attainment 8 by URN for each year, from Surrey's KS4 final tables.
    let att8 = |folder: &str| -> BTreeMap<String, f64> {
        let path = raw(&format!(
            "clarelgibson-hants-surrey/data-in/{folder}_936_ks4final.csv"
        ));
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .unwrap();
        let headers: Vec<String> = r
            .headers()
            .unwrap()
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
        let (urn, rectype, kind, score) =
            (col("URN"), col("RECTYPE"), col("NFTYPE"), col("ATT8SCR"));
        // Mainstream state-funded schools (categorise leaves out independent ones).
        r.records()
            .map(Result::unwrap)
            .filter(|x| x.get(rectype) == Some("1") && x.get(kind) != Some("IND"))
            .filter_map(|x| {
                Some((
                    x.get(urn)?.trim().to_string(),
                    x.get(score)?.trim().parse().ok()?,
                ))
            })
            .collect()
    };
    let (y17, y18, y19) = (att8("2016-2017"), att8("2017-2018"), att8("2018-2019"));
    // The school with the steepest fall in each of the two years.
    let (urn, _) = y19
        .iter()
        .filter_map(|(u, c)| {
            let (a, b) = (y17.get(u)?, y18.get(u)?);
            (a > b && b > c).then(|| (u.clone(), (a - b).min(b - c)))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a Surrey school whose Attainment 8 fell in 2017/18 and 2018/19");
    let dir = scratch("breaks-categorise");
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "name = \"test\"\ndefault = \"green\"\n\n[[category]]\nid = \"amber\"\nsupport = \"Monitoring\"\n\n  \
            [[category.rule]]\n  name = \"declining\"\n  all = [\"ks4_attainment8_declining_3y == \
            true\"]\n\n[[category]]\nid = \"green\"\nsupport = \"Universal\"\n",
    )
    .unwrap();
    let categorise = |catalogue: Option<&Path>| -> Value {
        let mut cmd = bin();
        if let Some(c) = catalogue {
            cmd.arg("--catalogue").arg(c);
        }
        let out = cmd
            .args(["categorise", "--la", "936", "--year", "2019", "--rules"])
            .arg(&rules)
            .arg("--store")
            .arg(store)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all: Value = serde_json::from_slice(&out.stdout).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["urn"] == urn.as_str())
            .unwrap_or_else(|| panic!("URN {urn} not categorised"))
            .clone()
    };
    // No break in 2016/17-2018/19 (the 9-1 reform starts the series in 2016/17).
    let s = categorise(None);
    assert_eq!(s["evidence"]["ks4_attainment8_declining_3y"], true, "{s}");
    assert_eq!(s["category_id"], "amber");
    // The same figures with a break in 2017/18: the fact is no data and decides nothing.
    let catalogue = dir.join("catalogue");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue"),
        &catalogue,
    );
    let mut breaks = std::fs::read_to_string(catalogue.join("breaks.toml")).unwrap();
    breaks.push_str("\n[[break]]\nmeasures = [\"ks4_attainment8\"]\nyears = [2018]\nkind = \"not_comparable\"\nnote = \
        \"a test break inside the three years\"\n");
    std::fs::write(catalogue.join("breaks.toml"), breaks).unwrap();
    let s = categorise(Some(&catalogue));
    assert_eq!(
        s["evidence"]["ks4_attainment8_declining_3y"], "no data",
        "{s}"
    );
    assert_eq!(s["category_id"], "green");
    assert_eq!(
        s["no_data"],
        serde_json::json!(["amber: declining (no data: ks4_attainment8_declining_3y)"])
    );
}
