from feedback_site.api.routing import api_path
from submissions.api import files, views

urlpatterns = [
    *api_path("submissions", views.SubmissionListCreateApi.as_view(), "submission_list"),
    *api_path("submissions/<uuid:pk>", views.SubmissionDetailApi.as_view(), "submission_detail"),
    *api_path("submissions/<uuid:pk>/submit", views.SubmissionSubmitApi.as_view(), "submission_submit"),
    *api_path("submissions/<uuid:pk>/files", files.SubmissionFileListStartApi.as_view(), "submission_file_list"),
    *api_path(
        "submissions/<uuid:pk>/files/<uuid:file_id>", files.SubmissionFileDetailApi.as_view(), "submission_file_detail"
    ),
    *api_path(
        "submissions/<uuid:pk>/files/<uuid:file_id>/complete",
        files.SubmissionFileCompleteApi.as_view(),
        "submission_file_complete",
    ),
    *api_path(
        "submissions/<uuid:pk>/files/<uuid:file_id>/download",
        files.SubmissionFileDownloadApi.as_view(),
        "submission_file_download",
    ),
]
