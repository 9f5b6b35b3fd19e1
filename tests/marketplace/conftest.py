"""Marketplace tests use the plan fixtures too (a plan in force, to link purchases)."""

from tests.plans.conftest import active_plan, pw  # noqa: F401 (fixtures)
