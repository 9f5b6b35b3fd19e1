"""The Open Referral UK 3.0 feed: public, read-only JSON at the paths the standard's
OpenAPI description gives (no trailing slashes), under ``/oruk/``.

Every answer, errors included, carries ``Access-Control-Allow-Origin: *`` so that
pages on any site can read the feed. Lists come in the standard's page envelope.
An unknown or malformed id answers 404, a bad parameter 400, both as problem details."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.api.errors import problem_response
from marketplace.oruk import mapping, selectors
from marketplace.oruk.filters import (
    BadParameter,
    page_count,
    paging,
    service_filters,
    uuid_param,
)

VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://github.com/openreferral/uk-profile"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json"

ALLOWED_METHODS = "GET, HEAD, OPTIONS"

M = TypeVar("M", bound=Model)


class NotFound(Exception):
    pass


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    return response


def feed_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Read-only, open to any origin: GET and HEAD answer, OPTIONS says what is
    allowed, anything else is 405. No CSRF check: nothing here reads a cookie to act."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = ALLOWED_METHODS
            response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response["Access-Control-Max-Age"] = "86400"
        elif request.method not in ("GET", "HEAD"):
            response = problem_response(
                status=405,
                title="Method not allowed",
                detail="The Open Referral feed is read-only: use GET.",
            )
            response["Allow"] = ALLOWED_METHODS
        else:
            try:
                response = view(request, *args, **kwargs)
            except BadParameter as error:
                response = problem_response(
                    status=400,
                    title="Bad request",
                    detail=f"The {error.name} parameter {error.message}.",
                )
            except NotFound as error:
                response = problem_response(status=404, title="Not found", detail=str(error))
        return _cors(response)

    return wrapper


def _json(body: Any) -> JsonResponse:
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _one(queryset: QuerySet[M], id: str, what: str) -> M:
    try:
        key = uuid.UUID(id)
    except ValueError:
        raise NotFound(f"There is no {what} with id “{id}”.") from None
    found = queryset.filter(uuid=key).first()
    if found is None:
        raise NotFound(f"There is no {what} with id “{id}”.")
    return found


def _page(request: HttpRequest, queryset: QuerySet[M], to_json: Callable[[M], Any]) -> JsonResponse:
    """The standard's page envelope around one page of ``queryset``."""
    pages = paging(request.GET)
    total = queryset.count()
    total_pages = page_count(total, pages.per_page)
    items: list[M] = []
    if pages.page <= total_pages:
        start = (pages.page - 1) * pages.per_page
        items = list(queryset[start : start + pages.per_page])
    return _json(
        {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": pages.page,
            "size": len(items),
            "first_page": pages.page == 1,
            "last_page": pages.page >= total_pages,
            "empty": not items,
            "contents": [to_json(item) for item in items],
        }
    )


@feed_view
def api_details(request: HttpRequest) -> HttpResponse:
    return _json({"version": VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL})


@feed_view
def service_list(request: HttpRequest) -> HttpResponse:
    filters = service_filters(request.GET)
    services = selectors.filter_services(selectors.listed_services(), filters)
    return _page(request, services, mapping.service_flat)


@feed_view
def service_detail(request: HttpRequest, id: str) -> HttpResponse:
    return _json(mapping.service_full(_one(selectors.full_services(), id, "service")))


@feed_view
def service_at_location_list(request: HttpRequest) -> HttpResponse:
    filters = service_filters(request.GET, places=True)
    found = selectors.filter_service_at_locations(selectors.listed_service_at_locations(), filters)
    return _page(request, found, mapping.service_at_location_flat)


@feed_view
def service_at_location_detail(request: HttpRequest, id: str) -> HttpResponse:
    found = _one(selectors.full_service_at_locations(), id, "service at a location")
    return _json(mapping.service_at_location_full(found))


@feed_view
def taxonomy_list(request: HttpRequest) -> HttpResponse:
    return _page(request, selectors.taxonomies(), mapping.taxonomy)


@feed_view
def taxonomy_detail(request: HttpRequest, id: str) -> HttpResponse:
    found = _one(selectors.taxonomy_with_terms(), id, "taxonomy")
    return _json(mapping.taxonomy(found, terms=list(found.terms.all())))


@feed_view
def taxonomy_term_list(request: HttpRequest) -> HttpResponse:
    terms = selectors.taxonomy_terms()
    taxonomy_id = uuid_param(request.GET, "taxonomy_id")
    if taxonomy_id is not None:
        terms = terms.filter(taxonomy__uuid=taxonomy_id)
    return _page(request, terms, mapping.taxonomy_term)


@feed_view
def taxonomy_term_detail(request: HttpRequest, id: str) -> HttpResponse:
    return _json(mapping.taxonomy_term(_one(selectors.taxonomy_terms(), id, "taxonomy term")))


@feed_view
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    raise NotFound(
        "The Open Referral feed has no such path: see the standard's OpenAPI description "
        f"at {OPENAPI_URL}."
    )
