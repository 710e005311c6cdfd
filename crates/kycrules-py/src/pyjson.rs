//! A Python value as JSON text, for the engine's JSON reader.
//!
//! Mappings, lists and tuples, strings, booleans, integers, finite floats and
//! `None` are written as JSON; `decimal.Decimal`, `datetime.date` and anything
//! with `isoformat()` as their text (the engine reads decimals and dates from
//! text); NumPy scalars by their Python value. Anything else, a non-text key,
//! a NaN or infinity, or nesting deeper than the engine reads, is an error that
//! names the field, and the record becomes an `error` decision.

use kycrules::input::MAX_DEPTH;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::io::Write as _;

/// A field path as the engine writes it: `a.b[0].c` (also for Arrow columns).
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

fn at(path: &Path<'_>, msg: impl std::fmt::Display) -> String {
    match path {
        Path::Root => msg.to_string(),
        _ => format!("{path}: {msg}"),
    }
}

/// The value as JSON text, or why it cannot be one (naming the field).
pub fn to_json(value: &Bound<'_, PyAny>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(512);
    write(value, &mut out, &Path::Root, 0)?;
    Ok(out)
}

fn text(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, path: &Path<'_>) -> Result<(), String> {
    let s = value.str().map_err(|e| at(path, e))?;
    let s = s.to_str().map_err(|e| at(path, e))?;
    serde_json::to_writer(&mut *out, s).map_err(|e| at(path, e))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "unknown".to_owned(), |n| n.to_string())
}

fn write(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, path: &Path<'_>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(at(path, format_args!("nested deeper than {MAX_DEPTH} levels")));
    }
    if value.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(s) = value.cast::<PyString>() {
        let s = s.to_str().map_err(|e| at(path, e))?;
        serde_json::to_writer(&mut *out, s).map_err(|e| at(path, e))?;
    } else if let Ok(b) = value.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if let Ok(i) = value.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            Err(_) => {
                let s = i.str().map_err(|e| at(path, e))?;
                out.extend_from_slice(s.to_str().map_err(|e| at(path, e))?.as_bytes());
            }
        }
    } else if let Ok(f) = value.cast::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Err(at(path, format_args!("{x} is not a number an application can hold")));
        }
        out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes());
    } else if let Ok(d) = value.cast::<PyDict>() {
        out.push(b'{');
        for (n, (k, v)) in d.iter().enumerate() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(at(
                    path,
                    format_args!("a key of type {}; keys must be text", type_name(&k)),
                ));
            };
            let key = key.to_str().map_err(|e| at(path, e))?;
            if n > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, key).map_err(|e| at(path, e))?;
            out.push(b':');
            write(&v, out, &Path::Key(path, key), depth + 1)?;
        }
        out.push(b'}');
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        out.push(b'[');
        for (i, item) in value.try_iter().map_err(|e| at(path, e))?.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write(&item.map_err(|e| at(path, e))?, out, &Path::Index(path, i), depth + 1)?;
        }
        out.push(b']');
    } else {
        let name = type_name(value);
        let module = value
            .get_type()
            .module()
            .map_or_else(|_| String::new(), |m| m.to_string());
        if name == "Decimal" && module == "decimal" {
            text(value, out, path)?;
        } else if module == "numpy" && value.hasattr("item").unwrap_or(false) {
            let plain = value.call_method0("item").map_err(|e| at(path, e))?;
            write(&plain, out, path, depth + 1)?;
        } else if value.hasattr("isoformat").unwrap_or(false) {
            let iso = value.call_method0("isoformat").map_err(|e| at(path, e))?;
            text(&iso, out, path)?;
        } else if let Ok(m) = value.cast::<pyo3::types::PyMapping>() {
            let d = PyDict::new(value.py());
            d.update(m).map_err(|e| at(path, e))?;
            write(d.as_any(), out, path, depth)?;
        } else {
            return Err(at(
                path,
                format_args!("a Python {name} cannot be read as an application's value"),
            ));
        }
    }
    Ok(())
}
