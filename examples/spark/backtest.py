"""Backtest a policy change on Spark: `kycrules diff` at cluster scale.

Reads a Parquet of applications (one row per application, the application's
nested parts as struct and list columns), decides every row under two policies
with `DataFrame.mapInArrow` (each policy is compiled once per Python worker
process and reused by every batch it evaluates), and writes to OUT:

  decisions/    Parquet: id, old_* and new_* decision, next_step, violations, error
  transitions.csv  the transition matrix: old decision, new decision, count
  changed/      Parquet: the applications whose decision or next step changed

    python examples/spark/backtest.py --apps apps.parquet \\
        --old rules/ --new examples/policy-change/ --out /tmp/backtest --master 'local[2]'

Without --old or --new, the policy shipped inside kycrules is used on that side.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pyarrow as pa

VIOLATIONS = "array<struct<rule:string,outcome:string,fields:array<string>,message:string>>"
OUT_SCHEMA = ", ".join(
    ["id string"]
    + [f"{side}_{col}" for side in ("old", "new") for col in (
        "decision string", "next_step string", f"violations {VIOLATIONS}", "error string")]
)


def _policy(paths):
    """The policy at `paths` (None: the shipped one), compiled once per process."""
    import kycrules

    cache = sys.modules[__name__].__dict__.setdefault("_POLICIES", {})
    key = tuple(paths) if paths else None
    if key not in cache:
        cache[key] = kycrules.Policy.load(list(paths)) if paths else kycrules.Policy.shipped()
    return cache[key]


def decide(old_paths, new_paths, as_of, seconds):
    """The function mapInArrow runs on each partition: Arrow batches in, the
    two policies' decisions out, with the time spent in kycrules added up."""

    def run(batches):
        old, new = _policy(old_paths), _policy(new_paths)
        for batch in batches:
            start = time.perf_counter()
            a = old.check_arrow(batch, as_of=as_of)
            b = new.check_arrow(batch, as_of=as_of)
            seconds.add(time.perf_counter() - start)
            cols = {"id": a.column("id")}
            for side, t in (("old", a), ("new", b)):
                for c in ("decision", "next_step", "violations", "error"):
                    cols[f"{side}_{c}"] = t.column(c)
            yield from pa.table(cols).to_batches()

    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", required=True, help="Parquet file or directory of applications")
    ap.add_argument("--old", nargs="*", default=None, help="the current policy (default: shipped)")
    ap.add_argument("--new", nargs="*", default=None, help="the changed policy (default: shipped)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--as-of", default=None, help="evaluation date YYYY-MM-DD (default: today)")
    ap.add_argument("--master", default=None, help="Spark master, e.g. local[2]")
    ap.add_argument("--partitions", type=int, default=None, help="repartition the input to N partitions")
    args = ap.parse_args(argv)

    from pyspark.sql import SparkSession, functions as F

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Local runs listen on the loopback interface only.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName("kycrules-backtest")
    if args.master:
        builder = builder.master(args.master)
    spark = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    wall = time.perf_counter()
    seconds = spark.sparkContext.accumulator(0.0)
    apps = spark.read.parquet(args.apps)
    if args.partitions:
        apps = apps.repartition(args.partitions)
    decided = apps.mapInArrow(decide(args.old, args.new, args.as_of, seconds), OUT_SCHEMA)
    decided.write.mode("overwrite").parquet(os.path.join(args.out, "decisions"))

    decided = spark.read.parquet(os.path.join(args.out, "decisions"))
    matrix = (
        decided.groupBy("old_decision", "new_decision").count().orderBy("old_decision", "new_decision").toPandas()
    )
    matrix.to_csv(os.path.join(args.out, "transitions.csv"), index=False)
    changed = decided.where(
        ~F.col("old_decision").eqNullSafe(F.col("new_decision"))
        | ~F.col("old_next_step").eqNullSafe(F.col("new_next_step"))
    )
    changed.write.mode("overwrite").parquet(os.path.join(args.out, "changed"))
    n_changed = spark.read.parquet(os.path.join(args.out, "changed")).count()
    wall = time.perf_counter() - wall
    total = int(matrix["count"].sum())

    print(matrix.to_string(index=False))
    print(f"{total} applications, {n_changed} changed decision or next step")
    print(
        f"wall {wall:.1f} s; kycrules (both policies, summed over tasks) {seconds.value:.1f} s",
        file=sys.stderr,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
