"""The listings services (marketplace/listings.py): providers, services, locations,
verification, categories and the verification expiry sweep. Validation of every rule,
who may do what (the owner, a colleague, a stranger), audit events and notifications."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditEvent, Notification
from marketplace import listings
from marketplace.models import Category, CostOption, Provider, ProviderKind, Service
from tests.conftest import World, staff_user
from tests.factories import OrganisationFactory
from tests.marketplace.factories import LocationFactory, ProviderFactory, ServiceFactory, category
from users.models import Organisation, Role

TODAY = timezone.localdate()


def _provider_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "Bright Days Support",
        "kind": ProviderKind.MICRO_ENTERPRISE,
        "postcode": "ls1 4ap",
        "email": "hello@brightdays.example",
    }
    fields.update(overrides)
    return fields


def _create(world: World, **overrides: Any) -> Provider:
    return listings.provider_save(
        saved_by=world.provider_staff,
        organisation=world.provider_org,
        areas=[world.org_x],
        **_provider_fields(**overrides),
    )


def _verified(world: World, **overrides: Any) -> Provider:
    provider = _create(world, **overrides)
    return listings.provider_verify(
        provider=provider,
        verified_by=world.commissioner,
        decision="verified",
        expires_on=TODAY + datetime.timedelta(days=365),
    )


def _errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def _service_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Help at home",
        "description": "Everyday help at home and out and about.",
        "category": category("personal-assistance"),
        "postcode_districts": ["ls1", "LS 2"],
        "languages": ["EN", "ur"],
        "eligibility": "Adults with a learning disability",
    }
    fields.update(overrides)
    return fields


PRICES = [{"amount_pence": 18_50, "per": "hour", "description": "Weekdays"}]
TIMES = [{"weekday": 0, "opens_at": datetime.time(9), "closes_at": datetime.time(17)}]


def _service(
    world: World,
    provider: Provider,
    *,
    cost_options: list[dict[str, Any]] | None = PRICES,
    schedules: list[dict[str, Any]] | None = TIMES,
    location_ids: list[int] | None = None,
    **overrides: Any,
) -> Service:
    return listings.service_save(
        saved_by=world.provider_staff,
        provider=provider,
        cost_options=cost_options,
        schedules=schedules,
        location_ids=location_ids,
        **_service_fields(**overrides),
    )


# Providers: creating --------------------------------------------------------------------


@pytest.mark.django_db
class TestProviderCreate:
    def test_a_new_listing_waits_for_verification_and_its_commissioners_are_told(
        self, world: World
    ) -> None:
        provider = _create(world)
        assert provider.verification == Provider.Verification.PENDING
        assert provider.postcode == "LS1 4AP"
        assert list(provider.areas.all()) == [world.org_x]
        event = AuditEvent.objects.get(action="provider.created", object_id=str(provider.pk))
        assert event.actor == world.provider_staff
        assert event.changes["fields"]["name"] == [None, "Bright Days Support"]
        told = Notification.objects.get(user=world.commissioner)
        assert "Bright Days Support" in told.subject
        assert not Notification.objects.filter(user=world.staff_x).exists()

    def test_an_organisation_admin_of_the_provider_may_list_it(self, world: World) -> None:
        admin = staff_user(world.provider_org, Role.ORGANISATION_ADMIN)
        provider = listings.provider_save(
            saved_by=admin,
            organisation=world.provider_org,
            areas=[world.org_x],
            **_provider_fields(),
        )
        assert provider.organisation == world.provider_org

    @pytest.mark.parametrize("who", ["commissioner", "staff_x", "org_admin_x", "holder"])
    def test_people_who_are_not_its_staff_cannot_list_for_the_organisation(
        self, world: World, who: str
    ) -> None:
        user = world.holder_a.user if who == "holder" else getattr(world, who)
        with pytest.raises(PermissionDenied):
            listings.provider_save(
                saved_by=user,
                organisation=world.provider_org,
                areas=[world.org_x],
                **_provider_fields(),
            )
        assert not Provider.objects.exists()

    def test_only_a_provider_organisation_can_list(self, world: World) -> None:
        admin = world.org_admin_x  # an admin of an ICB
        with pytest.raises(ValidationError) as excinfo:
            listings.provider_save(
                saved_by=admin, organisation=world.org_x, areas=[world.org_x], **_provider_fields()
            )
        assert "organisation" in _errors(excinfo)

    def test_a_registered_care_provider_needs_its_cqc_number(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _create(world, kind=ProviderKind.REGISTERED_CARE)
        assert _errors(excinfo)["cqc_number"] == [
            "Enter the CQC registration number: registered care providers must have one"
        ]
        provider = _create(world, kind=ProviderKind.REGISTERED_CARE, cqc_number=" 1-101234567 ")
        assert provider.cqc_number == "1-101234567"

    @pytest.mark.parametrize("number", ["123456789", "1-", "1-12AB5678", "2-123456789", "1 123456"])
    def test_a_cqc_number_must_be_in_the_register_s_format(self, world: World, number: str) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _create(world, kind=ProviderKind.REGISTERED_CARE, cqc_number=number)
        assert "like 1-123456789" in _errors(excinfo)["cqc_number"][0]

    @pytest.mark.parametrize(
        "kind", [ProviderKind.PERSONAL_ASSISTANT, ProviderKind.SHARED_LIVES_CARER]
    )
    def test_individuals_need_a_dbs_check_date_not_in_the_future(
        self, world: World, kind: str
    ) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _create(world, kind=kind)
        assert "DBS check" in _errors(excinfo)["dbs_checked_on"][0]
        with pytest.raises(ValidationError) as excinfo:
            _create(world, kind=kind, dbs_checked_on=TODAY + datetime.timedelta(days=1))
        assert _errors(excinfo)["dbs_checked_on"] == [
            "The date of the DBS check must be today or in the past"
        ]
        assert not Provider.objects.exists()
        assert _create(world, kind=kind, dbs_checked_on=TODAY).dbs_checked_on == TODAY

    def test_the_postcode_must_be_a_real_shape(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _create(world, postcode="not a postcode")
        assert _errors(excinfo)["postcode"] == ["Enter a real postcode, like LS1 4AP"]

    def test_areas_must_be_icbs_or_councils_and_at_least_one(self, world: World) -> None:
        council = OrganisationFactory(kind=Organisation.Kind.LOCAL_AUTHORITY)
        with pytest.raises(ValidationError) as excinfo:
            listings.provider_save(
                saved_by=world.provider_staff,
                organisation=world.provider_org,
                areas=[world.org_x, world.provider_org],
                **_provider_fields(),
            )
        assert "integrated care boards and councils" in _errors(excinfo)["areas"][0]
        with pytest.raises(ValidationError) as excinfo:
            listings.provider_save(
                saved_by=world.provider_staff,
                organisation=world.provider_org,
                areas=[],
                **_provider_fields(),
            )
        assert "at least one" in _errors(excinfo)["areas"][0]
        provider = listings.provider_save(
            saved_by=world.provider_staff,
            organisation=world.provider_org,
            areas=[council.pk, world.org_y.pk],
            **_provider_fields(),
        )
        assert set(provider.areas.all()) == {council, world.org_y}

    def test_every_problem_is_reported_at_once(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _create(world, name="", kind=ProviderKind.REGISTERED_CARE, postcode="XX", email="nope")
        assert {"name", "cqc_number", "postcode", "email"} <= set(_errors(excinfo))


# Providers: changing ------------------------------------------------------------------------


@pytest.mark.django_db
class TestProviderUpdate:
    def test_changing_a_regulated_fact_sends_a_verified_listing_back_for_verification(
        self, world: World
    ) -> None:
        provider = _verified(world)
        Notification.objects.all().delete()
        provider = listings.provider_save(
            saved_by=world.provider_staff, provider=provider, insurer="Mutual Insurance"
        )
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.PENDING
        assert provider.verified_by is None
        assert provider.verification_expires_on is None
        assert not provider.is_verified
        event = AuditEvent.objects.filter(action="provider.updated").get()
        assert event.changes["regulated"] == ["insurer"]
        assert event.changes["fields"]["insurer"] == ["", "Mutual Insurance"]
        # Who verified it before stays in the audit trail.
        before = event.changes["sent_back_for_verification"]
        assert before["verification"] == "verified"
        assert before["verified_by"] == world.commissioner.pk
        assert before["expires_on"] == (TODAY + datetime.timedelta(days=365)).isoformat()
        told = Notification.objects.get(user=world.commissioner)
        assert "verify again" in told.subject
        assert "insurance provider" in told.body

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", "Brighter Days"),
            ("kind", ProviderKind.SOCIAL_ENTERPRISE),
            ("insurance_expires_on", datetime.date(2030, 1, 1)),
            ("user_led", True),
            ("not_for_profit", True),
        ],
    )
    def test_each_regulated_fact_sends_it_back(self, world: World, field: str, value: Any) -> None:
        provider = _verified(world)
        listings.provider_save(saved_by=world.provider_staff, provider=provider, **{field: value})
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.PENDING

    def test_a_new_dbs_check_or_cqc_number_sends_it_back(self, world: World) -> None:
        pa = _verified(world, kind=ProviderKind.PERSONAL_ASSISTANT, dbs_checked_on=TODAY)
        listings.provider_save(
            saved_by=world.provider_staff,
            provider=pa,
            dbs_checked_on=TODAY - datetime.timedelta(days=1),
        )
        pa.refresh_from_db()
        assert pa.verification == Provider.Verification.PENDING
        care = _verified(
            world, name="Care Co", kind=ProviderKind.REGISTERED_CARE, cqc_number="1-1111111"
        )
        listings.provider_save(saved_by=world.provider_staff, provider=care, cqc_number="1-2222222")
        care.refresh_from_db()
        assert care.verification == Provider.Verification.PENDING

    def test_other_changes_keep_the_verification(self, world: World) -> None:
        provider = _verified(world)
        Notification.objects.all().delete()
        listings.provider_save(
            saved_by=world.provider_staff,
            provider=provider,
            description="We help people live well.",
            phone="0113 496 0000",
            website="https://brightdays.example",
            postcode="LS2 7EW",
            listed=False,
            name="Bright Days Support",  # the same value: no change
        )
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.VERIFIED
        assert provider.verified_by == world.commissioner
        event = AuditEvent.objects.filter(action="provider.updated").get()
        assert event.changes["regulated"] == []
        assert set(event.changes["fields"]) == {
            "description",
            "phone",
            "website",
            "postcode",
            "listed",
        }
        assert not Notification.objects.filter(user=world.commissioner).exists()

    def test_a_refused_listing_changed_goes_back_for_verification(self, world: World) -> None:
        provider = _create(world)
        listings.provider_verify(
            provider=provider,
            verified_by=world.commissioner,
            decision="refused",
            note="No insurance",
        )
        listings.provider_save(saved_by=world.provider_staff, provider=provider, insurer="Mutual")
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.PENDING

    def test_staff_of_another_provider_cannot_change_it(self, world: World) -> None:
        provider = _create(world)
        other_org = OrganisationFactory(kind=Organisation.Kind.PROVIDER)
        stranger = staff_user(other_org, Role.PROVIDER_STAFF)
        for user in (stranger, world.commissioner, world.holder_a.user):
            with pytest.raises(PermissionDenied):
                listings.provider_save(saved_by=user, provider=provider, name="Taken over")
        provider.refresh_from_db()
        assert provider.name == "Bright Days Support"

    def test_a_colleague_may_change_it(self, world: World) -> None:
        provider = _create(world)
        colleague = staff_user(world.provider_org, Role.PROVIDER_STAFF)
        listings.provider_save(saved_by=colleague, provider=provider, description="Changed")
        provider.refresh_from_db()
        assert provider.description == "Changed"

    def test_bad_input_changes_nothing(self, world: World) -> None:
        provider = _verified(world)
        with pytest.raises(ValidationError):
            listings.provider_save(
                saved_by=world.provider_staff, provider=provider, name="New name", postcode="XX"
            )
        provider.refresh_from_db()
        assert provider.name == "Bright Days Support"
        assert provider.verification == Provider.Verification.VERIFIED
        assert not AuditEvent.objects.filter(action="provider.updated").exists()

    def test_changing_areas_is_audited(self, world: World) -> None:
        provider = _create(world)
        listings.provider_save(
            saved_by=world.provider_staff, provider=provider, areas=[world.org_x, world.org_y]
        )
        event = AuditEvent.objects.get(action="provider.updated")
        assert event.changes["fields"]["areas"] == [
            [world.org_x.pk],
            sorted([world.org_x.pk, world.org_y.pk]),
        ]

    def test_unknown_fields_are_a_programming_error(self, world: World) -> None:
        provider = _create(world)
        with pytest.raises(TypeError):
            listings.provider_save(
                saved_by=world.provider_staff, provider=provider, verification="verified"
            )


# Services ---------------------------------------------------------------------------------


@pytest.mark.django_db
class TestServiceSave:
    def test_a_paid_service_with_prices_and_times(self, world: World) -> None:
        provider = _create(world)
        service = _service(world, provider)
        assert service.postcode_districts == ["LS1", "LS2"]
        assert service.languages == ["en", "ur"]
        assert [(o.amount_pence, o.per, o.description) for o in service.cost_options.all()] == [
            (18_50, "hour", "Weekdays")
        ]
        assert [(s.weekday, s.opens_at, s.closes_at) for s in service.schedules.all()] == [
            (0, datetime.time(9), datetime.time(17))
        ]
        event = AuditEvent.objects.get(action="service.created")
        assert event.changes["fields"]["title"] == [None, "Help at home"]
        assert event.changes["fields"]["cost_options"] == [[], [[18_50, "hour", "Weekdays"]]]

    def test_keywords_let_search_find_it_by_provider_kind_category_and_eligibility(
        self, world: World
    ) -> None:
        parent = category("day-activities")
        child = listings.category_add(
            organisation=world.org_x,
            added_by=world.commissioner,
            name="Gardening clubs",
            description="Growing things together",
            parent=parent,
        )
        provider = _create(world, name="Meadowbank Collective")
        service = _service(
            world, provider, title="Tuesday club", description="Come along.", category=child
        )
        for words in (
            "Meadowbank",
            "micro-enterprise",
            "gardening",
            "opportunities",
            "learning disability",
        ):
            found = Service.objects.filter(search_vector=SearchQuery(words, config="english"))
            assert list(found) == [service], words
        assert "Community micro-enterprise" in service.keywords

    def test_renaming_the_provider_refreshes_its_services_keywords(self, world: World) -> None:
        provider = _create(world, name="Old Name Ltd")
        service = _service(world, provider)
        listings.provider_save(
            saved_by=world.provider_staff,
            provider=provider,
            name="Sunrise",
            kind=ProviderKind.COOPERATIVE,
        )
        service.refresh_from_db()
        assert "Sunrise" in service.keywords
        assert "Old Name" not in service.keywords
        assert "Co-operative" in service.keywords
        assert list(Service.objects.filter(search_vector=SearchQuery("sunrise"))) == [service]

    def test_updating_replaces_prices_and_times_as_given(self, world: World) -> None:
        provider = _create(world)
        service = _service(world, provider)
        service = listings.service_save(
            saved_by=world.provider_staff,
            provider=provider,
            service=service,
            cost_options=[
                {"amount_pence": 40_00, "per": "session"},
                {"amount_pence": 150_00, "per": "week"},
            ],
            schedules=[],
        )
        assert sorted((o.amount_pence, o.per) for o in service.cost_options.all()) == [
            (40_00, "session"),
            (150_00, "week"),
        ]
        assert not service.schedules.exists()
        # Not given: kept.
        service = listings.service_save(
            saved_by=world.provider_staff, provider=provider, service=service, title="Renamed"
        )
        assert service.cost_options.count() == 2
        assert CostOption.objects.count() == 2

    def test_a_free_service_has_no_prices_and_a_paid_one_at_least_one(self, world: World) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            _service(world, provider, is_free=True)
        assert "free service has no prices" in _errors(excinfo)["cost_options"][0]
        with pytest.raises(ValidationError) as excinfo:
            _service(world, provider, cost_options=[])
        assert _errors(excinfo)["cost_options"] == [
            "Give at least one price, or say the service is free"
        ]
        free = _service(
            world, provider, is_free=True, cost_options=[], category=category("community-groups")
        )
        assert free.is_free
        assert not free.cost_options.exists()

    @pytest.mark.parametrize(
        ("option", "message"),
        [
            ({"amount_pence": 0, "per": "hour"}, "whole number of pence more than 0"),
            ({"amount_pence": -5, "per": "hour"}, "whole number of pence more than 0"),
            ({"amount_pence": 12.5, "per": "hour"}, "whole number of pence more than 0"),
            ({"amount_pence": True, "per": "hour"}, "whole number of pence more than 0"),
            ({"amount_pence": 1000, "per": "month"}, "per hour, session, week or item"),
            ({"amount_pence": 1000}, "per hour, session, week or item"),
        ],
    )
    def test_prices_are_whole_pence_with_a_unit(
        self, world: World, option: dict[str, Any], message: str
    ) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            _service(world, provider, cost_options=[option])
        assert message in _errors(excinfo)["cost_options"][0]
        assert not Service.objects.exists()

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ({"weekday": 7}, "choose the day"),
            ({"weekday": None}, "choose the day"),
            ({"weekday": 1, "opens_at": datetime.time(10)}, "both the opening and closing"),
            (
                {"weekday": 1, "opens_at": datetime.time(10), "closes_at": datetime.time(10)},
                "closing time must be after",
            ),
            (
                {"weekday": 1, "opens_at": datetime.time(14), "closes_at": datetime.time(9)},
                "closing time must be after",
            ),
            ({"weekday": 1, "opens_at": "ten", "closes_at": "noon"}, "times like 09:30"),
        ],
    )
    def test_times_have_a_day_and_close_after_they_open(
        self, world: World, row: dict[str, Any], message: str
    ) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            _service(world, provider, schedules=[row])
        assert message in _errors(excinfo)["schedules"][0]

    def test_a_day_without_times_is_fine(self, world: World) -> None:
        service = _service(
            world, _create(world), schedules=[{"weekday": 6, "note": "By arrangement"}]
        )
        assert service.schedules.get().note == "By arrangement"

    def test_districts_are_postcode_districts(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _service(world, _create(world), postcode_districts=["LS1", "LS1 4AP", "Leeds"])
        assert len(_errors(excinfo)["postcode_districts"]) == 2

    def test_it_must_say_where_it_is(self, world: World) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            _service(world, provider, postcode_districts=[])
        assert "Say where the service is" in _errors(excinfo)["postcode_districts"][0]
        assert _service(world, provider, postcode_districts=[], online=True).online
        hall = LocationFactory(provider=provider)
        at_hall = _service(world, provider, postcode_districts=[], location_ids=[hall.pk])
        assert [s.location for s in at_hall.at_locations.all()] == [hall]

    def test_locations_must_be_the_provider_s_own(self, world: World) -> None:
        provider = _create(world)
        elsewhere = LocationFactory()
        with pytest.raises(ValidationError) as excinfo:
            _service(world, provider, location_ids=[elsewhere.pk])
        assert "locations" in _errors(excinfo)

    def test_ages_in_order(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _service(world, _create(world), minimum_age=18, maximum_age=16)
        assert "oldest age" in _errors(excinfo)["maximum_age"][0]
        service = _service(world, _create(world, name="Second"), minimum_age=18, maximum_age=18)
        assert (service.minimum_age, service.maximum_age) == (18, 18)

    def test_languages_are_iso_639_codes(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            _service(world, _create(world), languages=["en", "english", "xx"])
        assert len(_errors(excinfo)["languages"]) == 2
        service = _service(
            world, _create(world, name="Signing"), languages=["BFI", "cy", "en", "cy"]
        )
        assert service.languages == ["bfi", "cy", "en"]

    def test_the_category_is_national_or_added_in_the_provider_s_areas(self, world: World) -> None:
        provider = _create(world)  # in org X's area
        ours = listings.category_add(
            organisation=world.org_x,
            added_by=world.commissioner,
            name="Horse riding",
            description="Riding",
        )
        commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
        theirs = listings.category_add(
            organisation=world.org_y, added_by=commissioner_y, name="Sailing", description="Boats"
        )
        assert _service(world, provider, category=ours).category == ours
        assert _service(world, provider, category=ours.pk).category == ours
        for bad in (theirs, theirs.pk, None, 999_999):
            with pytest.raises(ValidationError) as excinfo:
                _service(world, provider, category=bad)
            assert "category" in _errors(excinfo)

    def test_only_the_provider_s_staff_may_save_its_services(self, world: World) -> None:
        provider = _create(world)
        service = _service(world, provider)
        stranger = staff_user(
            OrganisationFactory(kind=Organisation.Kind.PROVIDER), Role.PROVIDER_STAFF
        )
        for user in (stranger, world.commissioner):
            with pytest.raises(PermissionDenied):
                listings.service_save(
                    saved_by=user, provider=provider, service=service, title="Mine"
                )
            with pytest.raises(PermissionDenied):
                listings.service_save(saved_by=user, provider=provider, **_service_fields())
        service.refresh_from_db()
        assert service.title == "Help at home"

    def test_a_service_cannot_be_saved_under_another_provider(self, world: World) -> None:
        theirs = ServiceFactory(price=(10_00, "hour"))
        provider = _create(world)
        with pytest.raises(PermissionDenied):
            listings.service_save(
                saved_by=world.provider_staff, provider=provider, service=theirs, title="Mine"
            )

    def test_withdrawing_is_for_staff_and_done_once(self, world: World) -> None:
        provider = _create(world)
        service = _service(world, provider)
        stranger = staff_user(
            OrganisationFactory(kind=Organisation.Kind.PROVIDER), Role.PROVIDER_STAFF
        )
        with pytest.raises(PermissionDenied):
            listings.service_withdraw(service=service, withdrawn_by=stranger)
        listings.service_withdraw(service=service, withdrawn_by=world.provider_staff)
        listings.service_withdraw(service=service, withdrawn_by=world.provider_staff)
        service.refresh_from_db()
        assert service.status == Service.Status.WITHDRAWN
        assert AuditEvent.objects.filter(action="service.withdrawn").count() == 1
        assert service not in Service.objects.listed()


@pytest.mark.django_db
def test_locations_have_a_real_postcode_and_belong_to_their_provider(world: World) -> None:
    provider = _create(world)
    fields = {"name": "St Mark's hall", "address_1": "1 Park Row", "city": "Leeds"}
    with pytest.raises(ValidationError) as excinfo:
        listings.location_save(
            saved_by=world.provider_staff, provider=provider, postcode="LS", **fields
        )
    assert "postcode" in _errors(excinfo)
    location = listings.location_save(
        saved_by=world.provider_staff, provider=provider, postcode="ls1 5ab", **fields
    )
    assert location.postcode == "LS1 5AB"
    assert AuditEvent.objects.filter(action="location.created").count() == 1
    other = ProviderFactory()
    with pytest.raises(PermissionDenied):
        listings.location_save(
            saved_by=world.provider_staff, provider=other, postcode="LS1 5AB", **fields
        )
    with pytest.raises(PermissionDenied):
        listings.location_save(
            saved_by=world.provider_staff,
            provider=provider,
            location=LocationFactory(),
            name="Mine",
        )


# Verification ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestProviderVerify:
    def test_a_commissioner_of_its_area_verifies_it_and_its_staff_are_told(
        self, world: World
    ) -> None:
        provider = _create(world)
        colleague = staff_user(world.provider_org, Role.ORGANISATION_ADMIN)
        expires = TODAY + datetime.timedelta(days=700)
        provider = listings.provider_verify(
            provider=provider,
            verified_by=world.commissioner,
            decision="verified",
            expires_on=expires,
        )
        assert provider.verification == Provider.Verification.VERIFIED
        assert provider.verified_by == world.commissioner
        assert provider.verified_at is not None
        assert provider.verification_expires_on == expires
        assert provider.is_verified
        event = AuditEvent.objects.get(action="provider.verified")
        assert event.changes["verification"] == ["pending", "verified"]
        assert event.changes["facts"]["name"] == "Bright Days Support"
        for user in (world.provider_staff, colleague):
            assert "is verified" in Notification.objects.get(user=user).subject

    def test_only_a_commissioner_of_one_of_its_areas(self, world: World) -> None:
        provider = _create(world)
        commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
        for user in (
            commissioner_y,
            world.provider_staff,
            world.finance_officer,
            world.platform_admin,
        ):
            with pytest.raises(PermissionDenied):
                listings.provider_verify(
                    provider=provider,
                    verified_by=user,
                    decision="verified",
                    expires_on=TODAY + datetime.timedelta(days=30),
                )
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.PENDING

    @pytest.mark.parametrize(
        ("expires_on", "message"),
        [
            (None, "Enter the date the verification runs out"),
            (TODAY, "must be in the future"),
            (TODAY - datetime.timedelta(days=3), "must be in the future"),
            (listings.latest_expiry(TODAY) + datetime.timedelta(days=1), "at most 3 years"),
        ],
    )
    def test_the_expiry_is_in_the_future_and_at_most_3_years_away(
        self, world: World, expires_on: datetime.date | None, message: str
    ) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            listings.provider_verify(
                provider=provider,
                verified_by=world.commissioner,
                decision="verified",
                expires_on=expires_on,
            )
        assert message in _errors(excinfo)["expires_on"][0]
        provider = listings.provider_verify(
            provider=provider,
            verified_by=world.commissioner,
            decision="verified",
            expires_on=listings.latest_expiry(TODAY),
        )
        assert provider.is_verified

    def test_refusing_needs_a_note_which_the_staff_are_sent(self, world: World) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            listings.provider_verify(
                provider=provider, verified_by=world.commissioner, decision="refused", note=" "
            )
        assert "note" in _errors(excinfo)
        provider = listings.provider_verify(
            provider=provider,
            verified_by=world.commissioner,
            decision="refused",
            note="No insurance on file",
        )
        assert provider.verification == Provider.Verification.REFUSED
        assert provider.verification_expires_on is None
        assert "No insurance on file" in Notification.objects.get(user=world.provider_staff).body

    def test_an_unknown_decision_is_refused(self, world: World) -> None:
        provider = _create(world)
        with pytest.raises(ValidationError) as excinfo:
            listings.provider_verify(
                provider=provider, verified_by=world.commissioner, decision="pending"
            )
        assert "decision" in _errors(excinfo)


@pytest.mark.django_db
class TestVerificationExpirySweep:
    def test_expired_verifications_go_back_to_pending_once(self, world: World) -> None:
        expired = _verified(world, name="Expired")
        current = _verified(world, name="Current")
        Provider.objects.filter(pk=expired.pk).update(
            verification_expires_on=TODAY - datetime.timedelta(days=1)
        )
        Provider.objects.filter(pk=current.pk).update(verification_expires_on=TODAY)
        Notification.objects.all().delete()
        assert listings.verification_expire_sweep(today=TODAY) == {"expired": 1}
        expired.refresh_from_db()
        current.refresh_from_db()
        assert expired.verification == Provider.Verification.PENDING
        assert expired.verified_by is None
        assert current.verification == Provider.Verification.VERIFIED
        event = AuditEvent.objects.get(action="provider.verification_expired")
        assert event.actor is None
        assert event.changes["previous"]["verified_by"] == world.commissioner.pk
        assert Notification.objects.filter(user=world.provider_staff).count() == 1
        assert Notification.objects.filter(user=world.commissioner).count() == 1
        assert listings.verification_expire_sweep(today=TODAY) == {"expired": 0}
        assert AuditEvent.objects.filter(action="provider.verification_expired").count() == 1

    def test_the_celery_task_runs_the_sweep(self, world: World) -> None:
        from marketplace.tasks import verification_expire_task

        provider = _verified(world)
        Provider.objects.filter(pk=provider.pk).update(
            verification_expires_on=TODAY - datetime.timedelta(days=10)
        )
        assert verification_expire_task.apply().get() == {"expired": 1}
        provider.refresh_from_db()
        assert provider.verification == Provider.Verification.PENDING

    def test_the_beat_runs_it_daily(self) -> None:
        from django.conf import settings

        entry = settings.CELERY_BEAT_SCHEDULE["marketplace-verification-expire"]
        assert entry["task"] == "marketplace.tasks.verification_expire_task"


# Categories --------------------------------------------------------------------------------


@pytest.mark.django_db
class TestCategoryAdd:
    def test_a_commissioner_extends_the_taxonomy_for_their_organisation(self, world: World) -> None:
        parent = category("sport-fitness")
        added = listings.category_add(
            organisation=world.org_x,
            added_by=world.commissioner,
            name="  Wheelchair Rugby & Basketball ",
            description="Team sports",
            parent=parent,
        )
        assert added.code == "wheelchair-rugby-basketball"
        assert added.organisation == world.org_x
        assert added.taxonomy == parent.taxonomy
        assert added.created_by == world.commissioner
        assert added in Category.objects.for_area([world.org_x.pk])
        assert added not in Category.objects.for_area([world.org_y.pk])
        assert AuditEvent.objects.get(action="category.added").changes["parent"] == "sport-fitness"

    def test_codes_are_unique_across_organisations(self, world: World) -> None:
        commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
        first = listings.category_add(
            organisation=world.org_x, added_by=world.commissioner, name="Boccia", description="A"
        )
        second = listings.category_add(
            organisation=world.org_y, added_by=commissioner_y, name="Boccia", description="B"
        )
        assert (first.code, second.code) == ("boccia", "boccia-2")

    def test_a_name_already_in_the_area_is_refused(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            listings.category_add(
                organisation=world.org_x,
                added_by=world.commissioner,
                name="shared lives",
                description="x",
            )
        assert "already a category" in _errors(excinfo)["name"][0]

    def test_name_and_description_are_needed(self, world: World) -> None:
        with pytest.raises(ValidationError) as excinfo:
            listings.category_add(
                organisation=world.org_x, added_by=world.commissioner, name="", description=""
            )
        assert set(_errors(excinfo)) == {"name", "description"}
        with pytest.raises(ValidationError) as excinfo:
            listings.category_add(
                organisation=world.org_x, added_by=world.commissioner, name="***", description="x"
            )
        assert "letters or numbers" in _errors(excinfo)["name"][0]

    def test_the_parent_is_national_or_their_own(self, world: World) -> None:
        commissioner_y = staff_user(world.org_y, Role.COMMISSIONER)
        theirs = listings.category_add(
            organisation=world.org_y, added_by=commissioner_y, name="Sailing", description="Boats"
        )
        with pytest.raises(ValidationError) as excinfo:
            listings.category_add(
                organisation=world.org_x,
                added_by=world.commissioner,
                name="Dinghies",
                description="x",
                parent=theirs,
            )
        assert "parent" in _errors(excinfo)

    def test_only_a_commissioner_of_the_organisation(self, world: World) -> None:
        for user in (world.staff_x, world.org_admin_x, world.provider_staff, world.finance_officer):
            with pytest.raises(PermissionDenied):
                listings.category_add(
                    organisation=world.org_x, added_by=user, name="Mine", description="x"
                )
        with pytest.raises(PermissionDenied):
            listings.category_add(
                organisation=world.org_y, added_by=world.commissioner, name="Mine", description="x"
            )
        assert not Category.objects.filter(organisation__isnull=False).exists()
