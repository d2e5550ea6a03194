from feedback_site.api.routing import api_path
from jobs.api import views

urlpatterns = [
    *api_path("scoring", views.ScoringJobListCreateApi.as_view(), "scoring_job_list"),
    *api_path("scoring/<uuid:pk>", views.ScoringJobDetailApi.as_view(), "scoring_job_detail"),
    *api_path("scoring/<uuid:pk>/retry", views.ScoringJobRetryApi.as_view(), "scoring_job_retry"),
    *api_path("scoring/<uuid:pk>/cancel", views.ScoringJobCancelApi.as_view(), "scoring_job_cancel"),
    *api_path("submissions/<uuid:pk>/rescore", views.SubmissionRescoreApi.as_view(), "submission_rescore"),
]
