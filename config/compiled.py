"""Small reads that every page makes, compiled by the ORM once per process instead of once per request.

Building and compiling even a one-table ``values_list`` costs the ORM 0.2–0.3 ms of Python (measured
on sb_bench: the user's memberships 378 µs through the ORM, 75 µs as SQL; the session 239 vs 34 µs),
which is several times what PostgreSQL spends on it. A :class:`CompiledRead` keeps the ORM's
definition of the read (a function returning the queryset, so the model, the lookups and the order
stay written once, in the ORM) and the SQL the ORM writes for it; each call puts the real values in
the place of the placeholders' parameters. The text is the same on every call, so psycopg prepares it
once per connection (``DATABASE_SERVER_SIDE_BINDING``).

Only for reads whose SQL does not depend on the values (equality on a column, not a list that expands
to one placeholder per item), that use each placeholder as given (not transformed, as ``startswith``
does, nor computed with) and whose columns need no conversion from the database. When it is compiled,
each placeholder must be exactly one of the parameters and no column may have a converter (the rows
are the driver's values, as ``values_list`` would give them); otherwise it raises ``ValueError``.
"""

import datetime

from django.db import connections, router

#: Placeholder values by kind: unlikely literals, each found exactly once among the compiled parameters
#: (integers within every integer column's range: the ORM drops a lookup outside it).
_PLACEHOLDERS = {
    int: lambda i: -1_987_654_321 - i,
    str: lambda i: f"\x00compiled-read-placeholder-{i}\x00",
    datetime.datetime: lambda i: datetime.datetime(1901, 2, 3, 4, 5, 6, 700_000 + i, tzinfo=datetime.UTC),
}


class CompiledRead:
    """``CompiledRead(Model, build, int, str, ...)``: ``build(*placeholders)`` returns a queryset of
    ``Model`` (usually a ``values_list``) using each placeholder, one per kind given, as a plain
    parameter; ``read(*values)`` returns its rows (tuples) for ``values``, from the database the router
    reads ``Model`` from (as the queryset would)."""

    def __init__(self, model, build, *kinds: type):
        self.model = model
        self.build = build
        self.kinds = kinds
        self._compiled: dict[str, tuple[str, list, list[int]]] = {}
        self._names: list[str] = []

    def _compile(self, alias: str) -> tuple[str, list, list[int]]:
        placeholders = [_PLACEHOLDERS[kind](i) for i, kind in enumerate(self.kinds)]
        queryset = self.build(*placeholders)
        if queryset.model is not self.model:
            raise ValueError(f"a read of {queryset.model.__name__}, not of {self.model.__name__}")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        if compiler.get_converters([column for column, _sql, _alias in compiler.select]):
            raise ValueError(f"{self.model.__name__}: a compiled read cannot convert its columns")
        positions = []
        for placeholder in placeholders:
            kind = type(placeholder)
            found = [i for i, param in enumerate(params) if type(param) is kind and param == placeholder]
            if len(found) != 1:
                raise ValueError(f"placeholder {placeholder!r} is {len(found)} parameters, not one")
            positions.append(found[0])
        self._names = list(queryset.query.values_select)
        compiled = self._compiled[alias] = (sql, params, positions)
        return compiled

    def read(self, *values) -> list[tuple]:
        return self._run(values)[1]

    def instances(self, *values) -> list:
        """The rows as instances of the model, as the ORM makes them (``Model.from_db``); the read must
        be a ``values_list`` of every concrete field's ``attname`` in the model's order."""
        alias, rows = self._run(values)
        names = self._names
        if names != [field.attname for field in self.model._meta.concrete_fields]:
            raise ValueError(f"{self.model.__name__}: not every concrete field, in the model's order")
        return [self.model.from_db(alias, names, row) for row in rows]

    def _run(self, values) -> tuple[str, list[tuple]]:
        alias = router.db_for_read(self.model)
        sql, params, positions = self._compiled.get(alias) or self._compile(alias)
        params = list(params)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return alias, cursor.fetchall()
