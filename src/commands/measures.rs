//! `attain measures`: the canonical measures in the catalogue.

use serde_json::json;

use crate::catalogue::Catalogue;
use crate::output::Report;

pub fn measures_report(cat: &Catalogue, key_stage: Option<&str>) -> Report {
    let mut r = Report::new(&["id", "key_stage", "unit", "polarity", "headline", "description"]);
    for m in cat.measures.iter().filter(|m| key_stage.is_none_or(|k| m.key_stage == k)) {
        r.push(vec![json!(m.id), json!(m.key_stage), json!(m.unit), json!(m.polarity), json!(m.headline), json!(m.description)]);
    }
    r
}

pub fn groups_report(cat: &Catalogue) -> Report {
    let mut r = Report::new(&["id", "complement", "description"]);
    for g in &cat.groups {
        r.push(vec![json!(g.id), json!(g.complement), json!(g.description)]);
    }
    r
}
