//! The native half of the Python package `kycrules` (module `kycrules._kycrules`).
//!
//! Everything here goes through the engine's facade ([`kycrules::Policy`]) and
//! its one report writer ([`kycrules::Policy::write_json_line`]): a decision
//! leaves this crate as the JSON line `kycrules check --format json` prints, and
//! the Python half (`python/kycrules/__init__.py`) parses that line into a dict
//! or an Arrow table. Python values and Arrow rows are written as JSON text
//! (`pyjson`, `arrow`) and read by the engine's JSON path, so every front reads
//! a record alike and reports the same faults in the same words.

mod arrow;
mod pyjson;

use arrow_array::RecordBatchReader as _;
use kycrules::date::Date;
use kycrules::input::{self, InputRecord, Unit};
use kycrules::{DecideOptions, Decided, Policy};
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use rayon::prelude::*;
use std::path::PathBuf;

create_exception!(
    _kycrules,
    PolicyError,
    pyo3::exceptions::PyValueError,
    "A policy that does not compile; `.diagnostics` lists why (code, file, line, column, message)."
);

/// How many records `check_many` converts before it releases the interpreter
/// to evaluate them: memory stays bounded by this, not by the input's length.
const MANY_CHUNK: usize = 8192;

#[pyclass(frozen, name = "Policy", module = "kycrules._kycrules")]
struct PyPolicy {
    policy: Policy,
}

fn policy_error(py: Python<'_>, e: &kycrules::PolicyError) -> PyErr {
    let err = PolicyError::new_err(e.to_string());
    let diagnostics = PyList::empty(py);
    let build = || -> PyResult<()> {
        for d in e.to_json() {
            let item = PyDict::new(py);
            item.set_item("code", d.get("code").and_then(|v| v.as_str()))?;
            item.set_item("severity", d.get("severity").and_then(|v| v.as_str()))?;
            let loc = d.get("location");
            let field = |k: &str| loc.and_then(|l| l.get(k)).cloned();
            item.set_item("file", field("file").and_then(|v| v.as_str().map(str::to_owned)))?;
            item.set_item("line", field("line").and_then(|v| v.as_u64()))?;
            item.set_item("column", field("column").and_then(|v| v.as_u64()))?;
            item.set_item("message", d.get("message").and_then(|v| v.as_str()))?;
            item.set_item("help", d.get("help").and_then(|v| v.as_str()))?;
            diagnostics.append(item)?;
        }
        err.value(py).setattr("diagnostics", diagnostics)
    };
    match build() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// The run's options: the message language, and the date (today unless given),
/// fixed once for a whole call so every record of it is judged alike.
fn options(lang: Option<String>, as_of: Option<&str>) -> PyResult<DecideOptions> {
    let as_of = match as_of {
        None => Date::today(),
        Some(s) => {
            Date::parse(s).ok_or_else(|| PyValueError::new_err(format!("as_of: `{s}` is not a date YYYY-MM-DD")))?
        }
    };
    Ok(DecideOptions {
        lang,
        as_of: Some(as_of),
    })
}

/// A record read from Python or Arrow: its JSON text, or why it has none.
pub(crate) fn unit(source: String, json: Result<Vec<u8>, String>) -> Unit {
    match json {
        Ok(bytes) => Unit::Json { source, bytes },
        Err(e) => Unit::Ready(InputRecord {
            source,
            id: None,
            value: Err(e),
        }),
    }
}

fn line(policy: &Policy, decided: &Decided) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    policy.write_json_line(decided, &mut out);
    out
}

#[pymethods]
impl PyPolicy {
    /// The policy shipped inside the engine.
    #[staticmethod]
    fn shipped(py: Python<'_>) -> Self {
        PyPolicy {
            policy: py.detach(Policy::shipped),
        }
    }

    /// Reads `.rules` files and directories of them into one policy.
    #[staticmethod]
    fn load(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Self> {
        if paths.is_empty() {
            return Err(PyValueError::new_err("Policy.load: no policy path given"));
        }
        match py.detach(|| Policy::load(&paths)) {
            Ok(policy) => Ok(PyPolicy { policy }),
            Err(e) => Err(policy_error(py, &e)),
        }
    }

    /// Compiles policy text given as `(file name, text)` pairs.
    #[staticmethod]
    fn from_texts(py: Python<'_>, files: Vec<(String, String)>) -> PyResult<Self> {
        match py.detach(|| Policy::from_texts(files)) {
            Ok(policy) => Ok(PyPolicy { policy }),
            Err(e) => Err(policy_error(py, &e)),
        }
    }

    #[getter]
    fn name(&self) -> &str {
        self.policy.name()
    }

    #[getter]
    fn version(&self) -> &str {
        self.policy.version()
    }

    #[getter]
    fn hash(&self) -> &str {
        self.policy.hash()
    }

    #[getter]
    fn languages(&self) -> Vec<String> {
        self.policy.languages().to_vec()
    }

    /// The compiler's warnings, as text.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.policy.warnings().iter().map(|d| d.message.clone()).collect()
    }

    /// One application (a mapping) to its `check --format json` line.
    #[pyo3(signature = (app, lang=None, as_of=None, source="python"))]
    fn check_line<'py>(
        &self,
        py: Python<'py>,
        app: &Bound<'py, PyAny>,
        lang: Option<String>,
        as_of: Option<&str>,
        source: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let opts = options(lang, as_of)?;
        let u = unit(source.to_owned(), pyjson::to_json(app));
        let out = py.detach(|| {
            let decided = self.policy.decide_unit(u, &opts);
            line(&self.policy, &decided)
        });
        Ok(PyBytes::new(py, &out))
    }

    /// Many applications to their JSON lines, in order, one per application,
    /// evaluated on the engine's thread pool with the interpreter released.
    #[pyo3(signature = (apps, lang=None, as_of=None))]
    fn check_lines<'py>(
        &self,
        py: Python<'py>,
        apps: &Bound<'py, PyAny>,
        lang: Option<String>,
        as_of: Option<&str>,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let opts = options(lang, as_of)?;
        let mut out = Vec::new();
        let mut chunk: Vec<Unit> = Vec::with_capacity(MANY_CHUNK);
        let flush = |chunk: &mut Vec<Unit>, out: &mut Vec<Bound<'py, PyBytes>>| {
            let units = std::mem::take(chunk);
            let lines: Vec<Vec<u8>> = py.detach(|| {
                units
                    .into_par_iter()
                    .map(|u| line(&self.policy, &self.policy.decide_unit(u, &opts)))
                    .collect()
            });
            out.extend(lines.iter().map(|l| PyBytes::new(py, l)));
        };
        for (i, app) in apps.try_iter()?.enumerate() {
            let app = app?;
            chunk.push(unit(format!("python[{i}]"), pyjson::to_json(&app)));
            if chunk.len() == MANY_CHUNK {
                flush(&mut chunk, &mut out);
            }
        }
        flush(&mut chunk, &mut out);
        Ok(out)
    }

    /// The decisions on an Arrow stream (a capsule from `__arrow_c_stream__`),
    /// batch by batch, as JSON Lines bytes.
    #[pyo3(signature = (stream, lang=None, as_of=None))]
    fn arrow_lines(
        &self,
        stream: &Bound<'_, PyAny>,
        lang: Option<String>,
        as_of: Option<&str>,
    ) -> PyResult<ArrowLines> {
        let opts = options(lang, as_of)?;
        let reader = arrow::import_stream(stream)?;
        arrow::check_schema(&reader.schema()).map_err(PyTypeError::new_err)?;
        Ok(ArrowLines {
            policy: self.policy.clone(),
            opts,
            reader,
            row: 0,
        })
    }

    /// Why one application got its decision, rule by rule, as JSON text (the
    /// object `kycrules explain --format json` prints).
    #[pyo3(signature = (app, lang=None, as_of=None, show_pii=false))]
    fn explain_json(
        &self,
        py: Python<'_>,
        app: &Bound<'_, PyAny>,
        lang: Option<String>,
        as_of: Option<&str>,
        show_pii: bool,
    ) -> PyResult<String> {
        let opts = options(lang, as_of)?;
        let json = pyjson::to_json(app);
        py.detach(|| explain(&self.policy, json, &opts, show_pii))
            .map_err(|e| PyValueError::new_err(format!("cannot write the explanation: {e}")))
    }
}

fn explain(
    policy: &Policy,
    json: Result<Vec<u8>, String>,
    opts: &DecideOptions,
    show_pii: bool,
) -> serde_json::Result<String> {
    let rs = policy.ruleset();
    let source = "python".to_owned();
    let rec = match json {
        Ok(bytes) => input::json_record(source, &bytes),
        Err(e) => InputRecord {
            source,
            id: None,
            value: Err(e),
        },
    };
    let run = opts.as_of.unwrap_or_else(Date::today);
    let eval = kycrules::eval::Options {
        lang: rs.language(opts.lang.as_deref().unwrap_or("")),
        as_of: match &rec.value {
            Ok(v) => input::record_date(rs.as_of.as_ref(), v, run),
            Err(_) => run,
        },
    };
    let record = rec
        .value
        .and_then(|v| input::convert(&v, &rs.schema, &rs.tables, eval.as_of));
    match record {
        Ok(r) => {
            let ex = kycrules::explain::explain(
                rs,
                &r,
                rec.id.as_deref(),
                &rec.source,
                kycrules::explain::Options { eval, show_pii },
            );
            serde_json::to_string(&ex)
        }
        // An application that cannot be evaluated is explained by its error.
        Err(e) => serde_json::to_string(&serde_json::json!({
            "id": rec.id,
            "source": rec.source,
            "decision": "error",
            "error": e,
            "policy": {"name": rs.name, "version": rs.version, "hash": rs.hash},
        })),
    }
}

/// An iterator of JSON Lines bytes, one item per Arrow batch read.
#[pyclass(unsendable, module = "kycrules._kycrules")]
struct ArrowLines {
    policy: Policy,
    opts: DecideOptions,
    reader: arrow_array::ffi_stream::RecordBatchStreamReader,
    row: usize,
}

#[pymethods]
impl ArrowLines {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let batch = match self.reader.next() {
            None => return Ok(None),
            Some(Err(e)) => return Err(PyValueError::new_err(format!("reading the Arrow stream: {e}"))),
            Some(Ok(b)) => b,
        };
        let first = self.row;
        self.row += batch.num_rows();
        let (policy, opts) = (&self.policy, &self.opts);
        let out = py.detach(|| arrow::decide_batch(policy, &batch, first, opts));
        Ok(Some(PyBytes::new(py, &out.map_err(PyTypeError::new_err)?)))
    }
}

/// Reads application files as `kycrules check` reads them (YAML 1.2 core
/// documents, JSON, JSON Lines, directories): `(source, JSON text or None,
/// error or None)` per record, in order.
#[pyfunction]
fn read_applications(py: Python<'_>, paths: Vec<PathBuf>) -> Vec<(String, Option<String>, Option<String>)> {
    py.detach(|| {
        input::read_inputs(paths)
            .map(|rec| match rec.value {
                Ok(v) => match serde_json::to_string(&v) {
                    Ok(text) => (rec.source, Some(text), None),
                    Err(e) => (rec.source, None, Some(e.to_string())),
                },
                Err(e) => (rec.source, None, Some(e)),
            })
            .collect()
    })
}

#[pymodule]
fn _kycrules(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPolicy>()?;
    m.add_class::<ArrowLines>()?;
    m.add_function(wrap_pyfunction!(read_applications, m)?)?;
    m.add("PolicyError", m.py().get_type::<PolicyError>())?;
    m.add("MAX_DEPTH", input::MAX_DEPTH)?;
    Ok(())
}
