//! Arrow columns to the engine's records, and decisions out as JSON Lines.
//!
//! A stream comes in through the Arrow C stream interface (the PyCapsule of
//! `__arrow_c_stream__`: pyarrow, Polars, DuckDB and others), batch by batch.
//! For each batch the columns are resolved once into a [`Node`] tree (typed
//! arrays, dictionary keys, struct field names already quoted), then each row is
//! written as the JSON text of the application straight from the arrays, on the
//! engine's thread pool, and decided by the engine's JSON path, so a row and the
//! same record in a `.jsonl` file are read by the same code and get the same
//! decision and the same error messages. Nulls are absent fields.
//!
//! A column whose Arrow type no application field can hold (binary, time,
//! interval, union, …) makes the whole stream unusable: [`check_schema`] says
//! which column before any row is read. A column of a usable type that the
//! policy's schema does not expect (a number where text is declared) is an
//! `error` decision for each row, naming the field, as in JSON.

use crate::pyjson::Path;
use crate::{line, unit};
use arrow_array::cast::AsArray;
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use kycrules::{DecideOptions, Policy};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use rayon::prelude::*;
use std::ffi::CStr;
use std::io::Write as _;

const STREAM: &CStr = c"arrow_array_stream";

/// Takes the stream out of an `arrow_array_stream` capsule.
pub fn import_stream(capsule: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyValueError::new_err("expected the capsule of __arrow_c_stream__()"))?;
    let ptr = capsule
        .pointer_checked(Some(STREAM))
        .map_err(|_| PyValueError::new_err("expected an `arrow_array_stream` capsule"))?;
    let stream = ptr.as_ptr().cast::<FFI_ArrowArrayStream>();
    // SAFETY: a capsule named `arrow_array_stream` holds an `ArrowArrayStream`
    // (the Arrow PyCapsule interface). `from_raw` moves it out and leaves a
    // released stream behind, so the capsule's destructor frees nothing twice.
    #[allow(unsafe_code)]
    let reader = unsafe { RecordBatchStreamReader::from_raw(stream) };
    reader.map_err(|e| PyValueError::new_err(format!("cannot read the Arrow stream: {e}")))
}

/// Checks that every column has a type an application's field can hold.
pub fn check_schema(schema: &Schema) -> Result<(), String> {
    schema.fields().iter().try_for_each(|f| check_field(f, f.name()))
}

fn check_field(f: &Field, path: &str) -> Result<(), String> {
    check_type(f.data_type(), path)
}

fn check_type(dt: &DataType, path: &str) -> Result<(), String> {
    use DataType as D;
    match dt {
        D::Null
        | D::Boolean
        | D::Int8
        | D::Int16
        | D::Int32
        | D::Int64
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::UInt64
        | D::Float32
        | D::Float64
        | D::Utf8
        | D::LargeUtf8
        | D::Utf8View
        | D::Decimal128(..)
        | D::Decimal256(..)
        | D::Date32
        | D::Date64 => Ok(()),
        D::Struct(fields) => fields
            .iter()
            .try_for_each(|c| check_field(c, &format!("{path}.{}", c.name()))),
        D::List(c) | D::LargeList(c) | D::FixedSizeList(c, _) => check_field(c, &format!("{path}[]")),
        D::Dictionary(k, v) if k.is_dictionary_key_type() => check_type(v, path),
        D::Map(entries, _) => match entries.data_type() {
            D::Struct(kv) if kv.len() == 2 => {
                if !matches!(kv[0].data_type(), D::Utf8 | D::LargeUtf8 | D::Utf8View) {
                    return Err(unusable(path, dt, "a map's keys must be text"));
                }
                check_field(&kv[1], &format!("{path}.*"))
            }
            _ => Err(unusable(path, dt, "a map of keys and values")),
        },
        other => Err(unusable(
            path,
            other,
            "cast it to text, a number, a date, a struct or a list",
        )),
    }
}

fn unusable(path: &str, dt: &DataType, help: &str) -> String {
    format!("column `{path}` has the Arrow type {dt}, which no application field can hold; {help}")
}

/// One column resolved for writing.
struct Node<'a> {
    arr: &'a dyn Array,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Null,
    Bool(&'a arrow_array::BooleanArray),
    Int(Int<'a>),
    F32(&'a PrimitiveArray<Float32Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    Str(&'a arrow_array::StringArray),
    LargeStr(&'a arrow_array::LargeStringArray),
    StrView(&'a arrow_array::StringViewArray),
    Dec128(&'a PrimitiveArray<Decimal128Type>, i8),
    Dec256(&'a PrimitiveArray<Decimal256Type>, i8),
    Date32(&'a PrimitiveArray<Date32Type>),
    Date64(&'a PrimitiveArray<Date64Type>),
    Struct(Vec<(Vec<u8>, String, Node<'a>)>),
    List(Vec<usize>, Box<Node<'a>>),
    Dict(Vec<usize>, Box<Node<'a>>),
    Map(Vec<usize>, Box<Node<'a>>, Box<Node<'a>>),
}

enum Int<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
}

fn prim<T: ArrowPrimitiveType>(arr: &dyn Array) -> Result<&PrimitiveArray<T>, String> {
    arr.as_primitive_opt::<T>()
        .ok_or_else(|| format!("an array is not of its declared type {}", arr.data_type()))
}

fn quoted_key(name: &str) -> Vec<u8> {
    let mut k = serde_json::to_vec(name).unwrap_or_default();
    k.push(b':');
    k
}

fn offsets<O: arrow_array::OffsetSizeTrait>(o: &[O]) -> Vec<usize> {
    o.iter().map(|x| x.as_usize()).collect()
}

fn node(arr: &dyn Array) -> Result<Node<'_>, String> {
    use DataType as D;
    let bad = || format!("an array is not of its declared type {}", arr.data_type());
    let kind = match arr.data_type() {
        D::Null => Kind::Null,
        D::Boolean => Kind::Bool(arr.as_boolean_opt().ok_or_else(bad)?),
        D::Int8 => Kind::Int(Int::I8(prim(arr)?)),
        D::Int16 => Kind::Int(Int::I16(prim(arr)?)),
        D::Int32 => Kind::Int(Int::I32(prim(arr)?)),
        D::Int64 => Kind::Int(Int::I64(prim(arr)?)),
        D::UInt8 => Kind::Int(Int::U8(prim(arr)?)),
        D::UInt16 => Kind::Int(Int::U16(prim(arr)?)),
        D::UInt32 => Kind::Int(Int::U32(prim(arr)?)),
        D::UInt64 => Kind::Int(Int::U64(prim(arr)?)),
        D::Float32 => Kind::F32(prim(arr)?),
        D::Float64 => Kind::F64(prim(arr)?),
        D::Utf8 => Kind::Str(arr.as_string_opt::<i32>().ok_or_else(bad)?),
        D::LargeUtf8 => Kind::LargeStr(arr.as_string_opt::<i64>().ok_or_else(bad)?),
        D::Utf8View => Kind::StrView(arr.as_string_view_opt().ok_or_else(bad)?),
        D::Decimal128(_, s) => Kind::Dec128(prim(arr)?, *s),
        D::Decimal256(_, s) => Kind::Dec256(prim(arr)?, *s),
        D::Date32 => Kind::Date32(prim(arr)?),
        D::Date64 => Kind::Date64(prim(arr)?),
        D::Struct(_) => {
            let s = arr.as_struct_opt().ok_or_else(bad)?;
            let mut children = Vec::with_capacity(s.num_columns());
            for (f, c) in s.fields().iter().zip(s.columns()) {
                children.push((quoted_key(f.name()), f.name().clone(), node(c.as_ref())?));
            }
            Kind::Struct(children)
        }
        D::List(_) => {
            let l = arr.as_list_opt::<i32>().ok_or_else(bad)?;
            Kind::List(offsets(l.value_offsets()), Box::new(node(l.values().as_ref())?))
        }
        D::LargeList(_) => {
            let l = arr.as_list_opt::<i64>().ok_or_else(bad)?;
            Kind::List(offsets(l.value_offsets()), Box::new(node(l.values().as_ref())?))
        }
        D::FixedSizeList(_, n) => {
            let l = arr.as_fixed_size_list_opt().ok_or_else(bad)?;
            let n = usize::try_from(*n).map_err(|_| bad())?;
            let offs = (0..=l.len()).map(|i| i * n).collect();
            Kind::List(offs, Box::new(node(l.values().as_ref())?))
        }
        D::Dictionary(..) => {
            let d = arr.as_any_dictionary_opt().ok_or_else(bad)?;
            Kind::Dict(d.normalized_keys(), Box::new(node(d.values().as_ref())?))
        }
        D::Map(..) => {
            let m = arr.as_map_opt().ok_or_else(bad)?;
            Kind::Map(
                offsets(m.value_offsets()),
                Box::new(node(m.keys().as_ref())?),
                Box::new(node(m.values().as_ref())?),
            )
        }
        other => return Err(unusable("?", other, "cast it to a supported type")),
    };
    Ok(Node { arr, kind })
}

fn text(s: &str, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn float(x: f64, text: &str, out: &mut Vec<u8>, path: &Path<'_>) -> Result<(), String> {
    if !x.is_finite() {
        return Err(format!("{path}: {x} is not a number an application can hold"));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// A decimal's digits with its scale as a JSON number (exact: the engine reads
/// the number's text).
fn decimal(digits: String, scale: i8, out: &mut Vec<u8>) {
    let (neg, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits.as_str()),
    };
    if neg {
        out.push(b'-');
    }
    let scale = i32::from(scale);
    if scale <= 0 {
        out.extend_from_slice(digits.as_bytes());
        if digits != "0" {
            out.extend(std::iter::repeat_n(b'0', scale.unsigned_abs() as usize));
        }
        return;
    }
    let scale = scale.unsigned_abs() as usize;
    if digits.len() <= scale {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        out.extend_from_slice(digits.as_bytes());
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(int.as_bytes());
        out.push(b'.');
        out.extend_from_slice(frac.as_bytes());
    }
}

/// Days since 1970-01-01 as `"YYYY-MM-DD"` (the proleptic Gregorian calendar).
fn date(days: i64, out: &mut Vec<u8>) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let _ = write!(out, "\"{y:04}-{m:02}-{d:02}\"");
}

/// Writes the value at row `i` of a valid slot.
fn value(n: &Node<'_>, i: usize, out: &mut Vec<u8>, path: &Path<'_>) -> Result<(), String> {
    match &n.kind {
        Kind::Null => out.extend_from_slice(b"null"),
        Kind::Bool(a) => out.extend_from_slice(if a.value(i) { b"true" } else { b"false" }),
        Kind::Int(int) => {
            let _ = match int {
                Int::I8(a) => write!(out, "{}", a.value(i)),
                Int::I16(a) => write!(out, "{}", a.value(i)),
                Int::I32(a) => write!(out, "{}", a.value(i)),
                Int::I64(a) => write!(out, "{}", a.value(i)),
                Int::U8(a) => write!(out, "{}", a.value(i)),
                Int::U16(a) => write!(out, "{}", a.value(i)),
                Int::U32(a) => write!(out, "{}", a.value(i)),
                Int::U64(a) => write!(out, "{}", a.value(i)),
            };
        }
        Kind::F32(a) => {
            let x = a.value(i);
            float(f64::from(x), ryu::Buffer::new().format(x), out, path)?;
        }
        Kind::F64(a) => {
            let x = a.value(i);
            float(x, ryu::Buffer::new().format(x), out, path)?;
        }
        Kind::Str(a) => text(a.value(i), out),
        Kind::LargeStr(a) => text(a.value(i), out),
        Kind::StrView(a) => text(a.value(i), out),
        Kind::Dec128(a, s) => decimal(a.value(i).to_string(), *s, out),
        Kind::Dec256(a, s) => decimal(a.value(i).to_string(), *s, out),
        Kind::Date32(a) => date(i64::from(a.value(i)), out),
        Kind::Date64(a) => date(a.value(i).div_euclid(86_400_000), out),
        Kind::Struct(children) => {
            out.push(b'{');
            let mut first = true;
            for (key, name, child) in children {
                if child.arr.is_null(i) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(key);
                value(child, i, out, &Path::Key(path, name))?;
            }
            out.push(b'}');
        }
        Kind::List(offs, items) => {
            let (start, end) = (offs.get(i).copied().unwrap_or(0), offs.get(i + 1).copied().unwrap_or(0));
            out.push(b'[');
            for (k, j) in (start..end).enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                if items.arr.is_null(j) {
                    out.extend_from_slice(b"null");
                } else {
                    value(items, j, out, &Path::Index(path, k))?;
                }
            }
            out.push(b']');
        }
        Kind::Dict(keys, values) => match keys.get(i) {
            Some(&k) if values.arr.is_valid(k) => value(values, k, out, path)?,
            _ => out.extend_from_slice(b"null"),
        },
        Kind::Map(offs, keys, values) => {
            let (start, end) = (offs.get(i).copied().unwrap_or(0), offs.get(i + 1).copied().unwrap_or(0));
            out.push(b'{');
            let mut first = true;
            for j in start..end {
                if values.arr.is_null(j) || keys.arr.is_null(j) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                let mut key = Vec::new();
                value(keys, j, &mut key, path)?;
                let name = serde_json::from_slice::<String>(&key).unwrap_or_default();
                out.extend_from_slice(&key);
                out.push(b':');
                value(values, j, out, &Path::Key(path, &name))?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Decides every row of a batch (rows numbered from `first` in the stream's
/// sources, `arrow[N]`) and returns their JSON lines, each ending in `\n`.
pub fn decide_batch(
    policy: &Policy,
    batch: &RecordBatch,
    first: usize,
    opts: &DecideOptions,
) -> Result<Vec<u8>, String> {
    check_schema(&batch.schema())?;
    let rows_array = arrow_array::StructArray::from(batch.clone());
    let root = node(&rows_array)?;
    let rows = batch.num_rows();
    let lines: Vec<Vec<u8>> = (0..rows)
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let mut json = Vec::with_capacity(512);
            let written = value(&root, i, &mut json, &Path::Root).map(|()| json);
            let decided = policy.decide_unit(unit(format!("arrow[{}]", first + i), written), opts);
            let mut l = line(policy, &decided);
            l.push(b'\n');
            l
        })
        .collect();
    Ok(lines.concat())
}
