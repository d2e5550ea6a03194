import factory

from scoring.models import Rubric, RubricCriterion
from scoring.services import rubric_create
from submissions.tests.factories import AssignmentFactory

DEFAULT_CRITERIA = [("code_quality", "Code quality", 40), ("documentation", "Documentation", 30),
                    ("performance", "Performance", 30)]


class RubricFactory(factory.django.DjangoModelFactory):
    """A rubric without criteria or versions (an unpublished draft)."""

    class Meta:
        model = Rubric

    assignment = factory.SubFactory(AssignmentFactory)


class RubricCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RubricCriterion

    rubric = factory.SubFactory(RubricFactory)
    analyser = "code_quality"
    name = "Code quality"
    weight = 100


def published_rubric(*, assignment=None, criteria=None, **kwargs) -> Rubric:
    """A rubric with criteria and its version 1, made through the service."""
    return rubric_create(assignment=assignment or AssignmentFactory(), criteria=criteria or DEFAULT_CRITERIA, **kwargs)
