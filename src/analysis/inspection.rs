//! Each school's Ofsted position under both frameworks: its latest graded inspection (an
//! OEIF graded inspection, overall effectiveness 1-4, or a report card from November 2025),
//! the latest OEIF grade even where a report card has superseded it, and its latest
//! ungraded inspection, each with its graded areas. The booklet, `attain ofsted` and the
//! categorise facts read schools' positions from here, so they agree.
//!
//! A report card replaces the school's OEIF grade: a school whose latest graded inspection
//! is a report card has no current overall effectiveness grade, and is never "not inspected".

use std::collections::HashMap;

use serde::Serialize;

use crate::dates::{iso_from_days, words_from_days};
use crate::ingest::ofsted::{oeif_words, REPORT_CARD_SCALE};
use crate::store::frame::{InspectionRecord, JudgementRecord};
use crate::store::schema::framework;

/// Report-card evaluation areas in Ofsted's order, with their names (safeguarding is separate).
pub const REPORT_CARD_AREAS: [(&str, &str); 8] = [
    ("inclusion", "Inclusion"),
    ("curriculum_and_teaching", "Curriculum and teaching"),
    ("achievement", "Achievement"),
    ("attendance_and_behaviour", "Attendance and behaviour"),
    (
        "personal_development_and_wellbeing",
        "Personal development and wellbeing",
    ),
    ("early_years", "Early years"),
    ("post_16", "Post-16 provision"),
    ("leadership_and_governance", "Leadership and governance"),
];

/// OEIF sub-judgements in Ofsted's order, with their names.
pub const OEIF_JUDGEMENTS: [(&str, &str); 7] = [
    ("quality_of_education", "Quality of education"),
    ("behaviour_and_attitudes", "Behaviour and attitudes"),
    ("personal_development", "Personal development"),
    ("leadership_and_management", "Leadership and management"),
    ("safeguarding", "Safeguarding is effective"),
    ("early_years", "Early years provision"),
    ("sixth_form", "Sixth form provision"),
];

/// The grade at or above which a report-card area meets attain's definition: expected standard (3).
pub const EXPECTED_STANDARD: i32 = 3;

/// One inspection with its graded areas.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub framework: String,
    pub date: i64,
    pub publication_date: Option<i64>,
    pub inspection_type: Option<String>,
    /// OEIF overall effectiveness 1-4 (None: report card, ungraded, or "Not judged").
    pub overall: Option<i32>,
    /// In Ofsted's words ("Good", "Not judged", "School remains Good").
    pub outcome: Option<String>,
    /// (area id, grade, grade as published), in file order.
    pub areas: Vec<(String, i32, String)>,
    pub ofsted_phase: Option<String>,
    pub la_code: Option<String>,
    pub pupils: Option<f64>,
    pub source_file: String,
}

impl Inspection {
    pub fn grade_of(&self, area: &str) -> Option<i32> {
        self.areas.iter().find(|a| a.0 == area).map(|a| a.1)
    }
    pub fn is_report_card(&self) -> bool {
        self.framework == framework::REPORT_CARD
    }
    /// The weakest evaluation area (safeguarding aside): the highest grade, 1 exceptional - 5 urgent improvement.
    pub fn lowest_area(&self) -> Option<i32> {
        self.areas
            .iter()
            .filter(|a| a.0 != "safeguarding")
            .map(|a| a.1)
            .max()
    }
    /// Safeguarding met (report card) or effective (OEIF); None where the file does not say.
    pub fn safeguarding_met(&self) -> Option<bool> {
        self.grade_of("safeguarding").map(|g| g == 1)
    }
    /// attain's definition: a report card with every graded evaluation area at expected
    /// standard or better and safeguarding met. None for other frameworks, or a report card
    /// with no safeguarding judgement or no graded area.
    pub fn report_card_expected_or_better(&self) -> Option<bool> {
        if !self.is_report_card() {
            return None;
        }
        let met = self.safeguarding_met()?;
        let lowest = self.lowest_area()?;
        Some(met && lowest <= EXPECTED_STANDARD)
    }
}

/// What the store knows of one school's inspections up to a date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchoolInspections {
    /// The latest graded inspection of either framework.
    pub latest_graded: Option<Inspection>,
    /// The latest OEIF graded inspection (superseded where `latest_graded` is a report card).
    pub latest_oeif: Option<Inspection>,
    pub latest_ungraded: Option<Inspection>,
    /// Set when the school has no inspection of its own and these are its predecessor's (an
    /// academy converter before its first inspection): "predecessor school: NAME (URN)".
    pub inherited_from: Option<String>,
}

impl SchoolInspections {
    /// `oeif` or `report_card`: the framework of the latest graded inspection.
    pub fn framework(&self) -> Option<&str> {
        self.latest_graded.as_ref().map(|i| i.framework.as_str())
    }
    /// The current OEIF overall effectiveness: None when the latest graded inspection is a
    /// report card (which replaces it) or was "Not judged".
    pub fn oeif_grade(&self) -> Option<i32> {
        self.latest_graded
            .as_ref()
            .filter(|i| !i.is_report_card())
            .and_then(|i| i.overall)
    }
    pub fn report_card(&self) -> Option<&Inspection> {
        self.latest_graded.as_ref().filter(|i| i.is_report_card())
    }
}

/// Each school's inspections on or before `as_of` (days since 1970-01-01; None: all).
/// Where two files give an inspection of the same framework on the same day, the first read wins.
pub fn latest_by_school(
    inspections: &[InspectionRecord],
    judgements: &[JudgementRecord],
    as_of: Option<i64>,
) -> HashMap<String, SchoolInspections> {
    // An inspection's areas, by (source file, source row, framework): its key in both tables.
    type Areas = Vec<(String, i32, String)>;
    let mut areas: HashMap<(&str, u64, &str), Areas> = HashMap::new();
    for j in judgements {
        areas
            .entry((j.source_file.as_str(), j.source_row, j.framework.as_str()))
            .or_default()
            .push((j.area.clone(), j.grade, j.grade_label.clone()));
    }
    let mut out: HashMap<String, SchoolInspections> = HashMap::new();
    for r in inspections {
        // Undated rows count only when no date limits the question (a snapshot's own schools).
        let date = match (r.inspection_date, as_of) {
            (Some(d), Some(a)) if d <= a => d,
            (Some(d), None) => d,
            (None, None) => i64::MIN,
            _ => continue,
        };
        let insp = Inspection {
            framework: r.framework.clone(),
            date,
            publication_date: r.publication_date,
            inspection_type: r.inspection_type.clone(),
            overall: r.overall_effectiveness,
            outcome: r.outcome.clone(),
            areas: areas
                .get(&(r.source_file.as_str(), r.source_row, r.framework.as_str()))
                .cloned()
                .unwrap_or_default(),
            ofsted_phase: r.ofsted_phase.clone(),
            la_code: r.la_code.clone(),
            pupils: r.pupils,
            source_file: r.source_file.clone(),
        };
        let e = out.entry(r.urn.clone()).or_default();
        let later = |slot: &Option<Inspection>| slot.as_ref().is_none_or(|s| date > s.date);
        match r.framework.as_str() {
            framework::UNGRADED => {
                if later(&e.latest_ungraded) {
                    e.latest_ungraded = Some(insp);
                }
            }
            fw => {
                if fw == framework::OEIF && later(&e.latest_oeif) {
                    e.latest_oeif = Some(insp.clone());
                }
                if later(&e.latest_graded) {
                    e.latest_graded = Some(insp);
                }
            }
        }
    }
    out
}

/// One graded area as the booklet prints it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AreaView {
    pub area: String,
    pub grade: String,
}

/// The booklet's Ofsted section: the latest inspection in its own framework's terms.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OfstedView {
    /// `report_card`, `oeif` or `ungraded` (the latest inspection the section leads with).
    pub framework: String,
    /// The framework in words ("Ofsted's report-card framework (from November 2025)").
    pub framework_label: String,
    /// OEIF overall effectiveness 1-4 (None for report cards and "Not judged").
    pub grade: Option<i32>,
    /// The outcome in words: "Good", "Not judged", "Report card" ...
    pub judgement: String,
    /// Inspection start date (ISO).
    pub date: String,
    /// The section's first sentence.
    pub summary: String,
    /// The graded areas (report card: the evaluation areas then safeguarding; OEIF: its sub-judgements).
    pub areas: Vec<AreaView>,
    /// Report cards: "Met" / "Not met".
    pub safeguarding: String,
    /// Further sentences: the superseded OEIF grade, the latest ungraded inspection.
    pub notes: Vec<String>,
}

fn oeif_outcome(i: &Inspection) -> String {
    i.overall
        .and_then(oeif_words)
        .map(str::to_string)
        .or_else(|| i.outcome.clone())
        .unwrap_or_else(|| "no overall grade given".into())
}

/// The view of one school's inspections (None: the store has no inspection of it). A
/// predecessor's inspections say so first.
pub fn view(s: &SchoolInspections) -> Option<OfstedView> {
    let mut v = view_own(s)?;
    if let Some(from) = &s.inherited_from {
        v.summary = format!(
            "Inspected as its {from} (no inspection of the school since it opened is in the data). {}",
            v.summary
        );
    }
    Some(v)
}

fn view_own(s: &SchoolInspections) -> Option<OfstedView> {
    let ungraded_note = s.latest_ungraded.as_ref().map(|u| {
        format!(
            "Latest ungraded inspection: {}, {}.",
            words_from_days(u.date),
            u.outcome.as_deref().unwrap_or("outcome not given")
        )
    });
    if let Some(rc) = s.report_card() {
        let mut areas: Vec<AreaView> = REPORT_CARD_AREAS
            .iter()
            .filter_map(|(id, name)| {
                rc.areas.iter().find(|a| a.0 == *id).map(|a| AreaView {
                    area: name.to_string(),
                    grade: a.2.clone(),
                })
            })
            .collect();
        let safeguarding = rc
            .areas
            .iter()
            .find(|a| a.0 == "safeguarding")
            .map(|a| a.2.clone())
            .unwrap_or_else(|| "not given".into());
        areas.push(AreaView {
            area: "Safeguarding standards".into(),
            grade: safeguarding.clone(),
        });
        let mut notes = Vec::new();
        if let Some(o) = &s.latest_oeif {
            notes.push(format!("Before the report card, the latest graded inspection under the previous framework \
                (OEIF, {}) judged overall effectiveness: {}.", words_from_days(o.date), oeif_outcome(o)));
        }
        notes.extend(
            ungraded_note.filter(|_| s.latest_ungraded.as_ref().is_some_and(|u| u.date > rc.date)),
        );
        return Some(OfstedView {
            framework: framework::REPORT_CARD.into(),
            framework_label: "Ofsted's report-card framework (from November 2025)".into(),
            grade: None,
            judgement: "Report card".into(),
            date: iso_from_days(rc.date),
            summary: format!("Latest inspection: a report card under Ofsted's report-card framework (from November \
                2025), inspected {}. Report cards grade each evaluation area on a five-point scale ({}) and give no \
                overall grade.", words_from_days(rc.date), REPORT_CARD_SCALE.join(", ").to_lowercase()),
            areas,
            safeguarding,
            notes,
        });
    }
    if let Some(o) = &s.latest_graded {
        let judgement = oeif_outcome(o);
        let summary = match o.overall {
            Some(g) => format!("Latest graded inspection: {judgement} (grade {g}), under Ofsted's previous framework \
                (overall effectiveness, OEIF), inspected {}.", words_from_days(o.date)),
            None => format!("Latest graded inspection: under Ofsted's previous framework (OEIF), inspected {}; \
                overall effectiveness: {judgement}.", words_from_days(o.date)),
        };
        let areas = OEIF_JUDGEMENTS
            .iter()
            .filter_map(|(id, name)| {
                o.areas.iter().find(|a| a.0 == *id).map(|a| AreaView {
                    area: name.to_string(),
                    grade: if *id == "safeguarding" {
                        a.2.clone()
                    } else {
                        oeif_words(a.1).unwrap_or("").to_string()
                    },
                })
            })
            .collect();
        return Some(OfstedView {
            framework: framework::OEIF.into(),
            framework_label: "Ofsted's previous framework (overall effectiveness, OEIF)".into(),
            grade: o.overall,
            judgement,
            date: iso_from_days(o.date),
            summary,
            areas,
            safeguarding: String::new(),
            notes: ungraded_note
                .filter(|_| s.latest_ungraded.as_ref().is_some_and(|u| u.date > o.date))
                .into_iter()
                .collect(),
        });
    }
    let u = s.latest_ungraded.as_ref()?;
    Some(OfstedView {
        framework: framework::UNGRADED.into(),
        framework_label: "an ungraded inspection".into(),
        grade: None,
        judgement: u.outcome.clone().unwrap_or_default(),
        date: iso_from_days(u.date),
        summary: format!("Latest inspection: an ungraded inspection on {}: {}. No graded inspection of the school is \
            in the data.", words_from_days(u.date), u.outcome.as_deref().unwrap_or("outcome not given")),
        areas: vec![],
        safeguarding: String::new(),
        notes: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fw: &str, day: i64, overall: Option<i32>, row: u64) -> InspectionRecord {
        InspectionRecord {
            urn: "1".into(),
            la_code: None,
            framework: fw.into(),
            inspection_type: None,
            inspection_date: Some(day),
            publication_date: None,
            overall_effectiveness: overall,
            outcome: None,
            ofsted_phase: None,
            pupils: None,
            source_file: "f".into(),
            source_row: row,
        }
    }
    fn j(fw: &str, area: &str, grade: i32, label: &str) -> JudgementRecord {
        JudgementRecord {
            urn: "1".into(),
            framework: fw.into(),
            inspection_date: None,
            area: area.into(),
            grade,
            grade_label: label.into(),
            judgement_date: None,
            source_file: "f".into(),
            source_row: 2,
            source_column: String::new(),
        }
    }

    #[test]
    fn a_report_card_supersedes_the_oeif_grade() {
        let ins = [
            rec("oeif", 100, Some(2), 2),
            rec("report_card", 200, None, 2),
            rec("ungraded", 150, None, 2),
        ];
        let js = [
            j("report_card", "safeguarding", 1, "Met"),
            j("report_card", "inclusion", 4, "Needs attention"),
            j("report_card", "achievement", 3, "Expected standard"),
            j("oeif", "quality_of_education", 2, "2"),
        ];
        let s = &latest_by_school(&ins, &js, None)["1"];
        assert_eq!((s.framework(), s.oeif_grade()), (Some("report_card"), None));
        let rc = s.report_card().unwrap();
        assert_eq!(
            (
                rc.lowest_area(),
                rc.safeguarding_met(),
                rc.report_card_expected_or_better()
            ),
            (Some(4), Some(true), Some(false))
        );
        assert_eq!(s.latest_oeif.as_ref().unwrap().areas.len(), 1);
        let v = view(s).unwrap();
        assert_eq!(
            (v.framework.as_str(), v.safeguarding.as_str()),
            ("report_card", "Met")
        );
        assert_eq!(
            v.areas.iter().map(|a| a.area.as_str()).collect::<Vec<_>>(),
            ["Inclusion", "Achievement", "Safeguarding standards"]
        );
        // Before the report card: the OEIF grade, in words.
        let s = &latest_by_school(&ins, &js, Some(199))["1"];
        assert_eq!((s.framework(), s.oeif_grade()), (Some("oeif"), Some(2)));
        assert_eq!(view(s).unwrap().judgement, "Good");
        // Only an ungraded inspection: still an inspection.
        let s = &latest_by_school(&[rec("ungraded", 150, None, 2)], &[], None)["1"];
        assert_eq!(view(s).unwrap().framework, "ungraded");
    }

    /// The Leeds file's two report cards both have an area needing attention, so no real
    /// data reaches the "meets attain's definition" side: test both sides here.
    #[test]
    fn report_card_expected_or_better_needs_every_area_expected_and_safeguarding_met() {
        let ins = [rec("report_card", 200, None, 2)];
        let ok = [
            j("report_card", "safeguarding", 1, "Met"),
            j("report_card", "inclusion", 3, "Expected standard"),
            j("report_card", "achievement", 1, "Exceptional"),
        ];
        let s = &latest_by_school(&ins, &ok, None)["1"];
        assert_eq!(
            s.report_card().unwrap().report_card_expected_or_better(),
            Some(true)
        );
        let not_met = [
            j("report_card", "safeguarding", 2, "Not met"),
            j("report_card", "inclusion", 1, "Exceptional"),
        ];
        let s = &latest_by_school(&ins, &not_met, None)["1"];
        assert_eq!(
            s.report_card().unwrap().report_card_expected_or_better(),
            Some(false)
        );
        // No safeguarding judgement: undecidable, never a pass.
        let s = &latest_by_school(&ins, &ok[1..], None)["1"];
        assert_eq!(
            s.report_card().unwrap().report_card_expected_or_better(),
            None
        );
    }
}
