//! What each column of attain's workbooks is: its header in words, its meaning and source
//! (the workbook's "Dictionary" sheet) and how its cells are shown. Column ids are the JSON
//! field names of the commands the sheets come from (`attain rank`, `gaps`, `ofsted`,
//! `categorise`, `partnerships`); an id not listed here gets a header made from its words.

/// How a column's cells are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Counts, ranks, years: whole numbers.
    Whole,
    /// A published figure, at its measure's places.
    Figure,
    /// An average or threshold of published figures: one place more.
    Derived,
    /// A gap or distance, signed, at the measure's places.
    Signed,
    /// A percentage attain computes at 1 dp (Ofsted standing).
    Percent1,
    /// Yes / No.
    Flag,
    /// LAIT quartile band A-D.
    Quartile,
    /// Significance against a comparison.
    Significance,
    /// A gap's three-year trend.
    Trend,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub header: String,
    pub meaning: String,
    pub source: String,
    pub kind: Kind,
}

const RANK: &str = "attain rank (LAIT method, docs/methods.md)";
const GAPS: &str = "attain gaps (analysis::gaps::gap_row, docs/methods.md)";
const OFSTED: &str = "attain ofsted: Ofsted inspections joined to the school census";
const CATEGORIES: &str = "attain categorise: the council's rules file";
const PARTNERSHIPS: &str = "attain partnerships: school figures and cohorts from the store";
const STORE: &str = "the store (DfE and Ofsted files as ingested)";

/// (id, header, meaning, source, kind) of every column attain's workbooks carry.
const COLUMNS: &[(&str, &str, &str, &str, Kind)] = &[
    (
        "measure_label",
        "Measure",
        "The measure's short name (catalogue/measures.toml)",
        "catalogue",
        Kind::Text,
    ),
    (
        "measure",
        "Measure id",
        "The canonical measure id (attain measures)",
        "catalogue",
        Kind::Text,
    ),
    (
        "year",
        "Year",
        "Summer-end academic year of the results: 2019 = 2018/19",
        STORE,
        Kind::Whole,
    ),
    (
        "value",
        "Value",
        "The published figure, at the precision DfE publishes it",
        STORE,
        Kind::Figure,
    ),
    (
        "rank",
        "Rank",
        "The LA's rank among LAs with a figure (1 best; ties share the best rank)",
        RANK,
        Kind::Whole,
    ),
    ("of", "Of", "How many LAs were ranked", RANK, Kind::Whole),
    (
        "quartile",
        "Quartile band",
        "LAIT quartile band: A best, D worst (type-7 quantiles; a value on a cut-point \
        falls in the lower quarter)",
        RANK,
        Kind::Quartile,
    ),
    (
        "top10",
        "In the top 10%",
        "Yes when the LA's rank is within the best 10% of LAs ranked",
        RANK,
        Kind::Flag,
    ),
    (
        "top10_threshold",
        "Top-10% threshold",
        "The figure of the last LA in the top 10%",
        RANK,
        Kind::Derived,
    ),
    (
        "distance_to_top10",
        "Distance to the top 10%",
        "Threshold minus the LA's figure (positive: short of \
        it)",
        RANK,
        Kind::Derived,
    ),
    (
        "sn_rank",
        "Rank among neighbours",
        "The LA's rank among itself and its 10 statistical \
        neighbours",
        RANK,
        Kind::Whole,
    ),
    (
        "sn_of",
        "Neighbours ranked",
        "How many of the LA and its neighbours have a figure",
        RANK,
        Kind::Whole,
    ),
    (
        "sn_average",
        "Neighbour average",
        "Mean of the statistical neighbours' figures",
        RANK,
        Kind::Derived,
    ),
    (
        "sn_top_quartile",
        "Neighbours' top quartile",
        "The neighbours' top-quartile figure",
        RANK,
        Kind::Derived,
    ),
    (
        "source",
        "Source",
        "The file and dataset the figure was read from",
        STORE,
        Kind::Text,
    ),
    ("code", "Code", "URN (school) or LA code", STORE, Kind::Text),
    ("name", "Name", "School or LA name", STORE, Kind::Text),
    (
        "group",
        "Pupil group",
        "The pupils the gap is about (attain measures --groups)",
        GAPS,
        Kind::Text,
    ),
    (
        "comparison",
        "Compared with",
        "The pupils the group is compared with",
        GAPS,
        Kind::Text,
    ),
    (
        "group_value",
        "Group's figure",
        "The group's published figure",
        STORE,
        Kind::Figure,
    ),
    (
        "comparison_value",
        "Comparison's figure",
        "The comparison pupils' published figure",
        STORE,
        Kind::Figure,
    ),
    (
        "gap",
        "Gap",
        "Group minus comparison, at the measure's precision (negative: the group is \
        behind)",
        GAPS,
        Kind::Signed,
    ),
    (
        "significance",
        "Significance",
        "Whether the gap is significant at 95% (Newcombe interval for \
        percentages)",
        GAPS,
        Kind::Significance,
    ),
    (
        "trend",
        "Three-year trend",
        "Narrowing or widening over this year and the two before; never across a series \
        break",
        GAPS,
        Kind::Trend,
    ),
    ("phase", "Phase", "School phase", STORE, Kind::Text),
    (
        "snapshot_year",
        "Snapshot year",
        "The Ofsted snapshot's year (31 August of it)",
        OFSTED,
        Kind::Whole,
    ),
    ("schools", "Schools", "Schools counted", OFSTED, Kind::Whole),
    (
        "pct_schools_good_or_better",
        "% of schools good or outstanding",
        "Schools graded good or outstanding, % of \
        schools with a graded inspection (1 dp)",
        OFSTED,
        Kind::Percent1,
    ),
    (
        "rank_schools",
        "Rank (schools)",
        "The LA's rank on % of schools good or outstanding",
        OFSTED,
        Kind::Whole,
    ),
    (
        "pct_pupils_good_or_better",
        "% of pupils in good or outstanding schools",
        "Pupils on roll (census) in schools \
        graded good or outstanding, % (1 dp)",
        OFSTED,
        Kind::Percent1,
    ),
    (
        "rank_pupils",
        "Rank (pupils)",
        "The LA's rank on % of pupils in good or outstanding \
        schools",
        OFSTED,
        Kind::Whole,
    ),
    (
        "england_pct_schools_good_or_better",
        "England: % of schools good or outstanding",
        "England's figure, same \
        phase",
        OFSTED,
        Kind::Percent1,
    ),
    (
        "england_pct_pupils_good_or_better",
        "England: % of pupils in good or outstanding schools",
        "England's figure, \
        same phase",
        OFSTED,
        Kind::Percent1,
    ),
    (
        "sentence",
        "In words",
        "The standing as a sentence",
        OFSTED,
        Kind::Text,
    ),
    (
        "urn",
        "URN",
        "The school's unique reference number",
        STORE,
        Kind::Text,
    ),
    (
        "school_name",
        "School",
        "The school's name",
        STORE,
        Kind::Text,
    ),
    (
        "la_code",
        "LA code",
        "The LA's 3-digit code",
        STORE,
        Kind::Text,
    ),
    (
        "category",
        "Category",
        "The council category the rules put the school in",
        CATEGORIES,
        Kind::Text,
    ),
    (
        "level_of_support",
        "Level of support",
        "The support the category brings",
        CATEGORIES,
        Kind::Text,
    ),
    (
        "rules_fired",
        "Rules that placed it",
        "The rules of the category that fired",
        CATEGORIES,
        Kind::Text,
    ),
    (
        "no_data",
        "Rules without data",
        "Rules that could not be decided for want of data",
        CATEGORIES,
        Kind::Text,
    ),
    (
        "evidence",
        "Evidence",
        "Every figure the rules used (no data where the store has none)",
        CATEGORIES,
        Kind::Text,
    ),
    (
        "partnership",
        "Partnership",
        "The partnership (from the partnership map)",
        PARTNERSHIPS,
        Kind::Text,
    ),
    (
        "cohort",
        "Cohort",
        "Pupils the figure is about (named so, as `attain audit` finds cohorts by this \
        header)",
        PARTNERSHIPS,
        Kind::Whole,
    ),
    (
        "numerator",
        "Pupils meeting the measure",
        "Sum over schools of value x cohort / \
        100",
        PARTNERSHIPS,
        Kind::Derived,
    ),
    (
        "schools_included",
        "Schools included",
        "Schools whose figures were used",
        PARTNERSHIPS,
        Kind::Whole,
    ),
    (
        "schools_excluded",
        "Schools excluded",
        "Schools whose figure is withheld (SUPP, NE ...), left out, never \
        zero",
        PARTNERSHIPS,
        Kind::Whole,
    ),
    (
        "schools_without_results",
        "Schools without results",
        "Schools of the map with no figure for the \
        year",
        PARTNERSHIPS,
        Kind::Whole,
    ),
    (
        "excluded",
        "Excluded schools",
        "The schools left out, with their status",
        PARTNERSHIPS,
        Kind::Text,
    ),
    (
        "note",
        "Note",
        "Why the sheet has no rows",
        "attain",
        Kind::Text,
    ),
];

/// The column's header, meaning, source and kind.
pub fn describe(id: &str) -> ColumnInfo {
    match COLUMNS.iter().find(|c| c.0 == id) {
        Some(&(_, header, meaning, source, kind)) => ColumnInfo {
            header: header.into(),
            meaning: meaning.into(),
            source: source.into(),
            kind,
        },
        // A rule's fact (register) or a column added since: its id in words.
        None => ColumnInfo {
            header: words(id),
            meaning: format!("{id} (a fact the categorisation rules use; docs/rules.md)"),
            source: CATEGORIES.into(),
            kind: Kind::Text,
        },
    }
}

/// The column id behind a header the workbook printed (the reverse of [`describe`]): for
/// reading a workbook back by the JSON field names.
pub fn id_of(header: &str) -> String {
    match COLUMNS.iter().find(|c| c.1 == header) {
        Some(c) => c.0.to_string(),
        None => header
            .split(' ')
            .map(|w| {
                if w == "%" {
                    "pct".to_string()
                } else {
                    w.to_lowercase()
                }
            })
            .collect::<Vec<_>>()
            .join("_"),
    }
}

/// `ks2_rwm_gap` -> "Ks2 rwm gap"; `pct_x` -> "% x".
fn words(id: &str) -> String {
    let w: Vec<&str> = id
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| if w == "pct" { "%" } else { w })
        .collect();
    let s = w.join(" ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_words_and_ids_are_unique() {
        assert_eq!(describe("top10").header, "In the top 10%");
        assert_eq!(describe("top10").kind, Kind::Flag);
        assert_eq!(describe("ofsted_grade").header, "Ofsted grade");
        assert_eq!(describe("pct_fsm").header, "% fsm");
        for id in ["top10", "pct_fsm", "ofsted_grade", "ks2_rwm_expected_3yr"] {
            assert_eq!(id_of(&describe(id).header), id);
        }
        let mut ids: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), COLUMNS.len());
        let mut headers: Vec<&str> = COLUMNS.iter().map(|c| c.1).collect();
        headers.sort();
        headers.dedup();
        assert_eq!(headers.len(), COLUMNS.len(), "two columns share a header");
    }
}
