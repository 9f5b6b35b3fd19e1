"""The matrix names only URLs that exist: a renamed or removed page must not leave a
stale rule behind that could later grant access to a new page of the same name."""

from __future__ import annotations

from config.authorization import MATRIX
from tests.test_authorization_matrix import all_url_names


def test_every_matrix_entry_names_a_url_in_the_urlconf() -> None:
    names = {name for name, _ in all_url_names()}
    namespaces = {name.rpartition(":")[0] for name in names}
    stale = [
        entry
        for entry in MATRIX
        if entry not in names
        and not (entry.endswith(":*") and entry.removesuffix(":*") in namespaces)
        and entry != "styleguide"  # only routed when DEBUG is on
    ]
    assert not stale, f"Entries in config/authorization.py with no URL: {stale}"
