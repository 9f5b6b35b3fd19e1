"""Outcomes API routes (joined into config/api_router.py, namespace ``api``)."""

from django.urls import path

from outcomes.api import views

urlpatterns = [
    path("outcomes/instruments/", views.InstrumentList.as_view(), name="outcome_instrument_list"),
    path(
        "outcomes/instruments/<int:pk>/",
        views.InstrumentDetail.as_view(),
        name="outcome_instrument_detail",
    ),
    path("outcomes/rounds/", views.RoundList.as_view(), name="outcome_round_list"),
    path("outcomes/results/", views.Results.as_view(), name="outcome_results"),
    path("outcomes/responses/", views.ResponseCreate.as_view(), name="outcome_response_create"),
    path(
        "fhir/Questionnaire/<int:pk>",
        views.FhirQuestionnaire.as_view(),
        name="fhir_questionnaire",
    ),
    path(
        "fhir/QuestionnaireResponse/<int:pk>",
        views.FhirQuestionnaireResponse.as_view(),
        name="fhir_questionnaire_response",
    ),
]
