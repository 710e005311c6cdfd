//! From a model of the atoms to real applications: values the theories chose
//! are written into applications of the generator (and into a smallest
//! application the schema allows); the caller decides each under both
//! policies and keeps only a confirmed one.

use super::encode::{Encoding, Model, Value};
use super::theory::{Point, TextCheck};
use crate::api::{DecideOptions, Policy};
use crate::eval::DecisionKind;
use crate::ir::{RuleSet, Schema, Type};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// How many generated applications serve as bases for a model.
const BASES: usize = 6;

/// The applications a model's values are written into: generated ones that
/// both policies decide, least severe under NEW first (so that only what the
/// model constrains makes the difference), then the schema's smallest.
pub fn bases(old: &Policy, new: &Policy, opts: &DecideOptions, pool: &[Json]) -> Vec<Json> {
    let mut scored: Vec<(u8, usize)> = Vec::new();
    for (i, app) in pool.iter().enumerate() {
        let a = old.decide_value(app, "base", opts).decision();
        let b = new.decide_value(app, "base", opts).decision();
        if a != DecisionKind::Error && b != DecisionKind::Error {
            scored.push((super::severity(a).max(super::severity(b)), i));
        }
    }
    scored.sort_unstable();
    let mut out: Vec<Json> = scored
        .iter()
        .take(BASES)
        .filter_map(|&(_, i)| pool.get(i).cloned())
        .collect();
    out.push(minimal(old.ruleset()));
    out
}

/// A field to set (or remove, with `None`), and the text languages the model
/// wants it in (a base value already in them is kept).
type Override = (Vec<String>, Option<Json>, Vec<(String, bool)>);

/// Candidate applications for a model, most likely first.
pub fn applications(
    bases: &[Json],
    focus: &[Vec<String>],
    enc: &mut Encoding<'_>,
    model: &Model,
    values: &HashMap<usize, Value>,
) -> Vec<Json> {
    let mut overrides: Vec<Override> = Vec::new();
    let mut variants: Vec<(Vec<String>, Json)> = Vec::new();
    for t in 0..enc.terms.len() {
        let Some(term) = enc.terms.get(t).cloned() else {
            continue;
        };
        let Some(field) = term.field else { continue };
        // Fields the changed rules do not read keep the base's values.
        if !focus.is_empty() && !focus.contains(&field.names) {
            continue;
        }
        let rs = enc.sides.get(field.side).copied().unwrap_or(enc.sides[0]);
        match model.defined.get(t).copied().flatten() {
            Some(false) => {
                if field.optional {
                    overrides.push((field.names.clone(), None, Vec::new()));
                }
                continue;
            }
            None => continue,
            Some(true) => {}
        }
        let mut value = None;
        let mut family = Vec::new();
        if field.ty == Type::Text {
            family = enc.text_family(t, model);
            if !family.is_empty()
                && let TextCheck::Witness(w) = enc.automata.check(&family)
            {
                value = Some(Json::String(w));
            }
        }
        if value.is_none() {
            value = values.get(&t).and_then(|v| to_json(rs, &field.ty, v));
        }
        if let Some(v) = value {
            overrides.push((field.names.clone(), Some(v), family));
        }
        // A text the model constrains after stripping prefixes: the prefixes
        // put back before the derived text's own witness.
        for (d, derived) in enc.terms.iter().enumerate() {
            if derived.root == Some(t)
                && !derived.stripped.is_empty()
                && let Some(Value::Text(w)) = values.get(&d)
            {
                let mut text: String = derived.stripped.iter().rev().map(|p| unescape(p)).collect();
                text.push_str(w);
                variants.push((field.names.clone(), Json::String(text)));
            }
        }
    }
    // Equal terms: a value set on one side goes to the other.
    for &(lit, a, b) in &enc.links {
        if enc.is_false(lit) {
            continue;
        }
        let (Some(fa), Some(fb)) = (enc.root_field(a), enc.root_field(b)) else {
            continue;
        };
        let value = |names: &Vec<String>| overrides.iter().find(|o| &o.0 == names).and_then(|o| o.1.clone());
        match (value(&fa.names), value(&fb.names)) {
            (Some(v), None) => overrides.push((fb.names.clone(), Some(v), Vec::new())),
            (None, Some(v)) => overrides.push((fa.names.clone(), Some(v), Vec::new())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for base in bases {
        let mut app = base.clone();
        for (path, value, family) in &overrides {
            // A base text that already has the model's text properties stays.
            if !family.is_empty()
                && let Some(Json::String(have)) = get(&app, path)
                && family.iter().all(|(re, want)| {
                    regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(have) == *want)
                })
            {
                continue;
            }
            set(&mut app, path, value.clone());
        }
        for (path, value) in &variants {
            let mut other = app.clone();
            set(&mut other, path, Some(value.clone()));
            out.push(other);
        }
        out.push(app);
    }
    out
}

/// The text a literal regex (from [`super::theory::literal`]) matches.
fn unescape(re: &str) -> String {
    let mut out = String::new();
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The generator's first `n` applications for the policy.
pub fn sampled(policy: &Policy, n: usize) -> Vec<Json> {
    let mut g = crate::r#gen::Generator::new(policy.ruleset(), 17);
    (0..n)
        .filter_map(|_| serde_json::from_str(&g.next_record(crate::r#gen::Format::Jsonl)).ok())
        .collect()
}

fn to_json(rs: &RuleSet, ty: &Type, v: &Value) -> Option<Json> {
    match (v, ty) {
        (Value::Point(Point::Num(n)), _) => {
            let text = n.to_string();
            Some(serde_json::from_str(&text).unwrap_or(Json::String(text)))
        }
        (Value::Point(Point::Date(d)), _) => Some(Json::String(d.to_string())),
        (Value::Text(t), _) => Some(Json::String(t.clone())),
        (Value::Choice(Some(i)), Type::Enum(e)) => rs
            .schema
            .enums
            .get(*e as usize)
            .and_then(|vals| vals.get(*i as usize))
            .map(|s| Json::String(s.clone())),
        (Value::Choice(Some(i)), Type::Entry(t)) => rs
            .table(*t)
            .and_then(|t| t.list.get(*i as usize))
            .map(|b| Json::String(b.code.clone())),
        // A bank that is none of the declared ones.
        (Value::Choice(None), Type::Entry(_)) => Some(Json::String("zz-undeclared-0".to_owned())),
        _ => None,
    }
}

fn get<'j>(app: &'j Json, path: &[String]) -> Option<&'j Json> {
    path.iter().try_fold(app, |cur, name| cur.get(name))
}

/// Sets (or, with `None`, removes) the field at `path`, making the records
/// on the way.
fn set(app: &mut Json, path: &[String], value: Option<Json>) {
    let Some((last, init)) = path.split_last() else { return };
    let mut cur = app;
    for name in init {
        let Json::Object(map) = cur else { return };
        if value.is_none() && !map.get(name).is_some_and(Json::is_object) {
            // Nothing to remove.
            return;
        }
        let next = map.entry(name.clone()).or_insert_with(|| Json::Object(Map::new()));
        if !next.is_object() {
            if value.is_none() {
                return;
            }
            *next = Json::Object(Map::new());
        }
        cur = next;
    }
    if let Json::Object(map) = cur {
        match value {
            Some(v) => {
                map.insert(last.clone(), v);
            }
            None => {
                map.remove(last);
            }
        }
    }
}

/// The smallest application the schema allows: required fields only.
pub fn minimal(rs: &RuleSet) -> Json {
    record(rs, &rs.schema, 0, 0)
}

fn record(rs: &RuleSet, schema: &Schema, r: usize, depth: usize) -> Json {
    let mut map = Map::new();
    if let Some(rec) = schema.records.get(r) {
        for f in &rec.fields {
            if f.optional || f.default.is_some() {
                continue;
            }
            if let Some(v) = sample(rs, schema, &f.ty, depth) {
                map.insert(f.name.clone(), v);
            }
        }
    }
    Json::Object(map)
}

fn sample(rs: &RuleSet, schema: &Schema, ty: &Type, depth: usize) -> Option<Json> {
    Some(match ty {
        Type::Text => Json::String("x".to_owned()),
        Type::Bool => Json::Bool(false),
        Type::Number => Json::from(0),
        Type::Date => Json::String("2000-01-01".to_owned()),
        Type::Entry(t) => Json::String(rs.table(*t)?.list.first()?.code.clone()),
        Type::Enum(e) => Json::String(schema.enums.get(*e as usize)?.first()?.clone()),
        Type::List(_) => Json::Array(Vec::new()),
        Type::Record(r) if depth < 16 => record(rs, schema, *r as usize, depth + 1),
        Type::Record(_) => return None,
    })
}
