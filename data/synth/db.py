"""A thin DuckDB connection wrapper: every statement is run to completion (DuckDB 2 keeps a
pending result on the connection until it is fetched), results are returned as rows."""
from __future__ import annotations

import duckdb


class Result:
    def __init__(self, rows):
        self._rows = rows

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


class Con:
    def __init__(self, path: str):
        self.raw = duckdb.connect(path)

    def execute(self, sql: str, params=None) -> Result:
        r = self.raw.execute(sql, params) if params is not None else self.raw.execute(sql)
        try:
            rows = r.fetchall()
        except duckdb.InvalidInputException:
            rows = []
        return Result(rows)

    def register(self, name, obj):
        self.raw.register(name, obj)

    def unregister(self, name):
        self.raw.unregister(name)

    def cursor(self):
        return self.raw.cursor()

    def close(self):
        self.raw.close()
