"""The Spark backtest (examples/spark/backtest.py) in local[2] mode: every
decision under both policies equals the command line's on the same records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict

import pyarrow.parquet as pq
import pytest

from conftest import AS_OF, REPO, cli, cli_decisions, to_arrow, write_jsonl

pytest.importorskip("pyspark")

N = 20_000
NEW = REPO / "examples" / "policy-change" / "rules"


def keyed(decisions):
    """id -> the sorted decisions of the records with that id."""
    out = defaultdict(list)
    for d in decisions:
        out[d["id"]].append(json.dumps(d, sort_keys=True, ensure_ascii=False))
    return {k: sorted(v) for k, v in out.items()}


def side(row: dict, prefix: str) -> dict:
    d = {"id": row["id"], "decision": row[f"{prefix}_decision"]}
    if d["decision"] == "error":
        d["error"] = row[f"{prefix}_error"]
    else:
        d["next_step"] = row[f"{prefix}_next_step"]
        d["violations"] = row[f"{prefix}_violations"]
    return d


def cli_side(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in ("source", "policy")}


def test_spark_backtest_equals_the_cli(tmp_path):
    gen = cli("gen", str(N), "--seed", "11").stdout.decode().splitlines()
    table, rows = to_arrow([json.loads(line) for line in gen])
    assert len(rows) >= N * 0.99
    pq.write_table(table, tmp_path / "apps.parquet", row_group_size=2_500)
    out = tmp_path / "out"
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "spark" / "backtest.py"),
            "--apps", str(tmp_path / "apps.parquet"),
            "--new", str(NEW),
            "--out", str(out),
            "--as-of", AS_OF,
            "--master", "local[2]",
            "--partitions", "4",
        ],
        capture_output=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr.decode()[-4000:]
    decided = pq.read_table(out / "decisions").to_pylist()
    assert len(decided) == len(rows)

    jsonl = write_jsonl(tmp_path / "rows.jsonl", rows)
    old = [cli_side(d) for d in cli_decisions(jsonl)]
    new = [cli_side(d) for d in cli_decisions(jsonl, "--policy", str(NEW))]
    assert keyed(side(r, "old") for r in decided) == keyed(old)
    assert keyed(side(r, "new") for r in decided) == keyed(new)

    # The transition matrix and the changed applications agree with the decisions.
    matrix = (out / "transitions.csv").read_text().splitlines()
    assert matrix[0] == "old_decision,new_decision,count"
    assert sum(int(line.rsplit(",", 1)[1]) for line in matrix[1:]) == len(rows)
    changed = pq.read_table(out / "changed").to_pylist()
    flipped = [
        (o["id"], n["decision"]) for o, n in zip(old, new) if (o["decision"], o.get("next_step")) != (n["decision"], n.get("next_step"))
    ]
    assert len(changed) == len(flipped) > 0
    assert sorted((r["id"], r["new_decision"]) for r in changed) == sorted(flipped, key=lambda x: (x[0] is None, x))
