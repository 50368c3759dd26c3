"""Similar-code detection through its services, its task trigger and its pages.

A Submit is compared (in embedded mode, on commit) with the cohort's existing fingerprints only; a scan
compares a cohort's current Submits all against all; the page lists pairs of the cohort's students
above the threshold, highest first; the side-by-side view marks the shared regions; the CSV carries the
pairs and decisions; decisions are recorded with the reviewer and time; only the cohort's instructors
and admins see any of it.
"""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from huashen.accounts.services import cohort_join, user_create
from huashen.grading.models import Submission, Verdict
from huashen.grading.results import submission_record_result
from huashen.grading.services import submission_create, submission_create_rerun
from huashen.similarity import dispatch, services
from huashen.similarity.dispatch import send_to_broker as real_send_to_broker
from huashen.similarity.models import CodeFingerprint, Decision, SimilarPair
from huashen.similarity.services import cohort_scan, submission_compare
from tests.conftest import PASSWORD, Personas
from tests.teaching.test_permissions import client_for
from workers.protocol import CheckResult, GradeResult
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db

ORIGINAL = """
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, 64), nn.ReLU(), nn.Linear(64, classes))

    def forward(self, inputs):
        return self.body(inputs.flatten(1))


def train(model, optimizer, loader, epochs):
    history = []
    for epoch in range(epochs):
        model.train()
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    return history


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += (model(inputs).argmax(dim=1) == targets).sum().item()
            total += len(targets)
    return correct / max(total, 1)
"""

# The same program: names changed, functions reordered, comments added, indentation and spacing changed.
DISGUISED = """
import torch
from torch import nn


def check_accuracy(net, batches):
  # how good is it
  net.eval()
  right = seen = 0
  with torch.no_grad():
    for xs, ys in batches:
      right += (net(xs).argmax(dim=1) == ys).sum().item()

      seen += len(ys)
  return right / max(seen, 1)


def fit(net, opt, batches, n_epochs):
  # my training loop
  losses = []
  for e in range(n_epochs):
    net.train()
    for xs, ys in batches:
      opt.zero_grad()
      l = nn.functional.cross_entropy(net(xs), ys)
      l.backward()
      opt.step()
      losses.append(l.item())
  return losses


class MyNet(nn.Module):
  def __init__(self, n_in, n_out):
    super().__init__()
    self.layers = nn.Sequential(nn.Linear(n_in, 64), nn.ReLU(), nn.Linear(64, n_out))

  def forward(self, x):
    return self.layers(x.flatten(1))
"""

UNRELATED = """
import math


def schedule(step, warmup, total, peak):
    if step < warmup:
        return peak * step / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1 + math.cos(math.pi * progress))


def summarize(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {"min": ordered[0], "max": ordered[-1], "median": median, "count": len(ordered)}
"""


def finish(submission: Submission, verdict: WireVerdict = WireVerdict.FAILED) -> Submission:
    """The grader's result recorded through the real path (which announces `submission_finished`)."""
    result = GradeResult(
        submission_id=submission.pk,
        verdict=verdict,
        score=100.0 if verdict == WireVerdict.PASSED else 0.0,
        checks=[
            CheckResult("shape", verdict == WireVerdict.PASSED, 1.0, 1.0, {"zh": "形状", "en": "Shape"}, {})
        ],
        device="cpu",
    )
    return submission_record_result(result=result)


def submit(user, exercise, code: str, verdict: WireVerdict = WireVerdict.FAILED) -> Submission:
    """A Submit as a student makes it, graded (embedded: compared once its result is committed)."""
    return finish(submission_create(user=user, exercise=exercise, code=code, mode="submit"), verdict)


@pytest.fixture
def trial(curriculum):
    return curriculum["r1t1"]


@pytest.fixture
def frank(personas: Personas):
    """A student of cohort B."""
    frank = user_create(username="frank", password=PASSWORD)
    cohort_join(student=frank, join_code=personas.cohort_b.join_code)
    return frank


# --- comparing ---------------------------------------------------------------------------------------
def test_a_disguised_copy_is_found_when_it_is_submitted(
    personas: Personas, trial, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        original = submit(personas.alice, trial, ORIGINAL)
    with django_capture_on_commit_callbacks(execute=True):
        copy = submit(personas.bob, trial, DISGUISED)
    pair = SimilarPair.objects.get()
    assert (pair.first_id, pair.second_id) == (original.pk, copy.pk)
    assert (pair.first_user, pair.second_user) == (personas.alice, personas.bob)
    assert pair.score >= 0.8 and min(pair.first_share, pair.second_share) >= 0.8
    assert CodeFingerprint.objects.count() == 2


def test_unrelated_code_makes_no_pair(personas: Personas, trial, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submit(personas.alice, trial, ORIGINAL)
        submit(personas.bob, trial, UNRELATED)
    assert CodeFingerprint.objects.count() == 2
    assert not SimilarPair.objects.exists()


def test_runs_reruns_and_other_cohorts_are_not_compared(
    personas: Personas, trial, frank, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        original = submit(personas.alice, trial, ORIGINAL)
        finish(submission_create(user=personas.bob, exercise=trial, code=DISGUISED, mode="run"))
        rerun = submission_create_rerun(original=original)
        Submission.objects.filter(pk=rerun.pk).update(user=personas.bob, code=DISGUISED)  # as if bob's
        finish(Submission.objects.get(pk=rerun.pk))
        submit(frank, trial, DISGUISED)  # cohort B: never compared with cohort A
    assert list(
        CodeFingerprint.objects.values_list("user__username", flat=True).order_by("user__username")
    ) == [
        "alice",
        "frank",
    ]
    assert not SimilarPair.objects.exists()


def test_the_incremental_task_compares_only_the_new_submission(
    personas: Personas, trial, monkeypatch
) -> None:
    """Two existing fingerprints that would pair are left alone: only new-against-existing is compared."""
    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)  # nothing on commit
    alice_code, bob_code = submit(personas.alice, trial, ORIGINAL), submit(personas.bob, trial, DISGUISED)
    for existing in (alice_code, bob_code):
        services.fingerprint_store(submission=existing)
    carl = user_create(username="carl", password=PASSWORD)
    cohort_join(student=carl, join_code=personas.cohort_a.join_code)
    compared = []
    real = services.winnowing.similarity
    monkeypatch.setattr(services.winnowing, "similarity", lambda a, b: compared.append((a, b)) or real(a, b))
    new = submit(carl, trial, ORIGINAL)

    assert submission_compare(submission_id=new.pk) == 2
    mine = frozenset(CodeFingerprint.objects.get(submission=new).hashes)
    assert len(compared) == 2 and all(first == mine for first, _ in compared)
    pairs = set(SimilarPair.objects.values_list("first_id", "second_id"))
    assert pairs == {(alice_code.pk, new.pk), (bob_code.pk, new.pk)}  # alice ~ bob was never compared


def test_the_scan_compares_the_whole_cohort_and_keeps_decisions(
    personas: Personas, trial, monkeypatch
) -> None:
    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)
    original, copy = submit(personas.alice, trial, ORIGINAL), submit(personas.bob, trial, DISGUISED)
    assert cohort_scan(cohort=personas.cohort_a, exercise=trial) == 1
    pair = SimilarPair.objects.get()
    assert (pair.first_id, pair.second_id) == (original.pk, copy.pk)
    services.pair_decide(reviewer=personas.carol, pair=pair, decision=Decision.FLAGGED, note="same structure")
    assert cohort_scan(cohort=personas.cohort_a, exercise=trial) == 1
    pair.refresh_from_db()
    assert (pair.decision, pair.decided_by, pair.note) == (Decision.FLAGGED, personas.carol, "same structure")
    assert SimilarPair.objects.count() == 1


def test_the_scan_compares_only_current_submits(personas: Personas, trial, monkeypatch) -> None:
    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)
    submit(personas.alice, trial, ORIGINAL)
    submit(personas.bob, trial, DISGUISED)
    submit(personas.bob, trial, UNRELATED)  # bob's latest
    assert cohort_scan(cohort=personas.cohort_a, exercise=trial) == 0
    assert cohort_scan(cohort=personas.cohort_a, exercise=trial, include_passing=False) == 0


def test_starter_code_is_not_evidence(personas: Personas, trial, django_capture_on_commit_callbacks) -> None:
    # The trial hands out the whole program as its starter: submitting it is no evidence of copying.
    type(trial.current_version).objects.filter(pk=trial.current_version_id).update(starter_code=ORIGINAL)
    with django_capture_on_commit_callbacks(execute=True):
        submit(personas.alice, trial, ORIGINAL + "\n" + UNRELATED)
        submit(personas.bob, trial, DISGUISED)
    assert not SimilarPair.objects.exists()


# --- pages ---------------------------------------------------------------------------------------------
@pytest.fixture
def flagged_pair(personas: Personas, trial, django_capture_on_commit_callbacks) -> SimilarPair:
    with django_capture_on_commit_callbacks(execute=True):
        submit(personas.alice, trial, ORIGINAL)
        submit(personas.bob, trial, DISGUISED)
    return SimilarPair.objects.get()


def pages(cohort_id: int, pair_id: int) -> list[str]:
    return [
        f"/teach/cohorts/{cohort_id}/similarity/",
        f"/teach/cohorts/{cohort_id}/similarity/?threshold=0.9&scope=passing",
        f"/teach/cohorts/{cohort_id}/similarity.csv",
        f"/teach/cohorts/{cohort_id}/similarity/pairs/{pair_id}/",
    ]


def test_who_sees_the_similarity_pages(personas: Personas, flagged_pair: SimilarPair) -> None:
    expected = {"carol": 200, "erin": 200, "dave": 404, "alice": 403, "bob": 403}
    for name, user in personas.all().items():
        for url in pages(personas.cohort_a.pk, flagged_pair.pk):
            assert client_for(user).get(url).status_code == expected[name], (name, url)
        answer = client_for(user).post(
            f"/teach/cohorts/{personas.cohort_a.pk}/similarity/pairs/{flagged_pair.pk}/", {"decision": "fine"}
        )
        assert answer.status_code == (302 if name in ("carol", "erin") else expected[name]), name
    for url in pages(personas.cohort_a.pk, flagged_pair.pk):
        assert Client().get(url).status_code == 302  # to the login page


def test_a_pair_is_reached_only_through_a_cohort_of_both_students(
    personas: Personas, flagged_pair: SimilarPair
) -> None:
    # dave teaches B, where neither student is: B's pages do not show A's pair.
    answer = client_for(personas.dave).get(
        f"/teach/cohorts/{personas.cohort_b.pk}/similarity/pairs/{flagged_pair.pk}/"
    )
    assert answer.status_code == 404
    assert (
        "alice"
        not in client_for(personas.dave)
        .get(f"/teach/cohorts/{personas.cohort_b.pk}/similarity/")
        .content.decode()
    )


def test_the_page_lists_pairs_above_the_threshold_highest_first(
    personas: Personas, trial, monkeypatch
) -> None:
    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)
    carl = user_create(username="carl", password=PASSWORD)
    cohort_join(student=carl, join_code=personas.cohort_a.join_code)
    submit(personas.alice, trial, ORIGINAL)
    submit(personas.bob, trial, ORIGINAL)  # an exact copy: 100 %
    half = ORIGINAL.split("def evaluate")[0] + UNRELATED
    submit(carl, trial, half)
    cohort_scan(cohort=personas.cohort_a, exercise=trial)
    scores = list(SimilarPair.objects.order_by("-score").values_list("score", flat=True))
    assert scores[0] == 1.0 and len(scores) == 3

    page = (
        client_for(personas.carol)
        .get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/?threshold=0.3")
        .content.decode()
    )
    shown = [
        page.index(f'data-testid="pair-{pk}"')
        for pk in SimilarPair.objects.order_by("-score", "pk").values_list("pk", flat=True)
    ]
    assert shown == sorted(shown)
    high_only = (
        client_for(personas.carol)
        .get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/?threshold=0.99")
        .content.decode()
    )
    assert high_only.count('data-testid="pair-') == 1


def test_an_older_submit_drops_out_of_the_latest_view(
    personas: Personas, flagged_pair: SimilarPair, trial, django_capture_on_commit_callbacks
) -> None:
    url = f"/teach/cohorts/{personas.cohort_a.pk}/similarity/"
    assert f'data-testid="pair-{flagged_pair.pk}"' in client_for(personas.carol).get(url).content.decode()
    Submission.objects.filter(pk=flagged_pair.second_id).update(verdict=Verdict.PASSED)  # bob's copy passed
    with django_capture_on_commit_callbacks(execute=True):
        submit(personas.bob, trial, UNRELATED)
    assert f'data-testid="pair-{flagged_pair.pk}"' not in client_for(personas.carol).get(url).content.decode()
    # Bob's copy passed: with passing submissions included it is back.
    passing = client_for(personas.carol).get(url + "?scope=passing").content.decode()
    assert f'data-testid="pair-{flagged_pair.pk}"' in passing


def test_the_side_by_side_view_marks_the_shared_code(personas: Personas, flagged_pair: SimilarPair) -> None:
    page = client_for(personas.carol).get(
        f"/teach/cohorts/{personas.cohort_a.pk}/similarity/pairs/{flagged_pair.pk}/"
    )
    html = page.content.decode()
    first, second = html.split('data-testid="first-code"')[1].split('data-testid="second-code"')
    assert 'class="match"' in first and 'class="match"' in second
    assert "loss.backward()" in first and "l.backward()" in second
    # The marked text is the students' code, escaped.
    assert "&gt;" not in first or "<mark" in first


def test_student_code_is_escaped_in_the_side_by_side_view(
    personas: Personas, trial, django_capture_on_commit_callbacks
) -> None:
    hostile = ORIGINAL + '\n\nBANNER = "<script>alert(1)</script>"\n'
    with django_capture_on_commit_callbacks(execute=True):
        submit(personas.alice, trial, hostile)
        submit(personas.bob, trial, hostile)
    pair = SimilarPair.objects.get()
    html = (
        client_for(personas.carol)
        .get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/pairs/{pair.pk}/")
        .content.decode()
    )
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_a_decision_is_recorded_with_the_reviewer_and_time(
    personas: Personas, flagged_pair: SimilarPair
) -> None:
    url = f"/teach/cohorts/{personas.cohort_a.pk}/similarity/pairs/{flagged_pair.pk}/"
    assert (
        client_for(personas.carol).post(url, {"decision": "flagged", "note": "identical loop"}).status_code
        == 302
    )
    flagged_pair.refresh_from_db()
    assert (flagged_pair.decision, flagged_pair.decided_by, flagged_pair.note) == (
        "flagged",
        personas.carol,
        "identical loop",
    )
    assert flagged_pair.decided_at is not None
    client_for(personas.erin).post(url, {"decision": "fine"})
    flagged_pair.refresh_from_db()
    assert (flagged_pair.decision, flagged_pair.decided_by) == ("fine", personas.erin)
    client_for(personas.erin).post(url, {"decision": "nonsense"})
    flagged_pair.refresh_from_db()
    assert flagged_pair.decision == "fine"
    client_for(personas.carol).post(url, {"decision": ""})
    flagged_pair.refresh_from_db()
    assert (flagged_pair.decision, flagged_pair.decided_by, flagged_pair.decided_at) == ("", None, None)


def test_the_csv_holds_pairs_and_decisions(personas: Personas, flagged_pair: SimilarPair) -> None:
    services.pair_decide(reviewer=personas.carol, pair=flagged_pair, decision="flagged", note="=HYPERLINK(x)")
    answer = client_for(personas.carol).get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity.csv")
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["trial", "score", "student_1", "submission_1"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["student_1"], row["student_2"], row["decision"], row["reviewer"]) == (
        "alice",
        "bob",
        "flagged",
        "carol",
    )
    assert float(row["score"]) >= 0.8 and row["decided_at"]
    assert row["note"] == "'=HYPERLINK(x)"  # a spreadsheet would run it


def test_the_page_runs_a_fixed_number_of_queries(personas: Personas, trial, monkeypatch) -> None:
    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert (
                client_for(personas.carol)
                .get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/")
                .status_code
                == 200
            )
        return len(queries)

    submit(personas.alice, trial, ORIGINAL)
    submit(personas.bob, trial, DISGUISED)
    cohort_scan(cohort=personas.cohort_a, exercise=trial)
    few = count()
    for name in ("carl", "dora", "emil"):
        student = user_create(username=name, password=PASSWORD)
        cohort_join(student=student, join_code=personas.cohort_a.join_code)
        submit(student, trial, ORIGINAL)
    cohort_scan(cohort=personas.cohort_a, exercise=trial)
    assert SimilarPair.objects.count() == 10
    assert count() == few


def test_the_cohort_page_links_to_similarity(personas: Personas) -> None:
    html = client_for(personas.carol).get(f"/teach/cohorts/{personas.cohort_a.pk}/").content.decode()
    assert f"/teach/cohorts/{personas.cohort_a.pk}/similarity/" in html


def test_the_scan_button_compares_the_cohort(personas: Personas, trial, monkeypatch) -> None:
    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)
    submit(personas.alice, trial, ORIGINAL)
    submit(personas.bob, trial, DISGUISED)
    assert (
        client_for(personas.alice).post(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/scan/").status_code
        == 403
    )
    assert (
        client_for(personas.carol).post(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/scan/").status_code
        == 302
    )
    assert SimilarPair.objects.count() == 1


def test_with_celery_the_comparison_goes_to_the_platform_queue_at_low_priority(settings, monkeypatch) -> None:
    from huashen.celery import app

    settings.HUASHEN_EXECUTOR = "celery"
    monkeypatch.setattr(dispatch, "send_to_broker", real_send_to_broker)  # tests/conftest.py runs it here
    sent: list = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))
    dispatch.send_compare(42)
    dispatch.send_scan(cohort_id=1, exercise_id=2)
    assert [(name, o["args"], o["queue"], o["priority"]) for name, o in sent] == [
        ("huashen.similarity_compare", [42], "platform", 9),
        ("huashen.similarity_scan", [1, 2], "platform", 9),
    ]


def test_the_tasks_are_registered_with_the_platform_app() -> None:
    from huashen.celery import app

    app.loader.import_default_modules()
    assert {"huashen.similarity_compare", "huashen.similarity_scan"} <= set(app.tasks)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", ["相似代码", "相似度下限", "已查看，没问题", "保存处理结果"]),
        ("en", ["Similar code", "Minimum similarity", "Reviewed, fine", "Save decision"]),
    ],
)
def test_the_pages_in_both_languages(
    personas: Personas, flagged_pair: SimilarPair, language: str, expected: list[str]
) -> None:
    from huashen.accounts.services import user_set_language

    user_set_language(user=personas.carol, language=language)
    services.pair_decide(reviewer=personas.carol, pair=flagged_pair, decision="fine")
    client = client_for(personas.carol)
    html = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/").content.decode()
    html += client.get(
        f"/teach/cohorts/{personas.cohort_a.pk}/similarity/pairs/{flagged_pair.pk}/"
    ).content.decode()
    for text in expected:
        assert text in html, text


def test_the_scan_command_compares_every_cohort(personas: Personas, trial, monkeypatch) -> None:
    from django.core.management import call_command

    monkeypatch.setattr(dispatch, "send_compare", lambda submission_id: None)
    submit(personas.alice, trial, ORIGINAL)
    submit(personas.bob, trial, DISGUISED)
    out = io.StringIO()
    call_command("similarity_scan", stdout=out)
    assert SimilarPair.objects.count() == 1
    assert f"A / {trial.slug}: 1 pairs" in out.getvalue()


def test_trials_without_pairs_are_listed_apart(
    personas: Personas, flagged_pair: SimilarPair, curriculum
) -> None:
    html = (
        client_for(personas.carol).get(f"/teach/cohorts/{personas.cohort_a.pk}/similarity/").content.decode()
    )
    assert f'data-testid="trial-{flagged_pair.exercise.slug}"' in html
    assert f'data-testid="trial-{curriculum["r1t2"].slug}"' not in html
    quiet = html.split('data-testid="quiet-trials"')[1].split("</p>")[0]
    assert "试炼 1.2" in quiet and "试炼 1.1" not in quiet


def test_the_pair_view_runs_a_fixed_number_of_queries(personas: Personas, flagged_pair: SimilarPair) -> None:
    url = f"/teach/cohorts/{personas.cohort_a.pk}/similarity/pairs/{flagged_pair.pk}/"
    client = client_for(personas.carol)
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    services.pair_decide(reviewer=personas.erin, pair=flagged_pair, decision="fine", note="checked")
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before) <= 6, [q["sql"][:80] for q in after]


def test_the_comparison_on_submit_can_be_turned_off(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from huashen.similarity import dispatch as similarity_dispatch

    sent: list[int] = []
    monkeypatch.setattr(similarity_dispatch, "send_compare", sent.append)
    settings.SIMILARITY_ON_SUBMIT = False
    similarity_dispatch.on_submission_finished(submission_id=1, mode="submit", purpose="attempt")
    settings.SIMILARITY_ON_SUBMIT = True
    similarity_dispatch.on_submission_finished(submission_id=2, mode="submit", purpose="attempt")
    similarity_dispatch.on_submission_finished(submission_id=3, mode="run", purpose="attempt")
    similarity_dispatch.on_submission_finished(submission_id=4, mode="submit", purpose="rerun")
    assert sent == [2]
