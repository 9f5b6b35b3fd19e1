from typing import Any

import pytest
from django.urls import reverse

from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_opening_a_holder_in_the_admin_is_audited(world: Any, client_for: Any) -> None:
    url = reverse("admin:budgets_budgetholder_change", args=[world.holder_a.pk])
    assert client_for(world.platform_admin).get(url).status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed")
    assert (event.actor, event.person, event.changes) == (
        world.platform_admin,
        world.holder_a,
        {"page": "admin"},
    )


@pytest.mark.parametrize("which", ["user", "representation"])
def test_opening_other_personal_records_in_the_admin_is_audited(
    world: Any, client_for: Any, which: str
) -> None:
    obj = world.holder_b.user if which == "user" else world.holder_a.representations.get()
    url = reverse(f"admin:users_{which}_change", args=[obj.pk])
    assert client_for(world.platform_admin).get(url).status_code == 200
    event = AuditEvent.objects.get(action="record.viewed")
    assert (event.object_type, event.object_id) == (f"users.{which}", str(obj.pk))
