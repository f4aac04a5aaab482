//! Page one of the booklet (the summary) and the detail rows, on real schools: a Hampshire
//! junior school, a Surrey secondary and a two-pupil Hampshire school whose figures are all
//! withheld. Every expected figure and sentence is worked out here from the raw DfE files
//! and the shipped rules (catalogue/summary_rules.toml), never from attain's output.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::{bin, csv_rows, html_text, measure_label, raw, real_store, scratch, succeeded};

type Row = HashMap<String, String>;

const HANTS_SURREY: &str = "clarelgibson-hants-surrey/data-in";

/// KS2 files by results year (the file named 2018 is 2018/19: its prior-year columns are _18, _17).
fn ks2_rows(year: i32) -> Vec<Row> {
    ["850", "936"]
        .iter()
        .flat_map(|la| {
            csv_rows(&raw(&format!(
                "{HANTS_SURREY}/ks2/{}-{la}-ks2.csv",
                year - 1
            )))
        })
        .collect()
}

fn ks4_rows(year: i32) -> Vec<Row> {
    csv_rows(&raw(&format!(
        "{HANTS_SURREY}/{}-{}_936_ks4final.csv",
        year - 1,
        year
    )))
}

fn school<'r>(rows: &'r [Row], urn: &str) -> &'r Row {
    rows.iter()
        .find(|r| r["URN"] == urn && matches!(r["RECTYPE"].as_str(), "1" | "2"))
        .unwrap_or_else(|| panic!("URN {urn} not in the file"))
}

fn rectype<'r>(rows: &'r [Row], rt: &str, la: Option<&str>) -> &'r Row {
    rows.iter()
        .find(|r| r["RECTYPE"] == rt && la.is_none_or(|l| r["LEA"] == l))
        .unwrap()
}

/// A raw cell as a number ("59%" -> 59), None when withheld (SUPP, NE, NP, ...).
fn num(cell: &str) -> Option<f64> {
    cell.trim().trim_end_matches('%').parse().ok()
}

/// Rounded half away from zero, as DfE publishes.
fn round(v: f64, dps: i32) -> f64 {
    let k = 10f64.powi(dps);
    (v * k).abs().round().copysign(v) / k
}

/// A figure as the booklet prints it: percentages with %, progress scores signed.
fn printed(v: f64, unit: &str, dps: usize) -> String {
    let r = round(v, dps as i32);
    let s = format!("{r:.dps$}");
    match unit {
        "percent" => format!("{s}%"),
        "progress" if r > 0.0 => format!("+{s}"),
        _ => s,
    }
}

/// Wilson 95% interval (percent), as DfE's and attain's significance against England.
fn wilson(pct: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let p = pct / 100.0;
    let d = 1.0 + z * z / n;
    let c = p + z * z / (2.0 * n);
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (100.0 * (c - h) / d, 100.0 * (c + h) / d)
}

/// One measure's raw columns: (value, cohort or CI low, CI high), unit, dps.
struct Col {
    measure: &'static str,
    value: &'static str,
    cohort: &'static str,
    ci: Option<(&'static str, &'static str)>,
    unit: &'static str,
    dps: usize,
}

const KS2_COLS: [Col; 5] = [
    Col {
        measure: "ks2_rwm_expected",
        value: "PTRWM_EXP",
        cohort: "TELIG",
        ci: None,
        unit: "percent",
        dps: 0,
    },
    Col {
        measure: "ks2_rwm_higher",
        value: "PTRWM_HIGH",
        cohort: "TELIG",
        ci: None,
        unit: "percent",
        dps: 0,
    },
    Col {
        measure: "ks2_read_progress",
        value: "READPROG",
        cohort: "TELIG",
        ci: Some(("READPROG_LOWER", "READPROG_UPPER")),
        unit: "progress",
        dps: 1,
    },
    Col {
        measure: "ks2_writ_progress",
        value: "WRITPROG",
        cohort: "TELIG",
        ci: Some(("WRITPROG_LOWER", "WRITPROG_UPPER")),
        unit: "progress",
        dps: 1,
    },
    Col {
        measure: "ks2_mat_progress",
        value: "MATPROG",
        cohort: "TELIG",
        ci: Some(("MATPROG_LOWER", "MATPROG_UPPER")),
        unit: "progress",
        dps: 1,
    },
];

const KS4_COLS: [Col; 4] = [
    Col {
        measure: "ks4_progress8",
        value: "P8MEA",
        cohort: "P8PUP",
        ci: Some(("P8CILOW", "P8CIUPP")),
        unit: "progress",
        dps: 2,
    },
    Col {
        measure: "ks4_em_grade5",
        value: "PTL2BASICS_95",
        cohort: "TPUP",
        ci: None,
        unit: "percent",
        dps: 1,
    },
    Col {
        measure: "ks4_em_grade4",
        value: "PTL2BASICS_94",
        cohort: "TPUP",
        ci: None,
        unit: "percent",
        dps: 1,
    },
    Col {
        measure: "ks4_attainment8",
        value: "ATT8SCR",
        cohort: "TPUP",
        ci: None,
        unit: "score",
        dps: 1,
    },
];

/// Significance against England: "above", "below", "same", or None (not assessed).
fn significance(c: &Col, own: &Row, england: &Row) -> Option<&'static str> {
    let v = num(&own[c.value])?;
    let (lo, hi) = match c.ci {
        Some((l, h)) => (num(&own[l])?, num(&own[h])?),
        None if c.unit == "percent" => wilson(v, num(&own[c.cohort])?),
        None => return None,
    };
    let reference = if c.unit == "progress" {
        0.0
    } else {
        num(&england[c.value])?
    };
    Some(if lo > reference {
        "above"
    } else if hi < reference {
        "below"
    } else {
        "same"
    })
}

/// Percentile (100 = best) of the school among mainstream schools (RECTYPE 1) with a figure.
fn quintile(rows: &[Row], col: &str, urn: &str) -> Option<u8> {
    let v = num(&school(rows, urn)[col])?;
    let all: Vec<f64> = rows
        .iter()
        .filter(|r| r["RECTYPE"] == "1")
        .filter_map(|r| num(r.get(col)?))
        .collect();
    let below = all.iter().filter(|x| **x < v).count() as f64;
    let same = all.iter().filter(|x| **x == v).count() as f64;
    let pct = 100.0 * (below + 0.5 * same) / all.len() as f64;
    Some((5.0 - (pct / 20.0).floor()).clamp(1.0, 5.0) as u8)
}

fn label(year: i32) -> String {
    format!("{}/{:02}", year - 1, year % 100)
}

/// The sentences the shipped rules give for the school, worked out from the raw files:
/// (kind, text), in rule order, one per measure and kind, at most six of each.
fn expected_sentences(
    cols: &[Col],
    years: &[(i32, Vec<Row>)],
    urn: &str,
    england_rt: &str,
    groups: &HashMap<&str, (&str, &str)>,
) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue/summary_rules.toml"),
    )
    .unwrap();
    let rules: toml::Value = toml::from_str(&text).unwrap();
    let mut out: Vec<(String, String, String)> = Vec::new();
    for rule in rules["rule"].as_array().unwrap() {
        let get = |k: &str| rule[k].as_str().unwrap().to_string();
        let (kind, test, sentence) = (get("kind"), get("test"), get("sentence"));
        let group = rule.get("group").and_then(|g| g.as_str()).unwrap_or("all");
        let (inn, of) = (
            rule["in"].as_integer().unwrap() as usize,
            rule["of"].as_integer().unwrap() as usize,
        );
        for m in rule["measures"].as_array().unwrap() {
            let m = m.as_str().unwrap();
            let Some(c) = cols.iter().find(|c| c.measure == m) else {
                continue;
            };
            let key = format!("{m}/{group}");
            if out.iter().filter(|o| o.0 == kind).count() >= 6
                || out.iter().any(|o| o.0 == kind && o.1 == key)
            {
                continue;
            }
            // The group's own column (e.g. disadvantaged), else all pupils.
            let col = if group == "all" {
                c.value
            } else {
                match groups.get(m) {
                    Some((col, _)) => col,
                    None => continue,
                }
            };
            let window = &years[years.len() - of..];
            let values: Vec<Option<f64>> = window
                .iter()
                .map(|(_, rows)| num(&school(rows, urn)[col]))
                .collect();
            // Never from a withheld or missing figure.
            if values.iter().any(Option::is_none) {
                continue;
            }
            let holds: Vec<bool> = window
                .iter()
                .map(|(_, rows)| match test.as_str() {
                    "significantly_above" | "significantly_below" if group == "all" => {
                        let s = significance(c, school(rows, urn), rectype(rows, england_rt, None));
                        s == Some(if test.ends_with("above") {
                            "above"
                        } else {
                            "below"
                        })
                    }
                    "top_fifth" => quintile(rows, col, urn) == Some(1),
                    "bottom_fifth" => quintile(rows, col, urn) == Some(5),
                    _ => false,
                })
                .collect();
            let count = holds.iter().filter(|h| **h).count();
            if count < inn {
                continue;
            }
            let figures = window
                .iter()
                .zip(&values)
                .map(|((y, _), v)| {
                    format!("{} in {}", printed(v.unwrap(), c.unit, c.dps), label(*y))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let words = ["one", "two", "three"];
            let years_text = if count == of {
                if of == 1 {
                    "this year".to_string()
                } else {
                    format!("{} years", words[of - 1])
                }
            } else {
                format!("{} of the last {} years", words[count - 1], words[of - 1])
            };
            let among = if test.ends_with("fifth") {
                let n = window
                    .iter()
                    .rev()
                    .zip(holds.iter().rev())
                    .find(|(_, h)| **h)
                    .map(|((_, rows), _)| {
                        rows.iter()
                            .filter(|r| {
                                r["RECTYPE"] == "1" && r.get(col).and_then(|x| num(x)).is_some()
                            })
                            .count()
                    })
                    .unwrap();
                format!("among {n} schools")
            } else {
                String::new()
            };
            let group_text = match groups.get(m) {
                Some((_, g)) if group != "all" => format!("{g} pupils: "),
                _ => String::new(),
            };
            let s = sentence
                .replace("{group}", &group_text)
                .replace("{measure}", &measure_label(c.measure))
                .replace("{figures}", &figures)
                .replace("{among}", &among)
                .replace("{years}", &years_text);
            out.push((kind.clone(), key, s));
        }
    }
    out.into_iter().map(|(k, _, s)| (k, s)).collect()
}

/// The booklet for one school, rendered from the real store: (HTML, PDF path).
fn render(urn: &str, la: &str) -> (String, PathBuf) {
    let out = scratch(&format!("summary-{urn}"));
    succeeded(
        bin()
            .args(["booklet", "--school", urn, "--year", "2019", "--out"])
            .arg(&out)
            .arg("--store")
            .arg(real_store().unwrap()),
    );
    let files: Vec<PathBuf> = std::fs::read_dir(out.join(la))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let html = files
        .iter()
        .find(|p| p.extension().unwrap() == "html")
        .unwrap();
    let pdf = files
        .iter()
        .find(|p| p.extension().unwrap() == "pdf")
        .unwrap();
    (std::fs::read_to_string(html).unwrap(), pdf.clone())
}

/// The summary section of the HTML.
fn summary(html: &str) -> &str {
    let at = html
        .find("<section id=\"summary\"")
        .expect("summary section");
    &html[at..at + html[at..].find("</section>").unwrap()]
}

/// The cells (measure first) of the summary's headline row for `label`.
fn headline(html: &str, label: &str) -> Vec<String> {
    let s = summary(html);
    let at = s
        .find(&format!(">{label}</a></th>"))
        .unwrap_or_else(|| panic!("headline row {label}"));
    let start = s[..at].rfind("<tr>").unwrap();
    let row = &s[start..at + s[at..].find("</tr>").unwrap()];
    let row = row.replace("</th>", "</td>");
    let mut cells: Vec<String> = row.split("</td>").map(html_text).collect();
    cells.pop(); // after the last cell
    cells
}

/// The sentences printed under Strengths and Areas to investigate, without their links.
fn sentences(html: &str) -> Vec<(String, String)> {
    let s = summary(html);
    let part = |from: &str, to: Option<&str>| -> Vec<String> {
        let a = s.find(from).unwrap();
        let b = to.map_or(s.len(), |t| s.find(t).unwrap());
        s[a..b]
            .split("<li>")
            .skip(1)
            .map(|li| {
                let li = &li[..li.find("</li>").unwrap()];
                html_text(&li[..li.find(" <a href").unwrap_or(li.len())])
            })
            .collect()
    };
    let mut out: Vec<(String, String)> =
        part("<h3>Strengths</h3>", Some("<h3>Areas to investigate</h3>"))
            .into_iter()
            .map(|t| ("strength".to_string(), t))
            .collect();
    out.extend(
        part("<h3>Areas to investigate</h3>", None)
            .into_iter()
            .map(|t| ("area".to_string(), t)),
    );
    out
}

/// The cells of a detail table row (by its first cell) in the section with `id`.
fn detail_row(html: &str, id: &str, label: &str) -> Vec<String> {
    let at = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("section {id}"));
    let sec = &html[at..at + html[at..].find("</section>").unwrap()];
    let at = sec
        .find(&format!("<tr><td>{label}</td>"))
        .unwrap_or_else(|| panic!("{label} row in {id}"));
    let row = &sec[at..at + sec[at..].find("</tr>").unwrap()];
    // The school's figure first (the label cell is left out).
    row.split("<td")
        .skip(2)
        .map(|c| html_text(&format!("<td{c}")))
        .collect()
}

fn pdf_page_one(pdf: &Path) -> Option<String> {
    crate::common::poppler("pdftotext", &["-f", "1", "-l", "1", "-layout"], pdf)
}

#[test]
fn hampshire_junior_summary_figures_and_sentences_come_from_the_raw_files() {
    if real_store().is_none() {
        return;
    }
    let urn = "115852"; // Balksbury Junior School (AGERANGE 7-11)
    let years: Vec<(i32, Vec<Row>)> = (2017..=2019).map(|y| (y, ks2_rows(y))).collect();
    let now = &years[2].1;
    assert_eq!(school(now, urn)["AGERANGE"], "7-11", "a junior school");
    let (html, pdf) = render(urn, "850");
    let la = rectype(now, "3", Some("850"));
    let england = rectype(now, "5", None);
    for c in &KS2_COLS {
        let cells = headline(&html, &measure_label(c.measure));
        let own = num(&school(now, urn)[c.value]).unwrap();
        assert_eq!(
            cells[1],
            printed(own, c.unit, c.dps),
            "{} school: {cells:?}",
            measure_label(c.measure)
        );
        assert_eq!(
            cells[2],
            printed(num(&la[c.value]).unwrap(), c.unit, c.dps),
            "{} LA",
            measure_label(c.measure)
        );
        // Progress is measured against England's average, 0 by definition.
        let nat = if c.unit == "progress" {
            0.0
        } else {
            num(&england[c.value]).unwrap()
        };
        assert_eq!(
            cells[3],
            printed(nat, c.unit, c.dps),
            "{} England",
            measure_label(c.measure)
        );
        // Three-year direction: this year's figure against 2016/17's, at DfE's precision.
        let first = num(&school(&years[0].1, urn)[c.value]).unwrap();
        let change = round(own, c.dps as i32) - round(first, c.dps as i32);
        let word = if change > 0.0 {
            "up"
        } else if change < 0.0 {
            "down"
        } else {
            "level"
        };
        assert!(
            cells[4].contains(word) && cells[4].contains("since 2016/17"),
            "{} direction {cells:?}",
            measure_label(c.measure)
        );
        if change != 0.0 {
            assert!(
                cells[4].contains(&format!("{:.*}", c.dps, change.abs())),
                "{cells:?}"
            );
        }
        // Significance as a word beside a symbol.
        let word = match significance(c, school(now, urn), england).unwrap() {
            "above" => "▲ significantly above",
            "below" => "▼ significantly below",
            _ => "● not significantly different",
        };
        assert_eq!(cells[6], word, "{} significance", measure_label(c.measure));
        // Quintile among the schools with a figure (the store holds Hampshire and Surrey).
        let q = quintile(now, c.value, urn).unwrap();
        assert!(
            cells[5].starts_with(&format!("Q{q} ")),
            "{} quintile {cells:?}",
            measure_label(c.measure)
        );
    }
    // Every sentence, recomputed from the raw files and the shipped rules.
    let groups = HashMap::from([
        (
            "ks2_writ_expected",
            ("PTWRITTA_EXP_FSM6CLA1A", "Disadvantaged"),
        ),
        ("ks2_rwm_expected", ("PTRWM_EXP_FSM6CLA1A", "Disadvantaged")),
    ]);
    let mut cols: Vec<Col> = KS2_COLS.into_iter().collect();
    cols.push(Col {
        measure: "ks2_writ_expected",
        value: "PTWRITTA_EXP",
        cohort: "TELIG",
        ci: None,
        unit: "percent",
        dps: 0,
    });
    let want = expected_sentences(&cols, &years, urn, "5", &groups);
    let got = sentences(&html);
    assert!(!want.is_empty(), "this school has sentences to check");
    assert_eq!(got, want);
    // Each sentence points to the section printing its figures.
    assert!(summary(&html).contains("<a href=\"#ks2\">See Key stage 2 (end of Year 6)</a>"));
    // Subject rows equal the raw columns.
    for (measure, col, unit) in [
        ("ks2_read_expected", "PTREAD_EXP", "percent"),
        ("ks2_writ_expected", "PTWRITTA_EXP", "percent"),
        ("ks2_mat_expected", "PTMAT_EXP", "percent"),
        ("ks2_gps_expected", "PTGPS_EXP", "percent"),
        ("ks2_read_higher", "PTREAD_HIGH", "percent"),
        ("ks2_writ_greater_depth", "PTWRITTA_HIGH", "percent"),
        ("ks2_gps_avg_score", "GPS_AVERAGE", "score"),
        ("ks2_mat_avg_score", "MAT_AVERAGE", "score"),
    ] {
        let label = &measure_label(measure);
        let cells = detail_row(&html, "ks2", label);
        let v = num(&school(now, urn)[col]).unwrap();
        assert_eq!(cells[0], printed(v, unit, 0), "{label}: {cells:?}");
        assert_eq!(
            cells[2],
            printed(num(&la[col]).unwrap(), unit, 0),
            "{label} LA"
        );
        assert_eq!(
            cells[3],
            printed(num(&england[col]).unwrap(), unit, 0),
            "{label} England"
        );
    }
    // Prior-attainment rows: the school's, the LA's and England's same band.
    for (band, suffix) in [("low", "L"), ("middle", "M"), ("high", "H")] {
        let col = format!("PTRWM_EXP_{suffix}");
        let cells = detail_row(
            &html,
            "ks2_prior",
            &format!(
                "{} ({band} prior attainment)",
                measure_label("ks2_rwm_expected")
            ),
        );
        let own = school(now, urn)[&col].clone();
        match num(&own) {
            Some(v) => assert!(
                cells[0].starts_with(&printed(v, "percent", 0)),
                "{band}: {cells:?}"
            ),
            None => assert!(cells[0].starts_with(own.trim()), "{band}: {cells:?}"),
        }
        assert_eq!(
            cells[2],
            printed(num(&la[&col]).unwrap(), "percent", 0),
            "{band} LA"
        );
        assert_eq!(
            cells[3],
            printed(num(&england[&col]).unwrap(), "percent", 0),
            "{band} England"
        );
        let prog = format!("READPROG_{suffix}");
        let cells = detail_row(
            &html,
            "ks2_prior",
            &format!(
                "{} ({band} prior attainment)",
                measure_label("ks2_read_progress")
            ),
        );
        if let Some(v) = num(&school(now, urn)[&prog]) {
            assert!(
                cells[0].starts_with(&printed(v, "progress", 1)),
                "{band}: {cells:?}"
            );
        }
    }
    // Page one of the PDF carries the summary with the same figures and sentences.
    if let Some(text) = pdf_page_one(&pdf) {
        assert!(text.contains("Summary"), "{text}");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (_, s) in &want {
            let words: String = s.split_whitespace().take(6).collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&words), "{words} not on page one: {flat}");
        }
        let rwm = text
            .lines()
            .find(|l| l.trim_start().starts_with("Reading, writing and"))
            .unwrap();
        assert!(rwm.contains(&school(now, urn)["PTRWM_EXP"]), "{rwm}");
    }
}

#[test]
fn surrey_secondary_summary_and_ks4_rows_come_from_the_raw_files() {
    if real_store().is_none() {
        return;
    }
    let urn = "125271"; // Ash Manor School
    let years: Vec<(i32, Vec<Row>)> = (2017..=2019).map(|y| (y, ks4_rows(y))).collect();
    let now = &years[2].1;
    let (html, pdf) = render(urn, "936");
    let la = rectype(now, "4", Some("936"));
    let england = rectype(now, "7", None);
    for c in KS4_COLS.iter().filter(|c| c.measure != "ks4_em_grade4") {
        let cells = headline(&html, &measure_label(c.measure));
        let own = num(&school(now, urn)[c.value]).unwrap();
        assert_eq!(
            cells[1],
            printed(own, c.unit, c.dps),
            "{} school",
            measure_label(c.measure)
        );
        assert_eq!(
            cells[2],
            printed(num(&la[c.value]).unwrap(), c.unit, c.dps),
            "{} LA",
            measure_label(c.measure)
        );
        assert_eq!(
            cells[3],
            printed(num(&england[c.value]).unwrap(), c.unit, c.dps),
            "{} England",
            measure_label(c.measure)
        );
        if let Some(s) = significance(c, school(now, urn), england) {
            let word = match s {
                "above" => "significantly above",
                "below" => "significantly below",
                _ => "not significantly different",
            };
            assert!(
                cells[6].ends_with(word),
                "{} significance {cells:?}",
                measure_label(c.measure)
            );
        }
    }
    // Sentences: every significance rule, recomputed (the percentile rules place this
    // school nationally from a national file, which the check below covers by its absence).
    let want = expected_sentences(&KS4_COLS, &years, urn, "7", &HashMap::new());
    let got: Vec<(String, String)> = sentences(&html)
        .into_iter()
        .filter(|(_, s)| !s.contains("20% of schools"))
        .collect();
    assert_eq!(
        got,
        want.into_iter()
            .filter(|(_, s)| !s.contains("20% of schools"))
            .collect::<Vec<_>>()
    );
    assert!(!got.is_empty());
    // Attainment 8 and Progress 8 by element, EBacc entry and APS, grade 4+ and 5+.
    for (measure, col, unit, dps) in [
        ("ks4_att8_english", "ATT8SCRENG", "score", 1),
        ("ks4_att8_maths", "ATT8SCRMAT", "score", 1),
        ("ks4_att8_ebacc", "ATT8SCREBAC", "score", 1),
        ("ks4_att8_open", "ATT8SCROPEN", "score", 1),
        ("ks4_p8_english", "P8MEAENG", "progress", 2),
        ("ks4_p8_maths", "P8MEAMAT", "progress", 2),
        ("ks4_p8_ebacc", "P8MEAEBAC", "progress", 2),
        ("ks4_p8_open", "P8MEAOPEN", "progress", 2),
        ("ks4_ebacc_entry", "PTEBACC_E_PTQ_EE", "percent", 1),
        ("ks4_ebacc_aps", "EBACCAPS", "score", 2),
        ("ks4_em_grade4", "PTL2BASICS_94", "percent", 1),
        ("ks4_em_grade5", "PTL2BASICS_95", "percent", 1),
    ] {
        let label = &measure_label(measure);
        let cells = detail_row(&html, "ks4", label);
        let v = num(&school(now, urn)[col]).unwrap();
        assert_eq!(cells[0], printed(v, unit, dps), "{label}: {cells:?}");
        assert_eq!(
            cells[2],
            printed(num(&la[col]).unwrap(), unit, dps),
            "{label} LA"
        );
    }
    // Prior-attainment rows (KS2 bands), and the element's confidence limits give its significance.
    for (band, suffix) in [("low", "LO"), ("middle", "AV"), ("high", "HI")] {
        let cells = detail_row(
            &html,
            "ks4_prior",
            &format!(
                "{} ({band} prior attainment)",
                measure_label("ks4_attainment8")
            ),
        );
        let v = num(&school(now, urn)[&format!("ATT8SCR_{suffix}")]).unwrap();
        assert!(
            cells[0].starts_with(&printed(v, "score", 1)),
            "{band}: {cells:?}"
        );
        let cells = detail_row(
            &html,
            "ks4_prior",
            &format!(
                "{} ({band} prior attainment)",
                measure_label("ks4_progress8")
            ),
        );
        let r = school(now, urn);
        let v = num(&r[&format!("P8MEA_{suffix}")]).unwrap();
        assert!(
            cells[0].starts_with(&printed(v, "progress", 2)),
            "{band}: {cells:?}"
        );
        let (lo, hi) = (
            num(&r[&format!("P8CILOW_{suffix}")]).unwrap(),
            num(&r[&format!("P8CIUPP_{suffix}")]).unwrap(),
        );
        let word = if lo > 0.0 {
            "significantly above"
        } else if hi < 0.0 {
            "significantly below"
        } else {
            "not significantly different"
        };
        assert_eq!(cells.last().unwrap(), word, "{band}");
        // A band of fewer than 20 pupils shows its three-year figure, pooled from each year's
        // figure and pupils (no _3YR column in KS4 files).
        let pupils = num(&r[&format!("P8PUP_{suffix}")]).unwrap();
        if pupils < 20.0 {
            let (mut sum, mut n) = (0.0, 0.0);
            for (_, rows) in &years {
                let s = school(rows, urn);
                sum += num(&s[&format!("P8MEA_{suffix}")]).unwrap()
                    * num(&s[&format!("P8PUP_{suffix}")]).unwrap();
                n += num(&s[&format!("P8PUP_{suffix}")]).unwrap();
            }
            assert!(
                cells[0].ends_with(&format!(
                    "3 yrs pooled: {}",
                    printed(sum / n, "progress", 2)
                )),
                "{band}: {cells:?}"
            );
        }
    }
    if let Some(text) = pdf_page_one(&pdf) {
        let p8 = text
            .lines()
            .find(|l| l.trim_start().starts_with("Progress 8"))
            .unwrap();
        assert!(p8.contains(&school(now, urn)["P8MEA"]), "{p8}");
    }
}

#[test]
fn no_sentence_rests_on_a_withheld_figure_and_small_schools_show_three_years() {
    if real_store().is_none() {
        return;
    }
    // Hyde CE Primary: two pupils, every KS2 figure SUPP in 2018/19.
    let now = ks2_rows(2019);
    let r = school(&now, "116294");
    assert_eq!(r["READPROG"], "SUPP");
    let (html, _) = render("116294", "850");
    let cells = headline(&html, &measure_label("ks2_read_progress"));
    assert_eq!(cells[1], "SUPP");
    assert_eq!(cells[6], "", "no significance from a withheld figure");
    let ks2 = [
        "ks2_rwm_expected",
        "ks2_rwm_higher",
        "ks2_writ_expected",
        "ks2_read_progress",
        "ks2_writ_progress",
        "ks2_mat_progress",
    ];
    for (_, s) in sentences(&html) {
        assert!(
            !ks2.iter().any(|m| s.contains(&measure_label(m))),
            "a sentence from withheld KS2 figures: {s}"
        );
    }
    // Buriton Primary: nine pupils; DfE's three-year figure (PTRWM_EXP_3YR) beside the year's.
    let r = school(&now, "115869");
    assert!(num(&r["TELIG"]).unwrap() < 20.0);
    let (html, _) = render("115869", "850");
    let cells = detail_row(&html, "ks2", &measure_label("ks2_rwm_expected"));
    assert_eq!(
        cells[0],
        format!("{}3 yrs: {}", r["PTRWM_EXP"], r["PTRWM_EXP_3YR"])
    );
    assert!(
        html.contains("is DfE&#x27;s own three-year figure")
            || html.contains("is DfE's own three-year figure")
    );
}

#[test]
fn a_demo_school_lists_its_withheld_pupil_groups_on_one_line() {
    let dir = crate::common::demo_world();
    let out = scratch("summary-demo");
    succeeded(
        bin()
            .args(["booklet", "--la", "650", "--html-only", "--out"])
            .arg(&out)
            .arg("--store")
            .arg(dir.join("store"))
            .arg("--pupils")
            .arg(dir.join("data/pupils")),
    );
    let mut lines = 0;
    for e in std::fs::read_dir(out.join("650")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&p).unwrap();
        let Some(at) = html.find("id=\"pupil-gaps\"") else {
            continue;
        };
        let table = &html[at..at + html[at..].find("</table>").unwrap()];
        // No row is withheld in every school column.
        for row in table.split("<tr>").skip(1) {
            let cells: Vec<String> = row.split("<td>").skip(1).map(html_text).collect();
            if cells.len() >= 4 {
                assert!(
                    !(cells[1] == "c" && cells[2] == "c" && cells[3] == "c"),
                    "{}: a row of c: {row}",
                    p.display()
                );
            }
        }
        for note in table
            .split("<tr class=\"withheld\"><td colspan=\"7\">")
            .skip(1)
        {
            let note = &note[..note.find("</td>").unwrap()];
            let (count, names) = note
                .split_once(" too small to show at this school: ")
                .unwrap();
            let n: usize = count.split_whitespace().next().unwrap().parse().unwrap();
            assert_eq!(names.split(", ").count(), n, "{note}");
            lines += 1;
        }
    }
    assert!(lines > 0, "some demo school has withheld groups");
}

#[test]
fn a_misspelt_summary_rule_is_a_config_error_naming_the_file() {
    let dir = scratch("summary-rules-bad");
    let catalogue = dir.join("catalogue");
    crate::common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue"),
        &catalogue,
    );
    let rules = std::fs::read_to_string(catalogue.join("summary_rules.toml")).unwrap();
    for (from, to, said) in [
        (
            "measures = [\"absence_persistent\"]",
            "measures = [\"absence_persistant\"]",
            "unknown measure absence_persistant",
        ),
        (
            "group = \"disadvantaged\"",
            "group = \"disadvantagd\"",
            "unknown group disadvantagd",
        ),
        ("test = \"rising\"", "test = \"rises\"", "test must be"),
        (
            "{measure} fell",
            "{measur} fell",
            "unknown placeholder {measur}",
        ),
        (
            "kind = \"area\"",
            "kind = \"weakness\"",
            "kind must be strength or area",
        ),
        ("sentence = ", "sentense = ", "unknown field `sentense`"),
    ] {
        assert!(rules.contains(from), "{from}");
        std::fs::write(
            catalogue.join("summary_rules.toml"),
            rules.replacen(from, to, 1),
        )
        .unwrap();
        let o = bin()
            .args(["measures", "--catalogue"])
            .arg(&catalogue)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{from}: {err}");
        assert!(
            err.contains("summary_rules.toml") && err.contains(said),
            "{from}: {err}"
        );
    }
}

/// A booklet for one school and year from a store: (HTML, PDF page one's text, if poppler).
fn render_year(urn: &str, la: &str, year: i32, store: &Path) -> (String, Option<String>) {
    let out = scratch(&format!("summary-{urn}-{year}"));
    succeeded(
        bin()
            .args([
                "booklet",
                "--school",
                urn,
                "--year",
                &year.to_string(),
                "--out",
            ])
            .arg(&out)
            .arg("--store")
            .arg(store),
    );
    let file = |ext: &str| {
        std::fs::read_dir(out.join(la))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().unwrap() == ext)
            .unwrap()
    };
    (
        std::fs::read_to_string(file("html")).unwrap(),
        pdf_page_one(&file("pdf")),
    )
}

/// The release a performance-tables file name states (DfE names its downloads
/// `..._ks2final.csv`, `..._ks2revised.csv`, `..._ks2provisional.csv`), worked out here.
fn release_in_name(path: &str) -> Option<&'static str> {
    let name = Path::new(path)
        .file_name()?
        .to_string_lossy()
        .to_lowercase();
    ["provisional", "revised", "final"]
        .into_iter()
        .find(|r| name.contains(r))
}

const HERTS_KS2_2024: &str = "jshi12-hertfordshire/data/2023-2024/919_ks2final.csv";
const HERTS_ABS_2024: &str = "jshi12-hertfordshire/data/2023-2024/919_abs.csv";

/// A Hertfordshire LA-maintained primary with a 2023/24 KS2 result and a published overall
/// absence figure, and its booklet for 2023/24.
fn hertfordshire_primary() -> Option<&'static (String, String, Option<String>)> {
    static DONE: std::sync::OnceLock<Option<(String, String, Option<String>)>> =
        std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let store = real_store()?;
        let absence = csv_rows(&raw(HERTS_ABS_2024));
        let urn = csv_rows(&raw(HERTS_KS2_2024))
            .into_iter()
            .find(|r| {
                r["RECTYPE"] == "1"
                    && ["CY", "VA", "VC", "FD"].contains(&r["NFTYPE"].as_str())
                    && num(&r["PTRWM_EXP"]).is_some()
                    && absence
                        .iter()
                        .any(|a| a["URN"] == r["URN"] && num(&a["PERCTOT"]).is_some())
            })
            .expect("a Hertfordshire primary")["URN"]
            .clone();
        let (html, page_one) = render_year(&urn, "919", 2024, store);
        Some((urn, html, page_one))
    })
    .as_ref()
}

/// Page one says which release each key stage's figures are, where the file says: "final" for
/// Hertfordshire's `919_ks2final.csv`; nothing for Hampshire's `2018-850-ks2.csv`, whose name
/// (renamed by its repository's owner) and columns do not say, rather than "not stated".
#[test]
fn data_versions_say_what_the_files_state_and_nothing_else() {
    let Some((_, html, page_one)) = hertfordshire_primary() else {
        return;
    };
    let release = release_in_name(HERTS_KS2_2024).expect("the file name states its release");
    assert_eq!(release, "final");
    let line = format!("Data versions: Key stage 2: {release}");
    assert!(
        html.contains(&format!("<p class=\"small\">{line}</p>")),
        "{line}"
    );
    if let Some(text) = page_one {
        assert!(text.contains(&line), "{line} not on page one: {text}");
    }
    // Hampshire 2018/19: neither the name nor a column states the release.
    let hampshire = format!("{HANTS_SURREY}/ks2/2018-850-ks2.csv");
    assert_eq!(release_in_name(&hampshire), None);
    let header = csv_rows(&raw(&hampshire))[0]
        .keys()
        .any(|k| k.to_lowercase().contains("version") || k.to_lowercase().contains("release"));
    assert!(!header, "no column of the file names its release");
    let (html, pdf) = render("115852", "850");
    // The HTML's title block (the notes' list of files may say the file does not state it).
    let title = html
        [html.find("<header class=\"title\">").unwrap()..html.find("</header>").unwrap()]
        .to_string();
    for (format, text) in [("HTML", Some(title)), ("PDF", pdf_page_one(&pdf))] {
        let Some(text) = text else { continue };
        assert!(
            !text.contains("Data versions"),
            "{format}: no version to state"
        );
        assert!(!text.contains("not stated"), "{format}");
    }
}

/// The figures of one measure for one school in each absence file the raw data has, by
/// results year: 2012/13 (old 15% persistent-absence definition), 2018/19 (all England) and
/// 2023/24 (Hertfordshire).
fn raw_absence(urn: &str, column: &str) -> Vec<(i32, f64)> {
    [
        (2013, "ralpan-pollution-academic/england_abs.csv"),
        (2019, "kspdeveloper-perf-tables/england_abs.csv"),
        (2024, HERTS_ABS_2024),
    ]
    .into_iter()
    .filter_map(|(year, file)| {
        let rows = csv_rows(&raw(file));
        let v = rows
            .iter()
            .find(|r| r["URN"] == urn)
            .and_then(|r| num(r.get(column)?))?;
        Some((year, v))
    })
    .collect()
}

/// The absence rules on real data: Hertfordshire's 2023/24 booklet has no "rose"/"fell"
/// sentence and no three-year direction for absence, because the raw files give no three
/// consecutive years (and 2019/20 and 2020/21 break the series: catalogue/breaks.toml).
#[test]
fn real_absence_has_no_three_years_running_and_no_direction_across_the_pandemic() {
    let Some((urn, html, _)) = hertfordshire_primary() else {
        return;
    };
    for (measure, column) in [
        ("absence_overall", "PERCTOT"),
        ("absence_persistent", "PPERSABS10"),
    ] {
        let years: Vec<i32> = raw_absence(urn, column).iter().map(|(y, _)| *y).collect();
        assert!(years.contains(&2024), "{measure}: {years:?}");
        // The rules look at 2021/22, 2022/23 and 2023/24; a direction needs 2022/23.
        let three_running = [2022, 2023, 2024].iter().all(|y| years.contains(y));
        let year_before = years.contains(&2023);
        assert!(!three_running && !year_before, "{measure}: {years:?}");
        let label = measure_label(measure);
        for (_, s) in sentences(html) {
            assert!(
                !(s.starts_with(&label) && (s.contains(" rose ") || s.contains(" fell "))),
                "{s}"
            );
        }
        let cells = headline(html, &label);
        let own = raw_absence(urn, column).last().unwrap().1;
        assert_eq!(cells[1], printed(own, "percent", 1), "{measure}: {cells:?}");
        assert_eq!(
            cells[4], "",
            "{measure}: no direction without 2022/23: {cells:?}"
        );
    }
    // Across the pandemic: the raw files give the school 2018/19 and 2023/24 figures, and
    // the trend draws no direction between them (2019/20 and 2020/21 break the series).
    let years: Vec<i32> = raw_absence(urn, "PERCTOT")
        .iter()
        .map(|(y, _)| *y)
        .collect();
    assert!(years.contains(&2019) && years.contains(&2024), "{years:?}");
    let run = succeeded(
        bin()
            .args([
                "trend",
                "--measure",
                "absence_overall",
                "--code",
                urn,
                "--format",
                "json",
            ])
            .arg("--store")
            .arg(real_store().unwrap()),
    );
    let trend: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(trend["direction"], "not comparable", "{trend}");
    assert_eq!(trend["change"], serde_json::Value::Null);
    for p in trend["points"].as_array().unwrap() {
        if matches!(p["year"].as_i64(), Some(2020..=2022)) {
            assert_eq!(p["comparable"], false, "{p}");
        }
    }
}

/// The absence rules on the demo store, which has three consecutive years (2016/17 to
/// 2018/19): for every booklet of the demo LA, whether overall absence rose and persistent
/// absence rose or fell in each year is worked out from the demo's absence files, and the
/// booklet carries the sentence exactly when it must (unless six of its kind came first).
#[test]
fn demo_absence_rising_and_falling_sentences_follow_the_demo_files() {
    let dir = crate::common::demo_world();
    let years = [2017, 2018, 2019];
    let files: Vec<Vec<Row>> = years
        .iter()
        .map(|y| csv_rows(&dir.join(format!("data/{}-{y}/england_abs.csv", y - 1))))
        .collect();
    let series = |urn: &str, col: &str| -> Option<Vec<f64>> {
        files
            .iter()
            .map(|rows| num(rows.iter().find(|r| r["URN"] == urn)?.get(col)?))
            .collect()
    };
    let sentence = |measure: &str, verb: &str, v: &[f64]| {
        let figures = years
            .iter()
            .zip(v)
            .map(|(y, x)| format!("{} in {}", printed(*x, "percent", 1), label(*y)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} {verb} in each of the last three years ({figures}).",
            measure_label(measure)
        )
    };
    let out = scratch("summary-demo-absence");
    succeeded(
        bin()
            .args([
                "booklet",
                "--la",
                "650",
                "--year",
                "2019",
                "--html-only",
                "--out",
            ])
            .arg(&out)
            .arg("--store")
            .arg(dir.join("store")),
    );
    let (mut fired, mut held_back) = (0, 0);
    for e in std::fs::read_dir(out.join("650")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "html") {
            continue;
        }
        let urn = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split('-')
            .next()
            .unwrap()
            .to_string();
        let html = std::fs::read_to_string(&p).unwrap();
        let said = sentences(&html);
        let of = |kind: &str| -> Vec<&String> {
            said.iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, s)| s)
                .collect()
        };
        let (strengths, areas) = (of("strength"), of("area"));
        let has = |list: &[&String], s: &str| list.iter().any(|x| x.as_str() == s);
        let starts = |list: &[&String], s: &str| list.iter().any(|x| x.starts_with(s));
        let overall = measure_label("absence_overall");
        let persistent = measure_label("absence_persistent");
        // Overall absence: only absence_rising names it.
        match series(&urn, "PERCTOT") {
            Some(v) if v[0] < v[1] && v[1] < v[2] => {
                let s = sentence("absence_overall", "rose", &v);
                assert!(
                    has(&areas, &s) || areas.len() == 6,
                    "{urn}: {s} missing: {areas:?}"
                );
                fired += usize::from(has(&areas, &s));
            }
            _ => {
                assert!(
                    !starts(&areas, &format!("{overall} rose")),
                    "{urn}: {areas:?}"
                );
                held_back += 1;
            }
        }
        // Persistent absence: falling is the one strength about it; rising may give way to
        // the bottom-fifth rule, which comes first.
        match series(&urn, "PPERSABS10") {
            Some(v) if v[0] > v[1] && v[1] > v[2] => {
                let s = sentence("absence_persistent", "fell", &v);
                assert!(
                    has(&strengths, &s) || strengths.len() == 6,
                    "{urn}: {s} missing"
                );
                fired += usize::from(has(&strengths, &s));
            }
            Some(v) if v[0] < v[1] && v[1] < v[2] => {
                let s = sentence("absence_persistent", "rose", &v);
                assert!(
                    has(&areas, &s) || starts(&areas, &persistent) || areas.len() == 6,
                    "{urn}: {s} missing: {areas:?}"
                );
                fired += usize::from(has(&areas, &s));
            }
            _ => {
                assert!(!starts(&strengths, &format!("{persistent} fell")), "{urn}");
                assert!(!starts(&areas, &format!("{persistent} rose")), "{urn}");
            }
        }
    }
    assert!(
        fired >= 3 && held_back >= 3,
        "fired {fired}, held back {held_back}"
    );
}
