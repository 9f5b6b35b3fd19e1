"""Walk every URL in the URLconf, as every kind of user, against config/authorization.py.

A URL that is not in the matrix fails here, so no new page or endpoint can slip in
unreviewed. For each URL the expected answer is derived from the matrix (which kinds
of user may use it) and from the sample record below (whose record it is):

- not allowed by the matrix: anonymous -> sign-in redirect (pages) or 401 (API);
  signed in -> 403;
- allowed, but the record belongs to someone else -> 404;
- allowed and theirs -> the sample's expected status (200 unless stated).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.authz import allows, principals_for_user, rule_for
from tests import matrix_samples
from tests.conftest import World
from tests.factories import InvitationFactory, MembershipFactory, NotificationFactory
from tests.matrix_samples import ORG_X_STAFF, Sample

SAMPLES: dict[str, Sample] = {
    "budgets:holder_detail": Sample(
        kwargs=lambda w: {"pk": w.holder_a.pk},
        owners=lambda w: {"holder_a", "representative", *ORG_X_STAFF},
    ),
    "users:member_list": Sample(
        kwargs=lambda w: {"organisation_id": w.org_x.pk}, owners=lambda w: {"org_admin_x"}
    ),
    "users:member_invite": Sample(
        kwargs=lambda w: {"organisation_id": w.org_x.pk}, owners=lambda w: {"org_admin_x"}
    ),
    "users:member_change": Sample(
        kwargs=lambda w: {
            "organisation_id": w.org_x.pk,
            "membership_id": w.staff_x.memberships.get().pk,
        },
        owners=lambda w: {"org_admin_x"},
    ),
    "users:member_remove": Sample(
        kwargs=lambda w: {
            "organisation_id": w.org_x.pk,
            "membership_id": w.staff_x.memberships.get().pk,
        },
        owners=lambda w: {"org_admin_x"},
    ),
    "users:invitation_revoke": Sample(
        kwargs=lambda w: {
            "organisation_id": w.org_x.pk,
            "invitation_id": InvitationFactory(organisation=w.org_x).pk,
        },
        owners=lambda w: {"org_admin_x"},
        ok={302},
        method="post",
    ),
    "users:invitation_accept": Sample(
        kwargs=lambda w: {"token": InvitationFactory(organisation=w.org_x).token}
    ),
    "core:notification_read": Sample(
        kwargs=lambda w: {"pk": NotificationFactory(user=w.holder_a.user).pk},
        owners=lambda w: {"holder_a"},
        ok={302},
        method="post",
    ),
    "core:notification_read_all": Sample(ok={302}, method="post"),
    "api:organisation_detail": Sample(
        kwargs=lambda w: {"pk": w.org_x.pk}, owners=lambda w: ORG_X_STAFF
    ),
    "api:organisation_members": Sample(
        kwargs=lambda w: {"pk": w.org_x.pk}, owners=lambda w: ORG_X_STAFF
    ),
    # Signing in: allauth sends someone already signed in onwards.
    "account_login": Sample(ok={200, 302}),
    "account_signup": Sample(ok={200, 302}),
    "account_logout": Sample(ok={200, 302}),
    "account_reset_password": Sample(ok={200, 302}),
    "account_reset_password_done": Sample(ok={200, 302}),
    "account_reset_password_from_key": Sample(
        kwargs=lambda w: {"uidb36": "zz", "key": "not-a-key"}, ok={200, 302}
    ),
    "account_reset_password_from_key_done": Sample(ok={200, 302}),
    "account_confirm_email": Sample(kwargs=lambda w: {"key": "not-a-key"}, ok={200, 302}),
    "account_confirm_login_code": Sample(ok={302}),
    "account_email_verification_sent": Sample(ok={200, 302}),
    "account_inactive": Sample(ok={200, 302}),
    "account_set_password": Sample(ok={302}),  # users here already have a password
    "mfa_authenticate": Sample(ok={302}),  # no sign-in in progress
    "mfa_reauthenticate": Sample(ok={200, 302}),
    "mfa_activate_totp": Sample(ok={200, 302}),  # those with MFA are sent back
    "mfa_deactivate_totp": Sample(ok={200, 302, 404}),  # 404: no authenticator to remove
    "mfa_view_recovery_codes": Sample(ok={200, 302, 404}),
    "mfa_generate_recovery_codes": Sample(ok={200, 302}),
    "mfa_download_recovery_codes": Sample(ok={200, 302, 404}),
    "oauth2_provider:token": Sample(ok={400}, method="post"),
    "oauth2_provider:revoke-token": Sample(ok={200, 400}, method="post"),
    "oauth2_provider:introspect": Sample(ok={403}),  # needs an introspection token
    "admin:login": Sample(ok={302}),
    "healthz": Sample(ok={200, 503}),
}
SAMPLES.update(matrix_samples.collected())


def all_url_names() -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns: list[Any], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern):
                found.append((f"{namespace}{entry.name}", entry))

    walk(get_resolver().url_patterns, "")
    return found


NON_ADMIN_URLS = sorted({name for name, _ in all_url_names() if not name.startswith("admin:")})


def test_every_url_in_the_urlconf_is_in_the_matrix() -> None:
    missing = [name for name, _ in all_url_names() if rule_for(name) is None]
    assert not missing, f"URLs missing from config/authorization.py: {missing}"


def test_every_url_has_a_name() -> None:
    # The admin's own unnamed redirects are covered by "admin:*".
    unnamed = [
        str(p.pattern)
        for name, p in all_url_names()
        if name.endswith("None") and not name.startswith("admin:")
    ]
    assert not unnamed, f"Name these URL patterns so the matrix can declare them: {unnamed}"


def _expected(name: str, user_key: str, user: Any, world: World, sample: Sample) -> set[int]:
    rule = rule_for(name)
    assert rule is not None
    is_api = name.startswith("api:")
    if not allows(rule, principals_for_user(user)):
        if user is None:
            return {401} if is_api else {302}
        return {403}
    if sample.owners is not None and user_key not in sample.owners(world):
        return {404}
    return sample.ok


@pytest.mark.parametrize("name", NON_ADMIN_URLS)
def test_each_kind_of_user_gets_the_answer_the_matrix_declares(
    name: str, world: World, client_for: Any
) -> None:
    sample = SAMPLES.get(name, Sample())
    path = reverse(name, kwargs=sample.kwargs(world) or None)
    failures = []
    for user_key, user in world.users().items():
        response = getattr(client_for(user), sample.method)(path)
        expected = _expected(name, user_key, user, world, sample)
        if response.status_code not in expected:
            failures.append(f"{user_key}: got {response.status_code}, expected {expected}")
        elif response.status_code == 302 and user is None and expected == {302}:
            assert response["Location"].startswith(reverse("account_login")), path
    assert not failures, f"{name} ({path}):\n" + "\n".join(failures)


def test_admin_is_for_platform_admins_and_its_budgets_screens_for_budget_managers(
    world: World, client_for: Any
) -> None:
    """Every admin page without arguments: platform admins get it; commissioners and
    finance officers get the site index and the budgets screens (adding only where
    their role may) and are refused every other app's; everyone else is sent to sign
    in (anonymous) or refused."""
    names = [
        (name, p)
        for name, p in all_url_names()
        if name.startswith("admin:") and not p.pattern.regex.groupindex and name != "admin:login"
    ]
    assert len(names) > 10
    budget_managers = {"commissioner", "finance_officer"}
    # Commissioners configure their organisation's thresholds and RAS questionnaires;
    # nobody adds money records (ledger, spends, budgets) through the admin.
    addable_by = {
        "admin:budgets_budgetsettings_add": {"commissioner"},
        "admin:budgets_rasquestionnaire_add": {"commissioner"},
    }
    checked_budgets_screens = 0
    for name, _ in names:
        path = reverse(name)
        for user_key, user in world.users().items():
            response = client_for(user).get(path)
            status = response.status_code
            if user_key == "platform_admin":
                # admin:logout only accepts POST; autocomplete refuses a query without
                # its parameters even to an admin.
                # Some admins (audit events, axes, the ledger) refuse adding records.
                refuses = name == "admin:autocomplete" or name.endswith("_add")
                allowed = {200, 302, 405} | ({403} if refuses else set())
                assert status in allowed, (name, status)
                if status == 302:
                    assert "login" not in response["Location"], name
            elif user_key in budget_managers:
                # Commissioners also read plans, the market and the audit log (issue 7).
                opened = ("admin:budgets_",) + (
                    ("admin:plans_", "admin:marketplace_", "admin:core_auditevent_")
                    if user_key == "commissioner"
                    else ()
                )
                if name.startswith(opened) and name.endswith("_changelist"):
                    expected = 200
                    checked_budgets_screens += name.startswith("admin:budgets_")
                elif name.startswith(opened[1:]) and name.endswith("_add"):
                    expected = 403  # read-only screens
                elif name.startswith("admin:budgets_") and name.endswith("_add"):
                    expected = 200 if user_key in addable_by.get(name, set()) else 403
                elif name in {"admin:index", "admin:jsi18n"}:
                    expected = 200
                elif name == "admin:logout":
                    expected = 405  # POST only
                elif name == "admin:password_change":
                    expected = 302  # to the account page everyone uses
                else:
                    # Other apps' screens and autocomplete without a budgets field.
                    expected = 403
                assert status == expected, (name, user_key, status)
            elif user is None:
                assert status == 302, (name, user_key)
                assert response["Location"].startswith(reverse("account_login")), name
            else:
                assert status == 403, (name, user_key, status)
    assert checked_budgets_screens >= 2 * 15


def test_a_url_missing_from_the_matrix_is_refused(
    world: World, client_for: Any, settings: Any
) -> None:
    """Deny by default: a page nobody declared answers 404 even to a platform admin."""
    from config import authorization

    original = authorization.MATRIX.pop("core:accessibility")
    try:
        response = client_for(world.platform_admin).get(reverse("core:accessibility"))
        assert response.status_code == 404
    finally:
        authorization.MATRIX["core:accessibility"] = original


def test_colleagues_see_each_other_but_not_other_organisations(world: World) -> None:
    from users.models import Membership

    MembershipFactory(organisation=world.org_y)
    visible = Membership.objects.for_user(world.staff_x)
    assert {m.organisation_id for m in visible} == {world.org_x.pk}
