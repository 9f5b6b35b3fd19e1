"""A lock so that a periodic sweep never runs twice at once, across workers and beats.

Postgres advisory locks are held by the database session: if the worker dies, the
connection closes and the lock is released, so a crash cannot leave a sweep locked out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def _lock_id(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def sweep_lock(name: str) -> Iterator[bool]:
    """Yield True if this process holds the lock named ``name``, False if another does.

    Usage::

        with sweep_lock("allocation_run") as acquired:
            if not acquired:
                return
            ...
    """
    lock_id = _lock_id(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
