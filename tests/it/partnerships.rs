//! `attain partnerships` over real Hampshire schools, checked against the raw KS2 file.

use std::collections::HashMap;

use serde_json::Value;

use crate::common::{bin, raw, real_store, scratch};

#[test]
fn partnership_figures_come_from_pupil_counts_and_withheld_schools_are_excluded() {
    let Some(store) = real_store() else { return };
    // Hampshire KS2 2018/19, school rows (RECTYPE 1) with a full set of fields.
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(raw(
            "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv",
        ))
        .unwrap();
    let headers: Vec<String> = rdr
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut schools: Vec<HashMap<String, String>> = rdr
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect::<HashMap<_, _>>()
        })
        .filter(|r| {
            r.get("RECTYPE").map(String::as_str) == Some("1")
                && r.len() == headers.len()
                && !r["TELIG"].is_empty()
        })
        .collect();
    schools.sort_by(|a, b| a["URN"].cmp(&b["URN"]));
    let supp: Vec<HashMap<String, String>> = schools
        .iter()
        .filter(|r| r["PTRWM_EXP"] == "SUPP")
        .cloned()
        .collect();
    assert_eq!(
        supp.len(),
        1,
        "one Hampshire primary has its RWM figure suppressed"
    );
    let mut chosen: Vec<HashMap<String, String>> = schools
        .iter()
        .filter(|r| r["PTRWM_EXP"] != "SUPP")
        .take(40)
        .cloned()
        .collect();
    chosen.extend(supp.clone());
    // Alternate schools between two partnerships; the suppressed one goes to "North".
    let part = |i: usize, r: &HashMap<String, String>| {
        if r["PTRWM_EXP"] == "SUPP" || i.is_multiple_of(2) {
            "North"
        } else {
            "South"
        }
    };
    let mut map = String::from("urn,partnership\n");
    for (i, r) in chosen.iter().enumerate() {
        map.push_str(&format!("{},{}\n", r["URN"], part(i, r)));
    }
    let dir = scratch("partnerships");
    let map_path = dir.join("map.csv");
    std::fs::write(&map_path, map).unwrap();

    // Expected: pupils meeting the standard (PTRWM_EXP x TELIG / 100) over TELIG, per partnership.
    let expect = |name: &str| -> (f64, usize, usize) {
        let (mut num, mut den, mut inc, mut exc) = (0.0, 0.0, 0, 0);
        for (_, r) in chosen
            .iter()
            .enumerate()
            .filter(|(i, r)| part(*i, r) == name)
        {
            match r["PTRWM_EXP"].trim_end_matches('%').parse::<f64>() {
                Ok(v) => {
                    let t: f64 = r["TELIG"].parse().unwrap();
                    num += v * t / 100.0;
                    den += t;
                    inc += 1;
                }
                Err(_) => exc += 1,
            }
        }
        ((num / den * 1000.0).round() / 10.0, inc, exc)
    };
    let o = bin()
        .args(["partnerships", "--map"])
        .arg(&map_path)
        .args([
            "--measure",
            "ks2_rwm_expected",
            "--year",
            "2019",
            "--format",
            "json",
            "--store",
        ])
        .arg(store)
        .arg("--chart-dir")
        .arg(dir.join("charts"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.len(), 3, "North, South, all mapped schools");
    for name in ["North", "South"] {
        let row = rows.iter().find(|r| r["partnership"] == name).unwrap();
        let (value, inc, exc) = expect(name);
        assert_eq!(row["value"].as_f64(), Some(value), "{name}");
        assert_eq!(row["schools_included"].as_u64(), Some(inc as u64), "{name}");
        assert_eq!(row["schools_excluded"].as_u64(), Some(exc as u64), "{name}");
    }
    let north = rows.iter().find(|r| r["partnership"] == "North").unwrap();
    assert_eq!(
        north["excluded"][0].as_str().unwrap(),
        format!("{} (SUPP)", supp[0]["URN"])
    );
    // The chart: one bar per partnership, drawn at print size.
    let svg =
        std::fs::read_to_string(dir.join("charts/partnerships-ks2-rwm-expected-2019.svg")).unwrap();
    assert_eq!(svg.matches("<rect").count(), 3, "background and two bars");
    let png = std::fs::read(dir.join("charts/partnerships-ks2-rwm-expected-2019.png")).unwrap();
    assert_eq!(&png[12..24], b"IHDR\0\0\x09\x60\0\0\x05\xdc", "2400 x 1500");
    let all = rows
        .iter()
        .find(|r| r["partnership"] == "All mapped schools")
        .unwrap();
    assert_eq!(all["schools"].as_u64(), Some(41));

    // A bad map is an input error (exit 3) naming the line.
    std::fs::write(dir.join("bad.csv"), "urn,partnership\n115851,A\n115851,B\n").unwrap();
    let o = bin()
        .args(["partnerships", "--map"])
        .arg(dir.join("bad.csv"))
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("row 3"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
