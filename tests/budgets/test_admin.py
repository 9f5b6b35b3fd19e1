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
