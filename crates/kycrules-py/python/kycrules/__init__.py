"""kycrules: decide onboarding applications against kycrules policies.

A decision is the object ``kycrules check --format json`` prints for the same
record: the engine renders the JSON line and this module parses it, so Python,
the command line and every other front agree byte for byte.

    import kycrules
    p = kycrules.Policy.shipped()
    p.check({"id": "A-1", ...})          # -> dict
    p.check_many(records)                # -> list of dicts, in order
    p.check_arrow(table)                 # -> pyarrow.Table
"""

from __future__ import annotations

import datetime as _dt
import io as _io
import json as _json
import os as _os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _kycrules
from ._kycrules import PolicyError

__all__ = ["Policy", "PolicyError", "DECISIONS_SCHEMA", "read_applications"]

PathLike = Union[str, "_os.PathLike[str]"]


def _date(as_of: Any) -> Optional[str]:
    if as_of is None:
        return None
    if isinstance(as_of, _dt.datetime):
        raise TypeError("as_of takes a date (datetime.date or 'YYYY-MM-DD'), not a datetime")
    if isinstance(as_of, _dt.date):
        return as_of.isoformat()
    if isinstance(as_of, str):
        return as_of
    raise TypeError(f"as_of takes a datetime.date or a 'YYYY-MM-DD' string, not {type(as_of).__name__}")


def _decisions_schema():
    import pyarrow as pa

    violation = pa.struct(
        [
            ("rule", pa.string()),
            ("outcome", pa.string()),
            ("fields", pa.list_(pa.string())),
            ("message", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("decision", pa.string()),
            ("next_step", pa.string()),
            ("violations", pa.list_(violation)),
            ("policy_hash", pa.string()),
            ("error", pa.string()),
        ]
    )


def __getattr__(name: str):
    if name == "DECISIONS_SCHEMA":
        return _decisions_schema()
    raise AttributeError(name)


def _as_stream(data: Any):
    """The Arrow C stream capsule of any Arrow producer."""
    if hasattr(data, "__arrow_c_stream__"):
        return data.__arrow_c_stream__()
    if hasattr(data, "__arrow_c_array__"):
        import pyarrow as pa

        return pa.record_batch(data).__arrow_c_stream__()
    # pandas DataFrames and DuckDB relations of older versions.
    if hasattr(data, "to_arrow_table"):
        return data.to_arrow_table().__arrow_c_stream__()
    if hasattr(data, "arrow"):
        out = data.arrow()
        if hasattr(out, "__arrow_c_stream__"):
            return out.__arrow_c_stream__()
    try:
        import pandas as pd  # noqa: F401

        if isinstance(data, pd.DataFrame):
            import pyarrow as pa

            return pa.Table.from_pandas(data, preserve_index=False).__arrow_c_stream__()
    except ImportError:
        pass
    raise TypeError(
        f"check_arrow takes an Arrow table, record batch or stream (an object with "
        f"__arrow_c_stream__ or __arrow_c_array__), not {type(data).__name__}"
    )


def read_applications(paths: Union[PathLike, Sequence[PathLike]]) -> list:
    """Reads application files as ``kycrules check`` does (YAML 1.2 core
    documents, JSON, JSON Lines, directories in sorted order): a list of
    ``(source, application dict or None, error or None)``, one per record."""
    if isinstance(paths, (str, bytes, _os.PathLike)):
        paths = [paths]
    return [
        (source, None if text is None else _json.loads(text), error)
        for source, text, error in _kycrules.read_applications([_os.fspath(p) for p in paths])
    ]


class Policy:
    """A compiled policy. Safe to share between threads."""

    __slots__ = ("_p",)

    def __init__(self, native: "_kycrules.Policy") -> None:
        self._p = native

    @classmethod
    def shipped(cls) -> "Policy":
        """The policy shipped inside kycrules."""
        return cls(_kycrules.Policy.shipped())

    @classmethod
    def load(cls, paths: Union[PathLike, Sequence[PathLike]]) -> "Policy":
        """Reads a ``.rules`` file, a directory of them, or a list of both.

        Raises ``PolicyError`` (with ``.diagnostics``) when the policy does not compile.
        """
        if isinstance(paths, (str, bytes, _os.PathLike)):
            paths = [paths]
        return cls(_kycrules.Policy.load([_os.fspath(p) for p in paths]))

    @classmethod
    def from_texts(cls, files: Mapping[str, str]) -> "Policy":
        """Compiles policy text: ``{file name: text}``."""
        return cls(_kycrules.Policy.from_texts(list(files.items())))

    @property
    def name(self) -> str:
        return self._p.name

    @property
    def version(self) -> str:
        return self._p.version

    @property
    def hash(self) -> str:
        return self._p.hash

    @property
    def languages(self) -> list:
        return self._p.languages

    @property
    def warnings(self) -> list:
        return self._p.warnings

    def __repr__(self) -> str:
        return f"<kycrules.Policy {self.name!r} version {self.version!r} hash {self.hash}>"

    def check_json(self, app: Mapping[str, Any], lang: Optional[str] = None, as_of: Any = None) -> str:
        """The decision as the exact JSON line ``kycrules check --format json`` prints."""
        return self._p.check_line(app, lang, _date(as_of)).decode()

    def check(self, app: Mapping[str, Any], lang: Optional[str] = None, as_of: Any = None) -> dict:
        """Decides one application: the object of a ``check --format json`` line."""
        return _json.loads(self._p.check_line(app, lang, _date(as_of)))

    def check_many(self, apps: Iterable[Mapping[str, Any]], lang: Optional[str] = None, as_of: Any = None) -> list:
        """Decides many applications on kycrules' thread pool, the GIL released
        while they are evaluated; one decision per application, in order."""
        loads = _json.loads
        return [loads(line) for line in self._p.check_lines(apps, lang, _date(as_of))]

    def check_arrow(self, data: Any, lang: Optional[str] = None, as_of: Any = None):
        """Decides every row of an Arrow table, record batch or stream (pyarrow,
        Polars, DuckDB, ... through the Arrow PyCapsule interface).

        Columns hold the application's fields (struct and list columns for its
        nested parts); a null is an absent field. Returns a ``pyarrow.Table``
        with one row per input row, in order: id, decision, next_step,
        violations (list of struct rule, outcome, fields, message),
        policy_hash, and error (why an ``error`` row could not be evaluated).
        """
        import pyarrow as pa
        import pyarrow.json as pj

        schema = _decisions_schema()
        read_schema = pa.schema(
            [f for f in schema if f.name != "policy_hash"] + [("policy", pa.struct([("hash", pa.string())]))]
        )
        parse = pj.ParseOptions(explicit_schema=read_schema, unexpected_field_behavior="ignore")
        lines = self._p.arrow_lines(_as_stream(data), lang, _date(as_of))
        tables = []
        for chunk in lines:
            if not chunk:
                continue
            t = pj.read_json(
                _io.BytesIO(chunk),
                read_options=pj.ReadOptions(block_size=max(1 << 20, len(chunk) + 1)),
                parse_options=parse,
            )
            hashes = t.column("policy").combine_chunks().field("hash")
            tables.append(
                pa.table(
                    [t.column(n) for n in ("id", "decision", "next_step", "violations")]
                    + [hashes, t.column("error")],
                    schema=schema,
                )
            )
        if not tables:
            return schema.empty_table()
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    def explain(
        self, app: Mapping[str, Any], lang: Optional[str] = None, as_of: Any = None, show_pii: bool = False
    ) -> dict:
        """Why the application got its decision, rule by rule (the object
        ``kycrules explain --format json`` prints). An application that cannot
        be evaluated gives ``{"decision": "error", "error": ...}``."""
        return _json.loads(self._p.explain_json(app, lang, _date(as_of), show_pii))
