"""Statements that Postgres plans once per connection (``PREPARE``) and then only runs.

For the few statements on a hot path (recording a spend runs for every spend in the
country), planning a join or a multi-table insert costs as much as running it. A
``Prepared`` statement is written with the usual ``%(name)s`` placeholders and the type
of each; it is prepared on a connection the first time that connection runs it.
Prepared statements belong to the database session, not to a transaction, so one made
in a transaction that later rolls back is still there; a new connection (after a
reconnect) prepares again. Postgres re-plans a prepared statement by itself when a table
it reads changes shape (a migration)."""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from typing import Any

from django.db import connection

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# The statement names each raw connection has prepared.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Prepared:
    def __init__(self, name: str, sql: str, types: Mapping[str, str]) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"Not a plain statement name: {name!r}")
        self.name = name
        self.params = list(types)
        unknown = set(_PLACEHOLDER.findall(sql)) - set(self.params)
        if unknown:
            raise ValueError(f"No type given for {sorted(unknown)} in {name}")
        numbered = _PLACEHOLDER.sub(
            lambda match: f"${self.params.index(match.group(1)) + 1}", sql
        ).replace("%%", "%")
        self.prepare_sql = f"PREPARE {name} ({', '.join(types.values())}) AS {numbered}"
        self.execute_sql = f"EXECUTE {name} ({', '.join(['%s'] * len(self.params))})"

    def execute(self, cursor: Any, params: Mapping[str, Any]) -> None:
        """Run it on ``cursor`` (a cursor of Django's default connection) with ``params``
        by name; the rows are then read from the cursor as usual."""
        connection.ensure_connection()
        done = _prepared.setdefault(connection.connection, set())
        if self.name not in done:
            cursor.execute(self.prepare_sql)
            done.add(self.name)
        cursor.execute(self.execute_sql, [params[name] for name in self.params])
