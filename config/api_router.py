"""The REST API, version 1, for partner systems and signed-in browsers."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from budgets.api import views as budgets_api
from core.api.docs import api_docs
from core.reporting.api.urls import urlpatterns as reporting_api
from marketplace.api import views as marketplace_api
from outcomes.api.urls import urlpatterns as outcomes_api
from plans.api import fhir_views
from plans.api import views as plans_api
from users.api import views as users_api

app_name = "api"
urlpatterns = [
    path("me/", users_api.MeView.as_view(), name="me"),
    path("organisations/", users_api.OrganisationList.as_view(), name="organisation_list"),
    path(
        "organisations/<int:pk>/",
        users_api.OrganisationDetail.as_view(),
        name="organisation_detail",
    ),
    path(
        "organisations/<int:pk>/members/",
        users_api.MemberList.as_view(),
        name="organisation_members",
    ),
    path("holders/", budgets_api.HolderList.as_view(), name="holder_list"),
    path("holders/<int:pk>/", budgets_api.HolderDetail.as_view(), name="holder_detail"),
    path("budgets/", budgets_api.BudgetList.as_view(), name="budget_list"),
    path("budgets/<int:pk>/", budgets_api.BudgetDetail.as_view(), name="budget_detail"),
    path(
        "budgets/<int:pk>/transactions/",
        budgets_api.TransactionList.as_view(),
        name="transaction_list",
    ),
    path("budgets/<int:pk>/spends/", budgets_api.SpendCreate.as_view(), name="spend_create"),
    path("allocation-runs/", budgets_api.AllocationRunList.as_view(), name="allocation_run_list"),
    path(
        "allocation-runs/<int:pk>/",
        budgets_api.AllocationRunDetail.as_view(),
        name="allocation_run_detail",
    ),
    path("plans/", plans_api.PlanList.as_view(), name="plan_list"),
    path("plans/<int:pk>/", plans_api.PlanDetail.as_view(), name="plan_detail"),
    path("plans/<int:pk>/versions/", plans_api.PlanVersionList.as_view(), name="plan_versions"),
    path("plans/<int:pk>/submit/", plans_api.PlanSubmit.as_view(), name="plan_submit"),
    path("plans/<int:pk>/approve/", plans_api.PlanApprove.as_view(), name="plan_approve"),
    path(
        "plans/<int:pk>/request-changes/",
        plans_api.PlanRequestChanges.as_view(),
        name="plan_request_changes",
    ),
    path("fhir/Patient/<int:pk>", fhir_views.FhirPatient.as_view(), name="fhir_patient"),
    path("fhir/CarePlan/<int:pk>", fhir_views.FhirCarePlan.as_view(), name="fhir_careplan"),
    path("fhir/Goal/<int:pk>", fhir_views.FhirGoal.as_view(), name="fhir_goal"),
    path("categories/", marketplace_api.CategoryList.as_view(), name="category_list"),
    path("providers/", marketplace_api.ProviderList.as_view(), name="provider_list"),
    path("providers/<int:pk>/", marketplace_api.ProviderDetail.as_view(), name="provider_detail"),
    path("services/", marketplace_api.ServiceList.as_view(), name="service_list"),
    path("services/<int:pk>/", marketplace_api.ServiceDetail.as_view(), name="service_detail"),
    path("bookings/", marketplace_api.BookingList.as_view(), name="booking_list"),
    path("bookings/<int:pk>/", marketplace_api.BookingDetail.as_view(), name="booking_detail"),
    path("pools/", marketplace_api.PoolList.as_view(), name="pool_list"),
    path("pools/<int:pk>/", marketplace_api.PoolDetail.as_view(), name="pool_detail"),
    *outcomes_api,
    *reporting_api,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
]
