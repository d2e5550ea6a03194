"""The jobs dashboard: states, throughput and run times, the queues, the repairs of S3 and SQS."""

from django.core.exceptions import PermissionDenied

from jobs import dead_letters, infrastructure, selectors
from jobs.admin.formatting import format_duration, throughput_chart
from jobs.models import ScoringJob


class DashboardMixin:
    """The dashboard page of ScoringJobAdmin (jobs/admin/scoring_job.py)."""

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        dashboard = selectors.job_dashboard()
        try:
            depths, queue_error = dead_letters.queue_depths(), ""
        except dead_letters.QueueUnavailable as exc:
            depths, queue_error = None, str(exc)
        statuses = [
            {"status": value, "label": label, "count": dashboard.counts.get(value, 0)}
            for value, label in ScoringJob.Status.choices
        ]
        windows = [
            (name, {
                "finished": stats.finished, "done": stats.done, "error": stats.error,
                "per_minute": f"{stats.finished / (selectors.WINDOWS[name].total_seconds() / 60):.2f}",
                "p50_text": format_duration(stats.p50), "p95_text": format_duration(stats.p95),
            })
            for name, stats in dashboard.windows.items()
        ]
        return self._page(
            request, "admin/jobs/scoringjob/dashboard.html", "Scoring jobs dashboard",
            dashboard=dashboard, statuses=statuses, windows=windows, chart=throughput_chart(dashboard.hourly),
            depths=depths, queue_error=queue_error, repairs=infrastructure.recent_repairs(limit=10),
        )
