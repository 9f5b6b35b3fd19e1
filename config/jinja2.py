"""The Jinja2 environment for our pages: nhsuk-frontend-jinja macros and Django helpers."""

import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader

from budgets.ledger import format_pence


def local_date(value: Any, format: str | None = None) -> str:
    """Django's ``date`` filter for Jinja2: times shown in the site's time zone (UK
    time), as the Django template filter does; plain dates as they are."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, format)


def url(viewname: str, *args: Any, **kwargs: Any) -> str:
    return reverse(viewname, args=args or None, kwargs=kwargs or None)


def nhsuk_choice(choice: list[Any]) -> dict[str, Any]:
    """A Django (value, label) choice as an NHS.UK item."""
    value, label = choice
    return {"value": "" if value is None else str(value), "text": str(label)}


def reject_keys(mapping: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key not in keys}


def page_url(request: Any, number: int) -> str:
    """This page's query string with another page number (keeps search filters)."""
    query = request.GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


def environment(**options: Any) -> Environment:
    # One way to import NHS.UK macros: "nhsuk/components/<name>/macro.jinja".
    options["loader"] = ChoiceLoader([options["loader"], PackageLoader("nhsuk_frontend_jinja")])
    options["undefined"] = ChainableUndefined
    options.setdefault("extensions", []).append("jinja2.ext.do")
    env = Environment(**options)  # noqa: S701 - Django's backend turns autoescape on
    env.globals.update(
        {
            "static": static,
            "static_url": settings.STATIC_URL,
            "url": url,
            "page_url": page_url,
            "get_messages": messages.get_messages,
            "service_name": settings.PHB_SERVICE_NAME,
        }
    )
    env.filters.update(
        {
            "date": local_date,
            "naturaltime": naturaltime,
            "nhsuk_choice": nhsuk_choice,
            "reject_keys": reject_keys,
            "pounds": format_pence,
        }
    )
    return env
