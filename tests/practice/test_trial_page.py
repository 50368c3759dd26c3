"""The trial page through Django's test client: both languages, starter code or the saved draft, locked and
unknown trials, the activity it records, the DOM contract the island and the browser tests rely on."""

import json
import re

import pytest
from django.test import Client

from huashen.grading.models import Mode
from huashen.grading.services import submission_create
from huashen.practice.models import ActivityEvent
from huashen.practice.services import draft_save, hint_reveal_next
from tests.conftest import Personas
from tests.practice.conftest import pass_trial

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    match = re.search(
        r'<script id="trial-config" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, "no trial config"
    return json.loads(match.group(1))


def signed_in(user, language: str = "zh-hans") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_the_page_renders_in_chinese(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    response = signed_in(personas.alice).get(f"/trials/{exercise.slug}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="zh-Hans">' in content
    assert "<h1>试炼 1.1</h1>" in content
    assert "<p>说明</p>" in content
    assert ">提交</button>" in content and ">运行</button>" in content
    assert "/static/frontend/trial.js" in content
    assert page_config(response)["language"] == "zh"


def test_the_page_renders_in_english(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    response = signed_in(personas.alice, "en").get(f"/trials/{exercise.slug}/")
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "<h1>Trial 1.1</h1>" in content
    assert "<p>Statement</p>" in content
    assert ">Submit</button>" in content and ">Reset to starter code</button>" in content
    assert "提交" not in re.sub(r"<script.*?</script>", "", content, flags=re.S)
    assert page_config(response)["language"] == "en"


def test_the_page_keeps_the_dom_contract(personas: Personas, curriculum) -> None:
    content = signed_in(personas.alice).get(f"/trials/{curriculum['r1t1'].slug}/").content.decode()
    for testid in ("editor", "run", "submit", "reset", "status", "reveal-hint", "reference"):
        assert f'data-testid="{testid}"' in content, testid
    assert 'data-island="trial"' in content


def test_the_editor_holds_the_starter_code_then_the_saved_draft(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    client = signed_in(personas.alice)
    response = client.get(f"/trials/{exercise.slug}/")
    config = page_config(response)
    assert (config["code"], config["source"]) == ("print('hello')\n", "starter")
    assert "print(&#x27;hello&#x27;)" in response.content.decode()

    draft_save(user=personas.alice, exercise=exercise, code="print('<mine>')\n")
    response = client.get(f"/trials/{exercise.slug}/")
    config = page_config(response)
    assert (config["code"], config["source"], config["starter"]) == (
        "print('<mine>')\n",
        "draft",
        "print('hello')\n",
    )
    content = response.content.decode()
    assert "print(&#x27;&lt;mine&gt;&#x27;)" in content  # escaped in the fallback textarea
    assert "<mine>" not in content.replace("\\u003Cmine\\u003E", "")
    # bob still gets the starter code
    assert page_config(signed_in(personas.bob).get(f"/trials/{exercise.slug}/"))["source"] == "starter"


def test_a_locked_trial_sends_the_student_back_to_the_map_with_a_message(
    personas: Personas, curriculum
) -> None:
    response = signed_in(personas.alice, "en").get(f"/trials/{curriculum['r2t1'].slug}/", follow=True)
    assert response.redirect_chain == [("/realms/", 302)]
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["This trial's realm is not open yet: pass trials of the previous realm first."]
    assert not ActivityEvent.objects.exists()


def test_unknown_and_unpublished_trials_are_not_found(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t2"]
    exercise.is_published = False
    exercise.save(update_fields=["is_published"])
    client = signed_in(personas.alice)
    assert client.get(f"/trials/{exercise.slug}/").status_code == 404
    assert client.get("/trials/no-such-trial/").status_code == 404


def test_the_page_needs_a_signed_in_user(curriculum) -> None:
    response = Client().get(f"/trials/{curriculum['r1t1'].slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_opening_the_page_is_recorded(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    client = signed_in(personas.alice)
    client.get(f"/trials/{exercise.slug}/")
    client.get(f"/trials/{exercise.slug}/")
    kinds = list(
        ActivityEvent.objects.filter(user=personas.alice, exercise=exercise).values_list("kind", flat=True)
    )
    assert kinds == ["opened", "opened"]


def test_revealed_hints_and_the_latest_submission_are_on_the_page(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    hint_reveal_next(user=personas.alice, exercise=exercise)
    submission = submission_create(user=personas.alice, exercise=exercise, code="print(1)\n", mode=Mode.RUN)
    response = signed_in(personas.alice, "en").get(f"/trials/{exercise.slug}/")
    content = response.content.decode()
    assert re.search(r'<li class="hint" data-testid="hint" data-index="0"><p>Hint</p></li>', content)
    assert 'data-testid="reveal-hint" disabled' in content  # the only hint is shown
    assert page_config(response)["latestSubmission"] == submission.pk
    assert f'data-submission-id="{submission.pk}"' in content


def test_the_reference_is_offered_only_after_a_pass(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    client = signed_in(personas.alice)
    before = client.get(f"/trials/{exercise.slug}/")
    assert page_config(before)["referenceAvailable"] is False
    assert re.search(r'data-testid="reference"[^>]*\bhidden\b', before.content.decode())
    pass_trial(personas.alice, exercise)
    after = client.get(f"/trials/{exercise.slug}/")
    assert page_config(after)["referenceAvailable"] is True
    assert not re.search(r'data-testid="reference"[^>]*\bhidden\b', after.content.decode())


def test_statements_are_rendered_as_safe_markdown(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    version = exercise.current_version
    version.statement_zh = (
        "# 标题\n\n## 小节\n\n**粗体** `<b>code</b>` <script>alert(1)</script>\n\n```python\nx = '<i>'\n```\n"
    )
    version.save(_allow_update=True)
    content = signed_in(personas.alice).get(f"/trials/{exercise.slug}/").content.decode()
    assert "<h1>试炼 1.1</h1>" in content
    assert "标题" not in content  # the statement's title line: the page's own heading shows the title
    assert "<h3>小节</h3>" in content
    assert (
        "<strong>粗体</strong> <code>&lt;b&gt;code&lt;/b&gt;</code> &lt;script&gt;alert(1)&lt;/script&gt;"
        in content
    )
    assert '<pre><code class="language-python">x = &#x27;&lt;i&gt;&#x27;</code></pre>' in content
    assert "<script>alert(1)" not in content


def test_the_page_takes_a_fixed_number_of_queries(
    personas: Personas, curriculum, django_assert_max_num_queries
) -> None:
    exercise = curriculum["r1t1"]
    client = signed_in(personas.alice)
    draft_save(user=personas.alice, exercise=exercise, code="x = 1\n")
    hint_reveal_next(user=personas.alice, exercise=exercise)
    submission_create(user=personas.alice, exercise=exercise, code="print(1)\n", mode=Mode.RUN)
    # session, user, trial, unlock (3), draft, hints, passed, latest submission, opened, role (base.html too)
    with django_assert_max_num_queries(15):
        assert client.get(f"/trials/{exercise.slug}/").status_code == 200


def test_a_trial_with_pretrained_weights_says_when_the_weights_are_a_stand_in(
    personas: Personas, curriculum, tmp_path, monkeypatch
) -> None:
    exercise = curriculum["r1t1"]
    version = exercise.current_version
    version.starter_code = 'model = torchvision.models.resnet18(weights="DEFAULT")\n'
    version.save(_allow_update=True)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    client = signed_in(personas.alice, "en")
    assert 'data-testid="standin-weights"' not in client.get(f"/trials/{exercise.slug}/").content.decode()
    marker = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth.standin"
    marker.parent.mkdir(parents=True)
    marker.write_text("{}")
    content = client.get(f"/trials/{exercise.slug}/").content.decode()
    assert 'data-testid="standin-weights"' in content
    assert "generated stand-in weights" in content
    # a trial that loads no pretrained weights says nothing about them
    other = client.get(f"/trials/{curriculum['r1t2'].slug}/").content.decode()
    assert 'data-testid="standin-weights"' not in other
