//! Categorising schools with a rules file (see `rules.rs` and docs/rules.md): which schools,
//! their facts from the store, and each school's category, support, rules fired and evidence.
//!
//! Schools categorised: every state-funded school with a KS2 or KS4 row in the year's
//! performance tables (schools with published outcomes), in the LA if one is given.
//! A school's phase is the `schools` table's (GIAS, else performance tables); where that is
//! not known, primary for a school with KS2 rows and secondary for one with KS4 rows.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::data::Data;
use super::facts::{FactTable, FactValue};
use super::rules::Rules;
use crate::error::StoreError;
use crate::store::frame;
use crate::store::schema::Level;

/// One school's result (JSON field names are fixed: the register is built from them).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SchoolCategory {
    pub urn: String,
    pub school_name: String,
    pub la_code: String,
    pub phase: String,
    pub year: i32,
    pub category: String,
    pub category_id: String,
    pub level_of_support: String,
    pub concern: bool,
    pub rules_fired: Vec<String>,
    /// Rules that could not be decided for want of data ("<category>: <rule> (no data: facts)").
    pub no_data: Vec<String>,
    /// Fact -> the value used, or "no data".
    pub evidence: BTreeMap<String, Value>,
    /// Figures the facts took from elsewhere than the school's own rows ("ks2_rwm_expected
    /// 2018: predecessor school: NAME (URN)"); omitted when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history_from: Vec<String>,
}

impl SchoolCategory {
    /// "ks2_rwm_expected = 58; ofsted_grade = no data; ..."
    pub fn evidence_text(&self) -> String {
        self.evidence
            .iter()
            .map(|(k, v)| format!("{k} = {}", crate::output::plain(v)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A fact as shown in the evidence: whole numbers without ".0" (an Ofsted grade is 2, not 2.0).
fn evidence_value(v: Option<FactValue>) -> Value {
    match v {
        None => Value::String("no data".into()),
        Some(FactValue::Num(x)) if x.fract() == 0.0 && x.abs() < 1e15 => Value::from(x as i64),
        Some(FactValue::Num(x)) => Value::from(x),
        Some(FactValue::Bool(b)) => Value::Bool(b),
        Some(FactValue::Word(w)) => Value::String(w.to_string()),
    }
}

/// The measures whose school rows define the schools categorised.
const POPULATION: &[(&str, &str)] = &[
    ("ks2_rwm_expected", "primary"),
    ("ks4_attainment8", "secondary"),
];

/// The latest year with school rows for KS2 or KS4: the LA's own latest when one is given
/// (a store holding other LAs' later files does not make an LA's categories empty).
pub fn latest_year(data: &Data, la: Option<&str>) -> Result<Option<i32>, StoreError> {
    let mut best = None;
    for (m, _) in POPULATION {
        let latest = match la {
            None => data.latest_year(m, Level::School)?,
            Some(la) => data
                .query(&crate::store::frame::ResultFilter {
                    measure: Some(m.to_string()),
                    level: Some(Level::School),
                    la_code: Some(la.to_string()),
                    ..Default::default()
                })?
                .iter()
                .map(|r| r.year)
                .max(),
        };
        best = best.max(latest);
    }
    Ok(best)
}

pub fn categorise(
    data: &Data,
    rules: &Rules,
    year: i32,
    la: Option<&str>,
) -> Result<Vec<SchoolCategory>, StoreError> {
    // URN -> (LA, phase from key stage)
    let mut population: BTreeMap<String, (String, &str)> = BTreeMap::new();
    for (m, phase) in POPULATION {
        for (urn, r) in data.best(m, "all", year, Level::School, None)? {
            let Some(lac) = r.la_code.clone() else {
                continue;
            };
            if la.is_some_and(|l| l != lac) {
                continue;
            }
            population.entry(urn).or_insert((lac, *phase));
        }
    }
    let mut info: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    if data.store.table_path("schools").exists() {
        for s in frame::schools_from_frame(&data.store.read("schools")?)? {
            if population.contains_key(&s.urn) {
                info.insert(s.urn.clone(), (s.name, s.phase));
            }
        }
    }
    let facts = FactTable::load(data, year, &rules.facts())?;
    let mut out = Vec::with_capacity(population.len());
    for (urn, (lac, ks_phase)) in population {
        let (name, phase) = info.remove(&urn).unwrap_or_default();
        let phase = phase.unwrap_or_else(|| ks_phase.to_string());
        let o = rules.categorise(&phase, &|f| facts.get(&urn, &phase, f));
        let c = &rules.categories[o.category];
        let evidence = o
            .evidence
            .into_iter()
            .map(|(k, v)| (k, evidence_value(v)))
            .collect();
        let history_from = facts.borrowed(&urn).to_vec();
        out.push(SchoolCategory {
            urn,
            school_name: name.unwrap_or_default(),
            la_code: lac,
            phase,
            year,
            category: c.label.clone(),
            category_id: c.id.clone(),
            level_of_support: c.support.clone(),
            concern: c.concern,
            rules_fired: o.fired,
            no_data: o.no_data,
            evidence,
            history_from,
        });
    }
    // Most serious category first (file order), then LA and name.
    let order: BTreeMap<&str, usize> = rules
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    out.sort_by(|a, b| {
        order[a.category_id.as_str()]
            .cmp(&order[b.category_id.as_str()])
            .then(a.la_code.cmp(&b.la_code))
            .then(a.school_name.cmp(&b.school_name))
            .then(a.urn.cmp(&b.urn))
    });
    Ok(out)
}

/// The schools on the causing-concern register: categories marked `concern = true`
/// (or, if no category is marked, every category but the default).
pub fn register<'a>(rules: &Rules, results: &'a [SchoolCategory]) -> Vec<&'a SchoolCategory> {
    let marked = rules.categories.iter().any(|c| c.concern);
    let default = &rules.categories[rules.default].id;
    results
        .iter()
        .filter(|r| {
            if marked {
                r.concern
            } else {
                &r.category_id != default
            }
        })
        .collect()
}
