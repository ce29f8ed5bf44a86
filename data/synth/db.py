"""A thin DuckDB connection wrapper: every statement is run to completion (DuckDB 2 keeps a
pending result on the connection until it is fetched), results are returned as rows."""
from __future__ import annotations

import os
import sys
import time

import duckdb

PROFILE = bool(os.environ.get("SYNTH_PROFILE"))


class Result:
    def __init__(self, rows):
        self._rows = rows

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


class Con:
    def __init__(self, path: str = ":memory:", temp_dir: str | None = None):
        self.raw = duckdb.connect(path)
        if temp_dir:
            self.raw.execute(f"SET temp_directory = '{temp_dir}'").fetchall()

    def execute(self, sql: str, params=None) -> Result:
        t0 = time.time()
        r = self.raw.execute(sql, params) if params is not None else self.raw.execute(sql)
        try:
            rows = r.fetchall()
        except duckdb.InvalidInputException:
            rows = []
        if PROFILE and time.time() - t0 > 0.2:
            print(f"[synth] {time.time() - t0:6.2f}s  {' '.join(sql.split())[:110]}", file=sys.stderr)
        return Result(rows)

    def register(self, name, obj):
        self.raw.register(name, obj)

    def unregister(self, name):
        self.raw.unregister(name)

    def cursor(self):
        return self.raw.cursor()

    def close(self):
        self.raw.close()
