//! Disclosure control across everything a run releases together (issue 14): no figure
//! about 1-5 pupils can be worked out as the difference of two released figures, or as a
//! total minus its shown parts, across groups, levels, LAs, files and runs into one output
//! tree; and `attain audit` finds each such route in a planted tree.
//!
//! The check here is independent of attain's: it works on the pupils themselves. Every
//! released figure is the set of pupils it is about; a figure is "within" another when its
//! schools are among the other's and every kind of pupil in its group is in the other's
//! (decided by trying every combination of characteristics), and what subtraction leaves
//! is counted from the pupils.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use attain::ingest::pupils::{Ethnicity, KeyStage, Pupil, Sen, Test, TA_NOT_COUNTED};
use proptest::prelude::*;
use serde_json::Value;

use crate::common::{bin, demo_world, scratch};

const T: u64 = 5;

// ---------------------------------------------------------------------------------------
// The independent check.

fn member(group: &str, p: &Pupil) -> bool {
    group.split('+').all(|g| match g {
        "all" => true,
        "disadvantaged" => p.fsm || p.lac,
        "not_disadvantaged" => !(p.fsm || p.lac),
        "fsm" => p.fsm,
        "not_fsm" => !p.fsm,
        "lac" => p.lac,
        "not_lac" => !p.lac,
        "sen" => p.sen != Sen::None,
        "no_sen" => p.sen == Sen::None,
        "sen_support" => p.sen == Sen::Support,
        "ehcp" => p.sen == Sen::Ehcp,
        "eal" => p.eal,
        "not_eal" => !p.eal,
        "boys" => p.boy,
        "girls" => !p.boy,
        "white" => p.ethnicity == Ethnicity::White,
        "mixed" => p.ethnicity == Ethnicity::Mixed,
        "asian" => p.ethnicity == Ethnicity::Asian,
        "black" => p.ethnicity == Ethnicity::Black,
        "chinese" => p.ethnicity == Ethnicity::Chinese,
        "other_ethnic" => p.ethnicity == Ethnicity::Other,
        "unclassified" => p.ethnicity == Ethnicity::Unclassified,
        "prior_none" => p.ks1_aps.is_none(),
        "prior_low" => p.ks1_aps.is_some_and(|a| a < 12.0),
        "prior_middle" => p.ks1_aps.is_some_and(|a| (12.0..18.0).contains(&a)),
        "prior_high" => p.ks1_aps.is_some_and(|a| a >= 18.0),
        other => panic!("no test definition for group {other}"),
    })
}

fn blank_pupil() -> Pupil {
    Pupil {
        id: String::new(),
        urn: 0,
        year: 0,
        key_stage: KeyStage::Ks2,
        boy: false,
        disadvantaged: false,
        fsm: false,
        lac: false,
        sen: Sen::None,
        eal: false,
        ethnicity: Ethnicity::White,
        ks1_aps: None,
        reading: None,
        maths: None,
        gps: None,
        writing: None,
        ks1_reading: None,
        ks1_writing: None,
        ks1_maths: None,
        phonics: None,
        att8: None,
        english_grade: None,
        maths_grade: None,
        source: (0, 0),
    }
}

/// Every combination of characteristics a pupil can have.
fn kinds() -> &'static Vec<Pupil> {
    static K: OnceLock<Vec<Pupil>> = OnceLock::new();
    K.get_or_init(|| {
        let mut out = Vec::new();
        for fsm in [false, true] {
            for lac in [false, true] {
                for sen in [Sen::None, Sen::Support, Sen::Ehcp] {
                    for eal in [false, true] {
                        for boy in [false, true] {
                            for ethnicity in Ethnicity::CODES.map(|c| c.1) {
                                for aps in [None, Some(10.0), Some(15.0), Some(20.0)] {
                                    out.push(Pupil {
                                        fsm,
                                        lac,
                                        disadvantaged: fsm || lac,
                                        sen,
                                        eal,
                                        boy,
                                        ethnicity,
                                        ks1_aps: aps,
                                        ..blank_pupil()
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    })
}

fn truth(group: &str, negate: bool) -> Vec<bool> {
    kinds().iter().map(|k| member(group, k) != negate).collect()
}

/// Who is in a measure's cohort (docs/pupil-data.md), for the measures these tests use.
fn in_cohort(measure: &str, p: &Pupil) -> bool {
    let counted = |w: Option<&str>| w.is_some_and(|w| !TA_NOT_COUNTED.contains(&w));
    match measure {
        "ks2_read_avg_score" => {
            p.key_stage == KeyStage::Ks2 && matches!(p.reading, Some(Test::Score(_)))
        }
        "ks2_rwm_expected" => {
            p.key_stage == KeyStage::Ks2
                && counted(p.writing)
                && p.reading.is_some()
                && p.maths.is_some()
        }
        "ks2_writ_expected" => p.key_stage == KeyStage::Ks2 && counted(p.writing),
        "ks1_writ_expected" => p.key_stage == KeyStage::Ks1 && counted(p.ks1_writing),
        other => panic!("no test definition for measure {other}"),
    }
}

/// A released figure: the pupils it is about.
#[derive(Clone, Debug)]
struct Rel {
    label: String,
    schools: BTreeSet<u32>,
    truth: Vec<bool>,
    members: BTreeSet<usize>,
}

impl Rel {
    fn count(&self) -> u64 {
        self.members.len() as u64
    }
}

fn within(b: &Rel, schools: &BTreeSet<u32>, truth: &[bool]) -> bool {
    b.schools.is_subset(schools) && b.truth.iter().zip(truth).all(|(x, y)| !x || *y)
}

fn apart(a: &Rel, b: &Rel) -> bool {
    a.schools.is_disjoint(&b.schools) || a.truth.iter().zip(&b.truth).all(|(x, y)| !(x & y))
}

/// Where pupils are: school -> LA and school -> partnership.
#[derive(Default, Clone)]
struct Where {
    la: HashMap<u32, String>,
    partnership: HashMap<u32, String>,
}

impl Where {
    fn schools(&self, level: &str, code: &str) -> BTreeSet<u32> {
        match level {
            "school" => BTreeSet::from([code.parse().unwrap()]),
            "la" => self
                .la
                .iter()
                .filter(|(_, l)| *l == code)
                .map(|(u, _)| *u)
                .collect(),
            "partnership" => self
                .partnership
                .iter()
                .filter(|(_, p)| *p == code)
                .map(|(u, _)| *u)
                .collect(),
            other => panic!("level {other}"),
        }
    }
}

/// A row as shown: which figure, and the cohorts printed (None: withheld or not shown).
struct Shown<'a> {
    measure: &'a str,
    year: i32,
    level: &'a str,
    code: &'a str,
    group: &'a str,
    cohort: Option<u64>,
    comparison: Option<u64>,
}

/// The figures a row releases (its group, its comparison, and so the unit's total), as
/// sets of pupils; the row's cohorts are checked against the pupils.
fn released(pupils: &[Pupil], at: &Where, s: &Shown, label: &str) -> Vec<Rel> {
    let (level, code, group) = (s.level, s.code, s.group);
    let schools = at.schools(level, code);
    let pool: Vec<usize> = (0..pupils.len())
        .filter(|&i| {
            pupils[i].year == s.year
                && schools.contains(&pupils[i].urn)
                && in_cohort(s.measure, &pupils[i])
        })
        .collect();
    let make = |negate: bool, what: &str| Rel {
        label: format!("{label} {level} {code} {what}"),
        schools: schools.clone(),
        truth: truth(group, negate),
        members: pool
            .iter()
            .copied()
            .filter(|&i| member(group, &pupils[i]) != negate)
            .collect(),
    };
    let mut out = Vec::new();
    let g = make(false, group);
    if let Some(n) = s.cohort {
        assert_eq!(
            n,
            g.count(),
            "{}: the cohort printed is not the pupils' count",
            g.label
        );
        out.push(g);
    }
    if group != "all" {
        if let Some(n) = s.comparison {
            let c = make(true, &format!("not {group}"));
            assert_eq!(n, c.count(), "{}", c.label);
            out.push(c);
            out.push(Rel {
                label: format!("{label} {level} {code} all"),
                schools: schools.clone(),
                truth: truth("all", false),
                members: pool.iter().copied().collect(),
            });
        }
    }
    out
}

/// Every sum of counts of pairwise disjoint figures among `parts` (the empty choice too).
fn sums(
    rels: &[Rel],
    ap: &[Vec<bool>],
    parts: &[usize],
    memo: &mut HashMap<Vec<usize>, BTreeSet<u64>>,
) -> BTreeSet<u64> {
    if let Some(s) = memo.get(parts) {
        return s.clone();
    }
    fn go(
        rels: &[Rel],
        ap: &[Vec<bool>],
        parts: &[usize],
        k: usize,
        cur: &mut Vec<usize>,
        sum: u64,
        out: &mut BTreeSet<u64>,
    ) {
        if k == parts.len() {
            out.insert(sum);
            return;
        }
        go(rels, ap, parts, k + 1, cur, sum, out);
        if cur.iter().all(|&c| ap[c][parts[k]]) {
            cur.push(parts[k]);
            go(
                rels,
                ap,
                parts,
                k + 1,
                cur,
                sum + rels[parts[k]].count(),
                out,
            );
            cur.pop();
        }
    }
    let mut out = BTreeSet::new();
    go(rels, ap, parts, 0, &mut vec![], 0, &mut out);
    memo.insert(parts.to_vec(), out.clone());
    out
}

/// Every figure about 1 to T pupils that can be worked out from `rels`: a total (one
/// figure, or figures of one unit about disjoint groups added up; all such sums where a
/// unit has at most 14 figures, else sums of two) minus any choice of figures about
/// disjoint sets of pupils within it. Parts at units with no school in common are chosen
/// independently, so the sums they reach are added up school group by school group.
fn derivable(rels: &[Rel]) -> Vec<String> {
    let n = rels.len();
    let apart_m: Vec<Vec<bool>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| i != j && apart(&rels[i], &rels[j]))
                .collect()
        })
        .collect();
    let mut by_unit: BTreeMap<&BTreeSet<u32>, Vec<usize>> = BTreeMap::new();
    for (i, r) in rels.iter().enumerate() {
        by_unit.entry(&r.schools).or_default().push(i);
    }
    let mut memo = HashMap::new();
    let mut found = Vec::new();
    for (schools, here) in by_unit {
        let mut totals: Vec<Vec<usize>> = Vec::new();
        let max = if here.len() <= 14 { usize::MAX } else { 2 };
        fn fams(
            ap: &[Vec<bool>],
            here: &[usize],
            k: usize,
            cur: &mut Vec<usize>,
            out: &mut Vec<Vec<usize>>,
            max: usize,
        ) {
            if k == here.len() {
                out.push(cur.clone());
                return;
            }
            fams(ap, here, k + 1, cur, out, max);
            if cur.len() < max && cur.iter().all(|&c| ap[c][here[k]]) {
                cur.push(here[k]);
                fams(ap, here, k + 1, cur, out, max);
                cur.pop();
            }
        }
        fams(&apart_m, &here, 0, &mut vec![], &mut totals, max);
        let mut seen = BTreeSet::new();
        for total in totals.into_iter().filter(|t| !t.is_empty()) {
            let t_truth: Vec<bool> = (0..kinds().len())
                .map(|k| total.iter().any(|&i| rels[i].truth[k]))
                .collect();
            if !seen.insert(t_truth.clone()) {
                continue;
            }
            let t_count: u64 = total.iter().map(|&i| rels[i].count()).sum();
            let parts: Vec<usize> = (0..n)
                .filter(|&j| within(&rels[j], schools, &t_truth))
                .collect();
            // Parts at the total's own unit, then groups of parts sharing schools.
            let top: Vec<usize> = parts
                .iter()
                .copied()
                .filter(|&j| rels[j].schools == *schools)
                .collect();
            let mut groups: Vec<(BTreeSet<u32>, Vec<usize>)> = Vec::new();
            for &j in parts.iter().filter(|&&j| rels[j].schools != *schools) {
                let mut merged = (rels[j].schools.clone(), vec![j]);
                groups.retain(|g| {
                    if g.0.is_disjoint(&merged.0) {
                        true
                    } else {
                        merged.0.extend(g.0.iter().copied());
                        merged.1.extend(g.1.iter().copied());
                        false
                    }
                });
                groups.push(merged);
            }
            let mut tops = Vec::new();
            fams(&apart_m, &top, 0, &mut vec![], &mut tops, usize::MAX);
            let mut hit = None;
            for chosen in tops {
                let base: u64 = chosen.iter().map(|&j| rels[j].count()).sum();
                let mut reach = vec![false; t_count as usize + 1];
                if base as usize <= t_count as usize {
                    reach[base as usize] = true;
                }
                for g in &groups {
                    let mut ps: Vec<usize> =
                        g.1.iter()
                            .copied()
                            .filter(|&j| chosen.iter().all(|&c| apart_m[c][j]))
                            .collect();
                    ps.sort();
                    let add = sums(rels, &apart_m, &ps, &mut memo);
                    let mut next = vec![false; reach.len()];
                    for (s, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
                        for a in &add {
                            if let Some(x) = next.get_mut(s + *a as usize) {
                                *x = true;
                            }
                        }
                    }
                    reach = next;
                }
                if let Some(s) = (0..reach.len())
                    .rev()
                    .find(|&s| reach[s] && (1..=T).contains(&(t_count - s as u64)))
                {
                    hit = Some((chosen, t_count - s as u64));
                    break;
                }
            }
            if let Some((chosen, left)) = hit {
                let name = |js: &[usize]| {
                    js.iter()
                        .map(|&j| format!("{} ({})", rels[j].label, rels[j].count()))
                        .collect::<Vec<_>>()
                        .join(" + ")
                };
                found.push(format!(
                    "{} minus parts (at its own unit: {}) leaves {left}",
                    name(&total),
                    name(&chosen)
                ));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

// ---------------------------------------------------------------------------------------
// Demo data and runs.

fn demo_pupils() -> &'static Vec<Pupil> {
    static P: OnceLock<Vec<Pupil>> = OnceLock::new();
    P.get_or_init(|| {
        attain::ingest::pupils::read_pupils(&[demo_world().join("data/pupils")], false)
            .unwrap()
            .0
            .pupils
    })
}

fn demo_where() -> Where {
    let mut w = Where::default();
    for p in demo_pupils() {
        w.la.insert(p.urn, "650".into());
    }
    w
}

/// Partnerships of four schools each, in URN order, written as a `urn,partnership` map.
fn partnership_map(dir: &Path, w: &mut Where) -> PathBuf {
    let urns: BTreeSet<u32> = demo_pupils().iter().map(|p| p.urn).collect();
    let mut s = String::from("urn,partnership\n");
    for (i, u) in urns.iter().enumerate() {
        let name = format!("Partnership {}", i / 4 + 1);
        s.push_str(&format!("{u},{name}\n"));
        w.partnership.insert(*u, name);
    }
    let p = dir.join("partnerships.csv");
    std::fs::write(&p, s).unwrap();
    p
}

struct Query<'a> {
    name: &'a str,
    measure: &'a str,
    group: &'a str,
    level: &'a str,
    years: u32,
}

/// A pipeline with one pupil-gaps stage asking `queries` (and any more stages), run; the
/// output tree is `<dir>/out`.
fn run_gaps(
    dir: &Path,
    pupils: &Path,
    partnerships: Option<&Path>,
    queries: &[Query],
    extra: &str,
) -> std::process::Output {
    let mut toml = format!(
        "name = \"disclosure\"\n[la]\ncode = \"650\"\n{extra}\n[[stage]]\nname = \"gaps\"\nrun = \
            \"pupil-gaps\"\ninputs = [\"{store}\"]\noutputs = [\"{out}\"]\n[stage.options]\npupils = \"{pupils}\"\n",
        store = demo_world().join("store").display(),
        out = dir.join("out/questions").display(),
        pupils = pupils.display()
    );
    if let Some(m) = partnerships {
        toml.push_str(&format!("partnerships = \"{}\"\n", m.display()));
    }
    for q in queries {
        toml.push_str(&format!(
            "[[stage.options.queries]]\nname = \"{}\"\nmeasure = \"{}\"\ngroup = \"{}\"\nlevel = \
            \"{}\"\nyears = {}\n",
            q.name, q.measure, q.group, q.level, q.years
        ));
    }
    let p = dir.join("pipeline.toml");
    std::fs::write(&p, toml).unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn rows_of(file: &Path) -> Vec<Value> {
    serde_json::from_str::<Value>(&std::fs::read_to_string(file).unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The figures JSON rows release: each shown row's year, and each shown gap of its trend
/// (taken as releasing that year's group and comparison).
fn rels_of_rows(pupils: &[Pupil], at: &Where, rows: &[Value], label: &str) -> Vec<Rel> {
    let mut out = Vec::new();
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap().to_string();
        let (measure, level, code, group) = (s("measure"), s("level"), s("code"), s("group"));
        let year = r["year"].as_i64().unwrap() as i32;
        if r["status"] == "ok" {
            out.extend(released(
                pupils,
                at,
                &Shown {
                    measure: &measure,
                    year,
                    level: &level,
                    code: &code,
                    group: &group,
                    cohort: r["cohort"].as_u64(),
                    comparison: r["comparison_cohort"].as_u64(),
                },
                label,
            ));
        }
        for g in r["previous_gaps"].as_array().unwrap() {
            let y = g[0].as_i64().unwrap() as i32;
            if y != year && !g[1].is_null() {
                let schools = at.schools(&level, &code);
                let pool: Vec<usize> = (0..pupils.len())
                    .filter(|&i| {
                        pupils[i].year == y
                            && schools.contains(&pupils[i].urn)
                            && in_cohort(&measure, &pupils[i])
                    })
                    .collect();
                for negate in [false, true] {
                    out.push(Rel {
                        label: format!(
                            "{label} {level} {code} {group} {y}{}",
                            if negate { " comparison" } else { "" }
                        ),
                        schools: schools.clone(),
                        truth: truth(&group, negate),
                        members: pool
                            .iter()
                            .copied()
                            .filter(|&i| member(&group, &pupils[i]) != negate)
                            .collect(),
                    });
                }
            }
        }
    }
    out
}

/// Group every figure by measure and year, then look for what subtraction gives away.
fn check_all(rels_by: BTreeMap<(String, i32), Vec<Rel>>) -> Vec<String> {
    rels_by
        .into_iter()
        .flat_map(|((m, y), rels)| {
            derivable(&rels)
                .into_iter()
                .map(move |f| format!("{m} {y}: {f}"))
        })
        .collect()
}

fn key_of(label: &str) -> (String, i32) {
    let mut it = label.split(' ');
    (
        it.next().unwrap().to_string(),
        it.next().unwrap().parse().unwrap(),
    )
}

fn audit(dir: &Path) -> (Option<i32>, String) {
    let out = bin().arg("audit").arg(dir).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn collect(
    rels_by: &mut BTreeMap<(String, i32), Vec<Rel>>,
    pupils: &[Pupil],
    at: &Where,
    rows: &[Value],
    file: &str,
) {
    for r in rows {
        let key = (
            r["measure"].as_str().unwrap().to_string(),
            r["year"].as_i64().unwrap() as i32,
        );
        let rels = rels_of_rows(pupils, at, std::slice::from_ref(r), file);
        for rel in rels {
            // A trend year's figures belong to that year.
            let y = rel
                .label
                .split(' ')
                .find_map(|w| w.parse::<i32>().ok().filter(|y| (2000..2100).contains(y)))
                .unwrap_or(key.1);
            rels_by.entry((key.0.clone(), y)).or_default().push(rel);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Findings of issue 14, each from the demo data.

#[test]
fn disadvantaged_minus_fsm_gives_away_no_looked_after_child_within_a_run_or_across_runs() {
    let dir = scratch("disclosure-dis-fsm");
    let pupils = demo_world().join("data/pupils");
    let queries = [
        Query {
            name: "dis",
            measure: "ks2_read_avg_score",
            group: "disadvantaged",
            level: "school",
            years: 1,
        },
        Query {
            name: "fsm",
            measure: "ks2_read_avg_score",
            group: "fsm",
            level: "school",
            years: 1,
        },
        Query {
            name: "lac",
            measure: "ks2_read_avg_score",
            group: "lac",
            level: "school",
            years: 1,
        },
    ];
    run_gaps(&dir, &pupils, None, &queries, "");
    let at = demo_where();
    let mut rels = BTreeMap::new();
    let mut shown_both = 0;
    let dis = rows_of(&dir.join("out/questions/dis.json"));
    let fsm = rows_of(&dir.join("out/questions/fsm.json"));
    for d in &dis {
        if d["status"] == "ok"
            && fsm
                .iter()
                .any(|f| f["code"] == d["code"] && f["status"] == "ok")
        {
            shown_both += 1;
        }
    }
    assert!(
        shown_both > 10,
        "most schools still show both: {shown_both}"
    );
    for q in &queries {
        collect(
            &mut rels,
            demo_pupils(),
            &at,
            &rows_of(&dir.join(format!("out/questions/{}.json", q.name))),
            q.name,
        );
    }
    let found = check_all(rels);
    assert!(
        found.is_empty(),
        "{} figures about 1-5 pupils can be worked out:\n{}",
        found.len(),
        found.join("\n")
    );
    let (code, said) = audit(&dir.join("out"));
    assert_eq!(code, Some(0), "{said}");

    // Across runs: `attain gaps --ledger` twice into one tree, disadvantaged then FSM.
    let ledger = dir.join("ledger.json");
    let gaps = |group: &str| -> Vec<Value> {
        let out = bin()
            .args([
                "gaps",
                "--measure",
                "ks2_read_avg_score",
                "--group",
                group,
                "--level",
                "school",
                "--years",
                "1",
                "--format",
                "json",
                "--store",
            ])
            .arg(demo_world().join("store"))
            .arg("--pupils")
            .arg(&pupils)
            .arg("--ledger")
            .arg(&ledger)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let (d, f) = (gaps("disadvantaged"), gaps("fsm"));
    let mut rels = BTreeMap::new();
    collect(&mut rels, demo_pupils(), &at, &d, "run1");
    collect(&mut rels, demo_pupils(), &at, &f, "run2");
    let found = check_all(rels);
    assert!(found.is_empty(), "across two runs:\n{}", found.join("\n"));
    assert!(std::fs::read_to_string(&ledger)
        .unwrap()
        .contains("\"group\": \"fsm\""));
}

/// (measure id, group id) of a booklet row, from the labels it prints.
fn booklet_rels(html: &str, urn: u32, pupils: &[Pupil], at: &Where, year: i32) -> Vec<Rel> {
    let cat = attain::catalogue::Catalogue::builtin();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;")
    };
    let measures = [
        "phonics_expected",
        "ks1_writ_expected",
        "ks2_rwm_expected",
        "ks2_writ_expected",
        "ks4_attainment8",
        "ks4_em_grade5",
    ];
    let groups = [
        "lac",
        "sen_support",
        "ehcp",
        "white",
        "mixed",
        "asian",
        "black",
        "other_ethnic",
        "prior_low",
        "prior_high",
        "disadvantaged+boys",
        "disadvantaged+girls",
    ];
    let glabel = |g: &str| {
        g.split('+')
            .map(|x| cat.group(x).unwrap().label.clone())
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let Some(start) = html.find("id=\"pupil-gaps\"") else {
        return vec![];
    };
    let mut measure: Option<&str> = None;
    let mut out = Vec::new();
    for line in html[start..].lines() {
        if let Some(m) = measures.iter().find(|m| {
            line.contains(&format!(
                "scope=\"rowgroup\">{}</th>",
                esc(cat.measure(m).unwrap().short_label())
            ))
        }) {
            measure = Some(m);
        }
        let Some(m) = measure else { continue };
        if !matches!(
            m,
            "ks1_writ_expected" | "ks2_rwm_expected" | "ks2_writ_expected"
        ) {
            continue;
        }
        for g in groups {
            let prefix = format!("<td>{} (n=", esc(&glabel(g)));
            if let Some(i) = line.find(&prefix) {
                let n = &line[i + prefix.len()..line[i..].find(")</td>").unwrap() + i];
                if let Ok(n) = n.parse::<u64>() {
                    let school = released(
                        pupils,
                        at,
                        &Shown {
                            measure: m,
                            year,
                            level: "school",
                            code: &urn.to_string(),
                            group: g,
                            cohort: Some(n),
                            comparison: None,
                        },
                        &format!("{m} {year} booklet"),
                    );
                    out.extend(school);
                    // The comparison is shown too, and the school's pupils are published.
                    let pool: Vec<usize> = (0..pupils.len())
                        .filter(|&i| {
                            pupils[i].year == year
                                && pupils[i].urn == urn
                                && in_cohort(m, &pupils[i])
                        })
                        .collect();
                    let schools = BTreeSet::from([urn]);
                    out.push(Rel {
                        label: format!("{m} {year} booklet school {urn} not {g}"),
                        schools: schools.clone(),
                        truth: truth(g, true),
                        members: pool
                            .iter()
                            .copied()
                            .filter(|&i| !member(g, &pupils[i]))
                            .collect(),
                    });
                    out.push(Rel {
                        label: format!("{m} {year} booklet school {urn} all"),
                        schools,
                        truth: truth("all", false),
                        members: pool.into_iter().collect(),
                    });
                }
            }
        }
    }
    out
}

#[test]
fn the_booklets_and_the_narrowing_the_gap_csv_together_give_away_no_child() {
    let dir = scratch("disclosure-booklet");
    let w = demo_world();
    let booklet_stage = format!(
        "[[stage]]\nname = \"booklets\"\nrun = \"booklet\"\ninputs = [\"{store}\"]\noutputs = [\"{out}\"]\noptions = \
            {{ html_only = true, pupils = \"{data}/pupils\", prior_means = \
            \"{data}/national/ks2_prior_attainment_means.csv\" }}\n",
        store = w.join("store").display(),
        out = dir.join("out/booklets").display(),
        data = w.join("data").display()
    );
    let queries = [
        Query {
            name: "fsm-ks1-writing",
            measure: "ks1_writ_expected",
            group: "fsm",
            level: "school",
            years: 1,
        },
        Query {
            name: "dis-ks2-writing",
            measure: "ks2_writ_expected",
            group: "disadvantaged",
            level: "school",
            years: 1,
        },
        Query {
            name: "dis-ks2-rwm",
            measure: "ks2_rwm_expected",
            group: "disadvantaged",
            level: "school",
            years: 1,
        },
    ];
    // The booklet stage first (it is in `extra`, before the gaps stage), as in a team that
    // runs the annual booklet job and then the narrowing-the-gap job into one tree.
    run_gaps(&dir, &w.join("data/pupils"), None, &queries, &booklet_stage);
    let at = demo_where();
    let mut rels: BTreeMap<(String, i32), Vec<Rel>> = BTreeMap::new();
    let year = demo_pupils().iter().map(|p| p.year).max().unwrap();
    let mut shown = 0;
    for e in std::fs::read_dir(dir.join("out/booklets/650")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "html") && p.file_name().unwrap() != "index.html" {
            let urn: u32 = p.file_name().unwrap().to_str().unwrap()[..6]
                .parse()
                .unwrap();
            for r in booklet_rels(
                &std::fs::read_to_string(&p).unwrap(),
                urn,
                demo_pupils(),
                &at,
                year,
            ) {
                shown += 1;
                rels.entry(key_of(&r.label)).or_default().push(r);
            }
        }
    }
    assert!(shown > 100, "the booklets show pupil-level groups: {shown}");
    for q in &queries {
        collect(
            &mut rels,
            demo_pupils(),
            &at,
            &rows_of(&dir.join(format!("out/questions/{}.json", q.name))),
            q.name,
        );
    }
    let found = check_all(rels);
    assert!(
        found.is_empty(),
        "{} figures about 1-5 pupils can be worked out:\n{}",
        found.len(),
        found.join("\n")
    );
    let (code, said) = audit(&dir.join("out"));
    assert_eq!(code, Some(0), "{said}");
}

#[test]
fn a_partnership_minus_its_shown_schools_gives_away_no_school() {
    let dir = scratch("disclosure-partnership");
    let mut at = demo_where();
    let map = partnership_map(&dir, &mut at);
    let queries = [
        Query {
            name: "p",
            measure: "ks2_rwm_expected",
            group: "disadvantaged+boys",
            level: "partnership",
            years: 3,
        },
        Query {
            name: "s",
            measure: "ks2_rwm_expected",
            group: "disadvantaged+boys",
            level: "school",
            years: 3,
        },
        Query {
            name: "la",
            measure: "ks2_rwm_expected",
            group: "disadvantaged+boys",
            level: "la",
            years: 3,
        },
    ];
    run_gaps(
        &dir,
        &demo_world().join("data/pupils"),
        Some(&map),
        &queries,
        "",
    );
    let mut rels = BTreeMap::new();
    for q in &queries {
        collect(
            &mut rels,
            demo_pupils(),
            &at,
            &rows_of(&dir.join(format!("out/questions/{}.json", q.name))),
            q.name,
        );
    }
    let p = rows_of(&dir.join("out/questions/p.json"));
    assert!(
        p.iter().filter(|r| r["status"] == "ok").count() >= 3,
        "partnership figures are still shown"
    );
    let found = check_all(rels);
    assert!(
        found.is_empty(),
        "{} figures about 1-5 pupils can be worked out:\n{}",
        found.len(),
        found.join("\n")
    );
    let (code, said) = audit(&dir.join("out"));
    assert_eq!(code, Some(0), "{said}");
}

/// The demo LA's pupils, and a copy of some of its schools' pupils moved to schools of
/// another LA (their URNs taken from the demo's published KS2 file): one file, two LAs.
fn two_la_file(dir: &Path) -> (PathBuf, Where) {
    let w = demo_world();
    let ks2 = std::fs::read_dir(w.join("data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.join("england_ks2final.csv"))
        .filter(|p| p.exists())
        .max()
        .unwrap();
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&ks2)
        .unwrap();
    let h: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|x| x.trim_start_matches('\u{feff}').to_string())
        .collect();
    let (lea, urn, rect) = (
        h.iter().position(|x| x == "LEA").unwrap(),
        h.iter().position(|x| x == "URN").unwrap(),
        h.iter().position(|x| x == "RECTYPE").unwrap(),
    );
    let mut other: Vec<(String, u32)> = Vec::new();
    for rec in r.records().map(|x| x.unwrap()) {
        if &rec[rect] == "1" && &rec[lea] != "650" {
            if let Ok(u) = rec[urn].parse::<u32>() {
                other.push((rec[lea].to_string(), u));
            }
        }
    }
    let la2 = other[0].0.clone();
    let targets: Vec<u32> = other
        .iter()
        .filter(|o| o.0 == la2)
        .map(|o| o.1)
        .take(12)
        .collect();
    let mut at = demo_where();
    let ks2_file = std::fs::read_dir(w.join("data/pupils"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("ks2"))
        .unwrap();
    let text = std::fs::read_to_string(&ks2_file).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    // Copied: one school with 1-5 disadvantaged pupils with a reading score in the latest
    // year, and eleven with at least 8 disadvantaged and 8 other pupils.
    let year = demo_pupils().iter().map(|p| p.year).max().unwrap();
    let mut n: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for p in demo_pupils()
        .iter()
        .filter(|p| p.year == year && in_cohort("ks2_read_avg_score", p))
    {
        let e = n.entry(p.urn).or_default();
        if p.fsm || p.lac {
            e.0 += 1
        } else {
            e.1 += 1
        }
    }
    let small = n
        .iter()
        .find(|(_, c)| (1..=T).contains(&c.0) && c.1 > T)
        .map(|(u, _)| *u)
        .expect("a demo school with a few disadvantaged pupils");
    let sources: Vec<String> = std::iter::once(small)
        .chain(
            n.iter()
                .filter(|(_, c)| c.0 >= 8 && c.1 >= 8)
                .map(|(u, _)| *u)
                .take(targets.len() - 1),
        )
        .map(|u| u.to_string())
        .collect();
    let mut out = String::from(header);
    out.push('\n');
    for l in &body {
        out.push_str(l);
        out.push('\n');
    }
    for (src, dst) in sources.iter().zip(&targets) {
        at.la.insert(*dst, la2.clone());
        for l in body
            .iter()
            .filter(|l| l.split(',').nth(1) == Some(src.as_str()))
        {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            cells[0] = format!("X{}", cells[0]);
            cells[1] = dst.to_string();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    let p = dir.join("two-las.csv");
    std::fs::write(&p, out).unwrap();
    (p, at)
}

#[test]
fn a_pupil_file_spanning_two_las_gives_away_no_school_from_an_la_figure() {
    let dir = scratch("disclosure-two-las");
    let (file, at) = two_la_file(&dir);
    let pupils = attain::ingest::pupils::read_pupils(std::slice::from_ref(&file), false)
        .unwrap()
        .0
        .pupils;
    let queries = [
        Query {
            name: "la",
            measure: "ks2_rwm_expected",
            group: "lac",
            level: "la",
            years: 1,
        },
        Query {
            name: "s",
            measure: "ks2_rwm_expected",
            group: "lac",
            level: "school",
            years: 1,
        },
        Query {
            name: "la-dis",
            measure: "ks2_read_avg_score",
            group: "disadvantaged",
            level: "la",
            years: 1,
        },
        Query {
            name: "s-dis",
            measure: "ks2_read_avg_score",
            group: "disadvantaged",
            level: "school",
            years: 1,
        },
    ];
    // The pipeline's [la] code would keep one LA's schools: ask for every LA here.
    run_gaps_all_las(&dir, &file, &queries);
    let la = rows_of(&dir.join("out/questions/la-dis.json"));
    assert_eq!(la.len(), 2, "one row per LA: {la:?}");
    let mut rels = BTreeMap::new();
    for q in &queries {
        collect(
            &mut rels,
            &pupils,
            &at,
            &rows_of(&dir.join(format!("out/questions/{}.json", q.name))),
            q.name,
        );
    }
    let found = check_all(rels);
    assert!(
        found.is_empty(),
        "{} figures about 1-5 pupils can be worked out:\n{}",
        found.len(),
        found.join("\n")
    );
    let (code, said) = audit(&dir.join("out"));
    assert_eq!(code, Some(0), "{said}");
}

/// As `run_gaps`, without an `[la]` code (so every LA's schools are kept).
fn run_gaps_all_las(dir: &Path, pupils: &Path, queries: &[Query]) -> std::process::Output {
    let mut toml = format!(
        "name = \"disclosure\"\n[[stage]]\nname = \"gaps\"\nrun = \"pupil-gaps\"\ninputs = [\"{store}\"]\noutputs = \
            [\"{out}\"]\n[stage.options]\npupils = \"{pupils}\"\n",
        store = demo_world().join("store").display(),
        out = dir.join("out/questions").display(),
        pupils = pupils.display()
    );
    for q in queries {
        toml.push_str(&format!(
            "[[stage.options.queries]]\nname = \"{}\"\nmeasure = \"{}\"\ngroup = \"{}\"\nlevel = \
            \"{}\"\nyears = {}\n",
            q.name, q.measure, q.group, q.level, q.years
        ));
    }
    let p = dir.join("pipeline.toml");
    std::fs::write(&p, toml).unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

// ---------------------------------------------------------------------------------------
// The audit's differencing check.

/// Rows as a table suppressed on its own by primary suppression only would print them:
/// `attain gaps --threshold 0`, then groups and comparisons of 1-5 pupils withheld.
fn primary_only(args: &[&str], pupils: &Path, extra: &[&str]) -> Vec<Value> {
    let out = bin()
        .arg("gaps")
        .args(args)
        .args([
            "--threshold",
            "0",
            "--years",
            "1",
            "--format",
            "json",
            "--store",
        ])
        .arg(demo_world().join("store"))
        .arg("--pupils")
        .arg(pupils)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    for r in &mut rows {
        let small = |k: &str| r[k].as_u64().is_some_and(|n| (1..=T).contains(&n));
        let status = if small("cohort") {
            "suppressed_small"
        } else if small("comparison_cohort") {
            "suppressed_complement"
        } else {
            continue;
        };
        for k in [
            "cohort",
            "value",
            "comparison_cohort",
            "comparison_value",
            "gap",
            "gap_ci",
        ] {
            r[k] = Value::Null;
        }
        r["status"] = status.into();
    }
    rows
}

#[test]
fn the_audit_finds_each_route_by_subtraction_in_a_planted_tree_with_file_and_row() {
    let dir = scratch("disclosure-planted");
    let planted = dir.join("planted");
    std::fs::create_dir_all(planted.join("la2")).unwrap();
    let pupils = demo_world().join("data/pupils");
    let write = |name: &str, rows: &[Value]| {
        std::fs::write(
            planted.join(name),
            serde_json::to_string_pretty(rows).unwrap(),
        )
        .unwrap()
    };
    // 1. disadvantaged and FSM by school (each table safe on its own); and its CSV twin.
    let dis = primary_only(
        &[
            "--measure",
            "ks2_read_avg_score",
            "--group",
            "disadvantaged",
            "--level",
            "school",
        ],
        &pupils,
        &[],
    );
    let fsm = primary_only(
        &[
            "--measure",
            "ks2_read_avg_score",
            "--group",
            "fsm",
            "--level",
            "school",
        ],
        &pupils,
        &[],
    );
    write("disadvantaged.json", &dis);
    write("fsm.json", &fsm);
    // 2. a partnership and its schools.
    let mut at = demo_where();
    let map = partnership_map(&dir, &mut at);
    let m = map.to_str().unwrap();
    write(
        "partnerships.json",
        &primary_only(
            &[
                "--measure",
                "ks2_rwm_expected",
                "--group",
                "disadvantaged+boys",
                "--level",
                "partnership",
                "--partnerships",
                m,
            ],
            &pupils,
            &[],
        ),
    );
    write(
        "schools.json",
        &primary_only(
            &[
                "--measure",
                "ks2_rwm_expected",
                "--group",
                "disadvantaged+boys",
                "--level",
                "school",
                "--partnerships",
                m,
            ],
            &pupils,
            &[],
        ),
    );
    // 3. a file spanning two LAs: LA figures and school figures.
    let (two, two_at) = two_la_file(&dir);
    std::fs::write(
        planted.join("la2/la.json"),
        serde_json::to_string_pretty(&primary_only(
            &[
                "--measure",
                "ks2_read_avg_score",
                "--group",
                "disadvantaged",
                "--level",
                "la",
            ],
            &two,
            &[],
        ))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(
        planted.join("la2/schools.json"),
        serde_json::to_string_pretty(&primary_only(
            &[
                "--measure",
                "ks2_read_avg_score",
                "--group",
                "disadvantaged",
                "--level",
                "school",
            ],
            &two,
            &[],
        ))
        .unwrap(),
    )
    .unwrap();
    // The planted tree is disclosive by the independent check, on every route.
    let two_pupils = attain::ingest::pupils::read_pupils(std::slice::from_ref(&two), false)
        .unwrap()
        .0
        .pupils;
    let route = |files: &[&str], pupils: &[Pupil], at: &Where| -> Vec<String> {
        let mut rels = BTreeMap::new();
        for f in files {
            collect(&mut rels, pupils, at, &rows_of(&planted.join(f)), f);
        }
        check_all(rels)
    };
    assert!(
        !route(&["disadvantaged.json", "fsm.json"], demo_pupils(), &at).is_empty(),
        "the planted disadvantaged/FSM tables give children away"
    );
    assert!(
        !route(&["partnerships.json", "schools.json"], demo_pupils(), &at).is_empty(),
        "the planted partnership tables give a school away"
    );
    assert!(
        !route(&["la2/la.json", "la2/schools.json"], &two_pupils, &two_at).is_empty(),
        "the planted two-LA tables give a school away"
    );

    let (code, said) = audit(&planted);
    assert_eq!(code, Some(4), "{said}");
    // Each route, with the file and row of the total.
    let lines: Vec<&str> = said.lines().filter(|l| l.contains(" minus ")).collect();
    let has = |file: &str, what: &str| {
        lines
            .iter()
            .any(|l| l.contains(file) && l.contains(what) && l.contains(", row "))
    };
    assert!(
        has("disadvantaged.json", "fsm"),
        "disadvantaged minus FSM:\n{said}"
    );
    assert!(
        has("partnerships.json", "schools.json"),
        "a partnership minus its schools:\n{said}"
    );
    assert!(
        has("la.json", "la2/schools.json"),
        "an LA minus its schools, per LA:\n{said}"
    );
    // Nothing is found where the figures are safe: the runs above, as attain writes them.
    let clean = dir.join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::copy(
        planted.join("disadvantaged.json"),
        clean.join("disadvantaged.json"),
    )
    .unwrap();
    let (code, said) = audit(&clean);
    assert_eq!(code, Some(0), "one table on its own: {said}");
}

// ---------------------------------------------------------------------------------------
// The property: random pupils, random tables released together.

const GROUPS: [&str; 14] = [
    "all",
    "disadvantaged",
    "not_disadvantaged",
    "fsm",
    "lac",
    "boys",
    "girls",
    "disadvantaged+boys",
    "disadvantaged+girls",
    "fsm+girls",
    "lac+boys",
    "sen_support",
    "asian",
    "white",
];

fn arb_pupil() -> impl Strategy<Value = (u32, bool, bool, bool, u8, u8, u8)> {
    // school 0-3, fsm, lac, boy, sen, ethnicity (mostly white), score
    (
        0u32..4,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.12),
        any::<bool>(),
        0u8..10,
        0u8..10,
        80u8..=120,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn no_released_set_of_tables_lets_a_small_group_be_worked_out(
        raw in prop::collection::vec(arb_pupil(), 20..120),
        tables in prop::collection::vec((0usize..GROUPS.len(), 0usize..3), 1..5),
        split_las in any::<bool>(),
    ) {
        let pupils: Vec<Pupil> = raw.iter().enumerate().map(|(i, &(s, fsm, lac, boy, sen, eth, score))| Pupil {
            id: format!("P{i}"),
            urn: 100_001 + s,
            year: 2019,
            fsm,
            lac,
            disadvantaged: fsm || lac,
            boy,
            sen: if sen < 8 { Sen::None } else if sen < 9 { Sen::Support } else { Sen::Ehcp },
            ethnicity: if eth < 7 { Ethnicity::White } else if eth < 9 { Ethnicity::Asian } else { Ethnicity::Black },
            reading: Some(Test::Score(score)),
            ..blank_pupil()
        }).collect();
        // Schools 0-1 in LA 801 and partnership A, school 2 in partnership B, school 3 in
        // none; schools 2-3 in LA 801 too, or in LA 802.
        let mut places = attain::analysis::pupils::Places::default();
        let mut at = Where::default();
        for s in 0..4u32 {
            let urn = 100_001 + s;
            let la = if s >= 2 && split_las { "802" } else { "801" };
            places.schools.insert(urn, (format!("School {s}"), Some(la.to_string())));
            at.la.insert(urn, la.to_string());
            if s < 2 {
                places.partnerships.insert(urn, "A".into());
                at.partnership.insert(urn, "A".into());
            } else if s < 3 {
                places.partnerships.insert(urn, "B".into());
                at.partnership.insert(urn, "B".into());
            }
        }
        use attain::analysis::pupils::{gap_tables, GroupSpec, PupilQuery};
        use attain::level::Level;
        let levels = Level::PUPIL_DATA;
        let queries: Vec<PupilQuery> = tables
            .iter()
            .map(|&(g, l)| PupilQuery {
                measure: "ks2_read_avg_score",
                group: GroupSpec::parse(GROUPS[g]).unwrap(),
                level: levels[l],
                years: vec![2019],
                only: vec![],
                la: None,
                threshold: T,
            })
            .collect();
        let (out, _) = gap_tables(&pupils, &queries, None, &places, &[]).unwrap();
        let mut rels = Vec::new();
        for rows in &out {
            let json: Vec<Value> = rows.iter().map(|r| serde_json::to_value(r).unwrap()).collect();
            rels.extend(rels_of_rows(&pupils, &at, &json, "t"));
        }
        let found = derivable(&rels);
        prop_assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

/// The property's check is not idle: without disclosure control it finds what tables
/// suppressed one by one give away (disadvantaged minus FSM = one looked-after child).
#[test]
fn the_property_check_finds_a_child_given_away_by_subtraction() {
    use attain::analysis::pupils::{gap_tables, GroupSpec, Places, PupilQuery};
    use attain::level::Level;
    let pupils: Vec<Pupil> = (0..40)
        .map(|i| Pupil {
            id: format!("P{i}"),
            urn: 100_001,
            year: 2019,
            fsm: i < 9,
            lac: i == 9,
            disadvantaged: i < 10,
            boy: i % 2 == 0,
            reading: Some(Test::Score(90 + (i % 20) as u8)),
            ..blank_pupil()
        })
        .collect();
    let mut places = Places::default();
    places
        .schools
        .insert(100_001, ("School".into(), Some("801".into())));
    let at = Where {
        la: HashMap::from([(100_001, "801".to_string())]),
        partnership: HashMap::new(),
    };
    let q = |g: &str, t: u64| PupilQuery {
        measure: "ks2_read_avg_score",
        group: GroupSpec::parse(g).unwrap(),
        level: Level::School,
        years: vec![2019],
        only: vec![],
        la: None,
        threshold: t,
    };
    let rels = |threshold: u64| -> Vec<Rel> {
        let (out, _) = gap_tables(
            &pupils,
            &[q("disadvantaged", threshold), q("fsm", threshold)],
            None,
            &places,
            &[],
        )
        .unwrap();
        out.iter()
            .flat_map(|rows| {
                rels_of_rows(
                    &pupils,
                    &at,
                    &rows
                        .iter()
                        .map(|r| serde_json::to_value(r).unwrap())
                        .collect::<Vec<_>>(),
                    "t",
                )
            })
            .collect()
    };
    let found = derivable(&rels(0));
    assert!(
        found
            .iter()
            .any(|f| f.contains("disadvantaged (10)") && f.ends_with("leaves 1")),
        "{found:?}"
    );
    assert!(derivable(&rels(T)).is_empty());
}
