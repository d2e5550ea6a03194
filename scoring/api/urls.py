from feedback_site.api.routing import api_path
from scoring.api import views

urlpatterns = [
    *api_path("assignments/<int:pk>/results", views.AssignmentResultsExportApi.as_view(), "assignment_results"),
]
