"""``HotInsert``: the inserts every store makes, run without SQLAlchemy's per-execution work.

A store writes five rows (its session, its blob reference, the artifact and two events), one
after another under the catalog's write lock, so their cost bounds how many stores a second
one process commits. Through SQLAlchemy each insert builds an execution context, a cache key
and (for the upserts change capture asks ``RETURNING`` of) a new statement: several times the
insert itself. A ``HotInsert`` is compiled once per set of columns given and, on SQLite, run
on the driver's cursor with each value through its column type's bind processor, exactly as
SQLAlchemy would send it (JSON encoded, and so on); rows it returns are named tuples. Anything
its plan cannot express (a Python-side default to compute, a column type whose results need
processing) runs through SQLAlchemy instead, as on every other database.
"""

from __future__ import annotations

import collections
import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert

__all__ = ["HotInsert", "InsertPlan"]


class InsertPlan:
    """One compiled insert: its SQL, where each positional value comes from, and (with
    ``RETURNING``) the type of the rows it returns."""

    __slots__ = ("_fill", "_get", "_processed", "row_type", "slots", "sql")

    def __init__(
        self,
        sql: str,
        slots: tuple[tuple[str | None, Callable[[Any], Any] | None, Any], ...],
        row_type: Any,
    ) -> None:
        self.sql = sql
        self.slots = slots  # (parameter name, bind processor, constant when the name is None)
        self.row_type = row_type
        # values() runs for every row a store writes: the named values are taken in one C call
        # (itemgetter), then the few that need a bind processor (JSON, say) are converted, and
        # constants, if any, are put in their places.
        names = [name for name, _process, _constant in slots if name is not None]
        self._get: Callable[[dict[str, Any]], Any] | None = (
            operator.itemgetter(*names) if len(names) > 1 else None
        )
        self._processed = tuple(
            (index, process)
            for index, (_name, process) in enumerate(
                (name, process) for name, process, _constant in slots if name is not None
            )
            if process is not None
        )
        self._fill = tuple(
            (index, constant) for index, (name, _p, constant) in enumerate(slots) if name is None
        )

    def values(self, parameters: dict[str, Any]) -> tuple[Any, ...] | list[Any]:
        if self._get is None:  # one named value or none: the general way
            return self._each(parameters)
        values = self._get(parameters)
        if not self._processed and not self._fill:
            return values  # type: ignore[no-any-return]
        converted = list(values)
        for index, process in self._processed:
            converted[index] = process(converted[index])
        for index, constant in self._fill:
            converted.insert(index, constant)
        return converted

    def _each(self, parameters: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            constant
            if name is None
            else parameters[name]
            if process is None
            else process(parameters[name])
            for name, process, constant in self.slots
        )


class HotInsert:
    """An INSERT into *table* (plain, or *statement*: the dialect's ON CONFLICT form) whose
    values come as parameters. ``plain`` inserts write exactly their values, so change capture
    takes the row's image from them; the others are run :meth:`returning_all` instead."""

    __slots__ = ("_plans", "_returning", "statement", "table")

    def __init__(self, table: Table, statement: Insert | None = None) -> None:
        self.table = table
        self.statement = statement if statement is not None else insert(table)
        self._plans: dict[tuple[str, ...], InsertPlan | None] = {}
        self._returning: HotInsert | None = None

    @property
    def plain(self) -> bool:
        """True when the row written is exactly the values given (no ON CONFLICT clause)."""
        return self.statement._post_values_clause is None

    def returning_all(self) -> HotInsert:
        """This insert, returning every column of each row it wrote (built once)."""
        if self._returning is None:
            self._returning = HotInsert(self.table, self.statement.returning(*self.table.c))
        return self._returning

    def plan(self, dialect: Dialect, columns: tuple[str, ...]) -> InsertPlan | None:
        """How to run an insert of *columns* on *dialect*'s driver; None when SQLAlchemy must."""
        if columns not in self._plans:
            self._plans[columns] = self._compile(dialect, columns)
        return self._plans[columns]

    def _compile(self, dialect: Dialect, columns: tuple[str, ...]) -> InsertPlan | None:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(columns))
        if (
            dialect.paramstyle != "qmark"
            or compiled.positiontup is None
            or compiled.insert_prefetch
            or compiled.literal_execute_params
            or compiled.post_compile_params
        ):
            return None
        processors = compiled._bind_processors
        fixed = compiled.construct_params(_check=False)  # values the statement carries itself
        slots: list[tuple[str | None, Callable[[Any], Any] | None, Any]] = []
        for name in compiled.positiontup:
            process = processors.get(name)
            if process is not None and not callable(process):
                return None  # a tuple type's processors: SQLAlchemy does that
            if name in columns:
                slots.append((name, process, None))
            elif name in fixed:  # e.g. ON CONFLICT ... SET column = <a value of its own>
                value = fixed[name]
                slots.append((None, None, value if process is None else process(value)))
            else:
                return None
        row_type: Any = None
        if compiled.effective_returning:
            returned = list(compiled.effective_returning)
            if any(column.type._cached_result_processor(dialect, None) for column in returned):
                return None  # its rows need processing: SQLAlchemy does that
            names = [str(column.key) for column in returned]
            row_type = collections.namedtuple("HotInsertRow", names)  # type: ignore[misc, no-redef]
        return InsertPlan(str(compiled), tuple(slots), row_type)
