//! Page one of the booklet: the headline figures (booklet.toml `[summary]`) with their
//! three-year direction, and the strengths and areas to investigate that the rules in
//! catalogue/summary_rules.toml generate (docs/summary_rules.md).
//!
//! Every figure here is one the school profile computed (`ProfileInputs::figure_of`): the
//! summary only picks, compares and words them. No sentence rests on a withheld or missing
//! figure, and none compares years across a series break.

use std::collections::HashMap;

use serde::Serialize;

use super::rank::Polarity;
use super::school_profile::{Figure, ProfileInputs, ProfileSection};
use super::series_breaks::SeriesOf;
use super::significance::Significance;
use crate::catalogue::{Catalogue, SummaryRule};
use crate::number;
use crate::year::academic_label;

/// Page one's content for one school.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub headline: Vec<Headline>,
    pub strengths: Vec<Sentence>,
    pub areas: Vec<Sentence>,
}

/// One headline measure: this year's figure (the one its section prints) and its direction.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// The section the figure is printed in (booklet.toml id and title).
    pub section: String,
    pub section_title: String,
    pub figure: Figure,
    pub direction: Option<Direction>,
}

/// Which way a figure moved over the booklet's years, never across a series break.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Direction {
    /// The first year compared (the last is the booklet's year).
    pub from_year: i32,
    /// Last minus first, each at the precision DfE publishes.
    pub change: f64,
    /// up, down or level.
    pub word: &'static str,
    /// better, worse or same, by the measure's polarity ("none": same).
    pub tone: &'static str,
}

/// A generated sentence and the figures it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Sentence {
    /// strength or area.
    pub kind: String,
    pub rule: String,
    pub measure: String,
    pub group: String,
    pub text: String,
    /// Where its figures are printed (booklet.toml section id and title; empty when no
    /// section prints them).
    pub section: String,
    pub section_title: String,
    /// The years it compares, oldest first.
    pub figures: Vec<Figure>,
}

/// The summary of one school's profile.
pub fn summarise(
    inputs: &ProfileInputs,
    sections: &[ProfileSection],
    urn: &str,
    la: &str,
    phase: &str,
) -> Summary {
    let cat = inputs.data.catalogue;
    // The sections' chart series are the same figures: reuse them rather than work them out again.
    let mut series: HashMap<(String, String), Vec<Figure>> = sections
        .iter()
        .flat_map(|s| s.charts.iter())
        .filter(|c| c.len() == inputs.years.len())
        .filter_map(|c| Some(((c.first()?.measure.clone(), "all".to_string()), c.clone())))
        .collect();
    let mut series_of = |m: &str, g: &str| -> Vec<Figure> {
        series
            .entry((m.to_string(), g.to_string()))
            .or_insert_with(|| {
                inputs
                    .years
                    .iter()
                    .map(|&y| inputs.figure_of(m, g, urn, y, la, phase))
                    .collect()
            })
            .clone()
    };
    let mut out = Summary::default();
    for m in &cat.booklet.summary.headline {
        let Some((sec, f)) = printed(sections, m, "all") else {
            continue;
        };
        out.headline.push(Headline {
            section: sec.id.clone(),
            section_title: sec.title.clone(),
            figure: f.clone(),
            direction: direction(cat, &series_of(m, "all"), inputs.year),
        });
    }
    let rules = &cat.summary_rules;
    for rule in &rules.rules {
        for m in &rule.measures {
            let list = if rule.kind == "strength" {
                &out.strengths
            } else {
                &out.areas
            };
            // One sentence per measure and group of each kind: the first rule that fires.
            if list.len() >= rules.max
                || list
                    .iter()
                    .any(|s| &s.measure == m && s.group == rule.group)
            {
                continue;
            }
            // A measure the school has no figure for in any year cannot fire: skip the work.
            if !inputs.has_any_of(std::slice::from_ref(m), &rule.group, urn) {
                continue;
            }
            let all = series_of(m, &rule.group);
            let Some(text) = fire(cat, rule, m, &all, inputs.year) else {
                continue;
            };
            let (section, section_title) = printed(sections, m, &rule.group)
                .or_else(|| printed(sections, m, "all"))
                .map(|(s, _)| (s.id.clone(), s.title.clone()))
                .unwrap_or_default();
            let sentence = Sentence {
                kind: rule.kind.clone(),
                rule: rule.id.clone(),
                measure: m.clone(),
                group: rule.group.clone(),
                text,
                section,
                section_title,
                figures: last(&all, rule.of).to_vec(),
            };
            if rule.kind == "strength" {
                out.strengths.push(sentence);
            } else {
                out.areas.push(sentence);
            }
        }
    }
    out
}

/// The shown section that prints measure `m` for group `g`, and its figure.
fn printed<'s>(
    sections: &'s [ProfileSection],
    m: &str,
    g: &str,
) -> Option<(&'s ProfileSection, &'s Figure)> {
    sections.iter().filter(|s| s.shown).find_map(|s| {
        s.figures
            .iter()
            .find(|f| f.measure == m && f.group == g)
            .map(|f| (s, f))
    })
}

fn last(all: &[Figure], n: usize) -> &[Figure] {
    &all[all.len().saturating_sub(n)..]
}

/// The figure at the precision DfE publishes it.
fn published(f: &Figure) -> Option<f64> {
    f.value.map(|v| number::round(v, f.dps))
}

/// The direction from the earliest year comparable with this year to this year.
pub fn direction(cat: &Catalogue, series: &[Figure], year: i32) -> Option<Direction> {
    let now = series.iter().find(|f| f.year == year)?;
    let breaks = SeriesOf::new(cat, &now.measure, &now.group, "school");
    let first = series
        .iter()
        .filter(|f| f.year < year && breaks.comparable(f.year, year))
        .find(|f| f.value.is_some())?;
    let change = number::difference(published(now)?, published(first)?, now.dps);
    let word = if change > 0.0 {
        "up"
    } else if change < 0.0 {
        "down"
    } else {
        "level"
    };
    let pol = cat
        .measure(&now.measure)
        .and_then(|m| Polarity::from_catalogue(&m.polarity));
    let tone = match (word, pol) {
        ("level", _) | (_, None) => "same",
        ("up", Some(Polarity::High)) | ("down", Some(Polarity::Low)) => "better",
        _ => "worse",
    };
    Some(Direction {
        from_year: first.year,
        change,
        word,
        tone,
    })
}

/// The rule's sentence for measure `m`, if it fires on the last `of` years of `all`.
pub fn fire(
    cat: &Catalogue,
    rule: &SummaryRule,
    m: &str,
    all: &[Figure],
    year: i32,
) -> Option<String> {
    let figs = last(all, rule.of);
    // Every year it compares has a published figure, the last is this year, and no series
    // break lies between the first and the last.
    if figs.len() < rule.of || figs.last()?.year != year {
        return None;
    }
    if figs.iter().any(|f| f.value.is_none()) {
        return None;
    }
    let breaks = SeriesOf::new(cat, m, &rule.group, "school");
    if !breaks.comparable(figs[0].year, year) {
        return None;
    }
    let holds: Vec<bool> = match rule.test.as_str() {
        "significantly_above" => figs
            .iter()
            .map(|f| f.significance == Significance::Above)
            .collect(),
        "significantly_below" => figs
            .iter()
            .map(|f| f.significance == Significance::Below)
            .collect(),
        "top_fifth" => figs
            .iter()
            .map(|f| f.percentile.as_ref().is_some_and(|p| p.quintile == 1))
            .collect(),
        "bottom_fifth" => figs
            .iter()
            .map(|f| f.percentile.as_ref().is_some_and(|p| p.quintile == 5))
            .collect(),
        // Each year against the one before: the first year has nothing to rise from.
        "rising" | "falling" => {
            let up = rule.test == "rising";
            std::iter::once(true)
                .chain(figs.windows(2).map(|w| {
                    let (a, b) = (published(&w[0]), published(&w[1]));
                    match (a, b) {
                        (Some(a), Some(b)) if up => b > a,
                        (Some(a), Some(b)) => b < a,
                        _ => false,
                    }
                }))
                .collect()
        }
        _ => return None,
    };
    let count = holds.iter().filter(|h| **h).count();
    let needed = if matches!(rule.test.as_str(), "rising" | "falling") {
        rule.of
    } else {
        rule.in_years
    };
    if count < needed {
        return None;
    }
    let meas = cat.measure(m);
    let figures = figs
        .iter()
        .map(|f| {
            format!(
                "{} in {}",
                number::format_measure(meas, f.value),
                academic_label(f.year)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    // "nationally" only when every year placed was placed among all of England's schools.
    let placed: Vec<_> = figs
        .iter()
        .zip(&holds)
        .filter(|(_, h)| **h)
        .filter_map(|(f, _)| f.percentile.as_ref())
        .collect();
    let among = match placed.last() {
        Some(p) if placed.iter().all(|q| q.national) => {
            if p.peers == "schools" {
                "nationally".to_string()
            } else {
                format!("among {} nationally", p.peers)
            }
        }
        Some(p) => format!("among {} {}", p.among, p.peers),
        None => String::new(),
    };
    let words = ["one", "two", "three"];
    let years = if count == rule.of {
        format!(
            "{} year{}",
            if rule.of == 1 {
                "this"
            } else {
                words[rule.of - 1]
            },
            if rule.of == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "{} of the last {} years",
            words[count - 1],
            words[rule.of - 1]
        )
    };
    let group = if rule.group == "all" {
        String::new()
    } else {
        let label = cat
            .group(&rule.group)
            .map(|g| g.label.clone())
            .unwrap_or_else(|| rule.group.clone());
        if label.ends_with("pupils") {
            format!("{label}: ")
        } else {
            format!("{label} pupils: ")
        }
    };
    let label = meas.map(|x| x.short_label()).unwrap_or(m);
    Some(
        rule.sentence
            .replace("{group}", &group)
            .replace("{measure}", label)
            .replace("{figures}", &figures)
            .replace("{among}", &among)
            .replace("{years}", &years),
    )
}
