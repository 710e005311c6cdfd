#!/usr/bin/env bash
# The Python package (crates/kycrules-py): build the wheel with maturin, install
# it in a virtual environment under target/, and run its pytest suite, the Spark
# backtest included. The environment is kept between runs; a fresh machine needs
# Python 3.11 (with venv) and Java 17 for Spark, and reaches PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/py-venv
py="$venv/bin/python"
if [ ! -x "$py" ] || ! "$py" -c 'import maturin, pytest, pyarrow, polars, pandas, pyspark' 2>/dev/null; then
  python3 -m venv "$venv"
  "$py" -m pip install --quiet --upgrade pip
  "$py" -m pip install --quiet maturin pytest pyarrow polars pandas pyspark
fi

# The command line the tests compare against (built already by `cargo test`),
# and the wheel, optimised.
cargo build --locked --bin kycrules
rm -rf target/wheels/kycrules-*.whl
"$venv/bin/maturin" build --release --locked --quiet -m crates/kycrules-py/Cargo.toml -o target/wheels
"$py" -m pip install --quiet --force-reinstall --no-deps target/wheels/kycrules-*.whl

export KYCRULES="$PWD/target/debug/kycrules"
cd crates/kycrules-py/tests
"$PWD/../../../$py" -m pytest -q -p no:cacheprovider .
