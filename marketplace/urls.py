from marketplace.views import buying, market, pools, provider, search, sharedlives

app_name = "marketplace"
urlpatterns = (
    search.urlpatterns
    + provider.urlpatterns
    + market.urlpatterns
    + buying.urlpatterns
    + pools.urlpatterns
    + sharedlives.urlpatterns
)
