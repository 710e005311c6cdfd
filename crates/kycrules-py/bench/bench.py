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
import resource
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

    def children_cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    cpu0 = children_cpu()
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(
            [cli, "check", "--format", "json", "--as-of", AS_OF, "--jobs", str(args.threads), str(jsonl)],
            stdout=null,
        )
    cli_s = time.perf_counter() - start
    cli_cpu = children_cpu() - cpu0

    p = kycrules.Policy.shipped()
    cpu0 = time.process_time()
    start = time.perf_counter()
    decided = p.check_arrow(pq.read_table(parquet), as_of=AS_OF)
    arrow_s = time.perf_counter() - start
    arrow_cpu = time.process_time() - cpu0
    assert decided.num_rows == n

    dicts = [json.loads(line) for _, line in zip(range(args.many), open(jsonl, encoding="utf-8"))]
    cpu0 = time.process_time()
    start = time.perf_counter()
    got = p.check_many(dicts, as_of=AS_OF)
    many_s = time.perf_counter() - start
    many_cpu = time.process_time() - cpu0
    assert len(got) == len(dicts)

    print(f"records {n}, threads {args.threads}, load average {os.getloadavg()}")
    print("                          wall records/s        CPU records/s (per CPU-second)")
    print(f"cli check --format json : {n / cli_s:10.0f} ({cli_s:6.1f} s)  {n / cli_cpu:10.0f} ({cli_cpu:6.1f} s)")
    print(f"check_arrow (Parquet)   : {n / arrow_s:10.0f} ({arrow_s:6.1f} s)  {n / arrow_cpu:10.0f} ({arrow_cpu:6.1f} s)")
    m = len(dicts)
    print(f"check_many ({m} dicts): {m / many_s:10.0f} ({many_s:6.1f} s)  {m / many_cpu:10.0f} ({many_cpu:6.1f} s)")
    print(f"check_arrow / cli       : wall {cli_s / arrow_s:.2f}, CPU {cli_cpu / arrow_cpu:.2f}")


if __name__ == "__main__":
    main()
