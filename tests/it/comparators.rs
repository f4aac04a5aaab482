//! The figures printed beside a school's: England of the same publication and phase, the
//! LA's own row, percentiles that say among how many schools, and one gap computation for
//! the booklet, `attain gaps` and the workbook. Expected figures come from the raw files.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{bin, raw, real_store, scratch};

/// Rows of a raw CSV as header -> cell maps.
fn rows(file: &str) -> Vec<HashMap<String, String>> {
    crate::common::csv_rows(&raw(file))
}

/// A cell by column name; "" where a short row lacks it.
fn cell<'r>(r: &'r HashMap<String, String>, column: &str) -> &'r str {
    r.get(column).map(String::as_str).unwrap_or("")
}

fn number(cell: &str) -> Option<f64> {
    cell.trim_end_matches('%').parse().ok()
}

/// Round half away from zero at `dps` places, computed independently of attain.
fn round(v: f64, dps: i32) -> f64 {
    let f = 10f64.powi(dps);
    (v * f).abs().round().copysign(v) / f
}

fn attain(args: &[&str], store: &Path) -> Value {
    let o = bin().args(args).arg("--store").arg(store).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A JSON array's rows by the string in `field`.
fn keyed<'j>(json: &'j Value, field: &str) -> BTreeMap<&'j str, &'j Value> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|r| (r[field].as_str().unwrap(), r))
        .collect()
}

const SURREY_KS4: &str = "clarelgibson-hants-surrey/data-in/2018-2019_936_ks4final.csv";

#[test]
fn ks4_gaps_against_national_are_dfes_diffn_att8_for_every_surrey_school() {
    let Some(store) = real_store() else { return };
    let file = rows(SURREY_KS4);
    // England is the performance tables' state-funded row (RECTYPE 7), as DfE's DIFFN uses.
    let england = file.iter().find(|r| r["RECTYPE"] == "7").unwrap();
    let england_other = number(cell(england, "ATT8SCR_NFSM6CLA1A")).unwrap();
    let json = attain(
        &[
            "gaps",
            "--measure",
            "ks4_attainment8",
            "--group",
            "disadvantaged",
            "--against",
            "national",
            "--level",
            "school",
            "--la",
            "936",
            "--year",
            "2019",
            "--format",
            "json",
        ],
        store,
    );
    let by_urn = keyed(&json, "code");
    let mut checked = 0;
    for r in file
        .iter()
        .filter(|r| r["RECTYPE"] == "1" || r["RECTYPE"] == "2")
    {
        let Some(diffn) = number(cell(r, "DIFFN_ATT8")) else {
            continue;
        };
        let row = by_urn
            .get(r["URN"].as_str())
            .unwrap_or_else(|| panic!("URN {} missing from attain gaps", r["URN"]));
        assert_eq!(
            row["comparison_value"].as_f64(),
            Some(england_other),
            "URN {}",
            r["URN"]
        );
        assert_eq!(
            row["gap"].as_f64(),
            Some(diffn),
            "URN {}: attain's gap against DfE's DIFFN_ATT8",
            r["URN"]
        );
        checked += 1;
    }
    assert!(checked >= 40, "{checked} Surrey schools with DIFFN_ATT8");
}

/// The booklet's HTML for one school, rendered from the real store into a folder of the
/// test's own (`test`): tests run in parallel and may render the same school.
fn booklet(test: &str, urn: &str, year: &str) -> String {
    let out = scratch(&format!("comparators-{test}-{urn}"));
    let o = bin()
        .args(["booklet", "--school", urn, "--year", year, "--out"])
        .arg(&out)
        .arg("--store")
        .arg(real_store().unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html: PathBuf = walk(&out)
        .into_iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "html")
                && p.file_name().unwrap().to_string_lossy().starts_with(urn)
        })
        .unwrap();
    std::fs::read_to_string(html).unwrap()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The cells of the first table row (after `section`'s id, if any) whose first cell is
/// `label`, tags stripped: the label is cell 0.
fn row_cells(html: &str, section: &str, label: &str) -> Vec<String> {
    let sec = match section {
        "" => html,
        s => &html[html.find(&format!("id=\"{s}\"")).unwrap()..],
    };
    let at = sec
        .find(&format!("<tr><td>{label}</td>"))
        .unwrap_or_else(|| panic!("no {label} row in {section}"));
    let row = &sec[at..at + sec[at..].find("</tr>").unwrap()];
    row.split("<td>")
        .skip(1)
        .map(|c| {
            let c = c.split("</td>").next().unwrap();
            let mut text = String::new();
            let mut tag = false;
            for ch in c.chars() {
                match ch {
                    '<' => tag = true,
                    '>' => tag = false,
                    _ if !tag => text.push(ch),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

#[test]
fn a_secondary_schools_attendance_is_set_against_englands_secondary_figures() {
    if real_store().is_none() {
        return;
    }
    // England's 2018/19 absence by phase: the NAT rows of the national file.
    let abs = rows("kspdeveloper-perf-tables/england_abs.csv");
    let nat = |phase: &str| {
        let r = abs
            .iter()
            .find(|r| r["LA"] == "NAT" && r["ESTAB"] == phase)
            .unwrap();
        (r["PERCTOT"].clone(), r["PPERSABS10"].clone())
    };
    let (sec_overall, sec_persistent) = nat("SEC");
    let (all_overall, _) = nat("PRI");
    // A Surrey secondary school with absence figures in the national file.
    let ks4 = rows(SURREY_KS4);
    let urn = ks4
        .iter()
        .filter(|r| r["RECTYPE"] == "1")
        .map(|r| r["URN"].clone())
        .find(|u| {
            abs.iter()
                .any(|a| &a["URN"] == u && number(cell(a, "PERCTOT")).is_some())
        })
        .unwrap();
    let own = abs.iter().find(|a| a["URN"] == urn).unwrap();
    let html = booklet("attendance", &urn, "2019");
    let overall = row_cells(&html, "attendance", "Overall absence");
    let persistent = row_cells(&html, "attendance", "Persistent absence");
    assert_eq!(overall[1], format!("{}%", own["PERCTOT"]));
    assert_eq!(overall[3], format!("{sec_overall}%"), "England secondary");
    assert_eq!(persistent[3], format!("{sec_persistent}%"));
    assert_ne!(
        sec_overall, all_overall,
        "the phases differ, so the test can fail"
    );
}

#[test]
fn percentiles_on_a_partial_store_say_among_how_many_schools() {
    if real_store().is_none() {
        return;
    }
    // KS2 2018/19 school figures in the raw folder: Hampshire's and Surrey's downloads only.
    // Mainstream schools (RECTYPE 1) are placed among mainstream schools.
    let mut mainstream = 0;
    let mut urn = String::new();
    for f in ["2018-850-ks2.csv", "2018-936-ks2.csv"] {
        for r in rows(&format!("clarelgibson-hants-surrey/data-in/ks2/{f}")) {
            if r["RECTYPE"] == "1" && number(cell(&r, "PTRWM_EXP")).is_some() {
                mainstream += 1;
                if urn.is_empty() && f.contains("850") {
                    urn = r["URN"].clone();
                }
            }
        }
    }
    let html = booklet("percentile", &urn, "2019");
    let cells = row_cells(
        &html,
        "ks2",
        &crate::common::measure_label("ks2_rwm_expected"),
    );
    assert!(
        cells[6].ends_with(&format!(" of {mainstream} schools")),
        "percentile cell {:?}: not national, among the {mainstream} mainstream schools held",
        cells[6]
    );
}

#[test]
fn booklet_attain_gaps_and_the_workbook_print_the_same_gap() {
    use calamine::{open_workbook, Reader, Xlsx};
    let Some(store) = real_store() else { return };
    let file = rows(SURREY_KS4);
    // A Surrey secondary with disadvantaged and other pupils' Attainment 8 published.
    let school = file
        .iter()
        .filter(|r| r["RECTYPE"] == "1")
        .find(|r| {
            number(cell(r, "ATT8SCR_FSM6CLA1A")).is_some()
                && number(cell(r, "ATT8SCR_NFSM6CLA1A")).is_some()
                && number(cell(r, "TFSM6CLA1A")).is_some_and(|n| n >= 6.0)
        })
        .unwrap();
    let urn = school["URN"].as_str();
    let expected = round(
        number(cell(school, "ATT8SCR_FSM6CLA1A")).unwrap()
            - number(cell(school, "ATT8SCR_NFSM6CLA1A")).unwrap(),
        1,
    );
    let json = attain(
        &[
            "gaps",
            "--measure",
            "ks4_attainment8",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--la",
            "936",
            "--year",
            "2019",
            "--format",
            "json",
        ],
        store,
    );
    let cli = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == urn)
        .unwrap();
    assert_eq!(cli["gap"].as_f64(), Some(expected), "attain gaps");
    let html = booklet("same-gap", urn, "2019");
    let gaps = &html[html.find("id=\"gaps\"").unwrap()..];
    let a8 = &gaps[gaps.find("Attainment 8").unwrap()..];
    let first = row_cells(a8, "", "Disadvantaged");
    assert_eq!(first[4], format!("{expected:+.1}"), "booklet: {first:?}");
    assert_eq!(first[5].is_empty(), cli["significance"] == "not assessed");
    assert_eq!(first[6], cli["trend"].as_str().unwrap());
    let out = scratch("comparators-workbook").join("936.xlsx");
    let o = bin()
        .args(["workbook", "--la", "936", "--out"])
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
    let range = wb.worksheet_range("School gaps").unwrap();
    let sheet: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header = &sheet[1];
    let col = |n: &str| {
        header
            .iter()
            .position(|h| attain::render::workbook::columns::id_of(h) == n)
            .unwrap()
    };
    let row = sheet
        .iter()
        .find(|r| {
            r[col("code")] == urn
                && r[col("measure")] == "ks4_attainment8"
                && r[col("group")] == "disadvantaged"
                && r[col("comparison")] == "not_disadvantaged"
                && r[col("year")] == "2019"
        })
        .unwrap();
    assert_eq!(
        row[col("gap")].parse::<f64>().ok(),
        Some(expected),
        "workbook"
    );
    assert_eq!(row[col("trend")], cli["trend"].as_str().unwrap());
}

#[test]
fn special_schools_are_placed_among_special_schools_and_other_comparisons_marked() {
    if real_store().is_none() {
        return;
    }
    // KS2 2018/19: RECTYPE 2 rows are special schools.
    let mut special = Vec::new();
    for f in ["2018-850-ks2.csv", "2018-936-ks2.csv"] {
        for r in rows(&format!("clarelgibson-hants-surrey/data-in/ks2/{f}")) {
            if r["RECTYPE"] == "2" && number(cell(&r, "PTRWM_EXP")).is_some() {
                special.push(r["URN"].clone());
            }
        }
    }
    special.sort();
    let html = booklet("special", &special[0], "2019");
    let cells = row_cells(
        &html,
        "ks2",
        &crate::common::measure_label("ks2_rwm_expected"),
    );
    assert!(
        cells[6].ends_with(&format!(" of {} special schools", special.len())),
        "{cells:?}"
    );
    // No special-school LA or England KS2 row is published: marked, and explained.
    assert!(
        cells[4].ends_with('‡'),
        "England figure marked as all schools: {cells:?}"
    );
    assert!(html.contains("none are published for special schools alone"));
}

#[test]
fn a_measure_added_to_the_booklet_contents_is_a_data_edit() {
    let Some(store) = real_store() else { return };
    let dir = scratch("booklet-contents");
    let catalogue = dir.join("catalogue");
    crate::common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue"),
        &catalogue,
    );
    // A new section of existing figures: KS2 grammar, punctuation and spelling.
    let contents = std::fs::read_to_string(catalogue.join("booklet.toml")).unwrap()
        + "\n[[section]]\nid = \"gps\"\nkind = \"table\"\ntitle = \"Grammar, punctuation and spelling\"\ncompare = \
            [\"la\", \"england\"]\nmeasures = [\"ks2_gps_expected\"]\n";
    std::fs::write(catalogue.join("booklet.toml"), contents).unwrap();
    let file = rows("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv");
    let school = file
        .iter()
        .find(|r| r["RECTYPE"] == "1" && number(cell(r, "PTGPS_EXP")).is_some())
        .unwrap();
    let out = dir.join("out");
    let o = bin()
        .args([
            "booklet",
            "--school",
            &school["URN"],
            "--year",
            "2019",
            "--out",
        ])
        .arg(&out)
        .arg("--catalogue")
        .arg(&catalogue)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(
        walk(&out)
            .into_iter()
            .find(|p| {
                p.extension().is_some_and(|e| e == "html") && p.parent() != Some(out.as_path())
            })
            .unwrap(),
    )
    .unwrap();
    assert!(html.contains("Grammar, punctuation and spelling"));
    let label = &crate::common::measure_label("ks2_gps_expected");
    let cells = row_cells(&html, "gps", label);
    assert_eq!(cells[1], school["PTGPS_EXP"], "{cells:?}");
    // A misspelt measure in the contents is a config error naming the file.
    std::fs::write(
        catalogue.join("booklet.toml"),
        std::fs::read_to_string(catalogue.join("booklet.toml"))
            .unwrap()
            .replace("\"ks2_gps_expected\"]", "\"ks2_gps_expectd\"]"),
    )
    .unwrap();
    let o = bin()
        .args([
            "booklet",
            "--school",
            &school["URN"],
            "--year",
            "2019",
            "--out",
        ])
        .arg(dir.join("out2"))
        .arg("--catalogue")
        .arg(&catalogue)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("booklet.toml"));
}

#[test]
fn categorise_facts_are_the_gaps_and_differences_the_booklet_prints() {
    let Some(store) = real_store() else { return };
    let file = rows(SURREY_KS4);
    let england = file.iter().find(|r| r["RECTYPE"] == "7").unwrap();
    let england_att8 = number(cell(england, "ATT8SCR")).unwrap();
    let rules = scratch("facts-one-place").join("rules.toml");
    std::fs::write(
        &rules,
        "name = \"Facts\"\ndefault = \"other\"\n\n[[category]]\nid = \"other\"\nsupport = \
            \"Universal\"\n\n[[category]]\nid = \"all\"\nsupport = \"Universal\"\n  \
         [[category.rule]]\n  name = \"Gap\"\n  all = [\"ks4_attainment8_disadvantaged_gap < 100\", \
         \"ks4_attainment8_vs_national < 100\"]\n",
    )
    .unwrap();
    let json = attain(
        &[
            "categorise",
            "--rules",
            rules.to_str().unwrap(),
            "--la",
            "936",
            "--year",
            "2019",
            "--format",
            "json",
        ],
        store,
    );
    let by_urn = keyed(&json, "urn");
    let (mut gaps, mut differences) = (0, 0);
    for r in file
        .iter()
        .filter(|r| r["RECTYPE"] == "1" || r["RECTYPE"] == "2")
    {
        let Some(school) = by_urn.get(r["URN"].as_str()) else {
            continue;
        };
        let evidence = &school["evidence"];
        // DfE's own DIFFN_ATT8: the same gap `attain gaps --against national` gives.
        match number(cell(r, "DIFFN_ATT8")) {
            Some(diffn) => {
                assert_eq!(
                    evidence["ks4_attainment8_disadvantaged_gap"].as_f64(),
                    Some(diffn),
                    "URN {}",
                    r["URN"]
                );
                gaps += 1;
            }
            None => assert_eq!(
                evidence["ks4_attainment8_disadvantaged_gap"], "no data",
                "URN {}: DIFFN_ATT8 is {:?}",
                r["URN"], r["DIFFN_ATT8"]
            ),
        }
        // School minus England's performance-tables row, at Attainment 8's one decimal.
        if let Some(att8) = number(cell(r, "ATT8SCR")) {
            assert_eq!(
                evidence["ks4_attainment8_vs_national"].as_f64(),
                Some(round(att8 - england_att8, 1)),
                "URN {}",
                r["URN"]
            );
            differences += 1;
        }
    }
    assert!(
        gaps >= 40 && differences >= 40,
        "{gaps} gaps, {differences} differences"
    );
}

#[test]
fn englands_trend_is_the_row_the_booklet_compares_with() {
    let Some(store) = real_store() else { return };
    // The performance tables' state-funded England row (RECTYPE 7) of each year's KS4 file.
    let files = [
        (
            2018,
            "clarelgibson-hants-surrey/data-in/2017-2018_936_ks4final.csv",
        ),
        (2019, SURREY_KS4),
    ];
    let json = attain(
        &[
            "trend",
            "--measure",
            "ks4_attainment8",
            "--code",
            "england",
            "--format",
            "json",
        ],
        store,
    );
    for (year, file) in files {
        let file = rows(file);
        let england = file.iter().find(|r| r["RECTYPE"] == "7").unwrap();
        let point = json["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["year"] == year)
            .unwrap();
        assert_eq!(
            point["value"].as_f64(),
            number(cell(england, "ATT8SCR")),
            "{year}"
        );
    }
}
