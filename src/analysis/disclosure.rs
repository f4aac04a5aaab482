//! Disclosure control for figures built from pupil-level data, over everything released
//! together (the method, and its limits, are in docs/pupil-data.md).
//!
//! Every released figure is about a set of pupils: a unit (a school, a partnership, an LA)
//! and a group, which `pupil_groups` turns into a set of pupil *types* (combinations of
//! the pupil file's characteristics), so that disadvantaged = FSM ∪ looked after and
//! boys + girls = all are exact set relations. A unit's pupils lie within the units above
//! it (school ⊂ partnership ⊂ LA). Figures are at the same unit or in its subtree.
//!
//! A figure about 1 to `threshold` pupils can then leak in two ways, both checked here:
//! * directly: a released figure (or a total made by adding released figures of one unit
//!   about disjoint groups: disadvantaged boys + disadvantaged girls = disadvantaged) is
//!   about that few pupils — primary suppression, done by the caller;
//! * by subtraction: such a total minus released figures about disjoint sets of pupils
//!   within it (the difference of two figures, or a total minus its shown parts) leaves
//!   1 to `threshold` pupils. `find` reports every total for which some choice of parts
//!   does, with one such choice; the caller withholds a part and asks again.
//!
//! Only counts are used (a difference of 0 pupils discloses nothing), so the same check
//! runs on figures read back from files (`attain audit`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The default smallest group that may be shown is `threshold + 1` pupils.
pub const DEFAULT_THRESHOLD: u64 = 5;
/// DfE's symbol for a figure withheld to protect confidentiality.
pub const SYMBOL: &str = "c";
/// The largest threshold the check handles (deficits are kept as bits of a u128).
pub const MAX_THRESHOLD: u64 = 100;

const WORDS: usize = 21;
/// How many pupil types a set can be over (the product of the dimensions' value counts).
pub const MAX_TYPES: usize = WORDS * 64;

/// A set of pupil types.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Types([u64; WORDS]);

impl Default for Types {
    fn default() -> Self {
        Types([0; WORDS])
    }
}

impl Types {
    pub fn with(mut self, i: usize) -> Types {
        self.0[i / 64] |= 1 << (i % 64);
        self
    }
    pub fn has(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }
    fn zip(&self, o: &Types, f: impl Fn(u64, u64) -> u64) -> Types {
        let mut r = [0; WORDS];
        for (i, w) in r.iter_mut().enumerate() {
            *w = f(self.0[i], o.0[i]);
        }
        Types(r)
    }
    pub fn union(&self, o: &Types) -> Types {
        self.zip(o, |a, b| a | b)
    }
    pub fn intersect(&self, o: &Types) -> Types {
        self.zip(o, |a, b| a & b)
    }
    pub fn minus(&self, o: &Types) -> Types {
        self.zip(o, |a, b| a & !b)
    }
    pub fn subset_of(&self, o: &Types) -> bool {
        self.0.iter().zip(&o.0).all(|(a, b)| a & !b == 0)
    }
    pub fn disjoint(&self, o: &Types) -> bool {
        self.0.iter().zip(&o.0).all(|(a, b)| a & b == 0)
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// Units as a tree: each unit's pupils lie within its parent's.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
}

impl Tree {
    pub fn new(parent: Vec<Option<usize>>) -> Tree {
        let mut children = vec![Vec::new(); parent.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        Tree { parent, children }
    }
    pub fn len(&self) -> usize {
        self.parent.len()
    }
    pub fn children(&self, n: usize) -> &[usize] {
        &self.children[n]
    }
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }
}

/// A released figure: `count` pupils of the types `types` at unit `node`.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub node: usize,
    pub types: Types,
    pub count: u64,
}

/// `total` (released figures of one unit about disjoint groups, added up) minus `parts`
/// (released figures about disjoint sets of pupils within it) leaves `residual` pupils.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub total: Vec<usize>,
    pub parts: Vec<usize>,
    pub residual: u64,
}

/// The sums of parts a choice of disjoint figures can reach: the largest, and which
/// shortfalls from it (0 ..= threshold) are reachable too. A larger shortfall cannot
/// bring a total within reach of a disclosure, since no sum exceeds the total.
#[derive(Clone, Copy, Debug)]
struct Reach {
    max: u64,
    mask: u128,
}

const NOTHING: Reach = Reach { max: 0, mask: 1 };

#[derive(Default)]
struct Fx(u64);
impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64)
    }
}
type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// What `find` has worked out, kept between calls over one tree: a unit's reachable sums
/// stay valid while the figures in its subtree are the same.
#[derive(Default)]
pub struct Memo {
    ids: HashMap<Types, u32>,
    sets: Vec<Types>,
    /// Per unit: its own figures (types, count), and reach by typeset id.
    nodes: Vec<(Vec<(Types, u64)>, FxMap<u32, Reach>)>,
}

impl Memo {
    /// Forget what depends on units whose figures changed (and the units above them).
    fn refresh(&mut self, tree: &Tree, at: &[Vec<usize>], figs: &[Figure]) {
        self.nodes.resize_with(tree.len(), Default::default);
        let mut dirty = vec![false; tree.len()];
        for (n, fs) in at.iter().enumerate() {
            let own: Vec<(Types, u64)> =
                fs.iter().map(|&f| (figs[f].types, figs[f].count)).collect();
            if self.nodes[n].0 != own {
                self.nodes[n].0 = own;
                let mut x = Some(n);
                while let Some(y) = x {
                    if dirty[y] {
                        break;
                    }
                    dirty[y] = true;
                    x = tree.parent[y];
                }
            }
        }
        for (n, d) in dirty.into_iter().enumerate() {
            if d {
                self.nodes[n].1.clear();
            }
        }
    }
}

struct Engine<'a, 'm> {
    tree: &'a Tree,
    figs: &'a [Figure],
    cap: u128,
    at: Vec<Vec<usize>>,
    live: Vec<bool>,
    memo: &'m mut Memo,
}

fn conv(a: u128, b: u128, cap: u128) -> u128 {
    let mut r = 0;
    let mut a = a;
    while a != 0 {
        let i = a.trailing_zeros();
        r |= b << i;
        a &= a - 1;
    }
    r & cap
}

fn shift(m: u128, by: u64, cap: u128) -> u128 {
    if by >= 128 {
        0
    } else {
        (m << by) & cap
    }
}

impl<'a, 'm> Engine<'a, 'm> {
    fn new(
        tree: &'a Tree,
        figs: &'a [Figure],
        threshold: u64,
        memo: &'m mut Memo,
    ) -> Engine<'a, 'm> {
        let mut at = vec![Vec::new(); tree.len()];
        let mut live = vec![false; tree.len()];
        for (i, f) in figs.iter().enumerate() {
            at[f.node].push(i);
            let mut n = Some(f.node);
            while let Some(x) = n {
                if live[x] {
                    break;
                }
                live[x] = true;
                n = tree.parent[x];
            }
        }
        let t = threshold.min(MAX_THRESHOLD);
        let cap = if t >= 127 {
            u128::MAX
        } else {
            (1u128 << (t + 1)) - 1
        };
        memo.refresh(tree, &at, figs);
        Engine {
            tree,
            figs,
            cap,
            at,
            live,
            memo,
        }
    }

    fn intern(&mut self, t: Types) -> u32 {
        if let Some(&i) = self.memo.ids.get(&t) {
            return i;
        }
        let i = self.memo.sets.len() as u32;
        self.memo.sets.push(t);
        self.memo.ids.insert(t, i);
        i
    }

    /// Figures at `node` within `within`, then every choice of pairwise disjoint ones.
    fn families(&self, node: usize, within: &Types, mut visit: impl FnMut(&[usize], Types, u64)) {
        let cand: Vec<usize> = self.at[node]
            .iter()
            .copied()
            .filter(|&f| self.figs[f].types.subset_of(within))
            .collect();
        let mut chosen = Vec::new();
        fn go(
            e: &Engine,
            cand: &[usize],
            k: usize,
            used: Types,
            sum: u64,
            chosen: &mut Vec<usize>,
            visit: &mut dyn FnMut(&[usize], Types, u64),
        ) {
            if k == cand.len() {
                visit(chosen, used, sum);
                return;
            }
            go(e, cand, k + 1, used, sum, chosen, visit);
            let f = &e.figs[cand[k]];
            if f.types.disjoint(&used) {
                chosen.push(cand[k]);
                go(
                    e,
                    cand,
                    k + 1,
                    used.union(&f.types),
                    sum + f.count,
                    chosen,
                    visit,
                );
                chosen.pop();
            }
        }
        go(self, &cand, 0, Types::default(), 0, &mut chosen, &mut visit);
    }

    /// The reachable sums of disjoint released figures within (node, types[fid]), over
    /// the node's own figures and its subtree's.
    fn reach(&mut self, node: usize, fid: u32) -> Reach {
        if !self.live[node] {
            return NOTHING;
        }
        if let Some(r) = self.memo.nodes[node].1.get(&fid) {
            return *r;
        }
        let within = self.memo.sets[fid as usize];
        let mut options: Vec<(u64, Types)> = Vec::new();
        self.families(node, &within, |_, used, sum| options.push((sum, used)));
        let mut best: Option<Reach> = None;
        for (sum, used) in options {
            let rest = within.minus(&used);
            let r = self.children_reach(node, rest);
            let s = sum + r.max;
            best = Some(match best {
                None => Reach {
                    max: s,
                    mask: r.mask,
                },
                Some(b) if s > b.max => Reach {
                    max: s,
                    mask: shift(b.mask, s - b.max, self.cap) | r.mask,
                },
                Some(b) => Reach {
                    max: b.max,
                    mask: b.mask | shift(r.mask, b.max - s, self.cap),
                },
            });
        }
        let r = best.unwrap_or(NOTHING);
        self.memo.nodes[node].1.insert(fid, r);
        r
    }

    fn children_reach(&mut self, node: usize, rest: Types) -> Reach {
        let tree = self.tree;
        if rest.is_empty() || tree.children[node].iter().all(|&c| !self.live[c]) {
            return NOTHING;
        }
        let rid = self.intern(rest);
        let mut acc = NOTHING;
        for &c in &tree.children[node] {
            if self.live[c] {
                let r = self.reach(c, rid);
                acc = Reach {
                    max: acc.max + r.max,
                    mask: conv(acc.mask, r.mask, self.cap),
                };
            }
        }
        acc
    }

    /// Figures within (node, types[fid]), pairwise disjoint, whose counts add up to `target`.
    fn witness(&mut self, node: usize, fid: u32, target: u64) -> Option<Vec<usize>> {
        let within = self.memo.sets[fid as usize];
        let mut options: Vec<(Vec<usize>, u64, Types)> = Vec::new();
        self.families(node, &within, |chosen, used, sum| {
            options.push((chosen.to_vec(), sum, used))
        });
        let tree = self.tree;
        for (chosen, sum, used) in options {
            if sum > target {
                continue;
            }
            let rest = within.minus(&used);
            let kids: Vec<usize> = if rest.is_empty() {
                vec![]
            } else {
                tree.children[node]
                    .iter()
                    .copied()
                    .filter(|&c| self.live[c])
                    .collect()
            };
            let rid = self.intern(rest);
            let rs: Vec<Reach> = kids.iter().map(|&c| self.reach(c, rid)).collect();
            let total: u64 = rs.iter().map(|r| r.max).sum();
            let need = target - sum;
            if need > total || total - need > 127 {
                continue;
            }
            let short = total - need;
            let mut prefix = vec![1u128];
            for r in &rs {
                prefix.push(conv(*prefix.last().unwrap(), r.mask, self.cap));
            }
            if prefix[rs.len()] >> short & 1 == 0 {
                continue;
            }
            let mut out = chosen.clone();
            let mut rem = short;
            for i in (0..rs.len()).rev() {
                let d = (0..=rem)
                    .find(|&d| rs[i].mask >> d & 1 == 1 && prefix[i] >> (rem - d) & 1 == 1)?;
                rem -= d;
                let want = rs[i].max - d;
                if want > 0 {
                    out.extend(self.witness(kids[i], rid, want)?);
                }
            }
            return Some(out);
        }
        None
    }
}

/// Every disclosure by subtraction among `figs` (see the module comment): for each unit and
/// each total of its released figures about disjoint groups, one choice of parts leaving
/// 1 to `threshold` pupils, if there is one.
pub fn find(tree: &Tree, figs: &[Figure], threshold: u64) -> Vec<Finding> {
    find_at(tree, figs, threshold, None, &mut Memo::default())
}

/// As `find`, for the totals of `nodes` only. Withholding figures never makes a new
/// disclosure (it only takes totals and parts away), so after withholding, only the units
/// that had one need looking at again.
pub fn find_at(
    tree: &Tree,
    figs: &[Figure],
    threshold: u64,
    nodes: Option<&std::collections::BTreeSet<usize>>,
    memo: &mut Memo,
) -> Vec<Finding> {
    if threshold == 0 {
        return vec![];
    }
    let mut e = Engine::new(tree, figs, threshold, memo);
    let mut out = Vec::new();
    for node in 0..tree.len() {
        if e.at[node].is_empty() || nodes.is_some_and(|n| !n.contains(&node)) {
            continue;
        }
        // Totals: every sum of figures of this unit about disjoint groups (one of each).
        let mut totals: Vec<(Types, Vec<usize>, u64)> = Vec::new();
        let mut seen: std::collections::HashSet<Types> = std::collections::HashSet::new();
        let all = e.at[node]
            .iter()
            .fold(Types::default(), |a, &f| a.union(&figs[f].types));
        e.families(node, &all, |chosen, used, sum| {
            if !chosen.is_empty() && seen.insert(used) {
                totals.push((used, chosen.to_vec(), sum));
            }
        });
        for (types, total, count) in totals {
            let fid = e.intern(types);
            let r = e.reach(node, fid);
            // Sums reachable: r.max - d for each shortfall d in the mask.
            // Parts of no pupils leave the total itself, which primary suppression judges.
            let hit = (0..128u64)
                .filter(|d| r.mask >> d & 1 == 1)
                .filter_map(|d| r.max.checked_sub(d))
                .filter(|s| *s >= 1 && *s < count)
                .map(|s| (count - s, s))
                .filter(|(res, _)| *res <= threshold)
                .min();
            if let Some((residual, sum)) = hit {
                if let Some(parts) = e.witness(node, fid, sum) {
                    out.push(Finding {
                        total,
                        parts,
                        residual,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bits: &[usize]) -> Types {
        bits.iter().fold(Types::default(), |a, &b| a.with(b))
    }

    #[test]
    fn a_difference_of_two_figures_about_nested_groups_is_found() {
        // One school: disadvantaged (types 1, 2, 3) 18 pupils, FSM (types 1, 3) 17 pupils.
        let tree = Tree::new(vec![None]);
        let figs = vec![
            Figure {
                node: 0,
                types: t(&[1, 2, 3]),
                count: 18,
            },
            Figure {
                node: 0,
                types: t(&[1, 3]),
                count: 17,
            },
        ];
        let f = find(&tree, &figs, 5);
        assert_eq!(
            f,
            vec![Finding {
                total: vec![0],
                parts: vec![1],
                residual: 1
            }]
        );
        // 0 pupils apart: nothing to find.
        let figs = vec![
            Figure {
                node: 0,
                types: t(&[1, 2, 3]),
                count: 17,
            },
            Figure {
                node: 0,
                types: t(&[1, 3]),
                count: 17,
            },
        ];
        assert!(find(&tree, &figs, 5).is_empty());
    }

    #[test]
    fn a_total_made_of_disjoint_groups_minus_a_part_is_found() {
        // Disadvantaged boys (types 1, 3) 10 + disadvantaged girls (types 2, 4) 8 make a total;
        // FSM (types 1, 2) lies within it: 17.
        let tree = Tree::new(vec![None]);
        let figs = vec![
            Figure {
                node: 0,
                types: t(&[1, 3]),
                count: 10,
            },
            Figure {
                node: 0,
                types: t(&[2, 4]),
                count: 8,
            },
            Figure {
                node: 0,
                types: t(&[1, 2]),
                count: 17,
            },
        ];
        let f = find(&tree, &figs, 5);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].total.clone(), f[0].parts.clone(), f[0].residual),
            (vec![0, 1], vec![2], 1)
        );
    }

    #[test]
    fn a_unit_total_minus_its_shown_units_is_found_and_enough_withheld_is_not() {
        // LA (0) with schools 1, 2, 3: the LA figure 30, schools 12 and 15 shown, the third (3) not.
        let tree = Tree::new(vec![None, Some(0), Some(0), Some(0)]);
        let g = t(&[0]);
        let mut figs = vec![
            Figure {
                node: 0,
                types: g,
                count: 30,
            },
            Figure {
                node: 1,
                types: g,
                count: 12,
            },
            Figure {
                node: 2,
                types: g,
                count: 15,
            },
        ];
        let f = find(&tree, &figs, 5);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].total.clone(), f[0].residual), (vec![0], 3));
        let mut parts = f[0].parts.clone();
        parts.sort();
        assert_eq!(parts, vec![1, 2]);
        // With school 2 withheld too, 18 pupils are left: safe.
        figs.remove(2);
        assert!(find(&tree, &figs, 5).is_empty());
    }

    #[test]
    fn parts_may_come_from_several_levels_and_groups() {
        // LA (0) > schools 1, 2. LA disadvantaged (type 1) 40; school 1 all pupils (types 1, 2) 60
        // is not within it; school 1 disadvantaged 20 and school 2 disadvantaged 17 are: 3 left.
        let tree = Tree::new(vec![None, Some(0), Some(0)]);
        let figs = vec![
            Figure {
                node: 0,
                types: t(&[1]),
                count: 40,
            },
            Figure {
                node: 1,
                types: t(&[1, 2]),
                count: 60,
            },
            Figure {
                node: 1,
                types: t(&[1]),
                count: 20,
            },
            Figure {
                node: 2,
                types: t(&[1]),
                count: 17,
            },
        ];
        let f = find(&tree, &figs, 5);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].residual, 3);
    }

    #[test]
    fn the_threshold_is_configurable() {
        let tree = Tree::new(vec![None]);
        let figs = vec![
            Figure {
                node: 0,
                types: t(&[1, 2]),
                count: 30,
            },
            Figure {
                node: 0,
                types: t(&[1]),
                count: 22,
            },
        ];
        assert!(find(&tree, &figs, 5).is_empty());
        assert_eq!(find(&tree, &figs, 10)[0].residual, 8);
    }
}
