from outcomes.views import answering, improvement, reports, rounds

app_name = "outcomes"
urlpatterns = (
    answering.urlpatterns + rounds.urlpatterns + reports.urlpatterns + improvement.urlpatterns
)
