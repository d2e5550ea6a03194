from scoring import engine
from scoring.models import RubricVersion


def rubric_spec_for_assignment(*, assignment_id) -> engine.RubricSpec:
    """The latest published version of the assignment's rubric as plain data,
    or the built-in default rubric when the assignment has none."""
    version = (
        RubricVersion.objects.filter(rubric__assignment_id=assignment_id).order_by("-number").only(
            "id", "number", "rubric_id", "definition"
        ).first()
    )
    return version.as_spec() if version is not None else engine.DEFAULT_RUBRIC
