"""Samples for the authorization matrix walk, one module per area, so each area's
pages declare how to call them next to nothing else. Every module defines ``SAMPLES``."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import World


@dataclass
class Sample:
    """How to call one URL: its arguments, and who may see the record it names."""

    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    # Names of users (World.users()) whose record this is; None means not record-scoped.
    owners: Callable[[World], set[str]] | None = None
    ok: set[int] = field(default_factory=lambda: {200})
    method: str = "get"


ORG_X_STAFF = {"staff_x", "commissioner", "finance_officer", "org_admin_x"}


def collected() -> dict[str, Any]:
    samples: dict[str, Any] = {}
    for module in pkgutil.iter_modules(__path__):
        samples.update(importlib.import_module(f"{__name__}.{module.name}").SAMPLES)
    return samples
