"""The reference solution's curve, recorded per trial version (`manage.py record_reference_curve`), given with
the cohort's curves and compared against on the result page."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from huashen.curves.models import ReferenceCurve
from huashen.grading.models import Submission
from tests.conftest import Personas
from tests.records.builders import graded, in_english
from tests.records.test_curves import with_losses
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def test_a_reference_run_is_recorded_from_a_submission_and_given_by_the_api(
    personas: Personas, curriculum
) -> None:
    exercise = curriculum["r1t1"]
    reference = with_losses(graded(personas.erin, exercise), [2.0, 1.0, 0.5], accuracy=[0.3, 0.6, 0.9])
    call_command("record_reference_curve", exercise.slug, "--submission", str(reference.pk))
    curve = ReferenceCurve.objects.get(version=exercise.current_version)
    assert curve.series["loss"] == {"steps": [1, 2, 3], "values": [2.0, 1.0, 0.5]}
    api = APIClient()
    api.force_authenticate(personas.alice)
    body = api.get(f"/api/v1/exercises/{exercise.slug}/curves/").json()
    assert body["available"] is False  # no cohort median yet: the reference is given all the same
    assert [series["name"] for series in body["reference"]] == ["accuracy", "loss"]
    assert body["reference"][1]["values"] == pytest.approx([2.0, 1.0, 0.5])
    # recording again replaces it
    again = with_losses(graded(personas.erin, exercise), [4.0, 2.0, 1.0])
    call_command("record_reference_curve", exercise.slug, "--submission", str(again.pk))
    assert ReferenceCurve.objects.get().series == {"loss": {"steps": [1, 2, 3], "values": [4.0, 2.0, 1.0]}}


def test_a_reference_run_is_recorded_from_the_kits_report_lines(
    personas: Personas, curriculum, tmp_path: Path
) -> None:
    exercise = curriculum["r1t1"]
    lines = [json.dumps({"step": step, "metrics": {"loss": 1.0 / step}}) for step in (1, 2)]
    # the golden suite's file holds stored events (HUASHEN_REFERENCE_CURVES): those are read as well
    lines.append(json.dumps({"seq": 9, "kind": "metric", "payload": {"step": 3, "metrics": {"loss": 0.25}}}))
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join([*lines, "not json", json.dumps({"resources": {"x": 1}})]) + "\n", encoding="utf-8"
    )
    call_command("record_reference_curve", exercise.slug, "--events", str(path))
    assert ReferenceCurve.objects.get().series == {"loss": {"steps": [1, 2, 3], "values": [1.0, 0.5, 0.25]}}


def test_a_run_without_metrics_or_of_another_trial_is_refused(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    silent = graded(personas.erin, exercise)
    with pytest.raises(CommandError, match="no metrics"):
        call_command("record_reference_curve", exercise.slug, "--submission", str(silent.pk))
    other = with_losses(graded(personas.erin, curriculum["r1t2"]), [1.0])
    with pytest.raises(CommandError):
        call_command("record_reference_curve", exercise.slug, "--submission", str(other.pk))
    with pytest.raises(CommandError):
        call_command("record_reference_curve", "no-such-trial", "--submission", str(silent.pk))
    assert not ReferenceCurve.objects.exists()


def test_the_result_page_compares_the_run_with_the_reference(
    client: Client, personas: Personas, curriculum
) -> None:
    exercise = curriculum["r1t1"]
    reference = with_losses(graded(personas.erin, exercise), [2.0, 1.0, 0.5])
    call_command("record_reference_curve", exercise.slug, "--submission", str(reference.pk))
    mine = with_losses(
        graded(personas.alice, exercise, verdict=WireVerdict.FAILED, score=0.0), [3.0, 2.5, 1.05]
    )
    client.force_login(personas.alice)
    html = client.get(f"/submissions/{mine.pk}/").content.decode()
    assert "第 3 步时，这次运行的 loss 是参考答案的 2.1 倍。" in html
    assert "班级中位数" not in html  # two students in the cohort: no median
    in_english(client)
    html = client.get(f"/submissions/{mine.pk}/").content.decode()
    assert "At step 3, this run&#x27;s loss is 2.1× the reference solution&#x27;s." in html
    assert Submission.objects.count() == 2
