"""Settings for the test suite (pytest).

The suite runs in parallel (pytest-xdist): each worker process has its own test
database (pytest-django adds ``_gw0``, ``_gw1``, ...), its own Redis database (below),
its own Celery queue, receipts folder and live server port.
"""

import fcntl
import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ

REDIS_DATABASES = 16  # Redis's default `databases`
_WORKER_REDIS = "PHB_TEST_WORKER_REDIS_URL"


def _worker_number() -> int:
    """0 outside xdist, N in its worker gwN."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def redis_url_for_worker(url: str, worker: int) -> str:
    """``url`` moved ``worker`` Redis databases on: redis://h:6379/6 -> /7 for gw1.

    A Unix socket URL (the embedded Redis) names its database as ``?db=N``."""
    if worker == 0:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix":
        number = int(query.get("db", 0)) + worker
        query["db"] = str(number)
        moved = f"unix://{parts.path}?{urlencode(query)}"
    else:
        number = int(parts.path.strip("/") or 0) + worker
        moved = urlunsplit(parts._replace(path=f"/{number}"))
    if number >= REDIS_DATABASES:
        raise RuntimeError(
            f"test worker {worker} would need Redis database {number} of {url}: "
            "set PYTEST_WORKERS lower or REDIS_URL to a lower database"
        )
    return moved


def celery_broker_url(redis_url: str) -> str:
    """kombu names a Unix socket "redis+socket://" and its database "virtual_host"."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    query = dict(parse_qsl(parts.query))
    if "db" in query:
        query["virtual_host"] = query.pop("db")
    return f"redis+socket://{parts.path}" + (f"?{urlencode(query)}" if query else "")


# Two test processes that find no embedded server must not both start one in .data/.
_embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
if _embedded:
    _data_dir = Path(
        environ.Env()("PHB_DATA_DIR", default=str(Path(__file__).resolve().parents[2] / ".data"))
    )
    _data_dir.mkdir(parents=True, exist_ok=True)
    _lock = (_data_dir / ".embedded.lock").open("w")
    fcntl.flock(_lock, fcntl.LOCK_EX)
try:
    from .base import *  # noqa: F403
    from .base import REDIS_URL, env
finally:
    if _embedded:
        fcntl.flock(_lock, fcntl.LOCK_UN)
        _lock.close()

# Each xdist worker gets its own Redis database: tests empty the cache (FLUSHDB), and a
# worker must not empty another's. A subprocess that a test starts (a Celery worker) is
# handed its worker's URL already moved (and the same PYTEST_XDIST_WORKER): the marker
# tells it not to move it again. Workers inherit the marker of the process that started
# them, hence the worker's name in it.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if os.environ.get(_WORKER_REDIS) != f"{_worker} {REDIS_URL}":
    REDIS_URL = redis_url_for_worker(REDIS_URL, _worker_number())
    os.environ[_WORKER_REDIS] = f"{_worker} {REDIS_URL}"
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-insecure-key")
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "phb-test",
    }
}
# Keep throttles out of the way of the test suite except where a test sets them.
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": "100000/min",
    "user": "100000/min",
    "application": "100000/min",
}
ACCOUNT_RATE_LIMITS = False
AXES_FAILURE_LIMIT = 5
# Each test run gets its own Celery queue, so a developer's running worker (or another
# test run) never takes this run's tasks; the worker test passes it to its worker.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default=f"phb-test-{uuid.uuid4().hex[:8]}")
DEMO_PASSWORD = "demo-password-123"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Receipts uploaded by tests go to a throwaway folder, never a developer's .data.
PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="phb-test-private-"))
STORAGES = {
    **STORAGES,  # noqa: F405
    "receipts": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT / "receipts", "base_url": None},
    },
}
