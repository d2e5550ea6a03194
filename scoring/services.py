from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from scoring import engine, sandbox
from scoring.models import Rubric, RubricCriterion, RubricVersion, ScoreResult
from scoring.selectors import rubric_spec_for_assignment
from submissions.models import Assignment, Submission
from submissions.selectors import submission_ready_files
from submissions.storage import read_object


def scoring_input_for(*, submission: Submission) -> engine.SubmissionInput:
    """The submission's text and the bytes of its READY files.

    Sizes are checked from the stored metadata before anything is downloaded,
    so an oversized submission is refused without reading it. Storage errors
    propagate unchanged: they are transient for the pipeline."""
    ready = list(submission_ready_files(submission=submission))
    if len(ready) > engine.MAX_FILES:
        raise engine.ScoringRejected(
            "too_many_files", f"The submission has {len(ready)} files; at most {engine.MAX_FILES}."
        )
    if sum(f.size or 0 for f in ready) > engine.MAX_TOTAL_BYTES:
        raise engine.ScoringRejected(
            "input_too_large",
            f"The submission's files are larger than {engine.MAX_TOTAL_BYTES // (1024 * 1024)} MB in total.",
        )
    files = tuple(
        engine.InputFile(name=f.original_name, content_type=f.content_type, data=read_object(f.storage_key))
        for f in ready
    )
    return engine.SubmissionInput(
        source_code=submission.source_code, documentation=submission.documentation, files=files
    )


def scoring_evaluate(*, submission: Submission, checkpoint: Callable[[], None] = lambda: None) -> engine.Outcome:
    """Score the submission's current content with the configured scorer
    against the latest version of its assignment's rubric (no writes).

    The scorer runs in a child process under time and memory limits
    (scoring/sandbox.py); ``checkpoint()`` is called while it runs and, if it
    raises (a cancelled run), the child is killed. Raises
    engine.ScoringRejected for input that can never be scored, including
    input that overran a limit (sandbox.ScoringOverrun)."""
    data = scoring_input_for(submission=submission)
    rubric = rubric_spec_for_assignment(assignment_id=submission.assignment_id)
    return sandbox.run(scorer_path=settings.SCORER, data=data, rubric=rubric, checkpoint=checkpoint)


def score_result_create(*, submission: Submission, outcome: engine.Outcome) -> ScoreResult:
    """Store an outcome with its provenance (engine, rubric version, input hash)."""
    data = outcome.as_dict()
    result = ScoreResult(
        submission=submission,
        total=Decimal(f"{outcome.total:.1f}"),
        criteria=data["criteria"],
        feedback=data["feedback"],
        summary=data["summary"],
        engine_version=outcome.engine_version,
        rubric_version_id=outcome.rubric_version_id,
        rubric_version_label=outcome.rubric_version,
        input_hash=outcome.input_hash,
    )
    # The submission and rubric version are rows the caller holds, and the
    # database enforces the score range: validating them here would cost a
    # query each on every scored job (measured in bench/: a quarter of a worker's time).
    result.full_clean(exclude=["submission", "rubric_version"], validate_constraints=False)
    result.save()
    return result


def rubric_definition(*, rubric: Rubric) -> dict:
    """The rubric's current editable state, in RubricVersion.definition's shape."""
    criteria = rubric.criteria.order_by("position", "id")
    return {
        "criteria": [[c.analyser, c.name, c.weight] for c in criteria],
        "csv_required_headers": list(rubric.csv_required_headers or []),
        "json_schema": rubric.json_schema,
    }


def rubric_definition_check(definition: dict) -> None:
    """Raise ValidationError unless the engine can score with ``definition``."""
    spec = engine.RubricSpec(
        version="draft",
        criteria=tuple(engine.CriterionSpec(k, n, w) for k, n, w in definition["criteria"]),
        json_schema=definition["json_schema"],
    )
    try:
        engine.check_rubric(spec)
        if spec.json_schema is not None:
            engine.check_json_schema(spec.json_schema)
    except engine.ScoringRejected as exc:
        raise ValidationError(str(exc)) from None


@transaction.atomic
def rubric_version_publish(*, rubric: Rubric, user=None) -> RubricVersion:
    """Snapshot the rubric as a new immutable version, numbered after the
    latest; if nothing changed since the latest version, return that one.

    The rubric row is locked so two staff saving at once get two numbers."""
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    definition = rubric_definition(rubric=rubric)
    rubric_definition_check(definition)
    latest = rubric.latest_version()
    if latest is not None and latest.definition == definition:
        return latest
    version = RubricVersion(
        rubric=rubric, number=latest.number + 1 if latest else 1, definition=definition, created_by=user
    )
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def rubric_create(
    *,
    assignment: Assignment,
    criteria: list[tuple[str, str, int]],
    csv_required_headers: list[str] | None = None,
    json_schema: dict | None = None,
    user=None,
) -> Rubric:
    """Create an assignment's rubric from (analyser, name, weight) triples and publish version 1."""
    rubric = Rubric(assignment=assignment, csv_required_headers=csv_required_headers or [], json_schema=json_schema)
    rubric.full_clean()
    rubric.save()
    for position, (analyser, name, weight) in enumerate(criteria):
        criterion = RubricCriterion(rubric=rubric, analyser=analyser, name=name, weight=weight, position=position)
        criterion.full_clean()
        criterion.save()
    rubric_version_publish(rubric=rubric, user=user)
    return rubric
