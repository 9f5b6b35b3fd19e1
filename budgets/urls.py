from budgets.views import finance, holders, money, setup

app_name = "budgets"
urlpatterns = holders.urlpatterns + money.urlpatterns + setup.urlpatterns + finance.urlpatterns
