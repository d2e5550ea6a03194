"""The scoring pipeline's Prometheus collectors (listed in
settings.METRICS_COLLECTORS, exposed at /metrics by feedback_site.metrics).

Workers have no HTTP port of their own and usually run elsewhere, so what they
did is read where it is true for the whole system, at each scrape: job states
and ended attempts from PostgreSQL (JobAttempt rows are append-only, so counts
of them are true counters across worker restarts), queue depths from SQS.
"""

import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from jobs import dead_letters, selectors
from jobs.models import JobAttempt

JOB_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class JobsCollector:
    """Scoring jobs as the database knows them, read at each scrape."""

    def collect(self):
        by_status = GaugeMetricFamily("feedback_scoring_jobs", "Scoring jobs by current status.", labels=["status"])
        for status, count in selectors.job_counts_by_status().items():
            by_status.add_metric([status], count)
        yield by_status

        oldest = selectors.oldest_queued_at()
        yield GaugeMetricFamily(
            "feedback_scoring_oldest_queued_job_age_seconds", "Age of the oldest QUEUED job (0 when none).",
            value=(time.time() - oldest.timestamp()) if oldest else 0.0,
        )

        histogram = selectors.attempt_duration_histogram(JOB_DURATION_BUCKETS)
        attempts = CounterMetricFamily(
            "feedback_scoring_job_attempts", "Ended attempts at scoring jobs, by outcome.", labels=["outcome"]
        )
        durations = HistogramMetricFamily(
            "feedback_scoring_job_attempt_duration_seconds", "Run time of ended attempts, by outcome.",
            labels=["outcome"],
        )
        for outcome in JobAttempt.Outcome.values:
            row = histogram.get(outcome, {"count": 0, "sum": 0.0, "buckets": [0] * len(JOB_DURATION_BUCKETS)})
            attempts.add_metric([outcome], row["count"])
            buckets = [(str(upper), n) for upper, n in zip(JOB_DURATION_BUCKETS, row["buckets"], strict=True)]
            durations.add_metric([outcome], buckets + [("+Inf", row["count"])], row["sum"])
        yield attempts
        yield durations


class QueueCollector:
    """SQS message counts of the scoring queue and its dead-letter queue, read at each scrape."""

    def collect(self):
        up = GaugeMetricFamily("feedback_sqs_up", "1 if SQS answered this scrape.")
        messages = GaugeMetricFamily(
            "feedback_sqs_messages", "Approximate messages in SQS, by queue and state.", labels=["queue", "state"]
        )
        try:
            depths = dead_letters.queue_depths()
        except dead_letters.QueueUnavailable:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for depth in depths.values():
            messages.add_metric([depth.name, "visible"], depth.visible)
            messages.add_metric([depth.name, "in_flight"], depth.in_flight)
            messages.add_metric([depth.name, "delayed"], depth.delayed)
        yield up
        yield messages
