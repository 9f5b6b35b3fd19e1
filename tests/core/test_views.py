from __future__ import annotations

import datetime
import html
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Heartbeat
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_redis_and_a_missing_beat(client: Client) -> None:
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["beat"] == {"ok": False, "last_seen": None}


def test_healthz_says_when_beat_last_ran(client: Client) -> None:
    Heartbeat.objects.create(name="beat", last_seen=timezone.now())
    assert client.get("/healthz").json()["checks"]["beat"]["ok"] is True
    Heartbeat.objects.filter(name="beat").update(
        last_seen=timezone.now() - datetime.timedelta(hours=1)
    )
    beat = client.get("/healthz").json()["checks"]["beat"]
    assert beat["ok"] is False
    assert beat["age_seconds"] >= 3600


def test_every_response_carries_a_request_id(client: Client) -> None:
    assert client.get("/", HTTP_X_REQUEST_ID="abc-123").headers["X-Request-ID"] == "abc-123"
    generated = client.get("/nowhere/", HTTP_X_REQUEST_ID="bad id <script>")
    assert generated.status_code == 404
    assert generated.headers["X-Request-ID"] not in ("", "bad id <script>")


def test_pages_send_a_nonce_based_csp_without_unsafe_inline(client: Client) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_not_found_is_an_nhs_page_for_people_and_problem_json_for_the_api(
    client: Client,
) -> None:
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "Page not found" in page.content.decode()
    api = client.get("/api/v1/no-such-endpoint/")
    assert api.status_code == 404
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == 404


def test_a_form_without_its_csrf_token_gets_the_session_expired_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "a@b.test", "password": "x"})
    assert response.status_code == 403
    assert "Your session has expired" in response.content.decode()


def test_a_session_ends_after_inactivity(world: Any, client_for: Any, settings: Any) -> None:
    settings.SESSION_COOKIE_AGE = 1
    client = client_for(world.holder_a.user)
    assert client.get(reverse("core:notification_list")).status_code == 200
    time.sleep(2.1)
    response = client.get(reverse("core:notification_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_viewing_a_holder_record_is_audited_but_the_holder_is_not(
    world: Any, client_for: Any
) -> None:
    path = reverse("budgets:holder_detail", args=[world.holder_a.pk])
    assert client_for(world.holder_a.user).get(path).status_code == 200
    assert not AuditEvent.objects.filter(action="personal_record.viewed").exists()
    assert client_for(world.staff_x).get(path).status_code == 200
    event = AuditEvent.objects.get(action="personal_record.viewed")
    assert (event.actor, event.person) == (world.staff_x, world.holder_a)


def test_the_audit_log_searches_by_person_actor_and_date(world: Any, client_for: Any) -> None:
    client_for(world.staff_x).get(reverse("budgets:holder_detail", args=[world.holder_a.pk]))
    client = client_for(world.commissioner)
    found = client.get(reverse("core:audit_search"), {"person": "Alex", "actor": "", "action": ""})
    assert found.status_code == 200
    # Names may hold an apostrophe (O'Neill), which the page escapes.
    text = html.unescape(found.content.decode())
    assert world.staff_x.email in text or world.staff_x.name in text
    none = client.get(reverse("core:audit_search"), {"person": "Nobody-by-this-name"})
    assert "No events match your search" in none.content.decode()
    bad = client.get(
        reverse("core:audit_search"), {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert bad.status_code == 200
    assert "Error: " in bad.content.decode()


def test_the_audit_log_shows_only_the_commissioners_organisations(
    world: Any, client_for: Any
) -> None:
    client_for(world.staff_y).get(reverse("budgets:holder_detail", args=[world.holder_b.pk]))
    page = client_for(world.commissioner).get(reverse("core:audit_search"))
    assert world.holder_b.name not in page.content.decode()


def test_someone_elses_notification_cannot_be_marked_read(world: Any, client_for: Any) -> None:
    notification = NotificationFactory(user=world.holder_a.user)
    response = client_for(world.holder_b.user).post(
        reverse("core:notification_read", args=[notification.pk])
    )
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_server_error_page_is_an_nhs_page(rf: Any) -> None:
    from core.views import server_error

    response = server_error(rf.get("/anything/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()
    api = server_error(rf.get("/api/v1/me/"))
    assert api.headers["Content-Type"] == "application/problem+json"


def test_a_password_can_be_reset_through_the_emailed_link(world: Any, client: Client) -> None:
    import re

    from django.core import mail

    from tests.factories import PASSWORD

    user = world.holder_a.user
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    new_password = PASSWORD + "-new"
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_the_bad_request_page_is_an_nhs_page(rf: Any) -> None:
    from core.views import bad_request

    response = bad_request(rf.get("/anything/"))
    assert response.status_code == 400
    assert "Sorry, there is a problem with this request" in response.content.decode()


def test_allauth_rate_limits_failed_sign_ins_by_address(settings: Any, client: Client) -> None:
    from django.core.cache import cache

    cache.clear()
    from config.settings import base

    # The limits production runs with (the test settings turn them off elsewhere).
    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS
    assert "10/m/ip" in base.ACCOUNT_RATE_LIMITS["login_failed"]
    url = reverse("account_login")
    pages = [
        client.post(url, {"login": f"nobody{i}@example.test", "password": "x"}).content.decode()
        for i in range(11)
    ]
    assert all("Too many failed login attempts" not in page for page in pages[:10])
    assert "Too many failed login attempts" in pages[-1]
