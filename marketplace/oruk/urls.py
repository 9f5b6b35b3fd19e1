"""The Open Referral UK 3.0 feed, at /oruk/ (public, read-only). Paths are the
standard's OpenAPI paths exactly, without trailing slashes; any other path under
/oruk/ answers the feed's JSON 404."""

from django.urls import path

from marketplace.oruk import views

app_name = "oruk"
urlpatterns = [
    path("", views.api_details, name="api_details"),
    path("services", views.service_list, name="service_list"),
    path("services/<str:id>", views.service_detail, name="service_detail"),
    path("service_at_locations", views.service_at_location_list, name="service_at_location_list"),
    path(
        "service_at_locations/<str:id>",
        views.service_at_location_detail,
        name="service_at_location_detail",
    ),
    path("taxonomies", views.taxonomy_list, name="taxonomy_list"),
    path("taxonomies/<str:id>", views.taxonomy_detail, name="taxonomy_detail"),
    path("taxonomy_terms", views.taxonomy_term_list, name="taxonomy_term_list"),
    path("taxonomy_terms/<str:id>", views.taxonomy_term_detail, name="taxonomy_term_detail"),
    path("<path:rest>", views.not_found, name="not_found"),
]
