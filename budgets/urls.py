from django.urls import path

from budgets import views

app_name = "budgets"
urlpatterns = [
    path("people/", views.holder_list, name="holder_list"),
    path("people/<int:pk>/", views.holder_detail, name="holder_detail"),
]
