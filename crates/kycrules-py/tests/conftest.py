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


def numbers_as_text(value):
    """Numbers written as text ("0.37" and 0.37 are the same amount to kycrules),
    so that a field that holds a number in some records and text in others is
    one text column."""
    if isinstance(value, dict):
        return {k: numbers_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_text(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    return value


def to_arrow(records: list) -> tuple[pa.Table, list]:
    """The records as one Arrow table, numbers as text, and the records (as
    dicts, nulls dropped) that became its rows. A record whose value does not
    fit its column's type (a list where the others hold a struct) cannot be a
    row of that table and is left out."""
    kept = [numbers_as_text(r) for r in records]
    try:
        table = pa.Table.from_pylist(kept)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        schema = pa.Table.from_pylist(kept[:5000]).schema
        fit = []
        for r in kept:
            try:
                pa.Table.from_pylist([r], schema=schema)
                fit.append(r)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        table = pa.Table.from_pylist(fit, schema=schema)
    return table, [drop_nulls(r) for r in table.to_pylist()]


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
