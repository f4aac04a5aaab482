//! `attain charts` on the real store: Hampshire (850) against its 2021 neighbours.

use std::path::Path;

use serde_json::Value;

use crate::common::{bin, real_store, scratch};

/// Width and height from a PNG's IHDR, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    )
}

/// Pixels that are not white, decoded with the png crate.
fn ink(path: &Path) -> usize {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|c| *c < 250))
        .count()
}

fn pack(store: &Path, la: &str, extra: &[&str]) -> (std::path::PathBuf, Value) {
    let out = scratch(&format!("charts-{la}"));
    let o = bin()
        .args(["charts", "--la", la, "--store"])
        .arg(store)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("charts.json")).unwrap()).unwrap();
    (out, json)
}

fn chart<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["charts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no chart {name}"))
}

#[test]
fn hampshire_chart_pack_matches_lait_and_every_file_is_a_real_image() {
    let Some(store) = real_store() else { return };
    let cfg = scratch("charts-cfg").join("charts.toml");
    std::fs::write(
        &cfg,
        "[charts]\nmeasures = [\"ks2_rwm_expected\", \"ks4_attainment8\"]\nyear = 2019\nyears = \
        4\nneighbours = 2021\n",
    )
    .unwrap();
    let (out, json) = pack(store, "850", &["--config", cfg.to_str().unwrap()]);
    let charts = json["charts"].as_array().unwrap();
    // Two measures x (bars, trend, rank) + two default gaps + Ofsted.
    assert_eq!(
        charts.len(),
        9,
        "{:?}",
        charts.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()
    );
    for c in charts {
        for key in ["title", "alt_text", "caption"] {
            assert!(
                !c[key].as_str().unwrap().is_empty(),
                "{key} of {}",
                c["name"]
            );
        }
        assert!(c["caption"].as_str().unwrap().contains("Source:"));
        let png = out.join(c["png"].as_str().unwrap());
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(png_size(&bytes), (2400, 1500), "{}", png.display());
        assert!(ink(&png) > 40_000, "{} looks blank", png.display());
        let svg = std::fs::read_to_string(out.join(c["svg"].as_str().unwrap())).unwrap();
        assert!(
            svg.starts_with("<svg")
                && svg.trim_end().ends_with("</svg>")
                && svg.contains(c["title"].as_str().unwrap().split(':').next().unwrap())
        );
    }

    // KS2 RWM 2018/19: Hampshire, its ten 2021 neighbours, England (LAIT / PROVENANCE: 68, 65, mean 64.7).
    let bars_chart = chart(&json, "850-ks2-rwm-expected-neighbours-2019");
    let bars = bars_chart["figure"]["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 12);
    let value = |code: &str| {
        bars.iter().find(|b| b["code"] == code).unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(value("850"), 68.0);
    assert_eq!(value("E92000001"), 65.0);
    let neighbours: Vec<f64> = bars
        .iter()
        .filter(|b| b["role"] == "neighbour")
        .map(|b| b["value"].as_f64().unwrap())
        .collect();
    assert_eq!(
        neighbours,
        vec![67.0, 67.0, 67.0, 66.0, 65.0, 65.0, 63.0, 63.0, 63.0, 61.0]
    );
    assert_eq!(bars_chart["figure"]["reference"][1].as_f64(), Some(64.7));
    assert_eq!(
        bars[0]["code"], "850",
        "Hampshire is first of 11 neighbours"
    );
    // One rect per bar plus the background in the SVG.
    let svg = std::fs::read_to_string(out.join(bars_chart["svg"].as_str().unwrap())).unwrap();
    assert_eq!(svg.matches("<rect").count(), 13);
    assert!(bars_chart["caption"]
        .as_str()
        .unwrap()
        .contains("ranked 35 of 149"));

    // Trend: four series over 2015/16 to 2018/19; rank 35th of 149 in 2018/19.
    let lines = chart(&json, "850-ks2-rwm-expected-trend")["figure"]["lines"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0]["points"],
        serde_json::json!([[2016, 59.0], [2017, 66.0], [2018, 68.0], [2019, 68.0]])
    );
    assert_eq!(
        lines[2]["points"][3][1].as_f64(),
        Some(65.0),
        "England 2019"
    );
    let rank = &chart(&json, "850-ks2-rwm-expected-rank")["figure"];
    assert_eq!(
        rank["lines"][0]["points"][3],
        serde_json::json!([2019, 35.0])
    );
    assert_eq!(rank["lines"][0]["notes"][3], "35th of 149");

    // Gaps (LAIT): disadvantaged 49 - 73 = -24; looked after 28 - 68 = -40 in 2018/19.
    let gap = |name: &str| {
        chart(&json, name)["figure"]["lines"][0]["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == 2019)
            .unwrap()[1]
            .as_f64()
    };
    assert_eq!(
        gap("850-gap-disadvantaged-gap-ks2-reading-writing-and-maths"),
        Some(-24.0)
    );
    assert_eq!(
        gap("850-gap-looked-after-gap-ks2-reading-writing-and-maths"),
        Some(-40.0)
    );

    // Ofsted: one snapshot in the store, so one point per line, and the caption says so.
    let of = chart(&json, "850-ofsted-good-or-outstanding");
    assert!(of["figure"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["points"].as_array().unwrap().len() == 1));
    assert!(of["caption"]
        .as_str()
        .unwrap()
        .contains("one Ofsted snapshot"));
}

#[test]
fn charts_config_errors_exit_2() {
    let Some(store) = real_store() else { return };
    let o = bin()
        .args(["charts", "--la", "850", "--neighbours", "2019", "--store"])
        .arg(store)
        .arg("--out")
        .arg(scratch("charts-bad"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = bin()
        .args(["charts", "--la", "999", "--store"])
        .arg(store)
        .arg("--out")
        .arg(scratch("charts-bad2"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_la_workbook_reopens_and_its_ranks_match_attain_rank() {
    use calamine::{open_workbook, DataType, Reader, Xlsx};
    let Some(store) = real_store() else { return };
    let out = scratch("workbook").join("850.xlsx");
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
    assert_eq!(
        wb.sheet_names(),
        vec![
            "Rankings",
            "Gaps",
            "School gaps",
            "Ofsted",
            "Categories",
            "Partnerships",
            "Dictionary"
        ]
    );
    let range = wb.worksheet_range("Rankings").unwrap();
    let rows: Vec<Vec<calamine::Data>> = range.rows().map(|r| r.to_vec()).collect();
    // A note line, then the header row, then one row per headline measure.
    let header: Vec<String> = rows[1]
        .iter()
        .map(|c| attain::render::workbook::columns::id_of(&c.to_string()))
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    assert!(rows.len() > 5, "headline measures with LA figures");
    for r in &rows[2..] {
        let measure = r[col("measure")].to_string();
        let year = r[col("year")].to_string();
        let o = bin()
            .args([
                "rank",
                "--measure",
                &measure,
                "--year",
                &year,
                "--la",
                "850",
                "--neighbours",
                "2021",
                "--format",
                "json",
                "--store",
            ])
            .arg(store)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{measure}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let json: Value = serde_json::from_slice(&o.stdout).unwrap();
        let j = &json[0];
        let num = |c: &calamine::Data| c.as_f64();
        assert_eq!(
            num(&r[col("value")]),
            j["value"].as_f64(),
            "{measure} value"
        );
        assert_eq!(num(&r[col("rank")]), j["rank"].as_f64(), "{measure} rank");
        assert_eq!(num(&r[col("of")]), j["of"].as_f64(), "{measure} of");
        assert_eq!(
            num(&r[col("sn_rank")]),
            j["sn_rank"].as_f64(),
            "{measure} sn_rank"
        );
        assert_eq!(
            r[col("quartile")].to_string(),
            j["quartile"].as_str().unwrap_or(""),
            "{measure} quartile"
        );
        let sn = num(&r[col("sn_average")]);
        assert!(
            match (sn, j["sn_average"].as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (None, None) => true,
                _ => false,
            },
            "{measure} sn_average"
        );
    }
    assert!(rows[2..]
        .iter()
        .any(|r| r[col("measure")] == "ks2_rwm_expected"));
}
