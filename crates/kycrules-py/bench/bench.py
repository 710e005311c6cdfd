"""Throughput of the Python package beside the command line, on the same records.

    python crates/kycrules-py/bench/bench.py --records 1000000 --threads 2

Generates `kycrules gen N --seed 42`, makes it one Arrow table (numbers as
text) written to Parquet, writes the same rows as JSON Lines, then times, one
after the other on the same machine:

  cli      kycrules check --format json --jobs T  on the JSON Lines (output to /dev/null)
  arrow    Policy.check_arrow(pyarrow.parquet.read_table(...)) (Parquet read included)
  many     Policy.check_many(dicts)  (dicts already in memory)

and prints records per second and the ratio arrow / cli. RAYON_NUM_THREADS
bounds the package's thread pool to T as --jobs bounds the command line's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
AS_OF = "2026-12-01"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--many", type=int, default=200_000, help="records for check_many")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", default=str(REPO / "target" / "bench-py"))
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)

    import pyarrow.parquet as pq

    sys.path.insert(0, str(REPO / "crates" / "kycrules-py" / "tests"))
    from conftest import to_arrow, write_jsonl

    import kycrules

    cli = os.environ.get("KYCRULES") or str(REPO / "target" / "release" / "kycrules")
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    parquet = work / f"apps-{args.records}.parquet"
    jsonl = work / f"rows-{args.records}.jsonl"
    if not parquet.exists() or not jsonl.exists():
        gen = subprocess.run([cli, "gen", str(args.records), "--seed", "42"], capture_output=True, check=True).stdout
        table, rows = to_arrow([json.loads(line) for line in gen.splitlines()])
        pq.write_table(table, parquet, row_group_size=65_536)
        write_jsonl(jsonl, rows)
        del table, rows, gen
    n = pq.ParquetFile(parquet).metadata.num_rows

    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(
            [cli, "check", "--format", "json", "--as-of", AS_OF, "--jobs", str(args.threads), str(jsonl)],
            stdout=null,
        )
    cli_s = time.perf_counter() - start

    p = kycrules.Policy.shipped()
    start = time.perf_counter()
    decided = p.check_arrow(pq.read_table(parquet), as_of=AS_OF)
    arrow_s = time.perf_counter() - start
    assert decided.num_rows == n

    dicts = [json.loads(line) for _, line in zip(range(args.many), open(jsonl, encoding="utf-8"))]
    start = time.perf_counter()
    got = p.check_many(dicts, as_of=AS_OF)
    many_s = time.perf_counter() - start
    assert len(got) == len(dicts)

    print(f"records {n}, threads {args.threads}, load average {os.getloadavg()}")
    print(f"cli check --format json : {n / cli_s:10.0f} records/s ({cli_s:.1f} s)")
    print(f"check_arrow (Parquet)   : {n / arrow_s:10.0f} records/s ({arrow_s:.1f} s)")
    print(f"check_many (dicts)      : {len(dicts) / many_s:10.0f} records/s ({many_s:.1f} s, {len(dicts)} records)")
    print(f"check_arrow / cli       : {cli_s / arrow_s:.2f}")


if __name__ == "__main__":
    main()
