from plans.views import holder, staff

app_name = "plans"
urlpatterns = holder.urlpatterns + staff.urlpatterns
