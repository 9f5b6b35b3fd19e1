"""``Idempotency-Key`` on API writes: a retry replays the first response and never repeats
the write (``core/api/idempotency.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from core.models import IdempotencyRecord
from tests.api.partners import ALL_SCOPES, assert_problem, bearer_client
from tests.factories import MembershipFactory, PartnerApplicationFactory, with_mfa
from users.models import Invitation

pytestmark = pytest.mark.django_db

BODY = {"email": "new.person@example.test", "role": "clinician"}


def invite(client: Any, org: Any, body: Any = BODY, key: str | None = None) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(
        f"/api/v1/organisations/{org.pk}/members/",
        body,
        content_type="application/json",
        headers=headers,
    )


def test_a_write_without_a_key_is_a_400_problem_and_does_nothing(
    world: Any, app_client: Any
) -> None:
    body = assert_problem(invite(app_client, world.org_x), 400)

    assert "Idempotency-Key" in body["errors"]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("key", ["", "   ", "k" * 201, "tab\there", "caf\u00e9"])
def test_a_malformed_key_is_a_400_problem(world: Any, app_client: Any, key: str) -> None:
    body = assert_problem(invite(app_client, world.org_x, key=key), 400)

    assert "Idempotency-Key" in body["errors"]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("key", ["k", "k" * 200, "order 42/retry:1", "5f0c6f5e-1b1e"])
def test_a_well_formed_key_is_accepted(world: Any, app_client: Any, key: str) -> None:
    assert invite(app_client, world.org_x, key=key).status_code == 201


def test_the_first_write_is_carried_out_and_its_response_stored(
    world: Any, partner_app: Any, app_client: Any
) -> None:
    response = invite(app_client, world.org_x, key="first-try")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    record = IdempotencyRecord.objects.get(key="first-try")
    assert record.client == f"application:{partner_app.pk}"
    assert record.response_status == 201
    assert record.response_body == response.json()


def test_a_retry_with_the_same_key_and_body_replays_the_first_response(
    world: Any, app_client: Any
) -> None:
    first = invite(app_client, world.org_x, key="retry-me")
    retry = invite(app_client, world.org_x, key="retry-me")

    assert retry.status_code == first.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Invitation.objects.count() == 1


def test_a_retry_replays_even_though_repeating_the_write_would_now_fail(
    world: Any, app_client: Any
) -> None:
    """Repeating the invitation would be refused as a duplicate; the retry must not see that."""
    invite(app_client, world.org_x, key="once")

    assert invite(app_client, world.org_x, key="once").status_code == 201
    assert invite(app_client, world.org_x, key="another").status_code == 400


def test_a_key_reused_with_a_different_body_is_a_422_problem(world: Any, app_client: Any) -> None:
    invite(app_client, world.org_x, key="reused")

    response = invite(app_client, world.org_x, {**BODY, "role": "commissioner"}, key="reused")

    body = assert_problem(response, 422)
    assert "Idempotency-Key" in body["detail"]
    assert Invitation.objects.get().role == "clinician"


def test_a_key_reused_on_another_url_is_a_422_problem(
    world: Any, client_for: Callable[..., Any]
) -> None:
    admin = world.org_admin_x
    MembershipFactory(user=admin, organisation=world.org_y, role="organisation_admin")
    with_mfa(admin)
    client = client_for(admin)
    invite(client, world.org_x, key="same")

    assert_problem(invite(client, world.org_y, key="same"), 422)
    assert Invitation.objects.count() == 1


def test_a_failed_write_does_not_use_its_key_up(world: Any, app_client: Any) -> None:
    failed = invite(app_client, world.org_x, {**BODY, "email": "not-an-email"}, key="fix-me")
    assert failed.status_code == 400
    assert not IdempotencyRecord.objects.exists()

    corrected = invite(app_client, world.org_x, key="fix-me")

    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected
    assert Invitation.objects.count() == 1


def test_a_write_refused_by_the_service_does_not_use_its_key_up(
    world: Any, app_client: Any
) -> None:
    taken = invite(app_client, world.org_x, {**BODY, "email": world.staff_x.email}, key="k1")
    assert taken.status_code == 400

    assert invite(app_client, world.org_x, key="k1").status_code == 201


def test_a_forbidden_write_does_not_use_its_key_up(
    world: Any, partner_app: Any, token_for: Callable[..., str]
) -> None:
    reader = bearer_client(token_for(partner_app, "members:read"))
    writer = bearer_client(token_for(partner_app, "members:write"))

    assert invite(reader, world.org_x, key="k2").status_code == 403
    assert invite(writer, world.org_x, key="k2").status_code == 201


def test_keys_belong_to_one_client(
    world: Any, app_client: Any, token_for: Callable[..., str], client_for: Callable[..., Any]
) -> None:
    other_app = PartnerApplicationFactory(organisation=world.org_x, scopes=ALL_SCOPES)
    other = bearer_client(token_for(other_app))
    person = client_for(world.org_admin_x)

    first = invite(app_client, world.org_x, {**BODY, "email": "one@example.test"}, key="shared")
    second = invite(other, world.org_x, {**BODY, "email": "two@example.test"}, key="shared")
    third = invite(person, world.org_x, {**BODY, "email": "three@example.test"}, key="shared")

    assert [first.status_code, second.status_code, third.status_code] == [201, 201, 201]
    assert "Idempotent-Replayed" not in second
    assert "Idempotent-Replayed" not in third
    assert Invitation.objects.count() == 3


def test_two_tokens_of_one_application_share_its_keys(
    world: Any, partner_app: Any, app_client: Any, token_for: Callable[..., str]
) -> None:
    again = bearer_client(token_for(partner_app))

    invite(app_client, world.org_x, key="app-wide")
    replay = invite(again, world.org_x, key="app-wide")

    assert replay["Idempotent-Replayed"] == "true"
    assert Invitation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_invite_once(
    world: Any, partner_app: Any, token_for: Callable[..., str]
) -> None:
    token = token_for(partner_app)
    start = threading.Barrier(2)
    responses: list[Any] = []
    errors: list[BaseException] = []

    def post() -> None:
        client = bearer_client(token)
        try:
            start.wait(timeout=10)
            responses.append(invite(client, world.org_x, key="at-once"))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert Invitation.objects.count() == 1
    assert IdempotencyRecord.objects.filter(key="at-once").count() == 1


def test_the_same_body_with_its_fields_in_another_order_is_the_same_request(
    world: Any, app_client: Any
) -> None:
    first = app_client.post(
        f"/api/v1/organisations/{world.org_x.pk}/members/",
        '{"email": "new.person@example.test", "role": "clinician"}',
        content_type="application/json",
        headers={"Idempotency-Key": "ordered"},
    )
    again = app_client.post(
        f"/api/v1/organisations/{world.org_x.pk}/members/",
        '{"role":"clinician","email":"new.person@example.test"}',
        content_type="application/json",
        headers={"Idempotency-Key": "ordered"},
    )

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
