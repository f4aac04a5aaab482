//! KS2 and KS4 performance tables in their 2022/23, 2023/24 and 2024/25 layouts: Hertfordshire's
//! real per-LA downloads (`jshi12-hertfordshire/`), read back through `attain` and checked
//! against figures this test reads from the raw CSV itself (with the csv crate, not attain's
//! reader), and the reasons printed where DfE published no figure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{bin, poppler, raw, raw_dir, scratch};

const HERTS: &str = "jshi12-hertfordshire/data";
const KS2_META_2025: &str = "calvinchankf-uk-schools/metadata_2024-2025/ks2_meta.csv";
const ENGLAND: &str = "E92000001";

/// A raw performance-tables CSV: header and rows as published (ragged rows kept short).
struct RawCsv {
    index: HashMap<String, usize>,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl RawCsv {
    fn read(path: &Path) -> RawCsv {
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_path(path)
            .unwrap();
        let mut records = r.records().map(|x| {
            x.unwrap()
                .iter()
                .map(str::to_string)
                .collect::<Vec<String>>()
        });
        let headers: Vec<String> = records
            .next()
            .unwrap()
            .into_iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let index = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_ascii_uppercase(), i))
            .collect();
        RawCsv {
            index,
            headers,
            rows: records.collect(),
        }
    }

    /// The cell of `column` (any case); "" where the row stops early.
    fn get<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        let i = self.index[&column.to_ascii_uppercase()];
        row.get(i).map(|s| s.trim()).unwrap_or("")
    }

    fn rectype(&self, rectype: &str) -> &[String] {
        self.rows
            .iter()
            .find(|r| self.get(r, "RECTYPE") == rectype)
            .unwrap_or_else(|| panic!("no RECTYPE {rectype} row"))
    }

    /// A figure as published: `63%`, `72.60%`, `0.19`, `-26`. None for blanks and tokens.
    fn num(&self, row: &[String], column: &str) -> Option<f64> {
        self.get(row, column).trim_end_matches('%').parse().ok()
    }
}

fn herts(year_folder: &str, file: &str) -> PathBuf {
    raw(&format!("{HERTS}/{year_folder}/{file}"))
}

/// The four real Hertfordshire KS2/KS4 files, one store (built once by `attain ingest`).
fn herts_store() -> Option<&'static Path> {
    static STORE: OnceLock<Option<PathBuf>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            raw_dir()?;
            let store = scratch("modern-herts").join("store");
            let mut cmd = bin();
            cmd.arg("ingest");
            for y in ["2022-2023", "2023-2024"] {
                cmd.arg(herts(y, "919_ks2final.csv"))
                    .arg(herts(y, "919_ks4final.csv"));
            }
            let out = cmd.arg("--store").arg(&store).output().unwrap();
            assert!(
                out.status.code().is_some_and(|c| c <= 1),
                "ingest failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Some(store)
        })
        .as_deref()
}

fn attain_json(store: &Path, args: &[&str]) -> Value {
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
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "attain {args:?}: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `attain trend` values by year for a code (`919`, `england`, a URN).
fn trend(store: &Path, measure: &str, group: &str, code: &str, from: i32, to: i32) -> Value {
    attain_json(
        store,
        &[
            "trend",
            "--measure",
            measure,
            "--group",
            group,
            "--code",
            code,
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
        ],
    )
}

/// `attain inspect FILE --format json`.
fn inspect(path: &Path) -> Value {
    let out = bin()
        .arg("inspect")
        .arg(path)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "inspect {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn point(t: &Value, year: i32) -> &Value {
    t["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["year"] == year)
        .unwrap_or_else(|| panic!("no {year} in {t}"))
}

fn close(actual: &Value, expected: Option<f64>, what: &str) {
    let expected = expected.unwrap_or_else(|| panic!("{what}: the raw file has no figure"));
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: attain has no figure ({actual})"));
    assert!(
        (a - expected).abs() < 1e-9,
        "{what}: attain {a}, raw file {expected}"
    );
}

fn gap_row<'a>(rows: &'a Value, code: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no gap row for {code}: {rows}"))
}

#[test]
fn ks2_la_and_england_figures_each_year() {
    let Some(store) = herts_store() else { return };
    for (folder, year) in [("2022-2023", 2023), ("2023-2024", 2024)] {
        let f = RawCsv::read(&herts(folder, "919_ks2final.csv"));
        let (la, england) = (f.rectype("3"), f.rectype("5"));
        assert_eq!(f.get(la, "LEA"), "919");
        // All-pupil figures: expected, higher (RWM and by subject), science, for the LA and England.
        for (measure, column) in [
            ("ks2_rwm_expected", "PTRWM_EXP"),
            ("ks2_rwm_higher", "PTRWM_HIGH"),
            ("ks2_read_higher", "PTREAD_HIGH"),
            ("ks2_mat_higher", "PTMAT_HIGH"),
            ("ks2_gps_higher", "PTGPS_HIGH"),
            ("ks2_writ_greater_depth", "PTWRITTA_HIGH"),
            ("ks2_sci_expected", "PTSCITA_EXP"),
            ("ks2_read_avg_score", "READ_AVERAGE"),
        ] {
            for (code, row) in [("919", la), ("england", england)] {
                let t = trend(store, measure, "all", code, year, year);
                close(
                    &point(&t, year)["value"],
                    f.num(row, column),
                    &format!("{measure} {code} {year} ({column})"),
                );
            }
        }
        // Disadvantaged against other pupils in the LA, and England's state-funded row (RECTYPE 5,
        // not the all-schools RECTYPE 4: its cohort tells them apart).
        let la_gaps = attain_json(
            store,
            &[
                "gaps",
                "--measure",
                "ks2_rwm_expected",
                "--group",
                "disadvantaged",
                "--level",
                "la",
                "--la",
                "919",
                "--year",
                &year.to_string(),
            ],
        );
        let r = gap_row(&la_gaps, "919");
        close(
            &r["group_value"],
            f.num(la, "PTRWM_EXP_FSM6CLA1A"),
            "LA disadvantaged RWM",
        );
        close(
            &r["comparison_value"],
            f.num(la, "PTRWM_EXP_NotFSM6CLA1A"),
            "LA other pupils RWM",
        );
        close(
            &r["group_cohort"],
            f.num(la, "TFSM6CLA1A"),
            "LA disadvantaged pupils",
        );
        let nat = attain_json(
            store,
            &[
                "gaps",
                "--measure",
                "ks2_rwm_expected",
                "--group",
                "disadvantaged",
                "--level",
                "national",
                "--year",
                &year.to_string(),
            ],
        );
        let r = gap_row(&nat, ENGLAND);
        close(
            &r["group_value"],
            f.num(england, "PTRWM_EXP_FSM6CLA1A"),
            "England disadvantaged RWM",
        );
        close(
            &r["group_cohort"],
            f.num(england, "TFSM6CLA1A"),
            "England (state-funded) disadvantaged pupils",
        );
        assert_ne!(
            f.num(england, "TFSM6CLA1A"),
            f.num(f.rectype("4"), "TFSM6CLA1A"),
            "the test needs RECTYPE 4 and 5 to differ"
        );
        // Against England's other pupils: DfE's DIFFN_RWM_EXP, rebuilt from two published figures.
        let diffn = attain_json(
            store,
            &[
                "gaps",
                "--measure",
                "ks2_rwm_expected",
                "--group",
                "disadvantaged",
                "--level",
                "la",
                "--la",
                "919",
                "--against",
                "national",
                "--year",
                &year.to_string(),
            ],
        );
        close(
            &gap_row(&diffn, "919")["gap"],
            f.num(la, "DIFFN_RWM_EXP"),
            "LA gap to England's other pupils = DIFFN_RWM_EXP",
        );
        // DIFFN columns are stored as measures of their own (the LA's disadvantaged pupils).
        let t = trend(
            store,
            "ks2_rwm_higher_diffn",
            "disadvantaged",
            "919",
            year,
            year,
        );
        close(
            &point(&t, year)["value"],
            f.num(la, "DIFFN_RWM_HIGH"),
            "DIFFN_RWM_HIGH",
        );
        // Higher standard by subject for disadvantaged pupils; SEN support (not EHC plan) context.
        let t = trend(store, "ks2_read_higher", "disadvantaged", "919", year, year);
        close(
            &point(&t, year)["value"],
            f.num(la, "PTREAD_HIGH_FSM6CLA1A"),
            "LA disadvantaged reading high score",
        );
        let t = trend(store, "ks2_pct_sen_support", "all", "919", year, year);
        close(
            &point(&t, year)["value"],
            f.num(la, "PSENELK"),
            "LA % SEN support (PSENELK)",
        );
        let t = trend(store, "ks2_pct_ehcp", "all", "919", year, year);
        close(
            &point(&t, year)["value"],
            f.num(la, "PSENELE"),
            "LA % EHC plan (PSENELE)",
        );
    }
}

#[test]
fn ks4_la_and_england_figures_each_year() {
    let Some(store) = herts_store() else { return };
    for (folder, year) in [("2022-2023", 2023), ("2023-2024", 2024)] {
        let f = RawCsv::read(&herts(folder, "919_ks4final.csv"));
        let (la, england) = (f.rectype("4"), f.rectype("7"));
        assert_eq!(f.get(la, "LEA"), "919");
        for (measure, group, column) in [
            ("ks4_attainment8", "all", "ATT8SCR"),
            ("ks4_progress8", "all", "P8MEA"),
            ("ks4_em_grade4", "all", "PTL2BASICS_94"),
            ("ks4_em_grade5", "all", "PTL2BASICS_95"),
            ("ks4_ebacc_aps", "all", "EBACCAPS"),
            ("ks4_ebacc_grade5", "all", "PTEBACC_95"),
            ("ks4_attainment8", "disadvantaged", "ATT8SCR_FSM6CLA1A"),
            ("ks4_em_grade5", "disadvantaged", "PTFSM6CLA1ABASICS_95"),
            // The middle prior-attainment band is _MID in these layouts (it was _AV to 2018/19).
            ("ks4_attainment8", "prior_middle", "ATT8SCR_MID"),
        ] {
            for (code, row) in [("919", la), ("england", england)] {
                let t = trend(store, measure, group, code, year, year);
                close(
                    &point(&t, year)["value"],
                    f.num(row, column),
                    &format!("{measure} ({group}) {code} {year} ({column})"),
                );
            }
        }
        let t = trend(
            store,
            "ks4_progress8_diffn",
            "disadvantaged",
            "919",
            year,
            year,
        );
        close(
            &point(&t, year)["value"],
            f.num(la, "DIFFN_P8MEA"),
            "DIFFN_P8MEA",
        );
        let t = trend(store, "ks4_pct_sen_support", "all", "919", year, year);
        close(
            &point(&t, year)["value"],
            f.num(la, "PSENK4"),
            "LA % SEN support (PSENK4)",
        );
    }
    // 2023/24 has no prior-year columns: its year comes from its folder.
    let i = inspect(&herts("2023-2024", "919_ks4final.csv"));
    assert_eq!(i["tables"][0]["year"], 2024, "{i}");
}

/// Every year of a KS4 layout is told from its header even outside a year folder: 2023/24 by
/// its covid-impacted entry columns and no prior-year columns (not as the 2018/19 download it
/// shares three columns with), 2024/25 by its `_PREV`/`_PREV2` columns.
#[test]
fn ks4_years_from_the_header_alone() {
    let Some(_) = raw_dir() else { return };
    let dir = scratch("modern-ks4-years");
    let f = RawCsv::read(&herts("2023-2024", "919_ks4final.csv"));
    let write = |name: &str, extra: &[&str]| -> PathBuf {
        let p = dir.join(name);
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_path(&p)
            .unwrap();
        w.write_record(
            f.headers
                .iter()
                .map(String::as_str)
                .chain(extra.iter().copied()),
        )
        .unwrap();
        for r in &f.rows {
            let mut r = r.clone();
            r.resize(f.headers.len(), String::new());
            r.extend(extra.iter().map(|_| String::new()));
            w.write_record(&r).unwrap();
        }
        w.flush().unwrap();
        p
    };
    let y2024 = write("herts_ks4final.csv", &[]);
    let y2025 = write(
        "herts_ks4provisional.csv",
        &["ATT8SCR_PREV", "ATT8SCR_PREV2", "P8MEA_PREV", "P8MEA_PREV2"],
    );
    let i = inspect(&y2024);
    assert_eq!(
        (
            i["tables"][0]["year"].as_i64(),
            i["tables"][0]["year_from"]
                .as_str()
                .unwrap()
                .contains("2023/24 layout")
        ),
        (Some(2024), true),
        "{i}"
    );
    let i = inspect(&y2025);
    assert_eq!(
        (
            i["tables"][0]["year"].as_i64(),
            i["tables"][0]["year_from"]
                .as_str()
                .unwrap()
                .contains("2024/25 layout")
        ),
        (Some(2025), true),
        "{i}"
    );
}

#[test]
fn progress_reasons_in_trend_and_gaps() {
    let Some(store) = herts_store() else { return };
    let f23 = RawCsv::read(&herts("2022-2023", "919_ks2final.csv"));
    let la23 = f23.rectype("3");
    // Default span: up to the latest KS2 year in the store (2024), though 2024 has no progress.
    let t = attain_json(
        store,
        &["trend", "--measure", "ks2_read_progress", "--code", "919"],
    );
    close(
        &point(&t, 2023)["value"],
        f23.num(la23, "READPROG"),
        "LA reading progress 2022/23",
    );
    assert!(point(&t, 2023)["reason"].is_null(), "{t}");
    let p = point(&t, 2024);
    assert!(p["value"].is_null(), "{t}");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("no KS2 progress measures for 2023/24 and 2024/25 (no KS1 baseline"),
        "{t}"
    );
    let covid = trend(store, "ks2_read_progress", "all", "919", 2021, 2021);
    assert!(
        point(&covid, 2021)["reason"]
            .as_str()
            .unwrap()
            .contains("COVID-19"),
        "{covid}"
    );
    // The table prints the reason in the line of the year.
    let out = bin()
        .args([
            "trend",
            "--measure",
            "ks2_read_progress",
            "--code",
            "919",
            "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| {
            l.trim_start()
                .trim_start_matches('|')
                .trim_start()
                .starts_with("2024")
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("no KS2 progress measures for 2023/24"),
        "{text}"
    );

    // `attain gaps` for a year without progress: a row for the LA, with the reason and the
    // gap of the year before in its history.
    let rows = attain_json(
        store,
        &[
            "gaps",
            "--measure",
            "ks2_read_progress",
            "--group",
            "disadvantaged",
            "--level",
            "la",
            "--la",
            "919",
            "--year",
            "2024",
        ],
    );
    let r = gap_row(&rows, "919");
    assert!(r["gap"].is_null() && r["group_value"].is_null(), "{r}");
    assert!(
        r["reason"].as_str().unwrap().contains("no KS1 baseline"),
        "{r}"
    );
    let expected = f23.num(la23, "READPROG_FSM6CLA1A").unwrap()
        - f23.num(la23, "READPROG_NotFSM6CLA1A").unwrap();
    let before = r["previous_gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == 2023)
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        (before[1].as_f64().unwrap() - expected).abs() < 0.051,
        "2022/23 gap {before} vs raw {expected}"
    );
    // 2021/22: KS2 by LA and for England, not by school (the 2022/23 file's `_22` columns are
    // empty for every school and filled for the LA).
    assert!(f23.num(la23, "PTRWM_EXP_22").is_some());
    let school = f23
        .rows
        .iter()
        .find(|r| f23.get(r, "RECTYPE") == "1" && f23.get(r, "PTRWM_EXP").ends_with('%'))
        .unwrap();
    assert_eq!(f23.get(school, "PTRWM_EXP_22"), "");
    let t = trend(
        store,
        "ks2_rwm_expected",
        "all",
        f23.get(school, "URN"),
        2022,
        2023,
    );
    assert!(
        point(&t, 2022)["reason"]
            .as_str()
            .unwrap()
            .contains("KS2 results by school were not published for 2021/22"),
        "{t}"
    );
    close(
        &point(&t, 2023)["value"],
        f23.num(school, "PTRWM_EXP"),
        "the school's RWM 2022/23",
    );
    // A year with figures has no reason.
    let rows = attain_json(
        store,
        &[
            "gaps",
            "--measure",
            "ks2_read_progress",
            "--group",
            "disadvantaged",
            "--level",
            "la",
            "--la",
            "919",
            "--year",
            "2023",
        ],
    );
    assert!(gap_row(&rows, "919")["reason"].is_null());
}

/// The booklet of a Hertfordshire primary for 2023/24 prints why there is no progress score.
#[test]
fn booklet_prints_the_progress_reason_for_2023_24() {
    let Some(store) = herts_store() else { return };
    let f = RawCsv::read(&herts("2023-2024", "919_ks2final.csv"));
    let school = f
        .rows
        .iter()
        .find(|r| {
            f.get(r, "RECTYPE") == "1"
                && f.num(r, "TELIG").is_some_and(|n| n >= 20.0)
                && f.get(r, "PTRWM_EXP").ends_with('%')
        })
        .expect("a primary with published results");
    let urn = f.get(school, "URN");
    let out_dir = scratch("modern-booklet");
    let out = bin()
        .args(["booklet", "--school", urn, "--year", "2024", "--out"])
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
    let dir = out_dir.join("919");
    let html_path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{urn}-"))
                && p.extension().is_some_and(|e| e == "html")
        })
        .unwrap();
    let html = std::fs::read_to_string(&html_path)
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'");
    // The school's RWM figure as published, in its row; each progress row carries the reason.
    let rwm = format!(
        "<td>{}</td><td>{}</td>",
        crate::common::measure_label("ks2_rwm_expected"),
        f.get(school, "PTRWM_EXP")
    );
    assert!(html.contains(&rwm), "{rwm} not in {}", html_path.display());
    for label in ["ks2_read_progress", "ks2_writ_progress", "ks2_mat_progress"]
        .map(crate::common::measure_label)
    {
        let row = html
            .lines()
            .find(|l| l.contains(&format!("<td>{label}</td>")))
            .unwrap_or_else(|| panic!("no {label} row"));
        assert!(
            row.contains(
                "Not published: no KS2 progress measures for 2023/24 and 2024/25 (no KS1 baseline"
            ),
            "{row}"
        );
        assert!(!row.contains("<td>–</td>"), "a bare dash: {row}");
    }
    // The same in the PDF.
    let pdf = html_path.with_extension("pdf");
    if let Some(text) = poppler("pdftotext", &["-layout"], &pdf) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Not published: no KS2 progress measures for 2023/24 and 2024/25"),
            "{flat}"
        );
    }
}

/// A file in the 2024/25 layout (the header of DfE's 2024/25 ks2_meta.csv): Hertfordshire's
/// 2023/24 rows, with its prior years as the `_24`/`_23` columns and the three-year columns
/// pooled from them. Its year comes from the `_24` columns; `*_3YR` become the `_3yr`
/// measures; the empty progress columns leave the reason.
#[test]
fn three_year_figures_in_the_2024_25_layout() {
    let Some(_) = raw_dir() else { return };
    let meta = RawCsv::read(&raw(KS2_META_2025));
    let header: Vec<String> = meta
        .rows
        .iter()
        .map(|r| meta.get(r, "Field Name").to_string())
        .collect();
    assert!(header.iter().any(|h| h == "PTRWM_EXP_3YR") && header.iter().any(|h| h == "TELIG_24"));
    let now = RawCsv::read(&herts("2023-2024", "919_ks2final.csv"));
    let before = RawCsv::read(&herts("2022-2023", "919_ks2final.csv"));
    // The 2022/23 row of the same school (or the same LA / national row).
    let key = |f: &RawCsv, r: &[String]| {
        if f.get(r, "RECTYPE") == "1" || f.get(r, "RECTYPE") == "2" {
            f.get(r, "URN").to_string()
        } else {
            format!("rectype {}", f.get(r, "RECTYPE"))
        }
    };
    let earlier: HashMap<String, &Vec<String>> =
        before.rows.iter().map(|r| (key(&before, r), r)).collect();
    // Three years pooled: pupils summed, percentages and averages weighted by pupils.
    let pooled = |r: &[String], column: &str| -> Option<(f64, f64)> {
        let b = earlier.get(&key(&now, r))?;
        let years = [
            (now.num(r, "TELIG")?, now.num(r, column)?),
            (
                now.num(r, "TELIG_23")?,
                now.num(r, &format!("{column}_23"))?,
            ),
            (
                before.num(b, "TELIG_22")?,
                before.num(b, &format!("{column}_22"))?,
            ),
        ];
        let pupils: f64 = years.iter().map(|y| y.0).sum();
        Some((
            pupils,
            years.iter().map(|y| y.0 * y.1).sum::<f64>() / pupils,
        ))
    };
    let half_away = |v: f64| v.signum() * (v.abs() + 0.5).floor();
    let dir = scratch("modern-2025");
    let path = dir.join("919_ks2final.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(&header).unwrap();
    let mut expected: HashMap<String, (f64, f64)> = HashMap::new();
    for r in &now.rows {
        let b = earlier.get(&key(&now, r));
        let cells: Vec<String> = header
            .iter()
            .map(|h| {
                let u = h.to_ascii_uppercase();
                if u.contains("PROG") || u.starts_with("TKS1") || u.starts_with("PTKS1") {
                    String::new() // not populated in 2025
                } else if u == "TELIG_3YR" {
                    pooled(r, "PTRWM_EXP")
                        .map(|p| p.0.to_string())
                        .unwrap_or_default()
                } else if let Some(base) = u.strip_suffix("_3YR") {
                    let pct = base.starts_with("PT");
                    pooled(r, base)
                        .map(|p| format!("{}{}", half_away(p.1), if pct { "%" } else { "" }))
                        .unwrap_or_default()
                } else if let Some(base) = u.strip_suffix("_24") {
                    now.get(r, &format!("{base}_23")).to_string()
                } else if let Some(base) = u.strip_suffix("_23") {
                    b.map(|b| before.get(b, &format!("{base}_22")).to_string())
                        .unwrap_or_default()
                } else {
                    now.index
                        .get(&u)
                        .map(|_| now.get(r, &u).to_string())
                        .unwrap_or_default()
                }
            })
            .collect();
        if let Some(p) = pooled(r, "PTRWM_EXP") {
            expected.insert(key(&now, r), (p.0, half_away(p.1)));
        }
        w.write_record(&cells).unwrap();
    }
    w.flush().unwrap();
    let store = dir.join("store");
    let out = bin()
        .arg("ingest")
        .arg(&path)
        .arg(herts("2023-2024", "919_ks2final.csv"))
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let i = inspect(&path);
    assert_eq!(
        i["tables"][0]["year"], 2025,
        "year from the _24 columns: {i}"
    );

    let (la_pupils, la_pct) = expected["rectype 3"];
    let (nat_pupils, nat_pct) = expected["rectype 5"];
    let t = trend(&store, "ks2_rwm_expected_3yr", "all", "919", 2025, 2025);
    close(
        &point(&t, 2025)["value"],
        Some(la_pct),
        "LA RWM over three years",
    );
    let t = trend(&store, "ks2_cohort_3yr", "all", "919", 2025, 2025);
    close(
        &point(&t, 2025)["value"],
        Some(la_pupils),
        "LA pupils over three years",
    );
    let t = trend(&store, "ks2_rwm_expected_3yr", "all", "england", 2025, 2025);
    close(
        &point(&t, 2025)["value"],
        Some(nat_pct),
        "England RWM over three years",
    );
    assert!(
        nat_pupils > 1_900_000.0,
        "three national cohorts: {nat_pupils}"
    );
    // (School rows have no 2021/22 figures to pool: DfE did not publish KS2 by school for
    // 2021/22, so the fixture leaves their three-year cells empty, as a new school's would be.)
    assert!(
        expected.keys().all(|k| k.starts_with("rectype")),
        "{:?}",
        expected.keys()
    );
    // The one-year series is not joined to the three-year one.
    let t = trend(&store, "ks2_rwm_expected", "all", "919", 2024, 2025);
    close(
        &point(&t, 2024)["value"],
        now.num(now.rectype("3"), "PTRWM_EXP"),
        "LA RWM 2023/24",
    );
    // No progress in either year, each with its reason.
    let t = trend(&store, "ks2_mat_progress", "all", "919", 2024, 2025);
    for y in [2024, 2025] {
        assert!(
            point(&t, y)["reason"]
                .as_str()
                .unwrap()
                .contains("no KS1 baseline"),
            "{t}"
        );
    }
}
