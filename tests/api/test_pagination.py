"""Lists are cursor-paginated by default (``core/api/pagination.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.partners import assert_problem
from tests.factories import MembershipFactory
from users.models import Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_members(world: Any) -> list[int]:
    """Org X with 11 members in all, ids returned newest first (the list's order)."""
    MembershipFactory.create_batch(7, organisation=world.org_x)
    return list(world.org_x.memberships.order_by("-id").values_list("id", flat=True))


def _walk(client: Any, url: str, link: str = "next") -> list[list[int]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([member["id"] for member in body["results"]])
        url = body[link]
    return pages


def test_a_list_is_a_cursor_page_by_default(world: Any, app_client: Any) -> None:
    body = app_client.get(f"/api/v1/organisations/{world.org_x.pk}/members/").json()

    assert set(body) == {"next", "previous", "results"}
    assert body["next"] is None
    assert body["previous"] is None
    assert len(body["results"]) == 4


def test_following_next_visits_every_member_once_in_order(
    world: Any, app_client: Any, many_members: list[int]
) -> None:
    pages = _walk(app_client, f"/api/v1/organisations/{world.org_x.pk}/members/?page_size=3")

    assert [len(page) for page in pages] == [3, 3, 3, 2]
    seen = [member_id for page in pages for member_id in page]
    assert seen == many_members
    assert len(set(seen)) == len(seen)


def test_next_links_are_cursors_not_offsets(
    world: Any, app_client: Any, many_members: list[int]
) -> None:
    body = app_client.get(f"/api/v1/organisations/{world.org_x.pk}/members/?page_size=3").json()

    assert "cursor=" in body["next"]
    assert "offset=" not in body["next"]
    assert "page=" not in body["next"].replace("page_size=", "")


def test_following_previous_from_the_last_page_walks_back(
    world: Any, app_client: Any, many_members: list[int]
) -> None:
    url = f"/api/v1/organisations/{world.org_x.pk}/members/?page_size=3"
    last = app_client.get(url).json()
    while last["next"]:
        last = app_client.get(last["next"]).json()

    back = _walk(app_client, last["previous"], link="previous")

    assert [member_id for page in reversed(back) for member_id in page] == many_members[:9]


def test_a_member_added_while_paging_does_not_shift_the_pages(
    world: Any, app_client: Any, many_members: list[int]
) -> None:
    first = app_client.get(f"/api/v1/organisations/{world.org_x.pk}/members/?page_size=3").json()
    MembershipFactory(organisation=world.org_x)  # newest, so it sorts before page one

    second = app_client.get(first["next"]).json()

    assert [m["id"] for m in second["results"]] == many_members[3:6]


def test_filters_are_kept_in_the_next_link(world: Any, app_client: Any) -> None:
    MembershipFactory.create_batch(3, organisation=world.org_x, role="clinician")

    pages = _walk(
        app_client, f"/api/v1/organisations/{world.org_x.pk}/members/?role=clinician&page_size=2"
    )

    assert [len(page) for page in pages] == [2, 1]


def test_a_page_size_above_the_maximum_is_capped_at_200(world: Any, app_client: Any) -> None:
    users = User.objects.bulk_create(
        User(email=f"bulk{n}@example.test", name=f"Bulk {n}") for n in range(200)
    )
    Membership.objects.bulk_create(
        Membership(user=user, organisation=world.org_x, role="clinician") for user in users
    )

    response = app_client.get(f"/api/v1/organisations/{world.org_x.pk}/members/?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 200
    assert response.json()["next"] is not None


@pytest.mark.parametrize("page_size", ["0", "-1", "many"])
def test_a_nonsense_page_size_falls_back_to_the_default(
    world: Any, app_client: Any, page_size: str
) -> None:
    response = app_client.get(
        f"/api/v1/organisations/{world.org_x.pk}/members/", {"page_size": page_size}
    )

    assert response.status_code == 200
    assert len(response.json()["results"]) == 4


def test_a_forged_cursor_is_a_404_problem(world: Any, app_client: Any) -> None:
    response = app_client.get(
        f"/api/v1/organisations/{world.org_x.pk}/members/", {"cursor": "not-a-cursor"}
    )

    assert_problem(response, 404)
