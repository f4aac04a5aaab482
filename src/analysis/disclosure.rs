//! Disclosure control for figures built from pupil-level data.
//!
//! * Primary suppression: a count of 1 to `threshold` pupils (5 by default) is withheld,
//!   with every figure built on it.
//! * Secondary suppression: figures are laid out as a table of cells (one coordinate per
//!   dimension: the school, disadvantage, gender, ethnic group ...). Along every line of
//!   that table (the cells that differ in one coordinate only, whose sum is a total shown
//!   elsewhere) there must be no suppressed cell, or at least two; otherwise the smallest
//!   other non-empty cell of the line is withheld too. This repeats until nothing changes,
//!   so no withheld figure can be recovered by subtracting from a total or from the other
//!   groups.
//! * Withheld figures print as DfE's symbol `c` (confidential); `status` says why.

use std::collections::{BTreeMap, BTreeSet};

/// The default smallest group that may be shown is `threshold + 1` pupils.
pub const DEFAULT_THRESHOLD: u64 = 5;
/// DfE's symbol for a figure withheld to protect confidentiality.
pub const SYMBOL: &str = "c";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 1..=threshold pupils.
    Small,
    /// Withheld so that a small cell on the same line cannot be recovered.
    Secondary,
}

/// Which cells to withhold. `cells` maps coordinates to pupil counts; empty cells (0)
/// are never withheld (they disclose nothing more than the totals).
pub fn suppress(cells: &BTreeMap<Vec<u32>, u64>, threshold: u64) -> BTreeMap<Vec<u32>, Reason> {
    let mut out: BTreeMap<Vec<u32>, Reason> = cells.iter().filter(|(_, &n)| n >= 1 && n <= threshold).map(|(k, _)| (k.clone(), Reason::Small)).collect();
    let dims = cells.keys().next().map(|k| k.len()).unwrap_or(0);
    loop {
        let mut added = BTreeSet::new();
        // The last dimensions (the groups within a unit) first, the first (the units, whose
        // line is the LA total) last: pairing a small group with its own unit's other group
        // usually settles the unit line too, and withholds less.
        for d in (0..dims).rev() {
            // Lines along dimension d: cells keyed by their other coordinates.
            let mut lines: BTreeMap<Vec<u32>, Vec<(&Vec<u32>, u64)>> = BTreeMap::new();
            for (k, &n) in cells {
                let mut rest = k.clone();
                rest.remove(d);
                lines.entry(rest).or_default().push((k, n));
            }
            for line in lines.values() {
                let withheld = line.iter().filter(|(k, n)| *n > 0 && (out.contains_key(*k) || added.contains(*k))).count();
                if withheld == 1 {
                    let next = line.iter().filter(|(k, n)| *n > 0 && !out.contains_key(*k) && !added.contains(*k)).min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
                    if let Some((k, _)) = next {
                        added.insert((*k).clone());
                    }
                }
            }
        }
        if added.is_empty() {
            return out;
        }
        for k in added {
            out.insert(k, Reason::Secondary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[(&[u32], u64)]) -> BTreeMap<Vec<u32>, u64> {
        rows.iter().map(|(k, n)| (k.to_vec(), *n)).collect()
    }

    #[test]
    fn a_small_cell_takes_the_smallest_other_cell_of_its_line_with_it() {
        // Ethnic groups of one school: 25, 3, 8 -> 3 is small, 8 goes with it.
        let s = suppress(&table(&[(&[0], 25), (&[1], 3), (&[2], 8)]), 5);
        assert_eq!(s, BTreeMap::from([(vec![1], Reason::Small), (vec![2], Reason::Secondary)]));
    }

    #[test]
    fn two_small_cells_need_nothing_more_and_empty_cells_are_never_withheld() {
        let s = suppress(&table(&[(&[0], 20), (&[1], 2), (&[2], 4), (&[3], 0)]), 5);
        assert_eq!(s, BTreeMap::from([(vec![1], Reason::Small), (vec![2], Reason::Small)]));
    }

    #[test]
    fn secondary_suppression_runs_along_every_dimension_until_stable() {
        // Schools x disadvantage: school 0 has 3 disadvantaged pupils. Its other pupils
        // (20) go (school line); then each line across schools has one withheld cell, so
        // school 1's disadvantaged (10, smaller than school 2's 12) and other pupils (30,
        // smaller than 40) go, which also leaves school 1's own line with two.
        let s = suppress(&table(&[(&[0, 0], 3), (&[0, 1], 20), (&[1, 0], 10), (&[1, 1], 30), (&[2, 0], 12), (&[2, 1], 40)]), 5);
        assert_eq!(s.get(&vec![0, 0]), Some(&Reason::Small));
        assert_eq!(s.get(&vec![0, 1]), Some(&Reason::Secondary));
        assert_eq!(s.get(&vec![1, 0]), Some(&Reason::Secondary));
        assert_eq!(s.get(&vec![1, 1]), Some(&Reason::Secondary));
        assert_eq!(s.get(&vec![2, 0]), None);
        // Every line now has 0 or >= 2 withheld cells.
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn the_threshold_is_configurable() {
        assert!(suppress(&table(&[(&[0], 8), (&[1], 40)]), 5).is_empty());
        assert_eq!(suppress(&table(&[(&[0], 8), (&[1], 40)]), 10).len(), 2);
    }
}
