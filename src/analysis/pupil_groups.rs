//! Pupil groups as sets of pupils, from the catalogue's definitions (catalogue/groups.toml:
//! `[[dimension]]`, each group's `pupils`, `[relations]` and `[[level]]`).
//!
//! A pupil's *type* is its combination of values on the dimensions in play (FSM, looked
//! after, gender ...). A group is a set of types, so relations between groups are set
//! relations: disadvantaged = FSM ∪ looked after, boys + girls = all, `a+b` = a ∩ b.
//! Disclosure control works on these sets (src/analysis/disclosure.rs).

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use super::disclosure::{Types, MAX_TYPES};
use crate::catalogue::{Catalogue, LevelNesting, PupilDef};
use crate::error::ConfigError;
use crate::ingest::pupils::{Ethnicity, Pupil, Sen};

/// The pupil file fields a dimension can be (docs/pupil-data.md), with the codes a pupil
/// can have on each; the catalogue must list every one of them.
const FIELDS: &[(&str, &[&str])] = &[
    ("fsm", &["N", "Y"]),
    ("lac", &["N", "Y"]),
    ("sen", &["N", "K", "E"]),
    ("eal", &["N", "Y"]),
    ("gender", &["F", "M"]),
    (
        "ethnicity",
        &["WHIT", "MIXD", "ASIA", "BLAC", "CHIN", "AOEG", "UNCL"],
    ),
    ("prior", &["none", "low", "middle", "high"]),
];

fn field_code(field: &str, p: &Pupil) -> &'static str {
    let yn = |b: bool| if b { "Y" } else { "N" };
    match field {
        "fsm" => yn(p.fsm),
        "lac" => yn(p.lac),
        "sen" => match p.sen {
            Sen::None => "N",
            Sen::Support => "K",
            Sen::Ehcp => "E",
        },
        "eal" => yn(p.eal),
        "gender" => {
            if p.boy {
                "M"
            } else {
                "F"
            }
        }
        "ethnicity" => Ethnicity::CODES
            .iter()
            .find(|c| c.1 == p.ethnicity)
            .map(|c| c.0)
            .unwrap_or("UNCL"),
        // KS2 prior-attainment bands from the KS1 average point score (DfE's bands).
        _ => match p.ks1_aps {
            None => "none",
            Some(a) if a < 12.0 => "low",
            Some(a) if a < 18.0 => "middle",
            Some(_) => "high",
        },
    }
}

#[derive(Debug, Clone)]
enum Def {
    Values(usize, Vec<usize>),
    AnyOf(Vec<String>),
    Not(String),
    Everyone,
}

/// The catalogue's pupil groups, checked.
#[derive(Debug, Clone)]
pub struct GroupDefs {
    /// Dimension id, field, and for each catalogue value the index of the field's code.
    dims: Vec<(String, Vec<String>)>,
    groups: HashMap<String, (Def, String)>,
    order: Vec<String>,
    pub levels: Vec<LevelNesting>,
}

impl GroupDefs {
    pub fn from_catalogue(cat: &Catalogue) -> Result<GroupDefs, ConfigError> {
        let file = "catalogue/groups.toml";
        if let Some(c) = &cat.relations.combine {
            if c != "intersection" {
                return Err(ConfigError::new(
                    file,
                    format!(
                        "[relations] combine = {c:?}: only \"intersection\" (a+b = \
                    pupils in both) is understood"
                    ),
                ));
            }
        }
        let mut dims = Vec::new();
        for d in &cat.pupil_dimensions {
            let Some((_, codes)) = FIELDS.iter().find(|f| f.0 == d.id) else {
                return Err(ConfigError::new(
                    file,
                    format!(
                        "dimension {}: not a pupil file characteristic ({})",
                        d.id,
                        FIELDS.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            for c in *codes {
                if !d.values.iter().any(|v| v == c) {
                    return Err(ConfigError::new(
                        file,
                        format!(
                            "dimension {}: value {c} is missing; a dimension lists \
                        every value a pupil can have",
                            d.id
                        ),
                    ));
                }
            }
            if d.values.len() != codes.len() {
                return Err(ConfigError::new(
                    file,
                    format!(
                        "dimension {}: values must be exactly {}",
                        d.id,
                        codes.join(", ")
                    ),
                ));
            }
            dims.push((d.id.clone(), d.values.clone()));
        }
        let mut groups = HashMap::new();
        let mut order = Vec::new();
        for g in &cat.groups {
            let Some(def) = &g.pupils else { continue };
            let (def, kind) = match def {
                PupilDef::Values { dimension, values } => {
                    let Some(di) = dims.iter().position(|d| &d.0 == dimension) else {
                        return Err(ConfigError::new(
                            file,
                            format!("group {}: unknown dimension {dimension}", g.id),
                        ));
                    };
                    let vs = values
                        .iter()
                        .map(|v| {
                            dims[di].1.iter().position(|x| x == v).ok_or_else(|| {
                                ConfigError::new(
                                    file,
                                    format!("group {}: {v} is not a value of {dimension}", g.id),
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    (Def::Values(di, vs), dimension.clone())
                }
                PupilDef::AnyOf { any_of } => (Def::AnyOf(any_of.clone()), g.id.clone()),
                PupilDef::Not { not } => (Def::Not(not.clone()), not.clone()),
                PupilDef::Everyone { .. } => (Def::Everyone, "all".into()),
            };
            groups.insert(g.id.clone(), (def, g.kind.clone().unwrap_or(kind)));
            order.push(g.id.clone());
        }
        let defs = GroupDefs {
            dims,
            groups,
            order,
            levels: cat.levels.clone(),
        };
        // Every reference resolves, without cycles.
        for id in &defs.order {
            defs.dims_of(id, &mut BTreeSet::new(), 0)
                .map_err(|e| ConfigError::new(file, format!("group {id}: {e}")))?;
        }
        Ok(defs)
    }

    /// The built-in catalogue's definitions.
    pub fn builtin() -> &'static GroupDefs {
        static DEFS: OnceLock<GroupDefs> = OnceLock::new();
        DEFS.get_or_init(|| {
            GroupDefs::from_catalogue(&Catalogue::builtin())
                .expect("the shipped catalogue's pupil groups are valid")
        })
    }

    /// Group ids pupil data can answer for, in catalogue order.
    pub fn ids(&self) -> Vec<&str> {
        self.order.iter().map(String::as_str).collect()
    }

    pub fn knows(&self, id: &str) -> bool {
        self.groups.contains_key(id)
    }

    pub fn kind(&self, id: &str) -> Option<&str> {
        self.groups.get(id).map(|g| g.1.as_str())
    }

    fn dims_of(&self, id: &str, out: &mut BTreeSet<usize>, depth: usize) -> Result<(), String> {
        if depth > 32 {
            return Err("its definition refers back to itself".into());
        }
        match &self
            .groups
            .get(id)
            .ok_or_else(|| format!("unknown group {id}"))?
            .0
        {
            Def::Values(d, _) => {
                out.insert(*d);
            }
            Def::AnyOf(gs) => {
                for g in gs {
                    self.dims_of(g, out, depth + 1)?;
                }
            }
            Def::Not(g) => self.dims_of(g, out, depth + 1)?,
            Def::Everyone => {}
        }
        Ok(())
    }

    /// Is a pupil with these value indices (one per catalogue dimension) in the group?
    fn holds(&self, id: &str, values: &[usize]) -> bool {
        match &self.groups[id].0 {
            Def::Values(d, vs) => vs.contains(&values[*d]),
            Def::AnyOf(gs) => gs.iter().any(|g| self.holds(g, values)),
            Def::Not(g) => !self.holds(g, values),
            Def::Everyone => true,
        }
    }

    /// A pupil's value index on every catalogue dimension.
    pub fn values_of(&self, p: &Pupil) -> Vec<usize> {
        self.dims
            .iter()
            .map(|(id, vals)| {
                vals.iter()
                    .position(|v| v == field_code(id, p))
                    .unwrap_or(0)
            })
            .collect()
    }
}

/// The pupil types over the dimensions a set of groups uses.
#[derive(Debug, Clone)]
pub struct TypeSpace {
    dims: Vec<usize>,
    radix: Vec<usize>,
    size: usize,
    ndims: usize,
}

impl TypeSpace {
    /// Types over every dimension the groups (combinations `a+b` allowed) refer to.
    pub fn new<'g>(
        defs: &GroupDefs,
        groups: impl IntoIterator<Item = &'g str>,
    ) -> Result<TypeSpace, ConfigError> {
        let mut used = BTreeSet::new();
        for g in groups {
            for atom in g.split('+').map(str::trim) {
                defs.dims_of(atom, &mut used, 0)
                    .map_err(|e| ConfigError::new("--group", e))?;
            }
        }
        let dims: Vec<usize> = used.into_iter().collect();
        let radix: Vec<usize> = dims.iter().map(|d| defs.dims[*d].1.len()).collect();
        let size = radix.iter().product::<usize>();
        if size > MAX_TYPES {
            return Err(ConfigError::new(
                "catalogue/groups.toml",
                format!(
                    "the groups asked for combine {size} kinds \
                of pupil; disclosure control handles up to {MAX_TYPES}"
                ),
            ));
        }
        Ok(TypeSpace {
            dims,
            radix,
            size,
            ndims: defs.dims.len(),
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// A pupil's type.
    pub fn type_of(&self, values: &[usize]) -> usize {
        self.dims
            .iter()
            .zip(&self.radix)
            .fold(0, |acc, (d, r)| acc * r + values[*d])
    }

    fn decode(&self, mut t: usize) -> Vec<usize> {
        let mut values = vec![0; self.ndims];
        for (d, r) in self.dims.iter().zip(&self.radix).rev() {
            values[*d] = t % r;
            t /= r;
        }
        values
    }

    pub fn all(&self) -> Types {
        (0..self.size).fold(Types::default(), |a, t| a.with(t))
    }

    /// The types in a group or combination (`disadvantaged+boys` = both).
    pub fn group(&self, defs: &GroupDefs, id: &str) -> Types {
        let atoms: Vec<&str> = id
            .split('+')
            .map(str::trim)
            .filter(|a| defs.knows(a))
            .collect();
        (0..self.size)
            .filter(|&t| {
                let v = self.decode(t);
                atoms.iter().all(|a| defs.holds(a, &v))
            })
            .fold(Types::default(), |a, t| a.with(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Level;

    #[test]
    fn the_catalogue_says_how_groups_relate() {
        let d = GroupDefs::builtin();
        let s = TypeSpace::new(
            d,
            [
                "disadvantaged",
                "fsm",
                "lac",
                "boys",
                "girls",
                "all",
                "disadvantaged+boys",
            ],
        )
        .unwrap();
        let g = |id: &str| s.group(d, id);
        assert_eq!(
            g("disadvantaged"),
            g("fsm").union(&g("lac")),
            "disadvantaged = FSM ∪ looked after"
        );
        assert_eq!(g("boys").union(&g("girls")), s.all(), "boys + girls = all");
        assert!(g("boys").disjoint(&g("girls")));
        assert_eq!(
            g("disadvantaged+boys"),
            g("disadvantaged").intersect(&g("boys"))
        );
        assert!(
            g("fsm").subset_of(&g("disadvantaged")) && !g("disadvantaged").subset_of(&g("fsm"))
        );
        let s = TypeSpace::new(d, ["not_disadvantaged", "sen", "sen_support", "ehcp"]).unwrap();
        assert_eq!(
            s.group(d, "not_disadvantaged"),
            s.all().minus(&s.group(d, "disadvantaged"))
        );
        assert_eq!(
            s.group(d, "sen"),
            s.group(d, "sen_support").union(&s.group(d, "ehcp"))
        );
        assert_eq!(
            d.levels
                .iter()
                .map(|l| (l.id, l.within.clone()))
                .collect::<Vec<_>>(),
            vec![
                (Level::School, vec![Level::Partnership, Level::La]),
                (Level::Partnership, vec![Level::La]),
                (Level::La, vec![])
            ]
        );
    }
}
