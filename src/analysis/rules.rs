//! The categorisation rule language: a school-improvement team's categories (Merton's
//! Green/Yellow/Amber/Red, Peterborough's 1/2/3a/3b/4 ...) as a TOML file (see
//! docs/rules.md). Categories are tried in file order; the first with a rule that fires is
//! the school's category; the `default` category (which has no rules) otherwise.
//!
//! A rule fires when every condition in `all` holds and, if `any` is given, at least one
//! condition in `any` holds. A condition is `<fact> <op> <value>` (`ks2_rwm_expected < 65`,
//! `ks2_rwm_expected_declining_3y == true`). Logic is three-valued: a condition on a fact
//! the store does not have is unknown, never true or false. A rule that is unknown does not
//! fire, and is listed as "no data" in the school's result so nobody mistakes it for a pass.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::facts::{self, FactKind, FactValue};
use crate::error::ConfigError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesToml {
    name: String,
    #[serde(default)]
    description: String,
    default: String,
    #[serde(rename = "category")]
    categories: Vec<CategoryToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryToml {
    id: String,
    #[serde(default)]
    label: Option<String>,
    support: String,
    #[serde(default)]
    concern: bool,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    name: String,
    #[serde(default)]
    phases: Vec<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
}

/// School phases a rule can be limited to (the `schools` table's phases).
pub const PHASES: &[&str] = &[
    "primary",
    "secondary",
    "all_through",
    "special",
    "nursery",
    "16_plus",
    "ap",
];

#[derive(Debug, Clone, Serialize)]
pub struct Rules {
    pub name: String,
    pub description: String,
    /// The file the rules came from.
    pub origin: String,
    pub categories: Vec<Category>,
    /// Index of the default category.
    pub default: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: String,
    pub label: String,
    pub support: String,
    /// Schools in this category go on the schools-causing-concern register.
    pub concern: bool,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub name: String,
    pub phases: Vec<String>,
    pub all: Vec<Condition>,
    pub any: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Serialize)]
pub struct Condition {
    pub fact: String,
    pub op: Op,
    pub value: FactValue,
    /// As written in the file.
    pub text: String,
}

/// Three-valued truth: `Unknown` when a fact is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let ops = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let (pos, sym, op) = ops
            .iter()
            .filter_map(|(s, o)| text.find(s).map(|p| (p, *s, *o)))
            .min_by_key(|(p, s, _)| (*p, std::cmp::Reverse(s.len())))
            .ok_or_else(|| {
                format!("condition {text:?} has no comparison (one of < <= > >= == !=)")
            })?;
        let fact = text[..pos].trim().to_string();
        let raw = text[pos + sym.len()..].trim();
        let kind = facts::kind(&fact).ok_or_else(|| {
            format!(
                "condition {text:?}: unknown fact {fact:?} (known facts \
            are listed in docs/rules.md)"
            )
        })?;
        let value = match (kind, raw) {
            (FactKind::Bool, "true") => FactValue::Bool(true),
            (FactKind::Bool, "false") => FactValue::Bool(false),
            (FactKind::Bool, _) => {
                return Err(format!(
                    "condition {text:?}: {fact} is true or false, so compare it \
                with == true or == false"
                ))
            }
            (FactKind::Word(words), _) => FactValue::Word(
                words
                    .iter()
                    .copied()
                    .find(|w| *w == raw.trim_matches('"'))
                    .ok_or_else(|| {
                        format!(
                            "condition \
                {text:?}: {fact} is one of {}, not {raw:?}",
                            words.join(", ")
                        )
                    })?,
            ),
            (FactKind::Number, _) => FactValue::Num(
                raw.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        format!(
                            "condition \
                {text:?}: {raw:?} is not a number"
                        )
                    })?,
            ),
        };
        if kind != FactKind::Number && !matches!(op, Op::Eq | Op::Ne) {
            let what = if kind == FactKind::Bool {
                "true or false"
            } else {
                "a word"
            };
            return Err(format!(
                "condition {text:?}: {fact} is {what}, so only == and != apply"
            ));
        }
        Ok(Condition {
            fact,
            op,
            value,
            text: text.trim().to_string(),
        })
    }

    pub fn eval(&self, fact: Option<FactValue>) -> Truth {
        let holds = match (fact, self.value) {
            (None, _) => return Truth::Unknown,
            (Some(FactValue::Num(a)), FactValue::Num(b)) => match self.op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Eq => a == b,
                Op::Ne => a != b,
            },
            // true/false and words: equality only.
            (Some(a @ (FactValue::Bool(_) | FactValue::Word(_))), b)
                if std::mem::discriminant(&a) == std::mem::discriminant(&b) =>
            {
                match self.op {
                    Op::Eq => a == b,
                    Op::Ne => a != b,
                    _ => return Truth::Unknown,
                }
            }
            _ => return Truth::Unknown,
        };
        if holds {
            Truth::True
        } else {
            Truth::False
        }
    }
}

fn all_of(ts: impl Iterator<Item = Truth>) -> Truth {
    let mut out = Truth::True;
    for t in ts {
        match t {
            Truth::False => return Truth::False,
            Truth::Unknown => out = Truth::Unknown,
            Truth::True => {}
        }
    }
    out
}

fn any_of(ts: impl Iterator<Item = Truth>) -> Truth {
    let mut out = Truth::False;
    for t in ts {
        match t {
            Truth::True => return Truth::True,
            Truth::Unknown => out = Truth::Unknown,
            Truth::False => {}
        }
    }
    out
}

impl Rule {
    pub fn applies_to(&self, phase: &str) -> bool {
        self.phases.is_empty() || self.phases.iter().any(|p| p == phase)
    }
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.all.iter().chain(self.any.iter())
    }
    pub fn eval(&self, facts: &dyn Fn(&str) -> Option<FactValue>) -> Truth {
        let all = all_of(self.all.iter().map(|c| c.eval(facts(&c.fact))));
        if self.any.is_empty() {
            return all;
        }
        let any = any_of(self.any.iter().map(|c| c.eval(facts(&c.fact))));
        all_of([all, any].into_iter())
    }
}

impl Rules {
    pub fn load(path: &Path) -> Result<Rules, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(&origin, format!("cannot read the rules file: {e}")))?;
        Rules::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Rules, ConfigError> {
        let err = |m: String| ConfigError::new(origin, m);
        let t: RulesToml =
            toml::from_str(text).map_err(|e| err(e.to_string().trim().to_string()))?;
        if t.categories.is_empty() {
            return Err(err("no [[category]] given".into()));
        }
        let mut ids = BTreeSet::new();
        let mut categories = Vec::new();
        for c in t.categories {
            if !ids.insert(c.id.clone()) {
                return Err(err(format!("category {:?} is defined twice", c.id)));
            }
            let mut rules = Vec::new();
            for r in c.rules {
                let at = |m: String| err(format!("category {:?}, rule {:?}: {m}", c.id, r.name));
                if r.all.is_empty() && r.any.is_empty() {
                    return Err(at(
                        "the rule has no conditions (give `all = [...]` and/or `any = [...]`)"
                            .into(),
                    ));
                }
                for p in &r.phases {
                    if !PHASES.contains(&p.as_str()) {
                        return Err(at(format!(
                            "unknown phase {p:?} (known: {})",
                            PHASES.join(", ")
                        )));
                    }
                }
                let parse = |v: &[String]| {
                    v.iter()
                        .map(|s| Condition::parse(s))
                        .collect::<Result<Vec<_>, _>>()
                };
                let all = parse(&r.all).map_err(&at)?;
                let any = parse(&r.any).map_err(&at)?;
                rules.push(Rule {
                    name: r.name.clone(),
                    phases: r.phases.clone(),
                    all,
                    any,
                });
            }
            categories.push(Category {
                label: c.label.unwrap_or_else(|| c.id.clone()),
                id: c.id,
                support: c.support,
                concern: c.concern,
                rules,
            });
        }
        let default = categories
            .iter()
            .position(|c| c.id == t.default)
            .ok_or_else(|| {
                err(format!(
                    "default = {:?} names no category (categories: {})",
                    t.default,
                    categories
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        if !categories[default].rules.is_empty() {
            return Err(err(format!(
                "the default category {:?} applies when no other does, so it cannot have rules",
                t.default
            )));
        }
        Ok(Rules {
            name: t.name,
            description: t.description,
            origin: origin.to_string(),
            categories,
            default,
        })
    }

    /// Every fact any rule uses, with the facts shown beside them in evidence.
    pub fn facts(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for c in &self.categories {
            for r in &c.rules {
                for k in r.conditions() {
                    out.insert(k.fact.clone());
                    out.extend(facts::supporting(&k.fact));
                }
            }
        }
        out
    }

    /// Categorise one school of `phase`, given its facts.
    pub fn categorise(&self, phase: &str, facts: &dyn Fn(&str) -> Option<FactValue>) -> Outcome {
        let mut evidence: BTreeMap<String, Option<FactValue>> = BTreeMap::new();
        let mut no_data = Vec::new();
        let mut chosen = self.default;
        let mut fired = Vec::new();
        for (ci, c) in self.categories.iter().enumerate() {
            if ci == self.default {
                continue;
            }
            for r in c.rules.iter().filter(|r| r.applies_to(phase)) {
                for k in r.conditions() {
                    for f in std::iter::once(k.fact.clone()).chain(facts::supporting(&k.fact)) {
                        let v = facts(&f);
                        evidence.insert(f, v);
                    }
                }
                match r.eval(facts) {
                    Truth::True => fired.push(format!("{}: {}", c.label, r.name)),
                    Truth::Unknown => {
                        let missing: Vec<&str> = r
                            .conditions()
                            .filter(|k| facts(&k.fact).is_none())
                            .map(|k| k.fact.as_str())
                            .collect();
                        no_data.push(format!(
                            "{}: {} (no data: {})",
                            c.label,
                            r.name,
                            missing.join(", ")
                        ));
                    }
                    Truth::False => {}
                }
            }
            if !fired.is_empty() {
                chosen = ci;
                break;
            }
        }
        Outcome {
            category: chosen,
            fired,
            no_data,
            evidence,
        }
    }
}

/// One school's categorisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Index into `Rules::categories`.
    pub category: usize,
    /// "<category>: <rule>" for every rule of the chosen category that fired.
    pub fired: Vec<String>,
    /// Rules tried that could not be decided for want of data.
    pub no_data: Vec<String>,
    /// Every fact the tried rules used, with its value (`None` = no data).
    pub evidence: BTreeMap<String, Option<FactValue>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
name = "test"
default = "green"
[[category]]
id = "red"
support = "intensive"
concern = true
  [[category.rule]]
  name = "inadequate"
  all = ["ofsted_grade == 4"]
  [[category.rule]]
  name = "below floor"
  phases = ["primary"]
  all = ["ks2_rwm_expected < 65"]
  any = ["ks2_read_progress < -5", "ks2_writ_progress < -7", "ks2_mat_progress < -5"]
[[category]]
id = "amber"
support = "targeted"
  [[category.rule]]
  name = "declining"
  all = ["ks2_rwm_expected_declining_3y == true"]
[[category]]
id = "green"
label = "Green"
support = "light touch"
"#;

    fn facts(pairs: &[(&str, FactValue)]) -> impl Fn(&str) -> Option<FactValue> {
        let m: BTreeMap<String, FactValue> =
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        move |f: &str| m.get(f).copied()
    }

    #[test]
    fn first_matching_category_wins_and_missing_facts_are_no_data() {
        let r = Rules::parse(RULES, "t.toml").unwrap();
        use FactValue::*;
        // Below the floor: RWM 60, writing -8.
        let f = facts(&[
            ("ofsted_grade", Num(2.0)),
            ("ks2_rwm_expected", Num(60.0)),
            ("ks2_read_progress", Num(0.0)),
            ("ks2_writ_progress", Num(-8.0)),
            ("ks2_mat_progress", Num(0.0)),
        ]);
        let o = r.categorise("primary", &f);
        assert_eq!(r.categories[o.category].id, "red");
        assert_eq!(o.fired, vec!["red: below floor"]);
        // The same school as a secondary: the floor rule does not apply; the decline is unknown.
        let o = r.categorise("secondary", &f);
        assert_eq!(r.categories[o.category].id, "green");
        assert_eq!(
            o.no_data,
            vec!["amber: declining (no data: ks2_rwm_expected_declining_3y)"]
        );
        assert_eq!(o.evidence.get("ks2_rwm_expected_declining_3y"), Some(&None));
        // RWM 60 but progress withheld: neither pass nor fail.
        let f = facts(&[
            ("ofsted_grade", Num(2.0)),
            ("ks2_rwm_expected", Num(60.0)),
            ("ks2_rwm_expected_declining_3y", Bool(false)),
        ]);
        let o = r.categorise("primary", &f);
        assert_eq!(r.categories[o.category].id, "green");
        assert!(
            o.no_data[0].starts_with(
                "red: below floor (no data: ks2_read_progress, ks2_writ_progress, \
            ks2_mat_progress)"
            ),
            "{:?}",
            o.no_data
        );
        // A false condition decides a rule even when another fact is missing.
        let f = facts(&[("ks2_rwm_expected", Num(80.0))]);
        let o = r.categorise("primary", &f);
        assert!(
            !o.no_data.iter().any(|n| n.contains("below floor")),
            "{:?}",
            o.no_data
        );
        // Bool facts.
        let f = facts(&[("ks2_rwm_expected_declining_3y", Bool(true))]);
        assert_eq!(
            r.categories[r.categorise("primary", &f).category].id,
            "amber"
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = |text: &str| Rules::parse(text, "bad.toml").unwrap_err().to_string();
        assert!(e(&RULES.replace("ofsted_grade == 4", "ofsted_grad == 4"))
            .contains("unknown fact \"ofsted_grad\""));
        assert!(
            e(&RULES.replace("ofsted_grade == 4", "ofsted_grade = 4")).contains("no comparison")
        );
        assert!(
            e(&RULES.replace("ofsted_grade == 4", "ofsted_grade == four"))
                .contains("\"four\" is not a number")
        );
        assert!(
            e(&RULES.replace("declining_3y == true", "declining_3y < 3")).contains("true or false")
        );
        assert!(
            e(&RULES.replace("default = \"green\"", "default = \"blue\""))
                .contains("names no category")
        );
        assert!(
            e(&RULES.replace("phases = [\"primary\"]", "phases = [\"infant\"]"))
                .contains("unknown phase")
        );
        assert!(
            e(&RULES.replace("support = \"targeted\"", "suport = \"targeted\""))
                .contains("unknown field")
        );
        let msg = e(&RULES.replace("ofsted_grade == 4", "ofsted_grad == 4"));
        assert!(
            msg.starts_with("bad.toml: category \"red\", rule \"inadequate\""),
            "{msg}"
        );
    }

    #[test]
    fn conditions_parse() {
        let c = Condition::parse("ks4_progress8 <= -0.5").unwrap();
        assert_eq!(
            (c.fact.as_str(), c.op, c.value),
            ("ks4_progress8", Op::Le, FactValue::Num(-0.5))
        );
        assert_eq!(c.eval(Some(FactValue::Num(-0.5))), Truth::True);
        assert_eq!(c.eval(Some(FactValue::Num(-0.49))), Truth::False);
        assert_eq!(c.eval(None), Truth::Unknown);
        assert_eq!(
            Condition::parse("absence_overall_vs_national>1")
                .unwrap()
                .op,
            Op::Gt
        );
        assert_eq!(Condition::parse("ofsted_grade != 1").unwrap().op, Op::Ne);
        let c = Condition::parse("inspection_framework == report_card").unwrap();
        assert_eq!(
            (
                c.eval(Some(FactValue::Word("report_card"))),
                c.eval(Some(FactValue::Word("oeif"))),
                c.eval(None)
            ),
            (Truth::True, Truth::False, Truth::Unknown)
        );
        assert!(Condition::parse("inspection_framework == report_cards")
            .unwrap_err()
            .contains("one of oeif, report_card"));
        assert!(Condition::parse("inspection_framework < oeif")
            .unwrap_err()
            .contains("only == and !="));
    }
}
