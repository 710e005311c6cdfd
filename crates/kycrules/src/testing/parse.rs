//! Reading one test file into cases, checking its names against the policy.
//! Every error of a file is reported, each with its line.

use super::outline::{Entry, Outline};
use super::{Case, Expect, RulesExpect, StepExpect, TestError, TestFile};
use crate::date::Date;
use crate::eval::DecisionKind;
use crate::input::{closest, parse_yaml_at};
use crate::ir::RuleSet;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The keys of a test file.
const FILE_KEYS: &[&str] = &["bases", "cases"];

/// How a base is written.
const BASE_HELP: &str = "a base is a whole application: a mapping of the fields the policy's schema declares";

/// How a case is written.
const CASE_HELP: &str = "a case is a mapping such as `- { name: ..., base: ready, decision: accept }`";

/// The keys of a case.
const CASE_KEYS: &[&str] = &[
    "name",
    "application",
    "base",
    "change",
    "decision",
    "next_step",
    "fires",
    "includes",
    "excludes",
    "message_contains",
    "lang",
    "as_of",
];

/// Parses the test file `name` (its text `text`) for the policy `rs`.
pub fn parse(rs: &RuleSet, name: &str, text: &str) -> Result<TestFile, Vec<TestError>> {
    let mut p = Parser {
        rs,
        file: name,
        outline: Outline::new(text),
        errors: Vec::new(),
    };
    let cases = match parse_yaml_at(text) {
        Ok(v) => p.file(&v),
        Err((e, line)) => {
            let line = line.unwrap_or(1);
            let help = "a test file is one YAML document; see rules/tests/README.md";
            p.error(line, format!("invalid YAML: {e}"), Some(help.into()));
            Vec::new()
        }
    };
    if p.errors.is_empty() {
        Ok(TestFile {
            name: name.to_owned(),
            cases,
        })
    } else {
        // Errors are found key by key; report them in the order of the file.
        p.errors.sort_by_key(|e| e.line);
        Err(p.errors)
    }
}

/// What a value is, for error messages.
fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>, otherwise: String) -> String {
    match closest(name, candidates) {
        Some(c) => format!("did you mean `{c}`?"),
        None => otherwise,
    }
}

fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Parser<'a> {
    rs: &'a RuleSet,
    file: &'a str,
    outline: Outline<'a>,
    errors: Vec<TestError>,
}

/// One case being read: its mapping, its place, and a label for messages.
struct CaseCtx<'v> {
    map: &'v Map<String, Value>,
    entry: Option<Entry>,
    line: usize,
    label: String,
}

impl Parser<'_> {
    fn error(&mut self, line: usize, message: String, help: Option<String>) {
        self.errors.push(TestError {
            file: self.file.to_owned(),
            line: Some(line),
            message,
            help,
        });
    }

    fn file(&mut self, v: &Value) -> Vec<Case> {
        let help = "a test file has a `cases:` list and optional `bases:`; see rules/tests/README.md";
        let top = match v {
            Value::Object(m) => m,
            Value::Null => {
                self.error(1, "the test file is empty".into(), Some(help.into()));
                return Vec::new();
            }
            other => {
                let msg = format!("expected a mapping with `cases:`, found {}", describe(other));
                self.error(1, msg, Some(help.into()));
                return Vec::new();
            }
        };
        for key in top.keys().filter(|k| !FILE_KEYS.contains(&k.as_str())) {
            let line = self.outline.top_line(key).unwrap_or(1);
            let h = did_you_mean(key, FILE_KEYS.iter().copied(), help.into());
            self.error(line, format!("unknown key `{key}`"), Some(h));
        }
        let bases = self.bases(top.get("bases"));
        match top.get("cases") {
            Some(Value::Array(items)) if !items.is_empty() => self.cases(items, &bases),
            Some(Value::Array(_)) | Some(Value::Null) => {
                let line = self.outline.top_line("cases").unwrap_or(1);
                self.error(line, "`cases` is empty".into(), Some(help.into()));
                Vec::new()
            }
            Some(other) => {
                let line = self.outline.top_line("cases").unwrap_or(1);
                let msg = format!("`cases` must be a list of cases, found {}", describe(other));
                self.error(line, msg, Some(help.into()));
                Vec::new()
            }
            None => {
                self.error(1, "the test file has no `cases`".into(), Some(help.into()));
                Vec::new()
            }
        }
    }

    fn bases<'v>(&mut self, v: Option<&'v Value>) -> BTreeMap<&'v str, &'v Value> {
        let mut out = BTreeMap::new();
        let line = self.outline.top_line("bases").unwrap_or(1);
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                let entries = self.outline.entries("bases");
                for (name, app) in m {
                    if app.is_object() {
                        out.insert(name.as_str(), app);
                        continue;
                    }
                    let at = entries.iter().find(|(n, _)| *n == name).map_or(line, |(_, e)| e.line());
                    let msg = format!(
                        "base `{name}` must be an application (a mapping of fields), found {}",
                        describe(app)
                    );
                    self.error(at, msg, Some(BASE_HELP.into()));
                }
            }
            Some(other) => {
                let msg = format!(
                    "`bases` must be a mapping from names to applications, found {}",
                    describe(other)
                );
                self.error(line, msg, Some(BASE_HELP.into()));
            }
        }
        out
    }

    fn cases(&mut self, items: &[Value], bases: &BTreeMap<&str, &Value>) -> Vec<Case> {
        let entries = self.outline.items("cases");
        let cases_line = self.outline.top_line("cases").unwrap_or(1);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let entry = entries.get(i).copied();
            let line = entry.map_or(cases_line, |e| e.line());
            let Value::Object(map) = item else {
                let msg = format!("case {} must be a mapping of keys, found {}", i + 1, describe(item));
                self.error(line, msg, Some(CASE_HELP.into()));
                continue;
            };
            let label = match map.get("name") {
                Some(Value::String(n)) => format!("`{n}`"),
                _ => format!("{}", i + 1),
            };
            let ctx = CaseCtx {
                map,
                entry,
                line,
                label,
            };
            if let Some(Value::String(n)) = map.get("name")
                && let Some(first) = seen.insert(n.clone(), line)
            {
                let help = format!("case names are unique within a file; the first is at line {first}");
                self.error(line, format!("two cases are named `{n}`"), Some(help));
            }
            if let Some(case) = self.case(&ctx, bases) {
                out.push(case);
            }
        }
        out
    }

    /// The line of `key` in a case.
    fn at(&self, c: &CaseCtx<'_>, key: &str) -> usize {
        c.entry.map_or(c.line, |e| self.outline.key_line(e, key))
    }

    fn case(&mut self, c: &CaseCtx<'_>, bases: &BTreeMap<&str, &Value>) -> Option<Case> {
        let before = self.errors.len();
        for key in c.map.keys().filter(|k| !CASE_KEYS.contains(&k.as_str())) {
            let help = did_you_mean(
                key,
                CASE_KEYS.iter().copied(),
                format!("a case has the keys {}", list(CASE_KEYS)),
            );
            self.error(
                self.at(c, key),
                format!("unknown key `{key}` in case {}", c.label),
                Some(help),
            );
        }
        let name = match c.map.get("name") {
            Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
            Some(Value::String(_)) | None => {
                let help = "give each case a `name` that says what it checks".to_owned();
                self.error(c.line, format!("case {} has no `name`", c.label), Some(help));
                String::new()
            }
            Some(other) => {
                let msg = format!("`name` must be a text, found {}", describe(other));
                self.error(
                    self.at(c, "name"),
                    msg,
                    Some("give each case a `name` that says what it checks".into()),
                );
                String::new()
            }
        };
        let application = self.application(c, bases);
        let expect = self.expect(c);
        let lang = self.lang(c);
        let as_of = self.as_of(c);
        if self.errors.len() > before {
            return None;
        }
        Some(Case {
            name,
            line: c.line,
            application: application?,
            expect: expect?,
            lang,
            as_of,
        })
    }

    fn application(&mut self, c: &CaseCtx<'_>, bases: &BTreeMap<&str, &Value>) -> Option<Value> {
        let how = "give `application:` (a whole record) or `base:` (a name under `bases:`) with an optional `change:`";
        match (c.map.get("application"), c.map.get("base"), c.map.get("change")) {
            (Some(_), Some(_), _) => {
                let msg = format!("case {} has both `application` and `base`", c.label);
                self.error(self.at(c, "base"), msg, Some(how.into()));
                None
            }
            (Some(_), None, Some(_)) => {
                let msg = format!("case {} has `change` but no `base`", c.label);
                self.error(self.at(c, "change"), msg, Some(how.into()));
                None
            }
            (Some(app @ Value::Object(_)), None, None) => Some(app.clone()),
            (Some(other), None, None) => {
                let msg = format!("`application` must be a mapping of fields, found {}", describe(other));
                self.error(self.at(c, "application"), msg, Some(BASE_HELP.into()));
                None
            }
            (None, None, change) => {
                let key = if change.is_some() { "change" } else { "name" };
                let msg = format!("case {} has no application", c.label);
                self.error(self.at(c, key), msg, Some(how.into()));
                None
            }
            (None, Some(base), change) => self.based(c, bases, base, change),
        }
    }

    fn based(
        &mut self,
        c: &CaseCtx<'_>,
        bases: &BTreeMap<&str, &Value>,
        base: &Value,
        change: Option<&Value>,
    ) -> Option<Value> {
        let Value::String(name) = base else {
            let msg = format!("`base` must be the name of a base, found {}", describe(base));
            self.error(
                self.at(c, "base"),
                msg,
                Some("name one of the bases declared under `bases:` in this file".into()),
            );
            return None;
        };
        let Some(app) = bases.get(name.as_str()) else {
            let otherwise = if bases.is_empty() {
                "declare the base under `bases:` in this file".to_owned()
            } else {
                format!("the bases of this file are {}", list(bases.keys()))
            };
            let help = did_you_mean(name, bases.keys().copied(), otherwise);
            self.error(self.at(c, "base"), format!("unknown base `{name}`"), Some(help));
            return None;
        };
        let mut app = (*app).clone();
        match change {
            None | Some(Value::Null) => {}
            Some(patch @ Value::Object(_)) => crate::patch::merge(&mut app, patch),
            Some(other) => {
                let msg = format!(
                    "`change` must be a mapping (a merge patch of the base), found {}",
                    describe(other)
                );
                self.error(
                    self.at(c, "change"),
                    msg,
                    Some(
                        "write only the fields that differ from the base, as nested mappings; `null` removes a field"
                            .into(),
                    ),
                );
                return None;
            }
        }
        Some(app)
    }

    fn expect(&mut self, c: &CaseCtx<'_>) -> Option<Expect> {
        let names: Vec<&str> = DecisionKind::ALL.iter().map(|d| d.as_str()).collect();
        let decision = match c.map.get("decision") {
            None => {
                let help = format!("expect one of {}", list(&names));
                self.error(c.line, format!("case {} has no `decision`", c.label), Some(help));
                None
            }
            Some(Value::String(s)) => match DecisionKind::ALL.iter().find(|d| d.as_str() == s) {
                Some(d) => Some(*d),
                None => {
                    let help = did_you_mean(s, names.iter().copied(), format!("expect one of {}", list(&names)));
                    self.error(self.at(c, "decision"), format!("unknown decision `{s}`"), Some(help));
                    None
                }
            },
            Some(other) => {
                let msg = format!("`decision` must be a text, found {}", describe(other));
                self.error(
                    self.at(c, "decision"),
                    msg,
                    Some(format!("expect one of {}", list(&names))),
                );
                None
            }
        };
        let next_step = self.next_step(c);
        let rules = self.rules(c);
        let message_contains = self.texts(c, "message_contains");
        Some(Expect {
            decision: decision?,
            next_step: next_step?,
            rules: rules?,
            message_contains: message_contains?,
        })
    }

    fn next_step(&mut self, c: &CaseCtx<'_>) -> Option<StepExpect> {
        let rs = self.rs;
        let mut steps: Vec<&str> = Vec::new();
        for s in &rs.next_steps {
            if !steps.contains(&s.name.as_str()) {
                steps.push(&s.name);
            }
        }
        let help = format!("the policy's next steps are {}; `null` expects none", list(&steps));
        match c.map.get("next_step") {
            None => Some(StepExpect::Unchecked),
            Some(Value::Null) => Some(StepExpect::Null),
            Some(Value::String(s)) if steps.contains(&s.as_str()) => Some(StepExpect::Step(s.clone())),
            Some(Value::String(s)) => {
                let help = did_you_mean(s, steps.iter().copied(), help);
                self.error(self.at(c, "next_step"), format!("unknown next step `{s}`"), Some(help));
                None
            }
            Some(other) => {
                let msg = format!("`next_step` must be a text or null, found {}", describe(other));
                self.error(self.at(c, "next_step"), msg, Some(help));
                None
            }
        }
    }

    fn rules(&mut self, c: &CaseCtx<'_>) -> Option<RulesExpect> {
        let fires = self.rule_ids(c, "fires");
        let includes = self.rule_ids(c, "includes");
        let excludes = self.rule_ids(c, "excludes");
        if c.map.contains_key("fires") && (c.map.contains_key("includes") || c.map.contains_key("excludes")) {
            let help = "`fires` lists exactly the rules that fire; `includes` and `excludes` check some of them";
            let msg = format!("case {} has `fires` and `includes` or `excludes`", c.label);
            self.error(self.at(c, "fires"), msg, Some(help.into()));
            return None;
        }
        let (fires, includes, excludes) = (fires?, includes?, excludes?);
        if c.map.contains_key("fires") {
            return Some(RulesExpect::Exactly(fires));
        }
        if let Some(both) = includes.intersection(&excludes).next() {
            let msg = format!("rule `{both}` is both included and excluded");
            self.error(
                self.at(c, "excludes"),
                msg,
                Some("remove it from one of the two lists".into()),
            );
            return None;
        }
        Some(RulesExpect::Partial { includes, excludes })
    }

    /// A list of rule ids the policy declares (empty when the key is absent).
    fn rule_ids(&mut self, c: &CaseCtx<'_>, key: &str) -> Option<BTreeSet<String>> {
        let ids = self.texts(c, key)?;
        let rs = self.rs;
        let mut ok = true;
        for id in &ids {
            if rs.rules.iter().any(|r| &r.id == id) {
                continue;
            }
            let help = did_you_mean(
                id,
                rs.rules.iter().map(|r| r.id.as_str()),
                "the policy declares no rule of that id".into(),
            );
            self.error(self.at(c, key), format!("unknown rule `{id}` in `{key}`"), Some(help));
            ok = false;
        }
        ok.then(|| ids.into_iter().collect())
    }

    /// A text or a list of texts (empty when the key is absent).
    fn texts(&mut self, c: &CaseCtx<'_>, key: &str) -> Option<Vec<String>> {
        let texts = match c.map.get(key) {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::String(s)) if key == "message_contains" => Some(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>(),
            Some(_) => None,
        };
        if texts.is_none() {
            let what = if key == "message_contains" {
                "a text or a list of texts"
            } else {
                "a list of rule ids"
            };
            let found = c.map.get(key).map_or("nothing", describe);
            let help = if key == "message_contains" {
                "e.g. `message_contains: \"not supported\"` or `message_contains: [a, b]`"
            } else {
                "write rule ids in brackets, e.g. `fires: [rule-a, rule-b]`; `[]` for none"
            };
            self.error(
                self.at(c, key),
                format!("`{key}` must be {what}, found {found}"),
                Some(help.into()),
            );
        }
        texts
    }

    fn lang(&mut self, c: &CaseCtx<'_>) -> Option<String> {
        let rs = self.rs;
        let help = format!("the policy's languages are {}", list(&rs.languages));
        match c.map.get("lang")? {
            Value::String(s) if rs.languages.contains(s) => Some(s.clone()),
            Value::String(s) => {
                let help = did_you_mean(s, rs.languages.iter().map(String::as_str), help);
                self.error(self.at(c, "lang"), format!("unknown language `{s}`"), Some(help));
                None
            }
            other => {
                let msg = format!("`lang` must be a text, found {}", describe(other));
                self.error(self.at(c, "lang"), msg, Some(help));
                None
            }
        }
    }

    fn as_of(&mut self, c: &CaseCtx<'_>) -> Option<Date> {
        let v = c.map.get("as_of")?;
        let date = v.as_str().and_then(Date::parse);
        if date.is_none() {
            let shown = v.as_str().map_or_else(|| describe(v).to_owned(), |s| format!("`{s}`"));
            let msg = format!("`as_of` must be a date `YYYY-MM-DD`, found {shown}");
            self.error(
                self.at(c, "as_of"),
                msg,
                Some("write a real date, e.g. `as_of: 2027-01-01`".into()),
            );
        }
        date
    }
}
