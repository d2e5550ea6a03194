from decimal import Decimal

from scoring import engine
from scoring.models import ScoreResult
from submissions.models import Submission


def scoring_input_for(*, submission: Submission) -> engine.SubmissionInput:
    return engine.SubmissionInput(source_code=submission.source_code, documentation=submission.documentation)


def scoring_evaluate(*, submission: Submission) -> engine.Outcome:
    """Run the engine on the submission's current content (no writes)."""
    return engine.score(scoring_input_for(submission=submission))


def score_result_create(*, submission: Submission, outcome: engine.Outcome) -> ScoreResult:
    data = outcome.as_dict()
    result = ScoreResult(
        submission=submission,
        total=Decimal(f"{outcome.total:.1f}"),
        criteria=data["criteria"],
        feedback=data["feedback"],
        summary=data["summary"],
        engine_version=outcome.engine_version,
        input_hash=outcome.input_hash,
    )
    result.full_clean()
    result.save()
    return result
