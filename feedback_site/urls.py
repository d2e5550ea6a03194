from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from feedback_site import health

urlpatterns = [
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health_ready"),
    path("", include("feedback_site.metrics")),  # /metrics (Prometheus)
    path("api/", include(("feedback_site.api.urls", "api"))),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("submissions.urls")),
]

# Under /api/ errors answer in the API's JSON format; elsewhere, Django's pages.
handler400 = "feedback_site.api.errors.bad_request"
handler403 = "feedback_site.api.errors.permission_denied"
handler404 = "feedback_site.api.errors.page_not_found"
handler500 = "feedback_site.api.errors.server_error"
