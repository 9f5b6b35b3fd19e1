"""What every API view shares beyond ``REST_FRAMEWORK`` in settings: the per-caller
throttles and the schema that documents problem responses.

Settings name DRF's own throttles and ``AutoSchema``; once ``DEFAULT_THROTTLE_CLASSES``
and ``DEFAULT_SCHEMA_CLASS`` name these classes instead, this mixin can go.
"""

from __future__ import annotations

from core.api.schema import ProblemAutoSchema
from core.api.throttling import CALLER_THROTTLES


class APIDefaults:
    throttle_classes = CALLER_THROTTLES
    schema = ProblemAutoSchema()
