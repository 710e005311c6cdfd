"""The Python API of kycrules against the command line: every call, the shipped
examples, generated corpora, input errors, bad policies and the GIL."""

from __future__ import annotations

import datetime
import json
import threading
import time

import pytest

import kycrules
from conftest import AS_OF, REPO, cli, cli_decisions, without_source

EXAMPLES = REPO / "examples" / "applications"


@pytest.fixture(scope="module")
def shipped():
    return kycrules.Policy.shipped()


def test_stamp_is_the_command_lines(shipped):
    line = cli_decisions(EXAMPLES / "05-batch.jsonl")[0]
    assert line["policy"] == {"name": shipped.name, "version": shipped.version, "hash": shipped.hash}
    assert len(shipped.hash) == 16
    assert shipped.languages[0] == "en"
    assert repr(shipped).startswith("<kycrules.Policy ")


def test_load_a_directory_a_file_list_and_a_path(shipped, tmp_path):
    from_dir = kycrules.Policy.load(REPO / "rules")
    files = sorted(str(p) for p in (REPO / "rules").glob("*.rules"))
    from_list = kycrules.Policy.load(files)
    assert from_dir.name == from_list.name == shipped.name
    assert from_dir.hash == from_list.hash
    changed = kycrules.Policy.load(str(REPO / "examples" / "policy-change" / "rules"))
    assert changed.hash != from_dir.hash and changed.version != shipped.version


def test_from_texts():
    text = (REPO / "examples" / "tour" / "tour.rules").read_text()
    p = kycrules.Policy.from_texts({"tour.rules": text})
    assert p.name == "tour-wallet"
    d = p.check({"id": "T-1", "name": "Ada", "age": 17}, as_of=AS_OF)
    assert d["id"] == "T-1" and d["decision"] in {"accept", "review", "limited", "reject"}


def test_shipped_examples_decide_as_check(shipped):
    """Every example application, read as check reads it, gets check's object
    and check's JSON line, byte for byte but for the source label."""
    records = kycrules.read_applications(EXAMPLES)
    lines = cli("check", "--format", "json", "--as-of", AS_OF, str(EXAMPLES)).stdout.decode().splitlines()
    assert len(records) == len(lines) > 10
    compared = 0
    for (source, app, error), line in zip(records, lines):
        want = json.loads(line)
        assert source == want["source"]
        if app is None:
            assert want["decision"] == "error" and error
            continue
        assert without_source(shipped.check(app, as_of=AS_OF)) == without_source(want), source
        mine = shipped.check_json(app, as_of=AS_OF)
        assert mine.replace('"source":"python"', '"source":' + json.dumps(source, ensure_ascii=False), 1) == line
        compared += 1
    assert compared >= 10


def test_lang_and_as_of(shipped):
    records = [app for _, app, _ in kycrules.read_applications(EXAMPLES / "04-rejected.yaml") if app]
    zh = cli_decisions(EXAMPLES / "04-rejected.yaml", "--lang", "zh")
    for app, want in zip(records, zh):
        assert without_source(shipped.check(app, lang="zh", as_of=AS_OF)) == without_source(want)
    app = records[0]
    assert shipped.check(app, as_of=datetime.date(2026, 12, 1)) == shipped.check(app, as_of=AS_OF)
    with pytest.raises(ValueError, match="as_of"):
        shipped.check(app, as_of="1 December")
    with pytest.raises(TypeError):
        shipped.check(app, as_of=20261201)


def test_check_many_equals_check_and_the_cli_on_100k(shipped, corpus):
    lines = corpus.read_text(encoding="utf-8").splitlines()
    apps = [json.loads(line) for line in lines]
    want = cli_decisions(corpus)
    got = shipped.check_many(apps, as_of=AS_OF)
    assert len(got) == len(want) == 100_000
    mismatches = [i for i, (g, w) in enumerate(zip(got, want)) if without_source(g) != without_source(w)]
    assert mismatches == []
    assert got[12345]["source"] == "python[12345]"
    # check, one by one, on a sample spread over the corpus.
    for i in range(0, 100_000, 997):
        assert without_source(shipped.check(apps[i], as_of=AS_OF)) == without_source(want[i])
    assert {d["decision"] for d in got} >= {"accept", "review", "limited", "reject", "error"}


def test_check_many_takes_any_iterable_and_keeps_order(shipped):
    apps = ({"id": f"A-{i}"} for i in range(20_000))
    got = shipped.check_many(apps, as_of=AS_OF)
    assert [d["id"] for d in got] == [f"A-{i}" for i in range(20_000)]
    assert shipped.check_many([], as_of=AS_OF) == []


def test_input_errors_are_decisions_not_exceptions(shipped):
    base = next(app for _, app, _ in kycrules.read_applications(EXAMPLES / "01-accepted.yaml") if app)
    assert shipped.check(base, as_of=AS_OF)["decision"] == "accept"

    wrong = json.loads(json.dumps(base))
    wrong["applicant"]["name"] = 42
    d = shipped.check(wrong, as_of=AS_OF)
    assert d["decision"] == "error" and d["error"].startswith("applicant.name")
    # The same fault in a JSON line gives the same text.
    assert d["error"] == json.loads(
        subprocess_check(json.dumps(wrong))
    )["error"]

    odd = json.loads(json.dumps(base))
    odd["applicant"]["name"] = {1, 2}
    d = shipped.check(odd, as_of=AS_OF)
    assert d["decision"] == "error" and "applicant.name" in d["error"] and "set" in d["error"]

    nan = json.loads(json.dumps(base))
    nan["verification"] = {"deposited": float("nan")}
    d = shipped.check(nan, as_of=AS_OF)
    assert d["decision"] == "error" and d["error"].startswith("verification.deposited")

    key = json.loads(json.dumps(base))
    key["applicant"][7] = "x"
    assert shipped.check(key, as_of=AS_OF)["decision"] == "error"

    deep: dict = {}
    cur = deep
    for _ in range(200):
        cur["x"] = {}
        cur = cur["x"]
    d = shipped.check(deep, as_of=AS_OF)
    assert d["decision"] == "error" and "nested deeper than" in d["error"]

    cyclic: dict = {"id": "C-1"}
    cyclic["self"] = cyclic
    assert shipped.check(cyclic, as_of=AS_OF)["decision"] == "error"

    assert shipped.check([1, 2, 3], as_of=AS_OF)["decision"] == "error"
    assert [d["decision"] for d in shipped.check_many([base, wrong, odd, base], as_of=AS_OF)] == [
        "accept",
        "error",
        "error",
        "accept",
    ]


def subprocess_check(line: str) -> str:
    import subprocess

    from conftest import cli_path

    done = subprocess.run(
        [cli_path(), "check", "--format", "json", "--as-of", AS_OF, "-"], input=line.encode(), capture_output=True
    )
    return done.stdout.decode().splitlines()[0]


def test_decimals_dates_and_numpy_values(shipped):
    import decimal

    import numpy as np

    base = next(app for _, app, _ in kycrules.read_applications(EXAMPLES / "02-review.yaml") if app)
    plain = shipped.check(base, as_of=AS_OF)
    if "verification" in base:
        v = dict(base["verification"])
        v["deposited"] = decimal.Decimal(str(v["deposited"]))
        assert without_source(shipped.check({**base, "verification": v}, as_of=AS_OF)) == without_source(plain)
    np_app = json.loads(json.dumps(base))
    np_app["id"] = np.str_(base["id"])
    assert shipped.check(np_app, as_of=AS_OF)["id"] == base["id"]
    assert shipped.check({"id": "N", "applicant": {"name": np.int64(5)}}, as_of=AS_OF)["decision"] == "error"


def test_bad_policies_raise_policy_error_with_diagnostics(tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text('policy "x" version "1" languages en\n\nschema {\n  id: txet\n}\n\nrule r reject when nope {\n}\n')
    with pytest.raises(kycrules.PolicyError) as err:
        kycrules.Policy.load(bad)
    diags = err.value.diagnostics
    assert diags and isinstance(diags, list)
    for d in diags:
        assert set(d) >= {"code", "file", "line", "column", "message"}
    first = diags[0]
    assert first["file"].endswith("bad.rules") and first["line"] >= 1 and first["column"] >= 1
    assert first["code"].startswith("E")
    assert "error" in str(err.value)
    assert isinstance(err.value, ValueError)

    with pytest.raises(kycrules.PolicyError) as err:
        kycrules.Policy.load(tmp_path / "missing")
    assert err.value.diagnostics

    with pytest.raises(kycrules.PolicyError):
        kycrules.Policy.from_texts({"a.rules": "this is not a policy"})
    with pytest.raises(ValueError):
        kycrules.Policy.load([])


def test_explain(shipped):
    app = next(app for _, app, _ in kycrules.read_applications(EXAMPLES / "04-rejected.yaml") if app)
    ex = shipped.explain(app, as_of=AS_OF)
    d = shipped.check(app, as_of=AS_OF)
    assert ex["decision"] == d["decision"] == "reject"
    assert ex["id"] == app["id"]
    assert [r["id"] for r in ex["rules"] if r["fired"]] == [v["rule"] for v in d["violations"]]
    assert ex["policy"]["hash"] == shipped.hash
    # The command line's explanation, as JSON, is the same object but for the source.
    want = json.loads(
        cli("explain", "--format", "json", "--as-of", AS_OF, "--id", app["id"], str(EXAMPLES / "04-rejected.yaml")).stdout
    )
    assert without_source(ex) == without_source(want)
    broken = shipped.explain({"id": "E-1", "applicant": 3}, as_of=AS_OF)
    assert broken["decision"] == "error" and broken["error"]


def test_the_gil_is_released_during_check_many(shipped, corpus):
    """A Python thread keeps counting while the engine evaluates."""
    apps = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()[:50_000]]
    count = 0
    stop = False

    def counter():
        nonlocal count
        while not stop:
            count += 1

    t = threading.Thread(target=counter)
    t.start()
    time.sleep(0.05)
    before = count
    start = time.perf_counter()
    lines = shipped._p.check_lines(apps, None, AS_OF)  # the native call alone: no Python runs inside it
    elapsed = time.perf_counter() - start
    during = count - before
    stop = True
    t.join()
    assert len(lines) == 50_000
    # Holding the GIL for the whole call, the counter would stand still; released
    # during evaluation, it counts on (a bare loop counts millions per second).
    assert during > 10_000, f"the counter advanced {during} times in {elapsed:.2f} s"
