//! Reading inputs from the file system.
#![allow(clippy::unwrap_used)]

use kycrules::date::Date;
use kycrules::decimal::Decimal;
use kycrules::input::{InputRecord, closest, convert, read_inputs, record_id};
use kycrules::ir::{Entry, FieldSchema, RecordSchema, Schema, Table, Type, Validity, bank_key};
use kycrules::record::{EntryValue, Field, Record};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, rel: &str, text: &[u8]) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn summary(recs: &[InputRecord]) -> Vec<String> {
    recs.iter()
        .map(|r| match &r.value {
            Ok(_) => format!("{} {}", r.source, r.id.as_deref().unwrap_or("-")),
            Err(e) => format!("{} ERR {e}", r.source),
        })
        .collect()
}

#[test]
fn directories_are_read_recursively_in_sorted_order() {
    let dir = scratch("walk");
    write(&dir, "b.yaml", b"id: b\n");
    write(&dir, "a/z.json", b"{\"id\": \"a/z\"}");
    write(&dir, "a/c.yml", b"id: a/c1\n---\nid: a/c2\n");
    write(&dir, "a.jsonl", b"{\"id\": \"a1\"}\n\n{\"id\": \"a2\"}\n");
    write(&dir, "notes.txt", b"not an application");
    write(&dir, ".hidden.yaml", b"id: hidden\n");
    write(&dir, "c/d/e.YAML", b"id: deep\n");
    let label = format!("{}/", dir.display());
    let inputs = read_inputs(vec![PathBuf::from(&label)]);
    fn sendable<T: Send>(t: T) -> T {
        t
    }
    let recs: Vec<_> = sendable(inputs).collect();
    let d = dir.display();
    assert_eq!(
        summary(&recs),
        [
            format!("{d}/a/c.yml:1 a/c1"),
            format!("{d}/a/c.yml:3 a/c2"),
            format!("{d}/a/z.json:1 a/z"),
            format!("{d}/a.jsonl:1 a1"),
            format!("{d}/a.jsonl:3 a2"),
            format!("{d}/b.yaml:1 b"),
            format!("{d}/c/d/e.YAML:1 deep"),
        ]
    );
}

#[test]
fn unreadable_paths_do_not_stop_the_others() {
    let dir = scratch("missing");
    write(&dir, "ok.yaml", b"id: ok\n");
    write(&dir, "latin1.yaml", b"id: caf\xe9\n");
    write(&dir, "broken.json", b"{\"id\": ");
    write(&dir, "batch.txt", b"{\"id\": 1}\n{\"id\": 2}\n");
    let missing = dir.join("nope.yaml");
    let paths = ["nope.yaml", "latin1.yaml", "broken.json", "batch.txt", "ok.yaml"];
    let recs: Vec<_> = read_inputs(paths.iter().map(|p| dir.join(p)).collect()).collect();
    let s = summary(&recs);
    let d = dir.display();
    assert_eq!(s.len(), 5, "{s:#?}");
    assert!(
        s[0].starts_with(&format!(
            "{} ERR cannot read {}: ",
            missing.display(),
            missing.display()
        )),
        "{}",
        s[0]
    );
    assert_eq!(
        s[1],
        format!("{d}/latin1.yaml ERR cannot read {d}/latin1.yaml: stream did not contain valid UTF-8")
    );
    assert!(
        s[2].starts_with(&format!("{d}/broken.json:1 ERR invalid JSON: EOF while parsing")),
        "{}",
        s[2]
    );
    // A file of an unknown extension is not guessed at: one error naming the formats.
    assert_eq!(
        s[3..],
        [
            format!(
                "{d}/batch.txt ERR cannot read {d}/batch.txt: unknown file extension `.txt`; the supported \
                 formats are .yaml or .yml (YAML), .json (a record or an array of records) and .jsonl (JSON Lines)"
            ),
            format!("{d}/ok.yaml:1 ok")
        ]
    );
}

#[test]
fn a_json_array_is_one_record_per_element() {
    let dir = scratch("array");
    let text = b"[\n  {\"id\": \"a\", \"note\": \"[,]\\\"\"},\n  {\"id\": \"b\",\n   \"x\": [1, {\"y\": 2}]},\n\n  {\"id\": \"c\"}\n]\n";
    write(&dir, "many.json", text);
    write(&dir, "empty-array.json", b" [ ] ");
    write(&dir, "one.json", b"\n\n{\"id\": \"one\"}");
    write(&dir, "bad-element.json", b"[{\"id\": \"ok\"}, {\"id\": }]");
    write(&dir, "trailing-comma.json", b"[{\"id\": \"ok\"},]");
    let names = [
        "many.json",
        "empty-array.json",
        "one.json",
        "bad-element.json",
        "trailing-comma.json",
    ];
    let recs: Vec<_> = read_inputs(names.iter().map(|p| dir.join(p)).collect()).collect();
    let s = summary(&recs);
    let d = dir.display();
    assert_eq!(
        s[..4],
        [
            format!("{d}/many.json:2 a"),
            format!("{d}/many.json:3 b"),
            format!("{d}/many.json:6 c"),
            format!("{d}/one.json:3 one"),
        ],
        "{s:#?}"
    );
    // A broken element loses only itself; a broken array is one error, from the parser.
    assert_eq!(s.len(), 7, "{s:#?}");
    assert_eq!(s[4], format!("{d}/bad-element.json:1 ok"));
    assert!(
        s[5].starts_with(&format!("{d}/bad-element.json:1 ERR invalid JSON")),
        "{}",
        s[5]
    );
    assert!(
        s[6].starts_with(&format!("{d}/trailing-comma.json:1 ERR invalid JSON")),
        "{}",
        s[6]
    );
}

#[test]
fn empty_files_hold_no_record_in_every_format() {
    let dir = scratch("empty");
    for name in [
        "e.json", "e.jsonl", "e.yaml", "e.yml", "w.json", "w.jsonl", "w.yaml", "c.yaml",
    ] {
        let body: &[u8] = match name.as_bytes()[0] {
            b'e' => b"",
            b'w' => b" \n\t\n",
            _ => b"# only a comment\n",
        };
        write(&dir, name, body);
        let recs: Vec<_> = read_inputs(vec![dir.join(name)]).collect();
        assert!(recs.is_empty(), "{name}: {:#?}", summary(&recs));
    }
}

#[test]
fn a_tab_in_yaml_indentation_is_named_with_its_line() {
    let dir = scratch("tab");
    write(
        &dir,
        "tab.yaml",
        b"id: first\n---\nid: second\napplicant:\n  name: x\n\tphone: \"1\"\n",
    );
    let recs: Vec<_> = read_inputs(vec![dir.join("tab.yaml")]).collect();
    let s = summary(&recs);
    let d = dir.display();
    assert_eq!(s.len(), 2, "{s:#?}");
    assert_eq!(
        s[1],
        format!("{d}/tab.yaml:3 ERR invalid YAML: a tab in the indentation of line 6; YAML indents with spaces only")
    );
}

// ---------------------------------------------------------------- conversion

fn field(name: &str, ty: Type, optional: bool) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        ty,
        optional,
        default: None,
        sensitive: false,
    }
}

/// id; applicant{name, nationality?, phone}; documents: list of {kind, number?, photo_legible?};
/// bank_card?{bank, card_type, region = mainland}; verification?{deposited, entered?}
fn schema() -> Schema {
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut region = field("region", Type::Enum(2), true);
    region.default = Some(Field::Enum(0));
    Schema {
        records: vec![
            RecordSchema {
                fields: vec![
                    field("id", Type::Text, false),
                    field("applicant", Type::Record(1), false),
                    field("documents", Type::List(Box::new(Type::Record(2))), false),
                    field("bank_card", Type::Record(3), true),
                    field("verification", Type::Record(4), true),
                ],
            },
            RecordSchema {
                fields: vec![
                    field("name", Type::Text, false),
                    field("nationality", Type::Text, true),
                    field("phone", Type::Text, false),
                ],
            },
            RecordSchema {
                fields: vec![
                    field("kind", Type::Enum(0), false),
                    field("number", Type::Text, true),
                    field("photo_legible", Type::Bool, true),
                ],
            },
            RecordSchema {
                fields: vec![
                    field("bank", Type::Entry(0), false),
                    field("card_type", Type::Enum(1), false),
                    region,
                ],
            },
            RecordSchema {
                fields: vec![
                    field("deposited", Type::Number, false),
                    field("entered", Type::Number, true),
                ],
            },
        ],
        enums: vec![
            strs(&[
                "passport",
                "entry_certificate",
                "permanent_residence_permit",
                "foreign_residence_permit",
            ]),
            strs(&["savings", "credit", "passbook"]),
            strs(&["mainland", "overseas"]),
        ],
        tables: vec!["bank".into()],
    }
}

fn banks() -> Vec<Table> {
    let bank = |code: &str, name: &str, until: Option<&str>| Entry {
        code: code.into(),
        names: vec![vec![name.into()]],
        aliases: vec![],
        attrs: vec![],
        validity: Validity {
            effective: None,
            until: until.and_then(Date::parse),
        },
    };
    let list = vec![
        bank("ICBC", "工商银行", None),
        bank("OLDB", "Old Bank", Some("2024-01-01")),
    ];
    let mut lookup: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, b) in list.iter().enumerate() {
        for key in [&b.code, &b.names[0][0]] {
            lookup.entry(bank_key(key)).or_default().push(i as u32);
        }
    }
    vec![Table {
        name: "bank".into(),
        list,
        attributes: vec![],
        lookup,
        all: vec![],
    }]
}

fn day() -> Date {
    Date::parse("2025-06-01").unwrap()
}

fn app() -> Value {
    json!({
        "id": "A1",
        "applicant": {"name": "Wang Fang", "phone": "13812345678"},
        "documents": [{"kind": "passport", "number": "E1234"}],
        "bank_card": {"bank": " icbc ", "card_type": "savings"},
        "verification": {"deposited": "0.37"}
    })
}

fn conv(v: &Value) -> Result<Record, String> {
    convert(v, &schema(), &banks(), day())
}

fn with(path: &[&str], v: Value) -> Result<Record, String> {
    let mut a = app();
    let mut cur = &mut a;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    *cur = v;
    conv(&a)
}

fn rec(fields: &[Field], i: usize) -> &[Field] {
    match &fields[i] {
        Field::Record(r) => r,
        other => unreachable!("{other:?}"),
    }
}

#[test]
fn converts_a_valid_application() {
    let r = conv(&app()).unwrap();
    assert_eq!(r.fields[0], Field::Text("A1".into()));
    let card = rec(&r.fields, 3);
    assert_eq!(
        card[0],
        Field::Entry(EntryValue {
            table: 0,
            id: Some(0),
            typed: " icbc ".into()
        })
    );
    assert_eq!(card[1], Field::Enum(0));
    assert_eq!(card[2], Field::Enum(0), "default region applied");
    let Field::List(docs) = &r.fields[2] else {
        unreachable!()
    };
    assert_eq!(
        rec(docs, 0),
        &[Field::Enum(0), Field::Text("E1234".into()), Field::Absent]
    );
    assert_eq!(record_id(&app()).as_deref(), Some("A1"));
    assert_eq!(record_id(&json!({"id": 7})).as_deref(), Some("7"));
    assert_eq!(record_id(&json!([1])), None);
}

#[test]
fn enum_error_lists_the_values() {
    assert_eq!(
        with(&["documents", "0", "kind"], json!("drivers_license")).unwrap_err(),
        "documents[0].kind: unknown value \"drivers_license\"; expected one of passport, \
         entry_certificate, permanent_residence_permit, foreign_residence_permit"
    );
    assert_eq!(
        with(&["bank_card", "card_type"], json!(2)).unwrap_err(),
        "bank_card.card_type: expected one of savings, credit, passbook, found number 2"
    );
}

#[test]
fn unknown_fields_suggest_the_closest() {
    assert_eq!(
        with(&["applicant", "nationalty"], json!("CN")).unwrap_err(),
        "applicant: unknown field `nationalty`; did you mean `nationality`?"
    );
    assert_eq!(with(&["zzz"], json!(1)).unwrap_err(), "unknown field `zzz`");
    assert_eq!(closest("x", ["id"]), None);
    assert_eq!(closest("Name", ["phone", "name"]), Some("name"));
    assert_eq!(closest(&"a".repeat(10_000), ["a"]), None);
}

#[test]
fn null_is_absent_and_defaults_apply() {
    let r = with(&["applicant", "nationality"], Value::Null).unwrap();
    assert_eq!(rec(&r.fields, 1)[1], Field::Absent);
    assert_eq!(with(&["bank_card"], Value::Null).unwrap().fields[3], Field::Absent);
    let r = with(&["bank_card", "region"], Value::Null).unwrap();
    assert_eq!(rec(&r.fields, 3)[2], Field::Enum(0));
    let r = with(&["bank_card", "region"], json!("overseas")).unwrap();
    assert_eq!(rec(&r.fields, 3)[2], Field::Enum(1));
    assert_eq!(
        with(&["applicant", "phone"], Value::Null).unwrap_err(),
        "applicant.phone: missing required field"
    );
}

#[test]
fn wrong_types_are_explained() {
    assert_eq!(
        with(&["applicant", "phone"], json!(13812345678u64)).unwrap_err(),
        "applicant.phone: expected text, found number 13812345678; quote it to keep it as typed"
    );
    assert_eq!(
        with(&["documents", "0", "photo_legible"], json!("yes")).unwrap_err(),
        "documents[0].photo_legible: expected bool, found text \"yes\"; write true or false without quotes"
    );
    assert_eq!(
        with(&["documents"], json!({})).unwrap_err(),
        "documents: expected a list, found a mapping"
    );
    assert_eq!(
        with(&["documents", "0"], Value::Null).unwrap_err(),
        "documents[0]: expected a record, found null"
    );
    assert_eq!(
        conv(&json!([1])).unwrap_err(),
        "expected an application (a mapping of fields), found a list"
    );
}

#[test]
fn decimals_are_exact() {
    let dep = |v: Value| rec(&with(&["verification", "deposited"], v).unwrap().fields, 4)[0].clone();
    let d = Field::Num(Decimal::parse("0.37").unwrap());
    assert_eq!(dep(json!("0.37")), d);
    assert_eq!(dep(json!(0.37)), d);
    assert_eq!(dep(json!("0.370")), d);
    assert_eq!(
        dep(json!(12345678901234567u64)),
        Field::Num(Decimal::parse("12345678901234567").unwrap())
    );
    assert_eq!(dep(json!("1e400")), Field::Num(Decimal::parse("1e400").unwrap()));
    for bad in ["0.37 ", "¥5", "1,5"] {
        let e = with(&["verification", "deposited"], json!(bad)).unwrap_err();
        assert_eq!(e, format!("verification.deposited: `{bad}` is not a decimal number"));
    }
}

#[test]
fn banks_resolve_on_the_day() {
    let bank = |typed: &str| rec(&with(&["bank_card", "bank"], json!(typed)).unwrap().fields, 3)[0].clone();
    assert_eq!(
        bank("工商银行"),
        Field::Entry(EntryValue {
            table: 0,
            id: Some(0),
            typed: "工商银行".into()
        })
    );
    assert_eq!(
        bank("Old Bank"),
        Field::Entry(EntryValue {
            table: 0,
            id: None,
            typed: "Old Bank".into()
        })
    );
    assert_eq!(
        bank("Nowhere"),
        Field::Entry(EntryValue {
            table: 0,
            id: None,
            typed: "Nowhere".into()
        })
    );
    let early = convert(&app(), &schema(), &banks(), Date::parse("2023-01-01").unwrap());
    let mut a = app();
    a["bank_card"]["bank"] = json!("OLDB");
    let r = convert(&a, &schema(), &banks(), Date::parse("2023-01-01").unwrap()).unwrap();
    assert!(early.is_ok());
    assert_eq!(
        rec(&r.fields, 3)[0],
        Field::Entry(EntryValue {
            table: 0,
            id: Some(1),
            typed: "OLDB".into()
        })
    );
}

#[test]
fn deep_nesting_is_an_error() {
    let mut s = Schema::default();
    s.records.push(RecordSchema {
        fields: vec![field("next", Type::Record(0), true)],
    });
    let mut v = json!({});
    for _ in 0..70 {
        v = json!({ "next": v });
    }
    let e = convert(&v, &s, &[], day()).unwrap_err();
    assert!(e.ends_with(": nested deeper than 64 levels"), "{e}");
    assert!(e.starts_with("next.next."), "{e}");
}

mod line_records {
    use super::*;
    use kycrules::read::line_to_record;

    /// `read::line_to_record` (a JSON line of a group, its id left in the
    /// record on the direct path) gives the id, record and date the general
    /// path gives: `input::json_record`, then `convert`.
    #[test]
    fn a_lines_id_and_record_are_the_general_paths() {
        let policy = kycrules::Policy::shipped();
        let rs = policy.ruleset();
        let as_of = Date::parse("2026-11-27").unwrap();
        let mut corpus = Vec::new();
        kycrules::r#gen::write(rs, 2_000, 7, kycrules::r#gen::Format::Jsonl, &mut corpus).unwrap();
        let mut lines: Vec<Vec<u8>> = corpus.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        lines.extend([
            b"{\"id\": 12}".to_vec(),
            b"{\"id\": null}".to_vec(),
            b"{\"id\": \"x\", broken".to_vec(),
            b"{\"id\": \"\xff\"}".to_vec(),
            b"[1]".to_vec(),
        ]);
        let mut direct_ids = 0;
        for bytes in lines.iter().filter(|l| !l.is_empty()) {
            let text = std::str::from_utf8(bytes).map_err(|_| &bytes[..]);
            let got = line_to_record(rs, text, as_of);
            let general = kycrules::input::json_record(String::new(), bytes);
            assert_eq!(got.id(), general.id.as_deref(), "{}", String::from_utf8_lossy(bytes));
            let want = general.value.and_then(|v| convert(&v, &rs.schema, &rs.tables, as_of));
            match (&got.record, &want) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "{}", String::from_utf8_lossy(bytes)),
            }
            direct_ids += usize::from(got.record.is_ok() && got.id().is_some());
        }
        assert!(direct_ids > 1_500, "{direct_ids} records with an id");
    }
}
