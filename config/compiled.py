"""Small reads that every page makes, compiled by the ORM once per process instead of once per request.

Building and compiling even a one-table ``values_list`` costs the ORM 0.2–0.3 ms of Python (measured
on sb_bench: the user's memberships 378 µs through the ORM, 75 µs as SQL; the session 239 vs 34 µs),
which is several times what PostgreSQL spends on it. A :class:`CompiledRead` keeps the ORM's
definition of the read (a function returning the queryset, so the model, the lookups and the order
stay written once, in the ORM) and the SQL the ORM writes for it; each call puts the real values in
the place of the placeholders' parameters. The text is the same on every call, so psycopg prepares it
once per connection (``DATABASE_SERVER_SIDE_BINDING``).

Only for reads whose SQL does not depend on the values (equality on a column, not a list that expands
to one placeholder per item) and that use each placeholder as given: not transformed (as
``startswith`` does) nor computed with. Each placeholder must be among the compiled parameters (every
occurrence takes the value), otherwise compiling raises ``ValueError``.
"""

import copy
import datetime
import uuid

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

#: Placeholder values by kind: unlikely literals, each found exactly once among the compiled parameters
#: (integers within every integer column's range: the ORM drops a lookup outside it).
_PLACEHOLDERS = {
    int: lambda i: -1_987_654_321 - i,
    str: lambda i: f"\x00compiled-read-placeholder-{i}\x00",
    datetime.datetime: lambda i: datetime.datetime(1901, 2, 3, 4, 5, 6, 700_000 + i, tzinfo=datetime.UTC),
    datetime.date: lambda i: datetime.date(1901, 3, 4) + datetime.timedelta(days=i),
    uuid.UUID: lambda i: uuid.UUID(int=0x5C0_4D1ED_0000 + i),
}


class _Compiled:
    """A read compiled for one database alias: the queryset, its compiler after ``as_sql`` (what the
    ORM's iterables read besides the rows: the selected columns, the related models' layout, the
    annotations), its SQL and parameters, and where the placeholders are among them."""

    def __init__(self, queryset, compiler, sql: str, params: list, positions: list[list[int]]):
        self.queryset = queryset
        self.compiler = compiler
        self.sql = sql
        self.params = params
        self.positions = positions

    def params_for(self, values) -> list:
        params = list(self.params)
        for positions, value in zip(self.positions, values, strict=True):
            for position in positions:
                params[position] = value
        return params


class CompiledRead:
    """``CompiledRead(Model, build, int, str, ...)``: ``build(*placeholders)`` returns a queryset of
    ``Model`` using each placeholder, one per kind given, as a plain parameter value. ``read(*values)``
    returns the rows of a ``values_list`` as tuples; ``instances(*values)`` the model instances of any
    queryset of the model (``select_related``, ``only``, annotations), made by the ORM's own iterable
    from the compiled statement. Either reads from the database the router reads ``Model`` from (as
    the queryset would), in the queryset's order. ``around``: SQL that ``read`` runs around the compiled
    statement, which takes the place of ``{}`` (e.g. an aggregate of its rows).

    The kind ``list`` is a list of integers (``pk__in=placeholder``): compiled once per length, each
    item its own parameter."""

    def __init__(self, model, build, *kinds: type, around: str = "{}"):
        self.model = model
        self.build = build
        self.kinds = kinds
        self.around = around
        self._compiled: dict[tuple, _Compiled] = {}

    def _compile(self, key: tuple) -> _Compiled:
        alias, lengths = key
        counter = iter(range(10_000))
        arguments, placeholders = [], []
        for kind, length in zip(self.kinds, lengths, strict=True):
            if kind is list:
                items = [_PLACEHOLDERS[int](next(counter)) for _ in range(length)]
                arguments.append(items)
                placeholders += items
            else:
                arguments.append(_PLACEHOLDERS[kind](next(counter)))
                placeholders.append(arguments[-1])
        queryset = self.build(*arguments)
        if queryset.model is not self.model:
            raise ValueError(f"a read of {queryset.model.__name__}, not of {self.model.__name__}")
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # e.g. an empty list: no rows, no statement (as the ORM does)
            compiled = self._compiled[key] = _Compiled(queryset, compiler, "", [], [])
            return compiled
        params = list(params)
        if self.around != "{}":
            sql = self.around.format(sql)
        positions = []
        for placeholder in placeholders:
            kind = type(placeholder)
            found = [i for i, param in enumerate(params) if type(param) is kind and param == placeholder]
            if not found:
                raise ValueError(f"placeholder {placeholder!r} is not one of the parameters")
            positions.append(found)
        compiled = self._compiled[key] = _Compiled(queryset, compiler, sql, params, positions)
        return compiled

    def _for(self, alias: str, values) -> tuple[_Compiled, list]:
        """The statement compiled for ``values`` (their lists' lengths) and its flat list of values."""
        if len(values) != len(self.kinds):
            raise TypeError(f"{len(self.kinds)} values, not {len(values)}")
        lengths = tuple(len(v) if kind is list else None for kind, v in zip(self.kinds, values, strict=True))
        flat = []
        for kind, value in zip(self.kinds, values, strict=True):
            if kind is list:
                flat += value
            else:
                flat.append(value)
        key = (alias, lengths)
        return self._compiled.get(key) or self._compile(key), flat

    def read(self, *values) -> list[tuple]:
        alias = router.db_for_read(self.model)
        compiled, flat = self._for(alias, values)
        if not compiled.sql:
            return []
        compiler = compiled.compiler
        if compiler.get_converters([column for column, _sql, _alias in compiler.select]):
            raise ValueError(f"{self.model.__name__}: its columns need converting: use instances()")
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params_for(flat))
            return cursor.fetchall()

    def instances(self, *values) -> list:
        if self.around != "{}":
            raise ValueError("instances() of a read with SQL around it")
        alias = router.db_for_read(self.model)
        compiled, flat = self._for(alias, values)
        if not compiled.sql:
            return []
        sql, params = compiled.sql, compiled.params_for(flat)
        # The compiler as it was after compiling (its state is only read by the iterable), on this
        # thread's connection, answering with the compiled statement and these values.
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[alias]
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        queryset = compiled.queryset._chain()
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)
