from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.db.utils import IntegrityError

from core import request_context
from core.locks import sweep_lock
from core.models import AuditEvent, Notification
from core.services import (
    audit_record,
    notification_mark_read,
    notification_send,
    personal_record_viewed,
)
from core.tasks import notification_email
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_audit_event_records_who_what_and_the_request_it_came_from(world: Any) -> None:
    token = request_context.set_current(
        request_context.RequestContext(request_id="req-123", ip_address="10.1.2.3")
    )
    try:
        event = audit_record(
            actor=world.staff_x,
            action="membership.role_changed",
            obj=world.holder_a,
            organisation=world.org_x,
            person=world.holder_a,
            changes={"role": ["a", "b"]},
        )
    finally:
        request_context.reset(token)
    event.refresh_from_db()
    assert event.actor == world.staff_x
    assert event.actor_label == world.staff_x.email
    assert (event.object_type, event.object_id) == ("budgets.budgetholder", str(world.holder_a.pk))
    assert (event.request_id, event.ip_address) == ("req-123", "10.1.2.3")
    assert event.changes == {"role": ["a", "b"]}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET action = 'tampered' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_events(world: Any, statement: str) -> None:
    event = audit_record(actor=world.staff_x, action="something.happened")
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "something.happened"


def test_the_orm_cannot_delete_an_audit_event_either(world: Any) -> None:
    event = audit_record(actor=None, action="job.ran")
    with pytest.raises(IntegrityError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_staff_viewing_a_persons_record_is_audited(world: Any) -> None:
    event = personal_record_viewed(viewer=world.staff_x, person=world.holder_a, what="page")
    assert event is not None
    assert event.person == world.holder_a
    assert event.action == "personal_record.viewed"


def test_a_person_viewing_their_own_record_is_not_an_audit_event(world: Any) -> None:
    assert (
        personal_record_viewed(viewer=world.holder_a.user, person=world.holder_a, what="page")
        is None
    )
    assert (
        personal_record_viewed(viewer=world.representative, person=world.holder_a, what="page")
        is None
    )


def test_a_notification_is_emailed_only_after_the_transaction_commits(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(notification_email, "delay", queued.append)
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = notification_send(user=user, subject="Hello", body="Body")
        assert queued == []
    assert len(callbacks) == 1
    assert queued == [notification.pk]


def test_the_email_task_sends_once_however_often_it_runs() -> None:
    user = UserFactory()
    notification = NotificationFactory(user=user, link="/notifications/")
    assert notification_email(notification.pk) is True
    assert notification_email(notification.pk) is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "/notifications/" in mail.outbox[0].body
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None


def test_marking_a_notification_read_twice_keeps_the_first_time() -> None:
    notification = NotificationFactory()
    first = notification_mark_read(notification=notification).read_at
    second = notification_mark_read(notification=notification).read_at
    assert first is not None
    assert first == second


@pytest.mark.django_db(transaction=True)
def test_a_sweep_lock_is_held_by_one_process_at_a_time() -> None:
    results: list[bool] = []
    with sweep_lock("allocation_run") as acquired:
        assert acquired

        def other() -> None:
            with sweep_lock("allocation_run") as got:
                results.append(got)
            connections.close_all()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert results == [False]
    with sweep_lock("allocation_run") as again:
        assert again
