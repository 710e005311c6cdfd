//! The engine's public API: load a policy, decide applications, render the
//! decision as the JSON line every front prints.
//!
//! Every front of kycrules (the command line, the decision service, the Python
//! package, the language server) and every embedder goes through this module,
//! so the same record under the same policy gives the same bytes everywhere.
//!
//! ```
//! use kycrules::{DecideOptions, Policy};
//!
//! let policy = Policy::shipped();
//! let app = r#"{"id": "A-1", "applicant": {"name": "Li Wei"}}"#;
//! let decided = policy.decide_json(app.as_bytes(), "request", &DecideOptions::default());
//! // An application that does not fit the schema is an `error` decision, never a panic.
//! assert_eq!(decided.decision(), kycrules::DecisionKind::Error);
//! let line = policy.json_line(&decided);
//! assert!(line.starts_with(r#"{"id":"A-1""#));
//! ```

use crate::date::Date;
use crate::diag::{self, Diagnostic};
use crate::eval::Options;
use crate::exec;
use crate::input::{self, InputRecord, Unit};
use crate::ir::RuleSet;
use crate::read::{Converted, to_record};
use crate::report::{JsonWriter, Outcome};
use crate::source::SourceMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::eval::DecisionKind;

/// A compiled policy, ready to decide. Cheap to clone (the compiled rules are
/// shared), and `Send + Sync`: one policy serves any number of threads.
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

struct Inner {
    rules: RuleSet,
    /// The rules compiled for evaluation.
    program: exec::Program,
    sources: SourceMap,
    warnings: Vec<Diagnostic>,
    json: JsonWriter,
}

/// A policy that could not be loaded: every diagnostic of the run (errors and
/// warnings), with the sources they point into.
#[derive(Debug, Clone)]
pub struct PolicyError {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
}

impl PolicyError {
    /// The diagnostics as the command line prints them (`file:line:col`, a
    /// caret, a help), without colour.
    pub fn render(&self) -> String {
        diag::render_human(&self.diagnostics, &self.sources, false)
    }

    /// The diagnostics as JSON objects, as `--error-format json` prints them.
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        self.diagnostics
            .iter()
            .map(|d| diag::to_json(d, &self.sources))
            .collect()
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        write!(f, "the policy has {errors} error(s)\n{}", self.render())
    }
}

impl std::error::Error for PolicyError {}

/// How to decide: the message language (falls back to the policy's first) and
/// the evaluation date (default: today; a policy that declares `as_of` judges
/// each record as of its own date, capped at this one).
#[derive(Debug, Clone, Default)]
pub struct DecideOptions {
    pub lang: Option<String>,
    pub as_of: Option<Date>,
}

/// One application's decision, or why it could not be evaluated.
#[derive(Debug, Clone)]
pub struct Decided {
    outcome: Outcome,
}

impl Decided {
    /// The decision: `error` when the record could not be read or converted.
    pub fn decision(&self) -> DecisionKind {
        self.outcome.decision()
    }

    /// The application's `id`, when it has one.
    pub fn id(&self) -> Option<&str> {
        self.outcome.id.as_deref()
    }

    /// Why the record could not be evaluated, when it could not.
    pub fn error(&self) -> Option<&str> {
        self.outcome.result.as_ref().err().map(String::as_str)
    }

    /// The engine's report of this record (what every report writer takes).
    #[doc(hidden)]
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }
}

impl Policy {
    /// The policy shipped inside the engine.
    ///
    /// The shipped policy is compiled and tested with the engine, so it always
    /// loads; should it ever fail, the error's diagnostics say why.
    pub fn shipped() -> Policy {
        match Self::from_sources(crate::policy::embedded()) {
            Ok(p) => p,
            Err(e) => unreachable_shipped(&e),
        }
    }

    /// Reads `.rules` files and directories of them (recursively, sorted) and
    /// compiles them into one policy. Warnings are kept in [`Policy::warnings`].
    pub fn load(paths: &[PathBuf]) -> Result<Policy, PolicyError> {
        let (sources, read_errors) = crate::policy::read(paths);
        if !read_errors.is_empty() {
            return Err(PolicyError {
                diagnostics: read_errors,
                sources,
            });
        }
        Self::from_sources(sources)
    }

    /// Compiles policy text: `(file name, text)` pairs.
    pub fn from_texts<N: Into<String>, T: Into<Arc<str>>>(
        files: impl IntoIterator<Item = (N, T)>,
    ) -> Result<Policy, PolicyError> {
        let mut sources = SourceMap::default();
        for (name, text) in files {
            sources.add(name, text);
        }
        Self::from_sources(sources)
    }

    /// Compiles the given sources.
    pub fn from_sources(sources: SourceMap) -> Result<Policy, PolicyError> {
        let compiled = crate::policy::build(&sources);
        match compiled.ruleset {
            Some(rules) if !compiled.diagnostics.iter().any(Diagnostic::is_error) => {
                Ok(Policy::new(rules, sources, compiled.diagnostics))
            }
            _ => Err(PolicyError {
                diagnostics: compiled.diagnostics,
                sources,
            }),
        }
    }

    /// Wraps a rule set compiled elsewhere.
    #[doc(hidden)]
    pub fn new(rules: RuleSet, sources: SourceMap, warnings: Vec<Diagnostic>) -> Policy {
        let json = JsonWriter::new(&rules);
        let program = exec::Program::new(&rules);
        Policy {
            inner: Arc::new(Inner {
                rules,
                program,
                sources,
                warnings,
                json,
            }),
        }
    }

    /// The policy's name, from its header.
    pub fn name(&self) -> &str {
        &self.inner.rules.name
    }

    /// The policy's version, from its header.
    pub fn version(&self) -> &str {
        &self.inner.rules.version
    }

    /// A content hash of the policy's source files (16 hex digits).
    pub fn hash(&self) -> &str {
        &self.inner.rules.hash
    }

    /// The message languages; the first is the default.
    pub fn languages(&self) -> &[String] {
        &self.inner.rules.languages
    }

    /// The rules in declaration order: `(id, outcome)`.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.inner
            .rules
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.outcome.as_str()))
    }

    /// The warnings the compiler gave (a policy with errors does not load).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.inner.warnings
    }

    /// The policy's source files.
    pub fn sources(&self) -> &SourceMap {
        &self.inner.sources
    }

    /// The application schema as JSON Schema (draft 2020-12): what an
    /// application to this policy must look like.
    pub fn application_schema(&self) -> serde_json::Value {
        crate::schema_json::application_schema(&self.inner.rules)
    }

    /// The compiled rules, for the engine's own tools.
    #[doc(hidden)]
    pub fn ruleset(&self) -> &RuleSet {
        &self.inner.rules
    }

    fn options(&self, opts: &DecideOptions) -> Options {
        Options {
            lang: self.inner.rules.language(opts.lang.as_deref().unwrap_or("")),
            as_of: opts.as_of.unwrap_or_else(Date::today),
        }
    }

    /// Decides one unit of input, as `check` decides it.
    #[doc(hidden)]
    pub fn decide_unit(&self, unit: Unit, opts: &DecideOptions) -> Decided {
        let mut scratch = exec::Scratch::default();
        self.decide_unit_in(unit, self.options(opts), &mut scratch)
    }

    fn decide_unit_in(&self, unit: Unit, opts: Options, scratch: &mut exec::Scratch) -> Decided {
        let rs = &self.inner.rules;
        let Converted {
            source,
            id,
            record,
            as_of,
        } = to_record(rs, unit, opts.as_of);
        let opts = Options { as_of, ..opts };
        Decided {
            outcome: Outcome {
                id,
                source,
                result: record.map(|r| exec::evaluate_in(&self.inner.program, rs, &r, opts, scratch)),
            },
        }
    }

    /// Decides one application given as JSON text. `source` labels the record
    /// in the report (`file:line`, `request`, …).
    pub fn decide_json(&self, json: &[u8], source: &str, opts: &DecideOptions) -> Decided {
        let unit = Unit::Json {
            source: source.to_owned(),
            bytes: json.to_vec(),
        };
        self.decide_unit(unit, opts)
    }

    /// Decides one application given as a parsed JSON value.
    pub fn decide_value(&self, value: &serde_json::Value, source: &str, opts: &DecideOptions) -> Decided {
        let unit = Unit::Ready(InputRecord {
            source: source.to_owned(),
            id: input::record_id(value),
            value: Ok(value.clone()),
        });
        self.decide_unit(unit, opts)
    }

    /// Decides one application given as a YAML document.
    pub fn decide_yaml(&self, yaml: &str, source: &str, opts: &DecideOptions) -> Decided {
        let unit = Unit::Yaml {
            source: source.to_owned(),
            text: yaml.to_owned(),
            first: 1,
        };
        self.decide_unit(unit, opts)
    }

    /// Decides many JSON applications on the engine's thread pool; the answers
    /// come back in input order, exactly one for each input.
    pub fn decide_batch(&self, records: Vec<(String, Vec<u8>)>, opts: &DecideOptions) -> Vec<Decided> {
        use rayon::prelude::*;
        let opts = self.options(opts);
        records
            .into_par_iter()
            .map_init(exec::Scratch::default, |scratch, (source, bytes)| {
                self.decide_unit_in(Unit::Json { source, bytes }, opts, scratch)
            })
            .collect()
    }

    /// Reads application files and directories as `check` reads them (YAML
    /// documents, JSON, JSON Lines; directories recursively, sorted) and
    /// decides each record lazily, in order, one answer per record.
    pub fn decide_files(&self, paths: Vec<PathBuf>, opts: &DecideOptions) -> impl Iterator<Item = Decided> + '_ {
        let opts = self.options(opts);
        let mut scratch = exec::Scratch::default();
        input::read_units(paths).map(move |unit| self.decide_unit_in(unit, opts, &mut scratch))
    }

    /// The decision as one line of `check --format json` (no line end).
    pub fn json_line(&self, decided: &Decided) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_json_line(decided, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the decision's JSON line (no line end) to `out`.
    pub fn write_json_line(&self, decided: &Decided, out: &mut Vec<u8>) {
        self.inner.json.write(&decided.outcome, out);
    }
}

impl Policy {
    /// A copy of an application with every field the schema marks `sensitive`
    /// masked as reports mask it (all but the last four characters), for
    /// audit logs. Parts the schema does not know are copied as they are.
    pub fn mask_application(&self, value: &serde_json::Value) -> serde_json::Value {
        let mut out = value.clone();
        mask_record(&self.inner.rules.schema, 0, &mut out);
        out
    }

    /// Explains one application as `explain --format json` does (sensitive
    /// fields masked); `Err` with the input error when it cannot be evaluated.
    pub fn explain_value(
        &self,
        value: &serde_json::Value,
        source: &str,
        opts: &DecideOptions,
    ) -> Result<crate::explain::Explanation, String> {
        let rs = &self.inner.rules;
        let eval = self.options(opts);
        let eval = Options {
            as_of: input::record_date(rs.as_of.as_ref(), value, eval.as_of),
            ..eval
        };
        let record = input::convert(value, &rs.schema, &rs.tables, eval.as_of)?;
        let id = input::record_id(value);
        Ok(crate::explain::explain(
            rs,
            &record,
            id.as_deref(),
            source,
            crate::explain::Options { eval, show_pii: false },
        ))
    }
}

/// Masks the sensitive fields of record type `r` in `value`, recursing into
/// nested records and lists of them.
fn mask_record(schema: &crate::ir::Schema, r: u32, value: &mut serde_json::Value) {
    use crate::ir::Type;
    use serde_json::Value;
    let (Some(rec), Value::Object(obj)) = (schema.records.get(r as usize), value) else {
        return;
    };
    for f in &rec.fields {
        let Some(v) = obj.get_mut(&f.name) else { continue };
        if f.sensitive {
            mask_value(v);
            continue;
        }
        let mut ty = &f.ty;
        let mut list = false;
        while let Type::List(inner) = ty {
            ty = inner;
            list = true;
        }
        if let Type::Record(sub) = ty {
            if list {
                mask_list(schema, *sub, v);
            } else {
                mask_record(schema, *sub, v);
            }
        }
    }
}

fn mask_list(schema: &crate::ir::Schema, r: u32, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| mask_list(schema, r, v)),
        v => mask_record(schema, r, v),
    }
}

/// A sensitive value: text and numbers masked; lists and records masked throughout.
fn mask_value(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => *s = crate::text::mask(s),
        Value::Number(n) => *v = Value::String(crate::text::mask(&n.to_string())),
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::Object(map) => map.values_mut().for_each(mask_value),
        Value::Null | Value::Bool(_) => {}
    }
}

#[expect(clippy::panic, reason = "the shipped policy is compiled and tested with the engine")]
fn unreachable_shipped(e: &PolicyError) -> ! {
    panic!("the shipped policy does not compile:\n{}", e.render())
}
