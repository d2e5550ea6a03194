"""Every /api/ route (included under the "api" namespace)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from feedback_site.api import views
from feedback_site.api.routing import api_path

urlpatterns = [
    *api_path("auth/token", views.TokenObtainApi.as_view(), "auth_token"),
    *api_path("schema", SpectacularAPIView.as_view(), "schema"),
    *api_path("docs", views.api_docs, "docs"),
    path("", include("submissions.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("scoring.api.urls")),
]
