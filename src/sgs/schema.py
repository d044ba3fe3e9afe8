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
:func:`sgs.validation.preload`).
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import polars as pl

# Packages pandera imports if present but that the polars API never uses.
UNUSED_BY_PANDERA_POLARS = ("pandas", "hypothesis")


class _Hide(importlib.abc.MetaPathFinder):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in self.names:
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

from sgs.catalogue import Kind, load_catalogue  # noqa: E402
from sgs.rules import Rule, build_rules  # noqa: E402


def _check(rule: Rule) -> pa.Check:
    expr = rule.ok.alias("ok")

    def run(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(expr)

    return pa.Check(run, error=rule.label)


@cache
def schema_for(kind: Kind) -> pa.DataFrameSchema:
    """The pandera schema that enforces every rule of the standard for one kind."""
    spec = load_catalogue().kind(kind)
    by_field: dict[str, list[pa.Check]] = {code: [] for code in spec.codes}
    for rule in build_rules(kind):
        by_field[rule.field].append(_check(rule))
    columns = {
        f.code: pa.Column(pl.String, nullable=True, checks=by_field[f.code], title=f.name)
        for f in spec.fields
    }
    return pa.DataFrameSchema(columns, strict=False, name=f"sgs_{kind}")


def failure_table(kind: Kind, frame: pl.DataFrame) -> pl.DataFrame:
    """Run the schema and return every failure as ``(index, label)``.

    ``index`` is the 0-based position in ``frame``.  A check that raised (a bug in a rule,
    never a data problem) is re-raised instead of being reported as a failing value.
    """
    from pandera.config import ValidationDepth, config_context

    schema = schema_for(kind)
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            cases = exc.failure_cases
        else:
            return pl.DataFrame(schema={"index": pl.Int64, "label": pl.String})
    broken = cases.filter(pl.col("index").is_null())
    if broken.height:
        raise RuntimeError(f"schema could not run: {broken.rows(named=True)[:3]}")
    return cases.select(pl.col("index").cast(pl.Int64), pl.col("check").alias("label"))
