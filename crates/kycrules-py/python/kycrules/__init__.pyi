import datetime
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, TypedDict, Union

import pyarrow

from ._kycrules import PolicyError as PolicyError

PathLike = Union[str, os.PathLike[str]]
Date = Union[str, datetime.date, None]

class Diagnostic(TypedDict):
    code: str
    severity: str
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    message: str
    help: Optional[str]

DECISIONS_SCHEMA: pyarrow.Schema

def read_applications(
    paths: Union[PathLike, Sequence[PathLike]],
) -> list[tuple[str, Optional[dict[str, Any]], Optional[str]]]: ...

class Policy:
    @classmethod
    def shipped(cls) -> "Policy": ...
    @classmethod
    def load(cls, paths: Union[PathLike, Sequence[PathLike]]) -> "Policy": ...
    @classmethod
    def from_texts(cls, files: Mapping[str, str]) -> "Policy": ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def languages(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    def check_json(self, app: Mapping[str, Any], lang: Optional[str] = None, as_of: Date = None) -> str: ...
    def check(self, app: Mapping[str, Any], lang: Optional[str] = None, as_of: Date = None) -> dict[str, Any]: ...
    def check_many(
        self, apps: Iterable[Mapping[str, Any]], lang: Optional[str] = None, as_of: Date = None
    ) -> list[dict[str, Any]]: ...
    def check_arrow(self, data: Any, lang: Optional[str] = None, as_of: Date = None) -> pyarrow.Table: ...
    def explain(
        self, app: Mapping[str, Any], lang: Optional[str] = None, as_of: Date = None, show_pii: bool = False
    ) -> dict[str, Any]: ...
