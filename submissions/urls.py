from django.urls import path

from submissions import views

app_name = "submissions"

urlpatterns = [
    path("", views.assignment_list, name="assignment_list"),
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/start/", views.submission_start_view, name="submission_start"),
    path("submissions/<uuid:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<uuid:pk>/autosave/", views.submission_autosave, name="submission_autosave"),
    path("submissions/<uuid:pk>/submit/", views.submission_submit_view, name="submission_submit"),
    path("submissions/<uuid:pk>/status/", views.submission_status, name="submission_status"),
    path("submissions/<uuid:pk>/files/", views.submission_files, name="submission_files"),
    path("submissions/<uuid:pk>/files/start/", views.file_upload_start, name="file_start"),
    path("submissions/<uuid:pk>/files/<uuid:file_id>/complete/", views.file_upload_complete, name="file_complete"),
    path("submissions/<uuid:pk>/files/<uuid:file_id>/delete/", views.file_delete, name="file_delete"),
    path("submissions/<uuid:pk>/files/<uuid:file_id>/download/", views.file_download, name="file_download"),
]
