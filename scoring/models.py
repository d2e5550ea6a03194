from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from scoring import engine


class Rubric(models.Model):
    """The editable rubric of an assignment. Scoring never reads it directly:
    every save in the admin publishes an immutable RubricVersion, and results
    pin the version they used."""

    assignment = models.OneToOneField("submissions.Assignment", on_delete=models.PROTECT, related_name="rubric")
    csv_required_headers = models.JSONField(
        default=list, blank=True, help_text='Columns every CSV attachment must have, e.g. ["date", "amount"].'
    )
    json_schema = models.JSONField(
        null=True, blank=True, help_text="A JSON Schema that every JSON attachment must match (optional)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assignment__title", "id"]

    def __str__(self) -> str:
        return f"Rubric of {self.assignment}"

    def clean(self) -> None:
        headers = self.csv_required_headers
        if not isinstance(headers, list) or not all(isinstance(h, str) and h.strip() for h in headers):
            raise ValidationError({"csv_required_headers": "Give a list of column names."})
        if self.json_schema is not None:
            try:
                engine.check_json_schema(self.json_schema)
            except engine.ScoringRejected as exc:
                raise ValidationError({"json_schema": str(exc)}) from None

    def latest_version(self) -> "RubricVersion | None":
        return self.versions.order_by("-number").first()


class RubricCriterion(models.Model):
    """One weighted criterion of a rubric; weights are points out of 100."""

    class Analyser(models.TextChoices):
        CODE_QUALITY = engine.CODE_QUALITY, "Code quality"
        DOCUMENTATION = engine.DOCUMENTATION, "Documentation"
        PERFORMANCE = engine.PERFORMANCE, "Performance"
        DATA_FILES = engine.DATA_FILES, "Data files (CSV/JSON)"

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    analyser = models.CharField(max_length=32, choices=Analyser.choices)
    name = models.CharField(max_length=100, help_text="Shown to learners.")
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "analyser"], name="rubric_criterion_analyser_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class RubricVersion(models.Model):
    """An immutable snapshot of a rubric: what a result was scored against."""

    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    # {"criteria": [[analyser, name, weight], ...], "csv_required_headers": [...], "json_schema": {...} | null}
    definition = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rubric", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "number"], name="rubric_version_number_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"rubric {self.rubric_id} v{self.number}"

    def as_spec(self) -> engine.RubricSpec:
        """The plain data the engine scores with."""
        d = self.definition
        return engine.RubricSpec(
            version=self.label,
            version_id=self.pk,
            criteria=tuple(engine.CriterionSpec(key, name, weight) for key, name, weight in d["criteria"]),
            csv_required_headers=tuple(d.get("csv_required_headers") or ()),
            json_schema=d.get("json_schema"),
        )


class ScoreResult(models.Model):
    """The immutable output of one scoring run, with its provenance."""

    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="results")
    total = models.DecimalField(max_digits=5, decimal_places=1)
    criteria = models.JSONField(default=list, blank=True)
    feedback = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    engine_version = models.CharField(max_length=32)
    # Null: the built-in default rubric (see rubric_version_label).
    rubric_version = models.ForeignKey(
        RubricVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="results"
    )
    rubric_version_label = models.CharField(max_length=64, blank=True)
    input_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0, total__lte=100), name="score_total_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.total} for {self.submission_id}"
