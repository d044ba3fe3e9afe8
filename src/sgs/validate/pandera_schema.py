"""The pandera schemas of both record kinds, generated from the rule list.

One ``Column`` per field of the catalogue, one ``Check`` per rule, labelled ``FIELD|rule`` in
``error=`` (pandera's polars backend ignores ``name=`` in failure cases).  Checks are polars
expressions over the normalised frame and may read other columns, so cross-field rules stay
column checks on the field that must change.

Importing pandera costs about a second, most of it pandas, which pandera's polars API does
not use: pandera imports it only to offer its pandas API at top level, and skips it cleanly
when pandas is absent.  Likewise its polars backends import hypothesis (0.13 s) when it is
installed (a test dependency here), only for pandera's data-synthesis strategies.  So pandera
is imported with those two hidden unless they are already loaded (:func:`_unused_hidden`);
this module is imported in the background while a file is read (see
:func:`sgs.validate.pipeline.preload`).
"""

from __future__ import annotations

import importlib.abc
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl

# Packages pandera imports if present but that the polars API never uses.
UNUSED_BY_PANDERA_POLARS = ("pandas", "hypothesis")


class _Hide(importlib.abc.MetaPathFinder):
    """Hides ``names`` from the thread that installed it; other threads import them as usual
    (a flow may import pandas for Great Expectations while a file is being validated)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.thread = threading.get_ident()

    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@contextmanager
def _unused_hidden() -> Iterator[None]:
    names = {n for n in UNUSED_BY_PANDERA_POLARS if n not in sys.modules}
    if not names:
        yield
        return
    finder = _Hide(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


with _unused_hidden():
    import pandera.polars as pa

    try:  # pandera looks for its pandas backends on first validation; answer "none" now.
        from pandera.backends.register_checks import _load_get_backend_types_from_mro

        _load_get_backend_types_from_mro()
    except ImportError:  # pragma: no cover - a pandera without this cache imports pandas later
        pass
    # pandera imports its polars backends on the first validation (about 0.25 s); do it here,
    # in the background import, rather than after the file has been read.
    pa.DataFrameSchema.register_default_backends(pl.DataFrame)

from sgs.config import cached_on_file, catalogue_path  # noqa: E402
from sgs.reference.catalogue import Kind, load_catalogue  # noqa: E402
from sgs.validate.parallel import thread_map  # noqa: E402
from sgs.validate.rules import Rule, build_rules  # noqa: E402


def _check(rule: Rule) -> pa.Check:
    expr = rule.ok.alias("ok")

    def run(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(expr)

    return pa.Check(run, error=rule.label)


@cached_on_file(catalogue_path)
def schema_for(kind: Kind, part: int = 0, parts: int = 1) -> pa.DataFrameSchema:
    """The pandera schema that enforces every rule of the standard for one kind.

    With ``parts`` > 1, the columns are dealt into that many schemas of about as many checks
    each, and this is schema number ``part``: together they enforce exactly the same rules,
    and :func:`failure_table` runs them side by side.
    """
    spec = load_catalogue().kind(kind)
    by_field: dict[str, list[pa.Check]] = {code: [] for code in spec.codes}
    for rule in build_rules(kind):
        by_field[rule.field].append(_check(rule))
    loads = [0] * parts
    mine: set[str] = set()
    for code in sorted(spec.codes, key=lambda c: -len(by_field[c])):
        lightest = loads.index(min(loads))
        loads[lightest] += len(by_field[code]) or 1
        if lightest == part:
            mine.add(code)
    columns = {
        f.code: pa.Column(pl.String, nullable=True, checks=by_field[f.code], title=f.name)
        for f in spec.fields
        if f.code in mine
    }
    name = f"sgs_{kind}" if parts == 1 else f"sgs_{kind}_{part + 1}of{parts}"
    return pa.DataFrameSchema(columns, strict=False, name=name)


def run_schema(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame | None:
    """pandera's failure cases of one schema on the frame, or None when it passes."""
    from pandera.config import ValidationDepth, config_context

    # pandera's configuration is a context variable: set in the thread that validates.
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            return exc.failure_cases
    return None


def failure_table(kind: Kind, frame: pl.DataFrame) -> pl.DataFrame:
    """Run the schema and return every failure as ``(index, label)``.

    ``index`` is the 0-based position in ``frame``.  A check that raised (a bug in a rule,
    never a data problem) is re-raised instead of being reported as a failing value.

    pandera runs one check after another, and most checks keep one core busy; so the columns
    are split into one schema per core, validated on threads (polars releases the GIL).
    """
    parts = min(os.cpu_count() or 1, 4)
    schemas = [schema_for(kind, i, parts) for i in range(parts)]
    found = [c for c in thread_map(lambda s: run_schema(s, frame), schemas) if c is not None]
    if not found:
        return pl.DataFrame(schema={"index": pl.Int64, "label": pl.String})
    cases = pl.concat(found, how="diagonal_relaxed")
    broken = cases.filter(pl.col("index").is_null())
    if broken.height:
        raise RuntimeError(f"schema could not run: {broken.rows(named=True)[:3]}")
    return cases.select(pl.col("index").cast(pl.Int64), pl.col("check").alias("label"))
