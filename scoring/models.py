from django.db import models


class ScoreResult(models.Model):
    """The immutable output of one scoring run, with its provenance."""

    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="results")
    total = models.DecimalField(max_digits=5, decimal_places=1)
    criteria = models.JSONField(default=list, blank=True)
    feedback = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    engine_version = models.CharField(max_length=32)
    input_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0, total__lte=100), name="score_total_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.total} for {self.submission_id}"
