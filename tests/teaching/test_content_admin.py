"""Content management: edited statements and hints become a new version (the old one unchanged); the
staff content page syncs and shows every validation error with its file and field; publish and hide."""

from pathlib import Path

import pytest
from django.test import Client

from huashen.curriculum.models import Exercise, ExerciseVersion, SyncReport
from huashen.curriculum.services import exercise_content_edit
from huashen.errors import DomainError
from tests.conftest import Personas
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


def test_an_edit_makes_a_new_version_and_keeps_the_old_one(personas: Personas, trials: dict) -> None:
    trial = trials["a1"]
    old = trial.current_version
    submission = graded(personas.alice, trial)
    version = exercise_content_edit(exercise=trial, statement_zh=" 新说明 ", statement_en="New statement",
                                    hints=[{"zh": "新提示", "en": "New hint"}])  # fmt: skip
    trial.refresh_from_db()
    assert trial.current_version == version and version.number == old.number + 1
    assert (version.statement_zh, version.hints, version.source) == (
        "新说明",
        [{"zh": "新提示", "en": "New hint"}],
        "admin",
    )
    assert version.content_hash == old.content_hash and version.rubric == old.rubric
    old_again = ExerciseVersion.objects.get(pk=old.pk)
    assert (old_again.statement_zh, old_again.hints) == (old.statement_zh, old.hints)
    submission.refresh_from_db()
    assert submission.version_id == old.pk  # history still points at what it was graded against


@pytest.mark.parametrize(
    ("statement_zh", "hints", "field"),
    [("  ", [], "statement_zh"), ("说明", [{"zh": "只有中文"}], "hints"), ("说明", "not a list", "hints")],
)
def test_bad_edits_are_refused(trials: dict, statement_zh: str, hints: object, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        exercise_content_edit(exercise=trials["a1"], statement_zh=statement_zh, statement_en="x", hints=hints)
    assert refused.value.field == field
    assert ExerciseVersion.objects.filter(exercise=trials["a1"]).count() == 1


def admin_form(exercise: Exercise, **changes: str) -> dict[str, str]:
    version = exercise.current_version
    data = {
        "is_published": "on",
        "statement_zh": version.statement_zh,
        "statement_en": version.statement_en,
        "hints-count": "3", "hints-0-zh": "提示", "hints-0-en": "Hint",
        "versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1", "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000", "versions-0-id": str(version.pk), "versions-0-exercise": str(exercise.pk),
    }  # fmt: skip
    data.update(changes)
    return data


def test_the_admin_form_saves_an_edit_as_a_new_version(personas: Personas, trials: dict) -> None:
    trial = trials["a1"]
    client = Client()
    client.force_login(personas.erin)
    url = f"/admin/curriculum/exercise/{trial.pk}/change/"
    assert "statement_zh" in client.get(url).content.decode()
    unchanged = client.post(url, admin_form(trial))
    assert unchanged.status_code == 302 and ExerciseVersion.objects.filter(exercise=trial).count() == 1
    bad = client.post(url, admin_form(trial, **{"hints-0-en": ""}))
    assert bad.status_code == 200 and ExerciseVersion.objects.filter(exercise=trial).count() == 1
    edited = client.post(url, admin_form(trial, statement_en="Clearer statement"))
    assert edited.status_code == 302
    trial.refresh_from_db()
    assert (trial.current_version.number, trial.current_version.statement_en) == (2, "Clearer statement")


def test_the_content_page_shows_every_sync_error(
    personas: Personas, trials: dict, settings, tmp_path: Path
) -> None:
    realm = tmp_path / "01-broken"
    (realm / "01-trial").mkdir(parents=True)
    (realm / "realm.toml").write_text('slug = "broken"\n', encoding="utf-8")
    (realm / "01-trial" / "exercise.toml").write_text('slug = "Not A Slug"\n', encoding="utf-8")
    settings.EXERCISES_DIR = tmp_path
    client = Client()
    client.force_login(personas.erin)
    response = client.post("/staff/content/", {"action": "sync"}, follow=True)
    report = SyncReport.objects.get()
    assert not report.ok and len(report.errors) > 1
    page = response.content.decode()
    assert 'data-testid="sync-errors"' in page
    for error in report.errors:
        assert (
            error["file"] in page and error["message"].replace("'", "&#x27;").replace('"', "&quot;") in page
        )


def test_publish_and_hide(personas: Personas, trials: dict) -> None:
    client = Client()
    client.force_login(personas.erin)
    client.post("/staff/content/", {"action": "hide", "slug": trials["a1"].slug})
    assert not Exercise.objects.get(pk=trials["a1"].pk).is_published
    client.post("/staff/content/", {"action": "publish", "slug": trials["a1"].slug})
    assert Exercise.objects.get(pk=trials["a1"].pk).is_published


def test_a_statement_is_edited_beside_its_preview(personas: Personas, trials: dict) -> None:
    trial = trials["a1"]
    exercise_content_edit(exercise=trial, statement_zh="## 目标\n\n写出 **forward**。", statement_en="## Goal",
                          hints=[])  # fmt: skip
    client = Client()
    client.force_login(personas.erin)
    page = client.get(f"/admin/curriculum/exercise/{trial.pk}/change/").content.decode()
    assert 'data-preview-url="/admin/curriculum/exercise/preview/"' in page
    assert 'data-preview-of="id_statement_zh"' in page and "huashen/admin_preview.js" in page
    assert "<h3>目标</h3>" in page and "<strong>forward</strong>" in page  # the trial page's own renderer


def test_the_preview_renders_what_is_typed_escaped_and_only_for_staff(personas: Personas) -> None:
    url = "/admin/curriculum/exercise/preview/"
    client = Client()
    client.force_login(personas.erin)
    shown = client.post(url, {"text": "# Hi\n\n<script>alert(1)</script> and `code`"})
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "<h2>Hi</h2>" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "<code>code</code>" in html
    assert client.get(url).status_code == 405
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"text": "x" * 200_001}).status_code == 400
    student = Client()
    student.force_login(personas.alice)
    refused = student.post(url, {"text": "# Hi"})
    assert refused.status_code == 302 and "login" in refused["Location"]  # the admin's own gate


def test_the_preview_speaks_english_to_an_english_admin(personas: Personas, trials: dict) -> None:
    client = Client(headers={"accept-language": "en"})
    personas.erin.language = "en"
    personas.erin.save(update_fields=["language"])
    client.force_login(personas.erin)
    page = client.get(f"/admin/curriculum/exercise/{trials['a1'].pk}/change/").content.decode()
    assert "Preview (rendered as the trial page renders it)" in page
