"""Shared helpers: the repository, the `kycrules` command line to compare
against, generated corpora, and applications as Arrow tables."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

REPO = Path(__file__).resolve().parents[3]
# Every comparison judges as of one fixed date, so no test depends on today.
AS_OF = "2026-12-01"


def cli_path() -> str:
    return os.environ.get("KYCRULES") or str(REPO / "target" / "release" / "kycrules")


def cli(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Runs the command line; exit status 1 and 2 are answers, not failures."""
    done = subprocess.run([cli_path(), *args], capture_output=True, cwd=REPO)
    if done.returncode not in (0, 1, 2):
        raise AssertionError(f"kycrules {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
    return done


def cli_decisions(path, *extra: str) -> list:
    """`kycrules check --format json` on a file: one dict per record, in order."""
    out = cli("check", "--format", "json", "--as-of", AS_OF, *extra, str(path)).stdout
    return [json.loads(line) for line in out.splitlines()]


def without_source(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "source"}


def drop_nulls(value):
    """A record as Arrow holds it, with nulls as absent fields (as check_arrow reads them)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def to_arrow(records: list) -> tuple[pa.Table, list]:
    """The records Arrow can hold as one table (a column has one type, so a
    record with a value of another type than its column's cannot be a row):
    the table and the records, as dicts, that became its rows."""
    kept = list(records)
    while True:
        try:
            table = pa.Table.from_pylist(kept)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Infer the schema from the records one by one and keep those that fit it.
            schema = pa.Table.from_pylist(kept[:1]).schema
            for r in kept[1:2000]:
                try:
                    schema = pa.unify_schemas([schema, pa.Table.from_pylist([r]).schema], promote_options="permissive")
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    pass
            fit = []
            for r in kept:
                try:
                    pa.Table.from_pylist([r], schema=schema)
                    fit.append(r)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    pass
            kept = fit
            continue
        rows = [drop_nulls(r) for r in table.to_pylist()]
        return table, rows


def write_jsonl(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False))
            f.write("\n")
    return path


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """`kycrules gen 100000 --seed 7` as (path, list of parsed lines)."""
    path = tmp_path_factory.mktemp("gen") / "gen-100k.jsonl"
    path.write_bytes(cli("gen", "100000", "--seed", "7").stdout)
    return path
