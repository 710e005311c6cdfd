"""check_arrow: Arrow in (pyarrow, Polars, pandas), Arrow out, the same
decisions as check and the command line."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kycrules
from conftest import AS_OF, REPO, cli_decisions, to_arrow, without_source, write_jsonl

EXAMPLES = REPO / "examples" / "applications"


@pytest.fixture(scope="module")
def shipped():
    return kycrules.Policy.shipped()


def as_dicts(table: pa.Table) -> list:
    """The decisions table as check's objects (without source and stamp)."""
    out = []
    for row in table.to_pylist():
        d = {"id": row["id"], "decision": row["decision"]}
        if row["decision"] == "error":
            d["error"] = row["error"]
        else:
            d["next_step"] = row["next_step"]
            d["violations"] = row["violations"]
        out.append(d)
    return out


def plain(d: dict) -> dict:
    """check's object without source and stamp."""
    return {k: v for k, v in d.items() if k not in ("source", "policy")}


def test_examples_as_arrow_equal_check(shipped):
    apps = [app for _, app, _ in kycrules.read_applications(EXAMPLES) if app is not None]
    table, rows = to_arrow(apps)
    assert table.num_rows >= 10
    got = shipped.check_arrow(table, as_of=AS_OF)
    assert got.schema == kycrules.DECISIONS_SCHEMA
    # The stamp of every decision line; an error line carries none.
    assert got.column("policy_hash").to_pylist() == [
        None if d == "error" else shipped.hash for d in got.column("decision").to_pylist()
    ]
    assert as_dicts(got) == [plain(d) for d in shipped.check_many(rows, as_of=AS_OF)]


def test_100k_generated_records_agree_with_check_and_the_cli(shipped, corpus, tmp_path):
    apps = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    table, rows = to_arrow(apps)
    # Records whose values do not fit their column's type cannot be Arrow rows; nearly all do.
    assert len(rows) >= 99_000, len(rows)
    pq.write_table(table, tmp_path / "apps.parquet", row_group_size=16_384)
    from_parquet = pq.read_table(tmp_path / "apps.parquet")
    got = as_dicts(shipped.check_arrow(from_parquet, as_of=AS_OF))
    by_check = [plain(d) for d in shipped.check_many(rows, as_of=AS_OF)]
    by_cli = [plain(d) for d in cli_decisions(write_jsonl(tmp_path / "rows.jsonl", rows))]
    assert len(got) == len(by_check) == len(by_cli) == len(rows)
    assert [i for i in range(len(rows)) if got[i] != by_cli[i]] == []
    assert got == by_check
    assert {d["decision"] for d in got} >= {"accept", "review", "limited", "reject", "error"}


def test_batches_readers_polars_and_pandas(shipped):
    apps = [app for _, app, _ in kycrules.read_applications(EXAMPLES) if app is not None]
    table, rows = to_arrow(apps)
    want = as_dicts(shipped.check_arrow(table, as_of=AS_OF))
    batches = table.to_batches(max_chunksize=3)
    assert len(batches) > 2
    reader = pa.RecordBatchReader.from_batches(table.schema, batches)
    assert as_dicts(shipped.check_arrow(reader, as_of=AS_OF)) == want
    assert as_dicts(shipped.check_arrow(table.to_batches()[0], as_of=AS_OF)) == want[: table.to_batches()[0].num_rows]

    import polars as pl

    df = pl.from_arrow(table)
    assert as_dicts(shipped.check_arrow(df, as_of=AS_OF)) == want

    pdf = table.to_pandas()
    assert shipped.check_arrow(pdf, as_of=AS_OF).column("decision").to_pylist() == [d["decision"] for d in want]

    empty = shipped.check_arrow(table.slice(0, 0), as_of=AS_OF)
    assert empty.num_rows == 0 and empty.schema == kycrules.DECISIONS_SCHEMA


def test_nulls_are_absent_fields(shipped):
    t = pa.table(
        {
            "id": ["N-1", "N-2"],
            "applicant": pa.array(
                [{"name": "Li Wei", "nationality": None, "phone": "+86 138 0013 8000"}, None],
                pa.struct([("name", pa.string()), ("nationality", pa.string()), ("phone", pa.string())]),
            ),
            "documents": pa.array([[], None], pa.list_(pa.struct([("kind", pa.string())]))),
        }
    )
    got = as_dicts(shipped.check_arrow(t, as_of=AS_OF))
    want = [
        plain(shipped.check({"id": "N-1", "applicant": {"name": "Li Wei", "phone": "+86 138 0013 8000"}, "documents": []}, as_of=AS_OF)),
        plain(shipped.check({"id": "N-2"}, as_of=AS_OF)),
    ]
    assert got == want
    assert got[1]["decision"] == "error"


def test_a_column_of_the_wrong_type_is_an_error_per_row(shipped):
    apps = [app for _, app, _ in kycrules.read_applications(EXAMPLES / "01-accepted.yaml") if app is not None]
    table, rows = to_arrow(apps)
    applicant = table.column("applicant").combine_chunks()
    names = pa.array(range(table.num_rows), pa.int64())
    fields = [applicant.field(i) if f.name != "name" else names for i, f in enumerate(applicant.type)]
    bad = table.set_column(
        table.schema.get_field_index("applicant"),
        "applicant",
        pa.StructArray.from_arrays(fields, names=[f.name for f in applicant.type]),
    )
    got = as_dicts(shipped.check_arrow(bad, as_of=AS_OF))
    assert {d["decision"] for d in got} == {"error"}
    # The same text as the JSON path gives for the same fault.
    for i, d in enumerate(got):
        json_app = json.loads(json.dumps(rows[i]))
        json_app["applicant"]["name"] = i
        assert d["error"] == shipped.check(json_app, as_of=AS_OF)["error"]
        assert d["error"].startswith("applicant.name")

    # An unknown column is an unknown field, as in JSON.
    extra = table.append_column("colour", pa.array(["red"] * table.num_rows))
    d = as_dicts(shipped.check_arrow(extra, as_of=AS_OF))[0]
    assert d["decision"] == "error" and "colour" in d["error"]

    # NaN has no place in an application.
    nan = pa.table({"id": ["F-1"], "verification": pa.array([{"deposited": float("nan")}])})
    d = as_dicts(shipped.check_arrow(nan, as_of=AS_OF))[0]
    assert d["decision"] == "error" and d["error"].startswith("verification.deposited")


def test_an_unusable_column_is_one_clear_exception(shipped):
    t = pa.table({"id": ["B-1"], "applicant": pa.array([{"photo": b"\x00\x01"}])})
    with pytest.raises(TypeError, match=r"column `applicant.photo` has the Arrow type Binary"):
        shipped.check_arrow(t, as_of=AS_OF)
    with pytest.raises(TypeError, match="Arrow table"):
        shipped.check_arrow([{"id": "A-1"}])


def test_decimals_dates_and_dictionaries(shipped):
    import decimal

    v = pa.array([{"deposited": decimal.Decimal("0.37"), "entered": decimal.Decimal("0.370")}],
                 pa.struct([("deposited", pa.decimal128(5, 2)), ("entered", pa.decimal128(6, 3))]))
    base = {"id": "D-1", "applicant": {"name": "Li Wei", "phone": "+86 138 0013 8000"}, "documents": []}
    t = pa.table({"id": ["D-1"], "applicant": pa.array([base["applicant"]]), "documents": pa.array([[]], pa.list_(pa.struct([("kind", pa.string())]))), "verification": v})
    got = as_dicts(shipped.check_arrow(t, as_of=AS_OF))[0]
    want = plain(shipped.check({**base, "verification": {"deposited": "0.37", "entered": "0.370"}}, as_of=AS_OF))
    assert got == want
    # A dictionary-encoded text column reads as its values.
    cat = t.set_column(0, "id", pa.array(["D-1"]).dictionary_encode())
    assert as_dicts(shipped.check_arrow(cat, as_of=AS_OF))[0] == want
