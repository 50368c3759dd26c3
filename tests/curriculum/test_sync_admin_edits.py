"""A live version edited in the admin is not "unchanged" to a sync: the sync says so, keeps the edit, and
replaces it with the texts in exercises/ only when asked (the admin action, the content page's button).
Hints are edited as rows, sync reports read as sentences, and the admin speaks the reader's language."""

from pathlib import Path

import pytest
from django.test import Client

from huashen.curriculum.models import Exercise, ExerciseVersion, SyncReport
from huashen.curriculum.services import exercise_content_edit, exercises_sync
from tests.conftest import Personas
from tests.records.builders import in_english

pytestmark = pytest.mark.django_db

SLUG = "create-tensor"


def synced_then_edited(root: Path) -> Exercise:
    assert exercises_sync(root=root).ok
    exercise = Exercise.objects.get(slug=SLUG)
    exercise_content_edit(
        exercise=exercise,
        statement_zh="管理后台改过的说明",
        statement_en="Statement edited in the admin",
        hints=[{"zh": "新提示", "en": "New hint"}],
    )
    exercise.refresh_from_db()
    return exercise


def test_a_sync_says_an_admin_edit_differs_and_keeps_it(valid_root: Path) -> None:
    exercise = synced_then_edited(valid_root)
    result = exercises_sync(root=valid_root)
    assert result.edited_in_admin == [SLUG]
    assert SLUG not in result.unchanged and result.new_versions == []
    exercise.refresh_from_db()
    assert exercise.current_version.statement_en == "Statement edited in the admin"
    assert SyncReport.objects.first().summary["edited_in_admin"] == [SLUG]


def test_asked_to_replace_the_files_texts_become_a_new_version(valid_root: Path) -> None:
    exercise = synced_then_edited(valid_root)
    result = exercises_sync(root=valid_root, replace=[SLUG])
    assert result.replaced == [SLUG] and result.edited_in_admin == []
    exercise.refresh_from_db()
    version = exercise.current_version
    assert (version.number, version.source) == (3, "sync")
    assert version.statement_en == "Create a 2×3 tensor of ones."
    assert version.hints[0] == {"zh": "用 torch.ones。", "en": "Use torch.ones."}
    assert ExerciseVersion.objects.filter(exercise=exercise).count() == 3
    assert exercises_sync(root=valid_root).unchanged.count(SLUG) == 1  # in line with the files again


def test_the_content_page_offers_keep_or_replace(personas: Personas, valid_root: Path, settings) -> None:
    settings.EXERCISES_DIR = valid_root
    exercise = synced_then_edited(valid_root)
    client = Client()
    client.force_login(personas.erin)
    page = client.post("/staff/content/", {"action": "sync"}, follow=True).content.decode()
    assert 'data-testid="edited-in-admin"' in page and "保留编辑" in page and "用 exercises/ 替换" in page
    assert f"在管理后台编辑过、与 exercises/ 不同（保留了编辑）：{SLUG}" in page
    assert "{&#x27;" not in page and "&quot;created&quot;" not in page  # no raw summary
    page = client.post("/staff/content/", {"action": "replace", "slug": SLUG}, follow=True).content.decode()
    assert f"已用 exercises/ 的内容替换 {SLUG}。" in page
    exercise.refresh_from_db()
    assert exercise.current_version.source == "sync"


def test_the_admin_sync_action_reports_in_sentences(personas: Personas, valid_root: Path, settings) -> None:
    settings.EXERCISES_DIR = valid_root
    exercise = synced_then_edited(valid_root)
    client = Client()
    client.force_login(personas.erin)
    in_english(client)
    response = client.post(
        "/admin/curriculum/exercise/",
        {"action": "sync_from_files", "_selected_action": [exercise.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Edited in the admin and different from exercises/ (the edit was kept): create-tensor" in page
    assert "were edited in the admin and differ from exercises/" in page
    assert "{&#x27;realms" not in page
    response = client.post(
        "/admin/curriculum/exercise/",
        {"action": "replace_from_files", "_selected_action": [exercise.pk]},
        follow=True,
    )
    assert "Replaced by the texts in exercises/: create-tensor" in response.content.decode()
    report = SyncReport.objects.first()
    detail = client.get(f"/admin/curriculum/syncreport/{report.pk}/change/").content.decode()
    assert "Replaced by the texts in exercises/: create-tensor" in detail
    assert "Unchanged: 1 trials" in detail
    assert "&quot;replaced&quot;" not in detail


def hint_rows(*rows: tuple[str, str], extra: int = 2) -> dict[str, str]:
    data = {"hints-count": str(len(rows) + extra)}
    for i, (zh, en) in enumerate([*rows, *[("", "")] * extra]):
        data[f"hints-{i}-zh"], data[f"hints-{i}-en"] = zh, en
    return data


def form(exercise: Exercise, **rows: str) -> dict[str, str]:
    version = exercise.current_version
    data = {
        "is_published": "on",
        "statement_zh": version.statement_zh,
        "statement_en": version.statement_en,
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    data.update(rows)
    return data


def test_hints_are_edited_as_rows_not_json(personas: Personas, valid_root: Path) -> None:
    assert exercises_sync(root=valid_root).ok
    exercise = Exercise.objects.get(slug=SLUG)
    client = Client()
    client.force_login(personas.erin)
    url = f"/admin/curriculum/exercise/{exercise.pk}/change/"
    page = client.get(url).content.decode()
    assert page.count('data-testid="hint-row"') == 4  # two hints and two empty rows to add more
    assert 'name="hints-1-en"' in page and "The shape is (2, 3)." in page
    assert "[{&quot;zh&quot;" not in page
    # unchanged rows: no new version
    same = hint_rows(("用 torch.ones。", "Use torch.ones."), ("形状是 (2, 3)。", "The shape is (2, 3)."))
    assert client.post(url, form(exercise, **same)).status_code == 302
    assert ExerciseVersion.objects.filter(exercise=exercise).count() == 1
    # a row with one language only is refused
    half = hint_rows(("只有中文", ""))
    refused = client.post(url, form(exercise, **half))
    assert refused.status_code == 200 and "每条提示都要有中文和英文。" in refused.content.decode()
    # the second hint cleared, a new one added at the end
    edited = hint_rows(("用 torch.ones。", "Use torch.ones."), ("", ""), ("第三条", "A third"))
    assert client.post(url, form(exercise, **edited)).status_code == 302
    exercise.refresh_from_db()
    assert exercise.current_version.hints == [
        {"zh": "用 torch.ones。", "en": "Use torch.ones."},
        {"zh": "第三条", "en": "A third"},
    ]


def test_the_admin_speaks_the_readers_language(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.erin)
    page = client.get("/admin/").content.decode()
    assert "试炼进度" in page and "progresss" not in page.lower()
    in_english(client)
    page = client.get("/admin/").content.decode()
    assert "Trial progress" in page and "progresss" not in page.lower()
    assert "Curriculum" in page and "Sync report" in page
