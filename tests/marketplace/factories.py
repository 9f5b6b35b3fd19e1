"""Factories for the marketplace's listings (factory_boy)."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

import factory
from django.apps import apps

from marketplace.models import (
    Category,
    CostOption,
    Location,
    Provider,
    ProviderKind,
    Schedule,
    Service,
    ServiceAtLocation,
)
from tests.factories import OrganisationFactory
from users.models import Organisation


def national_categories() -> None:
    """The national taxonomy as migration 0002 seeds it. A test on the transactional
    database (browser and concurrency tests) empties every table when it ends, seeded
    rows included, so later tests put them back through the migration's own code."""
    if Category.objects.filter(organisation__isnull=True).exists():
        return
    seeding = importlib.import_module("marketplace.migrations.0002_national_categories")
    seeding.seed(apps, None)


def category(code: str = "personal-assistance") -> Category:
    """A national category from the seeded taxonomy (marketplace/migrations/0002)."""
    national_categories()
    return Category.objects.get(code=code, organisation__isnull=True)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.PROVIDER)
    name = factory.Sequence(lambda n: f"Provider {n}")
    kind = ProviderKind.MICRO_ENTERPRISE
    description = "Support in the community."
    email = factory.Sequence(lambda n: f"provider{n}@example.test")
    postcode = "LS1 4AP"
    cqc_number = factory.LazyAttribute(
        lambda p: "1-123456789" if p.kind == ProviderKind.REGISTERED_CARE else ""
    )
    dbs_checked_on = factory.LazyAttribute(
        lambda p: datetime.date(2026, 1, 15) if p.kind in ProviderKind.individuals() else None
    )

    @factory.post_generation
    def areas(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.areas.set(extracted)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderFactory)
    title = factory.Sequence(lambda n: f"Service {n}")
    description = "Help with everyday things."
    category = factory.LazyFunction(category)
    postcode_districts = factory.LazyFunction(lambda: ["LS1", "LS2"])

    @factory.post_generation
    def price(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """``price=(pence, per)`` adds a cost option; free services get none."""
        if create and extracted and not self.is_free:
            pence, per = extracted
            CostOption.objects.create(service=self, amount_pence=pence, per=per)


class CostOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostOption

    service = factory.SubFactory(ServiceFactory)
    amount_pence = 18_00
    per = CostOption.Per.HOUR


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"Community hall {n}")
    address_1 = "1 Park Row"
    city = "Leeds"
    postcode = "LS1 5AB"


class ServiceAtLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAtLocation

    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(
        LocationFactory, provider=factory.SelfAttribute("..service.provider")
    )


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    service = factory.SubFactory(ServiceFactory)
    weekday = 0
    opens_at = datetime.time(10, 0)
    closes_at = datetime.time(12, 0)
