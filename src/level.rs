//! The one level figures are given for: a school, a partnership of schools, an LA, a region or
//! England. Published files give school, LA, region and national rows (the store's `level`
//! column); the LA's pupil-level files give schools, partnerships and LAs
//! ([`Level::PUPIL_DATA`]); the CLI's `--level` offers both, and each command refuses a
//! level its data has not.

use serde::{Deserialize, Serialize};

/// Spelt as the store's `level` column, JSON rows, the ledger, pipeline files and `--level`
/// spell it: `school`, `partnership`, `la`, `region`, `national`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Each school.
    School,
    /// A partnership or cluster of schools (pupil data with --partnerships).
    Partnership,
    /// Each LA.
    La,
    /// A region's rows in published files (not a `--level`: regions are read, not asked for).
    #[value(skip)]
    #[serde(skip)]
    Region,
    /// England.
    National,
}

impl Level {
    /// The levels pupil-level data gives figures for (an LA's own pupils: no region, no England).
    pub const PUPIL_DATA: [Level; 3] = [Level::School, Level::Partnership, Level::La];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::School => "school",
            Level::Partnership => "partnership",
            Level::La => "la",
            Level::Region => "region",
            Level::National => "national",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        [
            Level::School,
            Level::Partnership,
            Level::La,
            Level::Region,
            Level::National,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }

    /// Published files (performance tables, LAIT) have no partnership rows.
    pub fn is_published(self) -> bool {
        self != Level::Partnership
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn spelt_as_the_store_the_cli_and_pipeline_files_spell_it() {
        let all = [
            Level::School,
            Level::Partnership,
            Level::La,
            Level::Region,
            Level::National,
        ];
        let names: Vec<&str> = all.iter().map(|l| l.as_str()).collect();
        assert_eq!(names, ["school", "partnership", "la", "region", "national"]);
        for l in all {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert_eq!(Level::parse("England"), None);
        // --level offers what a command can be asked for: regions are read, not asked for.
        let cli: Vec<String> = Level::value_variants()
            .iter()
            .filter_map(|l| l.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(cli, ["school", "partnership", "la", "national"]);
        // Pipeline files and JSON rows: lowercase, and no region.
        let read = |s: &str| serde_json::from_str::<Level>(&format!("{s:?}"));
        assert_eq!(read("partnership").unwrap(), Level::Partnership);
        assert_eq!(read("la").unwrap(), Level::La);
        assert!(read("region").is_err());
        assert_eq!(
            serde_json::to_string(&Level::National).unwrap(),
            "\"national\""
        );
        // The store's levels sort as they did: school, LA, region, England.
        assert!(Level::School < Level::La && Level::La < Level::Region);
        assert!(Level::Region < Level::National);
        assert_eq!(
            Level::PUPIL_DATA.map(|l| l.is_published()),
            [true, false, true]
        );
    }
}
