//! A school's year in figures: every figure the booklet, the target forms and the charts
//! print about one school, each with its comparators, precision and provenance.
//!
//! `ProfileInputs::new` reads what a run needs from the store once (the measures and groups
//! `catalogue/booklet.toml` names); `ProfileInputs::profile` then builds one school's
//! `SchoolProfile`. Comparators follow docs/methods.md (`analysis::comparators`); gaps come
//! from `analysis::gaps::gap_row`, the computation `attain gaps` and the workbook use.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::aggregate::Pool;
use super::comparators::{special, AreaRows, Basis, Comparator, Provenance};
use super::data::Data;
use super::gaps::{gap_row, Against, GapRow, GapSource, GapSpec, MIN_GROUP};
use super::inspection::{OfstedView, SchoolInspections};
use super::rank::{neighbour_standing, standings, Polarity, Top10Rule};
use super::significance::{percent_vs_reference, progress_significance, Significance};
use super::target_returns::{against, Achieved};
use super::targets::{ambitious, fifth, fit, TargetModel};
use super::unpublished::not_published;
use crate::catalogue::BookletSection;
use crate::number;
use crate::store::frame::{self, ResultRecord};
use crate::store::schema::{Level, SchoolRow, TargetRow, ENGLAND};

/// A school's position among schools with a figure.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Percentile {
    /// % of schools with a worse figure plus half of those with the same (100 = best).
    pub percentile: f64,
    /// 1 = top fifth, 5 = bottom fifth.
    pub quintile: u8,
    /// How many schools the position is among.
    pub among: usize,
    /// True only when the store holds that year's schools for all of England.
    pub national: bool,
    /// "schools" or "special schools": special schools are placed among special schools.
    pub peers: &'static str,
}

/// One figure about a school in one year, with what it is set beside.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figure {
    pub measure: String,
    /// The pupil group ("all" for all pupils).
    pub group: String,
    pub year: i32,
    /// As published (None when withheld or not published: `status` and `reason` say why).
    pub value: Option<f64>,
    pub cohort: Option<f64>,
    /// ok, or the file's token for a withheld figure (SUPP, NE, NP, x, c, z ...), or
    /// no_data when the store has no row.
    pub status: String,
    /// The decimal places DfE publishes the measure at.
    pub dps: u32,
    pub unit: String,
    pub source: Option<Provenance>,
    pub la: Option<Comparator>,
    pub england: Option<Comparator>,
    pub neighbours: Option<Comparator>,
    pub percentile: Option<Percentile>,
    pub significance: Significance,
    /// The published 95% confidence interval (progress scores), low and high.
    pub ci: Option<(f64, f64)>,
    /// Why there is no figure, where DfE published none that year.
    pub reason: Option<String>,
    /// Where a figure is not the school's own row: "predecessor school: NAME (URN)" or the
    /// prior-year column it was read from (`analysis::lineage`).
    pub from: Option<String>,
    /// For a figure about few pupils (booklet.toml `[small_cohorts]`): its three-year figure.
    pub three_year: Option<ThreeYear>,
}

/// A figure over three years, beside a one-year figure about few pupils.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ThreeYear {
    pub value: f64,
    /// Pupils over the three years.
    pub cohort: Option<f64>,
    /// True: DfE's own `_3YR` column; false: pooled by attain from each year's figure and cohort.
    pub published: bool,
    /// The years covered (first and last).
    pub years: (i32, i32),
}

/// One section of the booklet's contents, filled for a school.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSection {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub compare: Vec<String>,
    /// This year's figures, in the contents' order.
    pub figures: Vec<Figure>,
    /// Charts: each measure's figures over the booklet's years.
    pub charts: Vec<Vec<Figure>>,
    /// A key stage is shown when the school has a figure for any of its measures.
    pub shown: bool,
}

/// A suggested target's figures, unrounded: what the booklet prints and the target form holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetFigures {
    pub measure: String,
    /// This year's figure and its pupils.
    pub current: f64,
    pub cohort: Option<f64>,
    /// Next year's estimate and its 95% prediction range (percentages kept within 0-100).
    pub estimate: Option<f64>,
    pub range: Option<(f64, f64)>,
    /// The best 20% and best 5% of similar schools.
    pub best20: Option<f64>,
    pub best5: Option<f64>,
    /// The LA's national top-10% threshold and the neighbours' top quartile.
    pub top10: Option<f64>,
    pub sn_top_quartile: Option<f64>,
}

/// One school's year.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolProfile {
    pub urn: String,
    pub la: String,
    pub la_name: String,
    /// The school's phase (GIAS / school information, else inferred from its results).
    pub phase: String,
    /// The phase its census and absence figures are compared within.
    pub compare_phase: String,
    pub year: i32,
    pub years: Vec<i32>,
    pub sections: Vec<ProfileSection>,
    pub gaps: Vec<GapRow>,
    pub targets: Vec<TargetFigures>,
    /// Targets agreed for this year, against the results.
    #[serde(skip)]
    pub agreed: Vec<(TargetRow, Achieved)>,
    pub ofsted: Option<OfstedView>,
    /// The data version of each key stage's figures this year ("KS2: final").
    pub versions: Vec<String>,
    /// Page one: headline figures and the sentences summary_rules.toml generates.
    pub summary: super::summary::Summary,
    /// Every file a printed figure (school, LA or England) came from.
    pub sources: Vec<Provenance>,
}

type SchoolKey = (String, String, i32);

/// Everything a run of profiles needs, read from the store once.
pub struct ProfileInputs<'a> {
    pub data: &'a Data<'a>,
    pub year: i32,
    pub years: Vec<i32>,
    pub model: i32,
    /// School rows, one source per (measure, group, year): URN -> row.
    school: HashMap<SchoolKey, BTreeMap<String, ResultRecord>>,
    la: AreaRows,
    england: AreaRows,
    /// LA figures pooled from school rows, by (measure, year, LA, phase), for files with no LA rows.
    la_pooled: HashMap<(String, i32, String, String), f64>,
    pub schools: Vec<SchoolRow>,
    special: HashSet<String>,
    inspections: HashMap<String, SchoolInspections>,
    neighbours: BTreeMap<String, Vec<String>>,
    /// Each school's position, by (measure, group, year): this year's for every ranked
    /// measure, and every year's for the measures and groups the summary rules place.
    positions: HashMap<(String, String, i32), HashMap<String, Percentile>>,
    targets: HashMap<String, TargetModel>,
    /// Per measure: sorted %FSM6 of schools (to find a school's fifth), and the 80th/95th
    /// percentiles of this year's figure among schools of each phase and fifth.
    similar: HashMap<String, Similar>,
    agreed: HashMap<String, Vec<TargetRow>>,
    /// The precision each LA figure is published at (LAIT's dictionary, else the catalogue):
    /// aspirations are worked out from LA figures as `attain rank` ranks them.
    precision: super::precision::PublishedPrecision,
    /// Predecessor schools and prior-year columns, for a converter's earlier years.
    lineage: super::lineage::Lineage,
}

type Similar = (
    Vec<f64>,
    HashMap<(String, usize), (Option<f64>, Option<f64>)>,
);

/// The census figures the target model uses.
const CONTEXT_TERMS: [&str; 4] = [
    "census_fsm6_pct",
    "census_eal_pct",
    "census_sen_support_pct",
    "census_ehcp_pct",
];

impl<'a> ProfileInputs<'a> {
    pub fn new(data: &'a Data<'a>, year: i32, model: i32) -> anyhow::Result<ProfileInputs<'a>> {
        let contents = &data.catalogue.booklet;
        let years: Vec<i32> = (year - 2..=year).collect();
        let mut measures: Vec<String> = contents.measures().iter().map(|m| m.to_string()).collect();
        let rules = &data.catalogue.summary_rules.rules;
        let extra = CONTEXT_TERMS
            .iter()
            .chain(&["census_pupils"])
            .map(|m| m.to_string())
            .chain(contents.summary.headline.iter().cloned())
            .chain(contents.small_cohorts.published.values().cloned())
            .chain(rules.iter().flat_map(|r| r.measures.iter().cloned()))
            .collect::<Vec<_>>();
        for m in extra {
            if !measures.contains(&m) {
                measures.push(m);
            }
        }
        let mut groups: BTreeSet<String> = BTreeSet::from(["all".to_string()]);
        groups.extend(
            contents
                .sections
                .iter()
                .flat_map(|s| s.groups.iter().cloned()),
        );
        groups.extend(rules.iter().map(|r| r.group.clone()));
        for g in &contents.gaps {
            groups.insert(g.group.clone());
            if let Some(c) = data
                .catalogue
                .group(&g.group)
                .and_then(|x| x.complement.clone())
            {
                groups.insert(c);
            }
        }
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        let t = std::time::Instant::now();
        let all = frame::query_results_in(data.store.scan("results")?, &measures, &groups, &years)?;
        tracing::info!(
            "profile figures: {} rows read in {:.2} s",
            all.len(),
            t.elapsed().as_secs_f64()
        );
        let mut raw: HashMap<SchoolKey, Vec<ResultRecord>> = HashMap::new();
        let (mut la_rows, mut england_rows) = (Vec::new(), Vec::new());
        for r in all {
            if r.scope != "state_funded" {
                continue;
            }
            match r.level.as_str() {
                "school" => raw
                    .entry((r.measure.clone(), r.group.clone(), r.year))
                    .or_default()
                    .push(r),
                "la" => la_rows.push(r),
                "national" if r.code == ENGLAND => england_rows.push(r),
                _ => {}
            }
        }
        let school: HashMap<SchoolKey, BTreeMap<String, ResultRecord>> =
            raw.into_iter().map(|(k, v)| (k, data.pick(v))).collect();
        let la = AreaRows::new(data, la_rows);
        let england = AreaRows::new(data, england_rows);
        tracing::info!(
            "profile figures: sources chosen after {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let schools = frame::schools_from_frame(&data.store.read("schools")?)?;
        // Special schools: by their record, or by their census row's phase.
        let types = &data.catalogue.school_types;
        let mut special_urns: HashSet<String> = schools
            .iter()
            .filter(|s| {
                s.phase.as_deref().is_some_and(special)
                    || s.school_type
                        .as_deref()
                        .is_some_and(|t| types.is_special(t))
            })
            .map(|s| s.urn.clone())
            .collect();
        for rows in school
            .iter()
            .filter(|(k, _)| k.0 == "census_pupils")
            .map(|(_, v)| v)
        {
            special_urns.extend(
                rows.values()
                    .filter(|r| special(&r.phase))
                    .map(|r| r.code.clone()),
            );
        }
        // The inspections known by the end of the academic year, under either framework.
        let inspections =
            data.school_inspections(Some(crate::dates::days_from_civil(year as i64, 8, 31)))?;
        let neighbours = data.all_neighbours(model)?;
        let mut agreed: HashMap<String, Vec<TargetRow>> = HashMap::new();
        for t in data.store.targets()?.into_iter().filter(|t| t.year == year) {
            agreed.entry(t.urn.clone()).or_default().push(t);
        }
        let mut p = ProfileInputs {
            data,
            year,
            years,
            model,
            school,
            la,
            england,
            la_pooled: HashMap::new(),
            schools,
            special: special_urns,
            inspections,
            neighbours,
            positions: HashMap::new(),
            targets: HashMap::new(),
            similar: HashMap::new(),
            agreed,
            precision: super::precision::PublishedPrecision::load(data)?,
            lineage: super::lineage::Lineage::load(data)?,
        };
        p.la_pooled = p.pool_la_figures();
        let ranked: BTreeSet<&str> = contents
            .sections
            .iter()
            .filter(|s| s.compare.iter().any(|c| c == "percentile"))
            .flat_map(|s| s.measures.iter().map(String::as_str))
            .collect();
        let mut placed: BTreeSet<(String, String, i32)> = ranked
            .iter()
            .map(|m| (m.to_string(), "all".to_string(), year))
            .collect();
        for r in rules
            .iter()
            .filter(|r| matches!(r.test.as_str(), "top_fifth" | "bottom_fifth"))
        {
            for m in &r.measures {
                for y in year + 1 - r.of as i32..=year {
                    placed.insert((m.clone(), r.group.clone(), y));
                }
            }
        }
        for (m, g, y) in placed {
            let pol = data.polarity(&m)?.unwrap_or(Polarity::High);
            let pos = p.positions_of(&m, &g, y, pol);
            p.positions.insert((m, g, y), pos);
        }
        for m in contents.target_measures() {
            let pol = data.polarity(m)?.unwrap_or(Polarity::High);
            if let Some(model) = p.fit_target(m) {
                p.targets.insert(m.to_string(), model);
            }
            let similar = p.similar_schools(m, pol);
            p.similar.insert(m.to_string(), similar);
        }
        tracing::info!(
            "profile figures: positions and target models after {:.2} s",
            t.elapsed().as_secs_f64()
        );
        Ok(p)
    }

    /// A school's row for a measure, group and year.
    pub fn school_row(&self, m: &str, g: &str, y: i32, urn: &str) -> Option<&ResultRecord> {
        self.school
            .get(&(m.to_string(), g.to_string(), y))
            .and_then(|x| x.get(urn))
    }

    fn value(&self, m: &str, y: i32, urn: &str) -> Option<f64> {
        self.school_row(m, "all", y, urn).and_then(|r| r.value)
    }

    /// Does the school have a figure for any of `measures` in the profile's years?
    pub fn has_any(&self, measures: &[String], urn: &str) -> bool {
        self.has_any_of(measures, "all", urn)
    }

    /// Does the school have a figure for any of `measures` for group `g` in the profile's years?
    pub fn has_any_of(&self, measures: &[String], g: &str, urn: &str) -> bool {
        measures.iter().any(|m| {
            self.years
                .iter()
                .any(|&y| self.school_row(m, g, y, urn).is_some())
        })
    }

    /// Each school's position this year among its peers (special schools among special
    /// schools, the others among the others). "National" only when the store holds that
    /// year's schools for all of England: their pupils make up at least 90% of England's
    /// published cohort (or, with no cohort published, they span 140 or more LAs).
    fn positions_of(&self, m: &str, g: &str, y: i32, pol: Polarity) -> HashMap<String, Percentile> {
        let Some(rows) = self.school.get(&(m.to_string(), g.to_string(), y)) else {
            return HashMap::new();
        };
        let england_cohort = self.england.england(m, g, y, "all").and_then(|r| r.cohort);
        let held: f64 = rows.values().filter_map(|r| r.cohort).sum();
        let las: HashSet<&str> = rows.values().filter_map(|r| r.la_code.as_deref()).collect();
        let national = match england_cohort {
            Some(c) if c > 0.0 && held > 0.0 => held >= 0.9 * c,
            _ => las.len() >= 140,
        };
        let mut out = HashMap::new();
        for peers_special in [false, true] {
            let peers: Vec<(&String, f64)> = rows
                .iter()
                .filter(|(u, _)| self.special.contains(*u) == peers_special)
                .filter_map(|(u, r)| Some((u, r.value?)))
                .collect();
            let mut sorted: Vec<f64> = peers.iter().map(|p| p.1).collect();
            sorted.sort_by(|a, b| a.total_cmp(b));
            for (u, v) in peers {
                if let Some(pos) = super::position::position_sorted(v, &sorted, pol) {
                    out.insert(
                        u.clone(),
                        Percentile {
                            percentile: pos.percentile,
                            quintile: pos.quintile,
                            among: pos.of,
                            national,
                            peers: if peers_special {
                                "special schools"
                            } else {
                                "schools"
                            },
                        },
                    );
                }
            }
        }
        out
    }

    fn context_x(&self, urn: &str, y: i32) -> Option<[f64; 3]> {
        Some([
            self.value("census_fsm6_pct", y, urn)?,
            self.value("census_eal_pct", y, urn)?,
            self.value("census_sen_support_pct", y, urn)?
                + self.value("census_ehcp_pct", y, urn).unwrap_or(0.0),
        ])
    }

    fn fit_target(&self, m: &str) -> Option<TargetModel> {
        let (t0, t1) = (self.year - 1, self.year);
        let now = self.school.get(&(m.to_string(), "all".into(), t1))?;
        let mut rows = Vec::new();
        for (urn, r) in now {
            let (Some(y1), Some(y0)) = (r.value, self.value(m, t0, urn)) else {
                continue;
            };
            let Some(c) = self.context_x(urn, t1) else {
                continue;
            };
            rows.push(([1.0, y0, c[0], c[1], c[2]], y1));
        }
        fit(&rows)
    }

    /// For measures whose files have no LA rows (census, absence in the national files):
    /// each LA's figure from its school rows, for each phase and for all phases. Counts are
    /// summed; rates use numerator over cohort where given, else are weighted by the
    /// school's cohort or pupils on roll.
    fn pool_la_figures(&self) -> HashMap<(String, i32, String, String), f64> {
        let mut pools: HashMap<(String, i32, String, String), Pool> = HashMap::new();
        for ((m, g, y), rows) in &self.school {
            if g != "all" {
                continue;
            }
            let meas = self.data.catalogue.measure(m);
            let sum = meas.is_some_and(|x| x.aggregate == "sum");
            let scale = if meas.is_some_and(|x| x.unit == "percent") {
                100.0
            } else {
                1.0
            };
            for r in rows.values() {
                let Some(la) = r.la_code.as_ref() else {
                    continue;
                };
                let value = match (r.numerator, r.cohort) {
                    (Some(n), Some(c)) if c > 0.0 && !sum => Some(n / c * scale),
                    _ => r.value,
                };
                let weight = r
                    .cohort
                    .or_else(|| self.value("census_pupils", *y, &r.code))
                    .or(Some(1.0));
                for phase in [r.phase.as_str(), "all"] {
                    pools
                        .entry((m.clone(), *y, la.clone(), phase.to_string()))
                        .or_insert_with(|| Pool::new(sum))
                        .add(value, weight);
                }
            }
        }
        pools
            .into_iter()
            .filter_map(|(k, p)| Some((k, p.value()?)))
            .collect()
    }

    fn similar_schools(&self, m: &str, pol: Polarity) -> Similar {
        let Some(rows) = self.school.get(&(m.to_string(), "all".into(), self.year)) else {
            return (vec![], HashMap::new());
        };
        let mut fs: Vec<f64> = rows
            .keys()
            .filter_map(|u| self.value("census_fsm6_pct", self.year, u))
            .collect();
        fs.sort_by(|a, b| a.total_cmp(b));
        let mut groups: HashMap<(String, usize), Vec<f64>> = HashMap::new();
        for (u, r) in rows {
            if let (Some(v), Some(f)) = (r.value, self.value("census_fsm6_pct", self.year, u)) {
                groups
                    .entry((r.phase.clone(), fifth(&fs, f)))
                    .or_default()
                    .push(v);
            }
        }
        let q = ambitious(groups, pol);
        (fs, q)
    }

    /// The LA's figure: DfE's LA row (of the phase and publication of `like`), else pooled
    /// from the LA's schools, labelled so.
    fn la_comparator(
        &self,
        m: &str,
        g: &str,
        y: i32,
        la: &str,
        phase: &str,
        like: Option<&ResultRecord>,
    ) -> Option<Comparator> {
        let dps = self.dps(m);
        let row = self
            .la
            .get(m, g, y, la, phase, like.map(|r| r.dataset.as_str()));
        if let Some(c) = AreaRows::comparator(row, Basis::LaRow, phase) {
            return Some(c);
        }
        // Pooled LA figures are kept for all pupils only.
        if g != "all" {
            return None;
        }
        let key = |p: &str| (m.to_string(), y, la.to_string(), p.to_string());
        let (value, used) = match self.la_pooled.get(&key(phase)) {
            Some(v) if phase != "all" => (*v, phase),
            _ => (*self.la_pooled.get(&key("all"))?, "all"),
        };
        Some(Comparator {
            value: Some(number::round(value, dps)),
            basis: Basis::LaPooled,
            phase: used.to_string(),
            same_phase: used == phase || !special(phase),
            source: None,
            count: None,
        })
    }

    fn england_comparator(&self, m: &str, g: &str, y: i32, phase: &str) -> Option<Comparator> {
        AreaRows::comparator(self.england.england(m, g, y, phase), Basis::England, phase)
    }

    /// The neighbours' LA figures, by the LA comparator's rule.
    fn neighbour_values(
        &self,
        m: &str,
        y: i32,
        la: &str,
        phase: &str,
        like: Option<&ResultRecord>,
    ) -> Vec<Option<f64>> {
        self.neighbours
            .get(la)
            .map(|l| {
                l.iter()
                    .map(|n| {
                        self.la
                            .get(m, "all", y, n, phase, like.map(|r| r.dataset.as_str()))
                            .and_then(|r| r.value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn dps(&self, m: &str) -> u32 {
        self.data.catalogue.measure(m).map(|x| x.dps).unwrap_or(1)
    }

    /// One figure with its comparators. A year the school has no row of its own (a
    /// converter before it opened) takes its predecessor's figure or a prior-year column,
    /// labelled in `from`.
    pub fn figure(&self, m: &str, urn: &str, y: i32, la: &str, phase: &str) -> Figure {
        self.figure_of(m, "all", urn, y, la, phase)
    }

    /// One group's figure with its comparators: the LA's and England's same group
    /// (neighbours for all pupils only).
    pub fn figure_of(&self, m: &str, g: &str, urn: &str, y: i32, la: &str, phase: &str) -> Figure {
        let meas = self.data.catalogue.measure(m);
        let dps = self.dps(m);
        let inherited = match self.school_row(m, g, y, urn) {
            Some(_) => None,
            None => self
                .lineage
                .resolve(urn, m, g, y, |code| {
                    Ok(self.school_row(m, g, y, code).cloned())
                })
                .ok()
                .filter(|h| h.record.is_some()),
        };
        let rec = self
            .school_row(m, g, y, urn)
            .or_else(|| inherited.as_ref().and_then(|h| h.record.as_ref()));
        let la_c = self.la_comparator(m, g, y, la, phase, rec);
        let england = self.england_comparator(m, g, y, phase);
        let sn = if g == "all" {
            self.neighbour_values(m, y, la, phase, rec)
        } else {
            vec![]
        };
        let with_values = sn.iter().flatten().count();
        let neighbours = (with_values > 0).then(|| Comparator {
            value: neighbour_standing(None, &sn, Polarity::High)
                .sn_average
                .map(|v| number::round(v, dps)),
            basis: Basis::NeighboursAverage,
            phase: phase.to_string(),
            same_phase: true,
            source: None,
            count: Some(with_values),
        });
        let nat = england.as_ref().and_then(|c| c.value);
        let significance = match (meas.map(|m| m.unit.as_str()), rec) {
            (Some("percent"), Some(r)) => match (r.value, r.cohort, nat) {
                (Some(v), Some(c), Some(n)) if c >= MIN_GROUP => percent_vs_reference(v, c, n).0,
                _ => Significance::NotAssessed,
            },
            (Some("progress"), Some(r)) if r.value.is_some() => {
                progress_significance(r.ci_low, r.ci_high)
            }
            _ => Significance::NotAssessed,
        };
        let nothing = rec.and_then(|r| r.value).is_none()
            && la_c.as_ref().and_then(|c| c.value).is_none()
            && nat.is_none();
        let reason = if nothing {
            not_published(self.data.catalogue, m, g, y, "school")
        } else {
            None
        };
        Figure {
            measure: m.to_string(),
            group: g.to_string(),
            year: y,
            value: rec.and_then(|r| r.value),
            cohort: rec.and_then(|r| r.cohort),
            status: rec.map_or_else(|| "no_data".to_string(), |r| r.status.clone()),
            dps,
            unit: meas.map(|x| x.unit.clone()).unwrap_or_default(),
            source: rec.map(Provenance::of),
            la: la_c,
            england,
            neighbours,
            percentile: self
                .positions
                .get(&(m.to_string(), g.to_string(), y))
                .and_then(|p| p.get(urn))
                .cloned(),
            significance,
            ci: rec.and_then(|r| Some((r.ci_low?, r.ci_high?))),
            reason,
            from: inherited.and_then(|h| h.label),
            three_year: None,
        }
    }

    /// The three-year figure beside a one-year figure about few pupils: DfE's `_3YR` column
    /// where booklet.toml names one, else pooled from each of the three years' figure and
    /// cohort (all three needed, none across a series break).
    fn three_year(&self, f: &Figure, urn: &str) -> Option<ThreeYear> {
        let small = &self.data.catalogue.booklet.small_cohorts;
        let withheld = f.value.is_none() && !matches!(f.status.as_str(), "ok" | "no_data");
        if !(f.cohort.is_some_and(|c| c < small.below) || (withheld && small.below > 0.0)) {
            return None;
        }
        let first = *self.years.first()?;
        if let Some(three) = small.published.get(&f.measure) {
            let r = self.school_row(three, &f.group, f.year, urn)?;
            return Some(ThreeYear {
                value: r.value?,
                cohort: r.cohort,
                published: true,
                years: (first, f.year),
            });
        }
        let meas = self.data.catalogue.measure(&f.measure)?;
        if !matches!(meas.unit.as_str(), "percent" | "score" | "progress") {
            return None;
        }
        let series = super::series_breaks::SeriesOf::new(
            self.data.catalogue,
            &f.measure,
            &f.group,
            "school",
        );
        let (mut sum, mut pupils) = (0.0, 0.0);
        for &y in &self.years {
            if !series.comparable(y, f.year) {
                return None;
            }
            let r = self.school_row(&f.measure, &f.group, y, urn)?;
            let (v, c) = (r.value?, r.cohort?);
            sum += v * c;
            pupils += c;
        }
        (pupils > 0.0).then(|| ThreeYear {
            value: number::round(sum / pupils, meas.dps),
            cohort: Some(pupils),
            published: false,
            years: (first, f.year),
        })
    }

    /// The suggested target's figures for one measure and school: the one computation behind
    /// the booklet's Targets section and the target forms.
    pub fn target_figures(&self, m: &str, urn: &str, la: &str) -> Option<TargetFigures> {
        let meas = self.data.catalogue.measure(m)?;
        let pol = Polarity::from_catalogue(&meas.polarity).unwrap_or(Polarity::High);
        let rec = self.school_row(m, "all", self.year, urn)?;
        let current = rec.value?;
        let model = self.targets.get(m);
        let estimate = match (model, self.context_x(urn, self.year)) {
            (Some(md), Some(c)) => Some(md.estimate(&[1.0, current, c[0], c[1], c[2]])),
            _ => None,
        };
        let clamp = |v: f64| {
            if meas.unit == "percent" {
                v.clamp(0.0, 100.0)
            } else {
                v
            }
        };
        // Similar schools: same phase and the same fifth of schools by % disadvantaged.
        let (best20, best5) = match (
            self.value("census_fsm6_pct", self.year, urn),
            self.similar.get(m),
        ) {
            (Some(f), Some((fs, q))) => q
                .get(&(rec.phase.clone(), fifth(fs, f)))
                .copied()
                .unwrap_or((None, None)),
            _ => (None, None),
        };
        // LA-level aspirations: the national top-10% threshold and the neighbours' top quartile.
        let las: Vec<Option<f64>> = self
            .la
            .codes(m, "all", self.year)
            .iter()
            .map(|code| {
                self.la
                    .get(m, "all", self.year, code, "all", Some(&rec.dataset))
                    .and_then(|r| self.precision.published(self.data, m, r))
            })
            .collect();
        let top10 = standings(&las, pol, Top10Rule::RankCut)
            .first()
            .and_then(|s| s.top10_threshold);
        let sn_top_quartile = neighbour_standing(
            None,
            &self.neighbour_values(m, self.year, la, "all", Some(rec)),
            pol,
        )
        .sn_top_quartile;
        Some(TargetFigures {
            measure: m.into(),
            current,
            cohort: rec.cohort,
            estimate: estimate.map(clamp),
            range: match (estimate, model) {
                (Some(e), Some(md)) => {
                    let (lo, hi) = md.range(e);
                    Some((clamp(lo), clamp(hi)))
                }
                _ => None,
            },
            best20,
            best5,
            top10,
            sn_top_quartile,
        })
    }

    /// The target models fitted this run, by measure.
    pub fn target_models(&self) -> &HashMap<String, TargetModel> {
        &self.targets
    }

    /// The phase a school is compared within: its census row's, else its record's.
    fn compare_phase(&self, s: &SchoolRow, fallback: &str) -> String {
        self.school_row("census_pupils", "all", self.year, &s.urn)
            .map(|r| r.phase.clone())
            .or_else(|| self.special.contains(&s.urn).then(|| "special".to_string()))
            .unwrap_or_else(|| fallback.to_string())
    }

    fn section(&self, sec: &BookletSection, urn: &str, la: &str, phase: &str) -> ProfileSection {
        let groups: Vec<&str> = if sec.groups.is_empty() {
            vec!["all"]
        } else {
            sec.groups.iter().map(String::as_str).collect()
        };
        let shown = if sec.kind == "key_stage" {
            self.has_any(&sec.measures, urn)
        } else if !sec.groups.is_empty() {
            groups
                .iter()
                .any(|g| self.has_any_of(&sec.measures, g, urn))
        } else {
            true
        };
        // A key stage the school does not have is not worked out (nor are its sources listed).
        let figures = if shown {
            sec.measures
                .iter()
                .flat_map(|m| groups.iter().map(move |g| (m, *g)))
                .map(|(m, g)| {
                    let mut f = self.figure_of(m, g, urn, self.year, la, phase);
                    f.three_year = self.three_year(&f, urn);
                    f
                })
                .collect()
        } else {
            vec![]
        };
        let charts = if shown {
            sec.charts
                .iter()
                .map(|m| {
                    self.years
                        .iter()
                        .map(|&y| self.figure(m, urn, y, la, phase))
                        .collect::<Vec<_>>()
                })
                .filter(|series: &Vec<Figure>| series.iter().any(|f| f.value.is_some()))
                .collect()
        } else {
            vec![]
        };
        ProfileSection {
            id: sec.id.clone(),
            kind: sec.kind.clone(),
            title: sec.title.clone(),
            compare: sec.compare.clone(),
            figures,
            charts,
            shown,
        }
    }

    /// The gaps the contents ask for, for one measure: one `gap_row` per pair, where the
    /// school has the group's figure (or DfE published none that year: one row saying why).
    fn gaps_for(&self, m: &str, urn: &str, la: &str, phase: &str) -> Vec<GapRow> {
        let src = ProfileGaps {
            inputs: self,
            measure: m,
            phase,
        };
        let mut out = Vec::new();
        for pair in &self.data.catalogue.booklet.gaps {
            let spec = GapSpec {
                measure: m,
                group: &pair.group,
                against: if pair.against == "national" {
                    Against::National
                } else {
                    Against::Within
                },
                level: Level::School,
                year: self.year,
                trend_years: self.years.len(),
            };
            if let Some(row) = gap_row(
                self.data.catalogue,
                &src,
                &spec,
                urn,
                String::new(),
                Some(la.to_string()),
            ) {
                // A reason with no figure is shown once per measure, not once per group.
                let unpublished = |r: &GapRow| r.group_status == "no_data";
                if unpublished(&row) && out.iter().any(unpublished) {
                    continue;
                }
                out.push(row);
            }
        }
        out
    }

    /// One school's profile.
    pub fn profile(&self, s: &SchoolRow) -> SchoolProfile {
        let contents = &self.data.catalogue.booklet;
        let urn = s.urn.as_str();
        let la = s.la_code.clone().unwrap_or_default();
        let la_name = s
            .la_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.data.name(&la));
        let has_ks4 = contents
            .sections
            .iter()
            .any(|x| x.id == "ks4" && self.has_any(&x.measures, urn));
        let phase = s.phase.clone().unwrap_or_else(|| {
            if has_ks4 {
                "secondary".into()
            } else {
                "primary".into()
            }
        });
        let compare_phase = self.compare_phase(s, &phase);
        let sections: Vec<ProfileSection> = contents
            .sections
            .iter()
            .map(|sec| self.section(sec, urn, &la, &compare_phase))
            .collect();
        let shown: Vec<&BookletSection> = contents
            .sections
            .iter()
            .zip(&sections)
            .filter(|(_, p)| p.shown && p.kind == "key_stage")
            .map(|(c, _)| c)
            .collect();
        let gaps: Vec<GapRow> = shown
            .iter()
            .flat_map(|c| c.gaps.iter())
            .flat_map(|m| self.gaps_for(m, urn, &la, &compare_phase))
            .collect();
        let targets: Vec<TargetFigures> = shown
            .iter()
            .flat_map(|c| c.targets.iter())
            .filter_map(|m| self.target_figures(m, urn, &la))
            .collect();
        let mut versions = BTreeSet::new();
        for (c, p) in contents.sections.iter().zip(&sections) {
            if p.kind != "key_stage" || !p.shown {
                continue;
            }
            for f in &p.figures {
                if let Some(src) = &f.source {
                    versions.insert(format!("{}: {}", c.id.to_uppercase(), src.version));
                }
            }
        }
        let mut sources: Vec<Provenance> = Vec::new();
        let mut seen = HashSet::new();
        for p in &sections {
            let series = p.charts.iter().flatten();
            for f in p.figures.iter().chain(series) {
                for src in [
                    f.source.as_ref(),
                    f.la.as_ref().and_then(|c| c.source.as_ref()),
                    f.england.as_ref().and_then(|c| c.source.as_ref()),
                ]
                .into_iter()
                .flatten()
                {
                    if seen.insert((src.file.clone(), src.dataset.clone(), src.version.clone())) {
                        sources.push(src.clone());
                    }
                }
            }
        }
        let order = contents.target_measures();
        let mut agreed: Vec<(TargetRow, Achieved)> = self
            .agreed
            .get(urn)
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        let meas = self.data.catalogue.measure(&t.measure);
                        let a = against(
                            meas,
                            t.target,
                            self.school_row(&t.measure, "all", self.year, urn),
                        );
                        (t.clone(), a)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let pos = |m: &str| order.iter().position(|x| *x == m).unwrap_or(usize::MAX);
        agreed.sort_by(|a, b| {
            pos(&a.0.measure)
                .cmp(&pos(&b.0.measure))
                .then(a.0.measure.cmp(&b.0.measure))
        });
        let summary = super::summary::summarise(self, &sections, urn, &la, &compare_phase);
        SchoolProfile {
            urn: urn.to_string(),
            la: la.clone(),
            la_name,
            phase,
            compare_phase,
            year: self.year,
            years: self.years.clone(),
            sections,
            gaps,
            targets,
            agreed,
            ofsted: self.inspections.get(urn).and_then(super::inspection::view),
            versions: versions.into_iter().collect(),
            summary,
            sources,
        }
    }
}

/// The profile's rows as a gap source: the school's groups, and England's rows of the
/// school's phase and the publication of its own figure.
struct ProfileGaps<'p, 'a> {
    inputs: &'p ProfileInputs<'a>,
    measure: &'p str,
    phase: &'p str,
}

impl GapSource for ProfileGaps<'_, '_> {
    fn own(&self, group: &str, year: i32, code: &str) -> Option<&ResultRecord> {
        self.inputs.school_row(self.measure, group, year, code)
    }
    fn england_rows(&self) -> (&AreaRows, &str) {
        (&self.inputs.england, self.measure)
    }
    fn phase(&self) -> &str {
        self.phase
    }
}
