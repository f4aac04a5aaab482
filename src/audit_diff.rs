//! `attain audit`'s differencing check: figures from pupil-level data read back from the
//! CSV, JSON and xlsx files of an output tree, and checked together for a group of 1 to
//! `threshold` pupils that can be worked out by subtraction: one figure minus another
//! (disadvantaged minus FSM), a total minus its shown parts (a partnership minus its
//! schools, an LA minus its schools), or a total added up from figures about disjoint
//! groups (disadvantaged boys + disadvantaged girls) minus another.
//!
//! A pupil-data table is recognised by its columns (`code`, `group`, `cohort`, `status`
//! with attain's status names); its cohorts say how many pupils each figure is about,
//! `comparison_cohort` how many the comparison is (the unit's other pupils). Measure,
//! year and level come from the row, or for a CSV without them from the JSON of the same
//! name beside it; where neither says, the file is its own measure and year. Which units
//! lie within which comes from `la` and `partnership`. Group relations are the catalogue's.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::analysis::disclosure::{self, Figure, Tree, Types};
use crate::analysis::pupil_groups::{GroupDefs, TypeSpace};
use crate::analysis::pupils::GroupSpec;
use crate::audit::Finding;

const STATUSES: [&str; 4] = [
    "ok",
    "suppressed_small",
    "suppressed_complement",
    "suppressed_secondary",
];

/// One row of a pupil-data table as read back.
#[derive(Debug, Clone, Default)]
struct Rec {
    file: String,
    location: String,
    measure: String,
    year: String,
    level: String,
    code: String,
    group: String,
    cohort: Option<u64>,
    comparison_cohort: Option<u64>,
    la: Option<String>,
    partnership: Option<String>,
}

fn count(v: &str) -> Option<u64> {
    let v = v.trim();
    v.parse::<u64>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    })
}

fn level_from_code(code: &str) -> &'static str {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        "school"
    } else if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) || code == "all" {
        "la"
    } else {
        "partnership"
    }
}

/// Rows of a table given as (header, rows of cells, location of each row).
fn from_table(
    file: &str,
    context: &str,
    header: &[String],
    rows: Vec<(String, Vec<String>)>,
) -> Vec<Rec> {
    let col = |n: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let (Some(code), Some(group), Some(cohort), Some(status)) =
        (col("code"), col("group"), col("cohort"), col("status"))
    else {
        return vec![];
    };
    let (measure, year, level, cc, la, pship) = (
        col("measure"),
        col("year"),
        col("level"),
        col("comparison_cohort"),
        col("la"),
        col("partnership"),
    );
    let mut out = Vec::new();
    for (location, cells) in rows {
        let get = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        if !get(Some(status)).is_some_and(|s| STATUSES.contains(&s.as_str())) {
            continue;
        }
        let code = get(Some(code)).unwrap_or_default();
        out.push(Rec {
            file: file.to_string(),
            location,
            measure: get(measure).unwrap_or_else(|| context.to_string()),
            year: get(year).unwrap_or_default(),
            level: get(level).unwrap_or_else(|| level_from_code(&code).to_string()),
            group: get(Some(group)).unwrap_or_default(),
            cohort: get(Some(cohort)).and_then(|v| count(&v)),
            comparison_cohort: get(cc).and_then(|v| count(&v)),
            la: get(la),
            partnership: get(pship),
            code,
        });
    }
    out
}

fn walk(v: &Value, at: &str, file: &str, out: &mut Vec<Rec>) {
    match v {
        Value::Array(items) => {
            let rows: Vec<&serde_json::Map<String, Value>> =
                items.iter().filter_map(|x| x.as_object()).collect();
            if !rows.is_empty()
                && rows.iter().all(|r| {
                    r.contains_key("code")
                        && r.contains_key("group")
                        && r.contains_key("cohort")
                        && r.contains_key("status")
                })
            {
                let s = |r: &serde_json::Map<String, Value>, k: &str| -> Option<String> {
                    r.get(k).and_then(|x| match x {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                };
                for (i, r) in rows.iter().enumerate() {
                    if !s(r, "status").is_some_and(|x| STATUSES.contains(&x.as_str())) {
                        continue;
                    }
                    let code = s(r, "code").unwrap_or_default();
                    out.push(Rec {
                        file: file.to_string(),
                        location: format!("row {} ({at}[{i}])", i + 1),
                        measure: s(r, "measure").unwrap_or_else(|| file.to_string()),
                        year: s(r, "year").unwrap_or_default(),
                        level: s(r, "level").unwrap_or_else(|| level_from_code(&code).to_string()),
                        group: s(r, "group").unwrap_or_default(),
                        cohort: s(r, "cohort").and_then(|c| count(&c)),
                        comparison_cohort: s(r, "comparison_cohort").and_then(|c| count(&c)),
                        la: s(r, "la"),
                        partnership: s(r, "partnership"),
                        code,
                    });
                }
                return;
            }
            for (i, x) in items.iter().enumerate() {
                walk(x, &format!("{at}[{i}]"), file, out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                walk(x, &format!("{at}.{k}"), file, out);
            }
        }
        _ => {}
    }
}

/// The pupil-data rows of the files `audit` has read: it hands over the text and sheets it
/// decoded, so each file is read once, in every encoding and format it reads.
#[derive(Default)]
pub struct Tables {
    recs: Vec<Rec>,
    /// Each JSON file's rows, for a CSV beside it without measure and year.
    json: HashMap<PathBuf, Vec<Rec>>,
    /// CSVs without measure and year: the JSON beside each, and its rows in `recs`.
    bare_csv: Vec<(PathBuf, std::ops::Range<usize>)>,
}

impl Tables {
    pub fn json(&mut self, path: &Path, file: &str, v: &Value) {
        let mut rows = Vec::new();
        walk(v, "$", file, &mut rows);
        self.recs.extend(rows.iter().cloned());
        self.json.insert(path.to_path_buf(), rows);
    }

    pub fn csv(&mut self, path: &Path, file: &str, text: &str, delimiter: u8) {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let Ok(header) = rdr.headers().map(|h| {
            h.iter()
                .map(|x| x.trim_start_matches('\u{feff}').to_string())
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        let rows: Vec<(String, Vec<String>)> = rdr
            .records()
            .enumerate()
            .filter_map(|(i, r)| {
                r.ok().map(|r| {
                    (
                        format!("row {}", i + 2),
                        r.iter().map(str::to_string).collect(),
                    )
                })
            })
            .collect();
        let start = self.recs.len();
        self.recs.extend(from_table(file, file, &header, rows));
        if !header.iter().any(|h| h.eq_ignore_ascii_case("measure")) {
            self.bare_csv
                .push((path.with_extension("json"), start..self.recs.len()));
        }
    }

    pub fn sheets(&mut self, file: &str, sheets: &[crate::ingest::table::Sheet]) {
        for sheet in sheets {
            let rows: Vec<(u64, Vec<String>)> = sheet
                .rows
                .iter()
                .map(|r| {
                    (
                        r.line,
                        r.cells.iter().map(|c| c.trim().to_string()).collect(),
                    )
                })
                .collect();
            let Some(h) = rows.iter().position(|(_, r)| {
                r.iter().any(|c| c.eq_ignore_ascii_case("cohort"))
                    && r.iter().any(|c| c.eq_ignore_ascii_case("group"))
            }) else {
                continue;
            };
            let name = &sheet.name;
            let body = rows[h + 1..]
                .iter()
                .map(|(line, r)| (format!("sheet {name}, row {line}"), r.clone()))
                .collect();
            self.recs.extend(from_table(
                file,
                &format!("{file} {name}"),
                &rows[h].1,
                body,
            ));
        }
    }
}

/// Every disclosure by subtraction among the pupil-data figures gathered from the files.
pub fn check(tables: Tables, threshold: u64) -> anyhow::Result<Vec<Finding>> {
    let Tables {
        mut recs,
        json,
        bare_csv,
    } = tables;
    // A CSV without measure and year, beside the JSON of the same rows: take them from it.
    for (sibling, range) in bare_csv {
        let Some(sibling) = json.get(&sibling).filter(|j| j.len() == range.len()) else {
            continue;
        };
        for (r, j) in recs[range].iter_mut().zip(sibling) {
            if r.code == j.code && r.group == j.group {
                (r.measure, r.year, r.level, r.la, r.partnership) = (
                    j.measure.clone(),
                    j.year.clone(),
                    j.level.clone(),
                    j.la.clone(),
                    j.partnership.clone(),
                );
            }
        }
    }
    let defs = GroupDefs::builtin();
    let mut by_context: BTreeMap<(String, String), Vec<Rec>> = BTreeMap::new();
    for r in recs {
        if GroupSpec::parse(&r.group).is_ok() {
            by_context
                .entry((r.measure.clone(), r.year.clone()))
                .or_default()
                .push(r);
        }
    }
    let mut findings = Vec::new();
    for ((measure, year), recs) in by_context {
        let keys: Vec<String> = recs
            .iter()
            .map(|r| {
                GroupSpec::parse(&r.group)
                    .map(|g| {
                        if g.parts.is_empty() {
                            "all".to_string()
                        } else {
                            g.parts.join("+")
                        }
                    })
                    .unwrap_or_default()
            })
            .collect();
        let space = TypeSpace::new(defs, keys.iter().map(String::as_str))?;
        let all = space.all();
        // Units: school within its partnership or LA, partnership within its LA.
        let mut ids: HashMap<(String, String), usize> = HashMap::new();
        let mut parent: Vec<Option<usize>> = vec![None];
        let node = |level: &str,
                    code: &str,
                    up: Option<(&str, &str)>,
                    ids: &mut HashMap<(String, String), usize>,
                    parent: &mut Vec<Option<usize>>|
         -> usize {
            let key = (level.to_string(), code.to_string());
            if let Some(&n) = ids.get(&key) {
                if parent[n] == Some(0) {
                    if let Some(&p) = up.and_then(|(l, c)| ids.get(&(l.to_string(), c.to_string())))
                    {
                        parent[n] = Some(p);
                    }
                }
                return n;
            }
            let p = up
                .and_then(|(l, c)| ids.get(&(l.to_string(), c.to_string())).copied())
                .unwrap_or(0);
            parent.push(Some(p));
            ids.insert(key, parent.len() - 1);
            parent.len() - 1
        };
        // LAs first, then partnerships, then schools, so each finds its parent.
        for r in &recs {
            if let Some(la) = &r.la {
                node("la", la, None, &mut ids, &mut parent);
            }
            if r.level == "la" {
                node("la", &r.code, None, &mut ids, &mut parent);
            }
        }
        for r in &recs {
            if let Some(p) = r.partnership.as_deref().filter(|_| r.level == "school") {
                node(
                    "partnership",
                    p,
                    r.la.as_deref().map(|l| ("la", l)),
                    &mut ids,
                    &mut parent,
                );
            }
            if r.level == "partnership" {
                node(
                    "partnership",
                    &r.code,
                    r.la.as_deref().map(|l| ("la", l)),
                    &mut ids,
                    &mut parent,
                );
            }
        }
        let mut figs: Vec<Figure> = Vec::new();
        let mut about: Vec<String> = Vec::new();
        let mut source: Vec<(String, String)> = Vec::new();
        let mut seen: HashMap<(usize, Types), usize> = HashMap::new();
        for (r, key) in recs.iter().zip(&keys) {
            let n = match r.level.as_str() {
                "school" => {
                    let up = r
                        .partnership
                        .as_deref()
                        .map(|p| ("partnership", p))
                        .or(r.la.as_deref().map(|l| ("la", l)));
                    node("school", &r.code, up, &mut ids, &mut parent)
                }
                l => node(
                    if l == "la" { "la" } else { "partnership" },
                    &r.code,
                    None,
                    &mut ids,
                    &mut parent,
                ),
            };
            let g = space.group(defs, key);
            let mut sets = Vec::new();
            if let Some(c) = r.cohort {
                sets.push((g, c, r.group.clone()));
            }
            if key != "all" {
                if let Some(c) = r.comparison_cohort {
                    sets.push((all.minus(&g), c, format!("pupils not in {}", r.group)));
                    if let Some(g_n) = r.cohort {
                        sets.push((all, g_n + c, "all pupils".to_string()));
                    }
                }
            }
            for (types, n_pupils, what) in sets {
                if seen.contains_key(&(n, types)) {
                    continue;
                }
                seen.insert((n, types), figs.len());
                figs.push(Figure {
                    node: n,
                    types,
                    count: n_pupils,
                });
                about.push(format!("{} {} {what}: {n_pupils}", r.level, r.code));
                source.push((r.file.clone(), r.location.clone()));
            }
        }
        let tree = Tree::new(parent.clone());
        for f in disclosure::find(&tree, &figs, threshold) {
            let show = |i: &usize| format!("{} ({}, {})", about[*i], source[*i].0, source[*i].1);
            let total = f.total.iter().map(show).collect::<Vec<_>>().join(" + ");
            // An LA minus its schools names many parts: the first dozen say enough.
            let mut parts = f
                .parts
                .iter()
                .take(12)
                .map(show)
                .collect::<Vec<_>>()
                .join(" + ");
            if f.parts.len() > 12 {
                parts.push_str(&format!(" + {} more", f.parts.len() - 12));
            }
            let (file, location) = source[f.total[0]].clone();
            findings.push(Finding {
                file,
                location,
                figure: format!(
                    "{measure} {year}: {total} minus {parts} leaves {} pupil(s)",
                    f.residual
                ),
            });
        }
    }
    Ok(findings)
}
