from django.urls import path

from submissions import views

app_name = "submissions"

urlpatterns = [
    path("", views.assignment_list, name="assignment_list"),
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/start/", views.submission_start_view, name="submission_start"),
    path("submissions/<uuid:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<uuid:pk>/submit/", views.submission_submit_view, name="submission_submit"),
]
