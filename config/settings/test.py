"""Settings for the test suite (pytest)."""

import tempfile
import uuid
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-insecure-key")
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,  # noqa: F405
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
