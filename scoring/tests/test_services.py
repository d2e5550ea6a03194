import hashlib
import uuid
from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from scoring import engine
from scoring.checks import scorer_is_importable
from scoring.models import Rubric, RubricVersion
from scoring.selectors import rubric_spec_for_assignment
from scoring.services import rubric_create, rubric_version_publish, score_result_create, scoring_evaluate
from scoring.tests.factories import RubricFactory, published_rubric
from submissions.models import SubmissionFile
from submissions.tests.factories import AssignmentFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def test_creating_a_rubric_publishes_version_one():
    rubric = published_rubric(criteria=[("code_quality", "Code", 70), ("documentation", "Docs", 30)])
    (version,) = rubric.versions.all()
    assert version.number == 1
    assert version.definition == {"criteria": [["code_quality", "Code", 70], ["documentation", "Docs", 30]],
                                  "csv_required_headers": [], "json_schema": None}


def test_publishing_an_unchanged_rubric_keeps_the_latest_version():
    rubric = published_rubric()
    assert rubric_version_publish(rubric=rubric).number == 1
    assert rubric.versions.count() == 1


def test_editing_a_rubric_makes_a_new_version_and_earlier_results_keep_theirs():
    rubric = published_rubric()
    submission = SubmissionFactory(assignment=rubric.assignment)
    first = score_result_create(submission=submission, outcome=scoring_evaluate(submission=submission))

    criterion = rubric.criteria.get(analyser="code_quality")
    criterion.weight, criterion.name = 60, "Clean code"
    criterion.save()
    rubric.criteria.filter(analyser="performance").update(weight=10)
    v2 = rubric_version_publish(rubric=rubric)
    second = score_result_create(submission=submission, outcome=scoring_evaluate(submission=submission))

    assert v2.number == 2
    first.refresh_from_db()
    assert (first.rubric_version.number, first.rubric_version_label) == (1, f"rubric {rubric.pk} v1")
    assert (second.rubric_version.number, second.rubric_version_label) == (2, f"rubric {rubric.pk} v2")
    assert [c["max_score"] for c in first.criteria] == [40, 30, 30]
    assert [(c["name"], c["max_score"]) for c in second.criteria] == [
        ("Clean code", 60), ("Documentation", 30), ("Performance", 10)]
    assert first.rubric_version.definition["criteria"][0] == ["code_quality", "Code quality", 40]
    assert first.input_hash != second.input_hash  # the rubric is part of the input


def test_weights_that_do_not_add_up_to_100_are_refused_and_publish_nothing():
    with pytest.raises(ValidationError, match="add up to 100"):
        rubric_create(assignment=AssignmentFactory(), criteria=[("code_quality", "Code", 50)])
    assert not Rubric.objects.exists() and not RubricVersion.objects.exists()


def test_an_invalid_json_schema_is_refused():
    rubric = RubricFactory.build(json_schema={"type": 12})
    with pytest.raises(ValidationError) as caught:
        rubric.full_clean()
    assert "json_schema" in caught.value.message_dict


def test_an_assignment_without_a_rubric_is_scored_with_the_default():
    submission = SubmissionFactory()
    assert rubric_spec_for_assignment(assignment_id=submission.assignment_id) == engine.DEFAULT_RUBRIC
    result = score_result_create(submission=submission, outcome=scoring_evaluate(submission=submission))
    assert (result.rubric_version, result.rubric_version_label) == (None, "default v1")
    assert [c["key"] for c in result.criteria] == ["code_quality", "documentation", "performance"]
    assert result.engine_version == engine.ENGINE_VERSION and len(result.input_hash) == 64


def test_a_draft_rubric_without_versions_falls_back_to_the_default():
    submission = SubmissionFactory()
    RubricFactory(assignment=submission.assignment)
    assert rubric_spec_for_assignment(assignment_id=submission.assignment_id) == engine.DEFAULT_RUBRIC


def _ready_file(submission, name, data: bytes, *, content_type="", status=SubmissionFile.Status.READY, store=True):
    key = f"submissions/{submission.pk}/{uuid.uuid4().hex}"
    if store:
        key = default_storage.save(key, ContentFile(data))
    return SubmissionFile.objects.create(
        submission=submission, original_name=name, storage_key=key, content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), status=status,
    )


def test_evaluate_reads_ready_files_from_s3_and_skips_the_others(s3):
    rubric = published_rubric(criteria=[("code_quality", "Code", 50), ("data_files", "Data", 50)],
                              csv_required_headers=["city"])
    submission = SubmissionFactory(assignment=rubric.assignment)
    _ready_file(submission, "cities.csv", b"city,population\nOslo,700000\nBergen\n", content_type="text/csv")
    _ready_file(submission, "pending.csv", b"x\n1,2,3\n", status=SubmissionFile.Status.PENDING)

    outcome = scoring_evaluate(submission=submission)

    data_items = [(i.rule, i.file, i.line) for i in outcome.feedback if i.criterion == "data_files"]
    assert data_items == [("csv.column-count", "cities.csv", 3)]
    assert outcome.rubric_version_id == rubric.latest_version().pk
    stored = engine.SubmissionInput(
        submission.source_code, submission.documentation,
        (engine.InputFile("cities.csv", "text/csv", b"city,population\nOslo,700000\nBergen\n"),),
    )
    assert outcome.input_hash == engine.input_hash(stored, rubric.latest_version().as_spec())


def test_a_storage_error_propagates_so_the_pipeline_retries(s3):
    submission = SubmissionFactory()
    _ready_file(submission, "gone.py", b"x = 1\n", store=False)
    with pytest.raises(FileNotFoundError):  # django-storages' answer for a missing object
        scoring_evaluate(submission=submission)


def test_oversized_files_are_refused_before_anything_is_downloaded():
    submission = SubmissionFactory()
    file = _ready_file(submission, "huge.csv", b"", store=False)
    SubmissionFile.objects.filter(pk=file.pk).update(size=engine.MAX_TOTAL_BYTES + 1)
    with pytest.raises(engine.ScoringRejected) as caught:
        scoring_evaluate(submission=submission)
    assert caught.value.code == "input_too_large"


class FixedScorer:
    """A stand-in scorer, selected through settings.SCORER."""

    def score(self, data, rubric, *, checkpoint):
        return replace(engine.score(data, rubric), total=42.0)


def test_the_scorer_setting_selects_the_scorer(settings):
    settings.SCORER = "scoring.tests.test_services.FixedScorer"
    assert scoring_evaluate(submission=SubmissionFactory()).total == 42.0


def test_the_default_scorer_is_the_engine(settings):
    submission = SubmissionFactory()
    expected = engine.score(engine.SubmissionInput(submission.source_code, submission.documentation))
    assert scoring_evaluate(submission=submission) == expected


def test_a_scorer_that_cannot_be_imported_fails_the_system_check(settings):
    assert scorer_is_importable(None) == []
    settings.SCORER = "scoring.scorers.NoSuchScorer"
    assert [e.id for e in scorer_is_importable(None)] == ["scoring.E001"]


def test_the_pipeline_records_the_rubric_version(django_capture_on_commit_callbacks):
    from jobs.services import scoring_job_run, submission_submit

    rubric = published_rubric()
    submission = SubmissionFactory(assignment=rubric.assignment)
    with django_capture_on_commit_callbacks(execute=False):
        job = submission_submit(submission_id=submission.pk, user=submission.owner)
    scoring_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.result.rubric_version == rubric.latest_version()
    assert job.result.engine_version == engine.ENGINE_VERSION
