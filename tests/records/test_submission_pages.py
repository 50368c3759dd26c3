"""One submission's page and the diff of two: what they show, escaping, and who may see them."""

import base64

import pytest
from django.test import Client

from huashen.grading.models import Submission
from tests.conftest import Personas
from tests.records.builders import a_check, graded, in_english
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


def stored_log(submission: Submission, *chunks: tuple[str, str]) -> None:
    """Give a finished submission a stored log (test data: the grader's events as the platform keeps them)."""
    events = [
        {"seq": seq, "kind": kind, "payload": text, "time": 1.0} for seq, (kind, text) in enumerate(chunks, 1)
    ]
    Submission.objects.filter(pk=submission.pk).update(log=events)


@pytest.fixture
def failed_run(personas: Personas, curriculum: dict) -> Submission:
    submission = graded(
        personas.alice,
        curriculum["r1t1"],
        verdict=WireVerdict.FAILED,
        score=50.0,
        code="def f(x):\n    return x <b> 0\n",  # valid Python (a chained comparison) that looks like HTML
        checks=[
            a_check("shape", True),
            a_check(
                "grad", False, "梯度没有清零：每个批次前调用 zero_grad()。", "Gradients were not zeroed."
            ),
        ],
        traceback='Traceback (most recent call last):\n  File "solution.py", line 2\nValueError: <bad>',
        resources={"wall_seconds": 1.5, "peak_memory_mb": 120},
        message={"zh": "有 1 项检查未通过。", "en": "1 check failed."},
        artifacts=[
            {"name": "gradcam.png", "media_type": "image/png", "data": PNG},
            {"name": "evil", "media_type": "image/png", "data": 'x" onerror="alert(1)'},
        ],
    )
    stored_log(
        submission,
        ("stdout", "epoch 1\n"),
        ("stdout", " 10%|#         |\r 50%|#####     |\r100%|##########|\n"),
        ("stderr", "<script>alert(1)</script>\r\n"),
        ("stdout", "\x1b[32mgreen\x1b[0m done\n"),
    )
    return submission


def test_the_submission_page_shows_everything(
    client: Client, personas: Personas, failed_run: Submission
) -> None:
    client.force_login(personas.alice)
    response = client.get(f"/submissions/{failed_run.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    # the verdict, its explanation and each check with its message
    assert "未通过" in content and "有 1 项检查未通过。" in content
    assert 'data-key="shape" data-passed="true"' in content
    assert 'data-key="grad" data-passed="false"' in content
    assert "梯度没有清零：每个批次前调用 zero_grad()。" in content
    # the traceback and the code, escaped
    assert "ValueError: &lt;bad&gt;" in content
    assert "return x &lt;b&gt;" in content
    # resources and the image (the one with a bad payload is left out)
    assert "峰值内存（MB）" in content and "120" in content
    assert f'src="data:image/png;base64,{PNG}"' in content
    assert "onerror" not in content
    # the log: escaped, each line as a terminal leaves it, colour codes dropped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content and "<script>alert(1)" not in content
    assert "100%|##########|" in content and " 50%|" not in content
    assert "green done" in content and "\x1b" not in content
    # and the live island's mount point
    island = content.index(f'<div data-island="submission" data-submission-id="{failed_run.pk}">')
    assert island < content.index('data-testid="checks"') < content.index('data-testid="submission-log"')
    assert "/static/frontend/trial.js" in content


def test_the_submission_page_in_english(client: Client, personas: Personas, failed_run: Submission) -> None:
    client.force_login(personas.alice)
    in_english(client)
    content = client.get(f"/submissions/{failed_run.pk}/").content.decode()
    assert "Gradients were not zeroed." in content and "1 check failed." in content
    assert "Check grad" in content
    assert "Peak memory (MB)" in content and "Traceback" in content and "Log" in content
    assert "梯度没有清零" not in content and "运行日志" not in content


def test_a_queued_submission_says_it_is_waiting(client: Client, personas: Personas, curriculum: dict) -> None:
    from huashen.grading.services import submission_create

    submission = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="run")
    client.force_login(personas.alice)
    content = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "这次提交还在排队或运行中。" in content
    assert "没有保存的输出。" in content


@pytest.mark.parametrize(
    "viewer, status", [("alice", 200), ("carol", 200), ("erin", 200), ("bob", 404), ("dave", 404)]
)
def test_who_may_see_a_submission(
    client: Client, personas: Personas, failed_run: Submission, viewer: str, status: int
) -> None:
    client.force_login(personas.all()[viewer])
    assert client.get(f"/submissions/{failed_run.pk}/").status_code == status


def test_an_unknown_submission_is_404_and_anonymous_visitors_sign_in(
    client: Client, personas: Personas, failed_run: Submission
) -> None:
    response = client.get(f"/submissions/{failed_run.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(personas.alice)
    assert client.get(f"/submissions/{failed_run.pk + 1000}/").status_code == 404


# --- diff -----------------------------------------------------------------------------------------------
def test_the_diff_of_two_submissions(client: Client, personas: Personas, curriculum: dict) -> None:
    old = graded(personas.alice, curriculum["r1t1"], code="a = 1\nb = 2\nc = 3\n")
    new = graded(personas.alice, curriculum["r1t1"], code="a = 1\nb = 1 <20> 3\nc = 3\nd = 4\n")
    client.force_login(personas.alice)
    unified = client.get(f"/submissions/{old.pk}/diff/{new.pk}/")
    assert unified.status_code == 200
    content = unified.content.decode()
    assert '<span class="removed">-b = 2</span>' in content
    assert '<span class="added">+b = 1 &lt;20&gt; 3</span>' in content
    assert '<span class="added">+d = 4</span>' in content
    assert '<span class="context"> a = 1</span>' in content
    # one line per line: the block-level spans follow each other with no newline between them (a newline
    # there is drawn as a blank line after every line of the diff)
    unified_pre = content.split('<pre class="diff unified" data-testid="diff">', 1)[1].split("</pre>", 1)[0]
    assert "\n" not in unified_pre and unified_pre.count("<span") == unified_pre.count("</span><span") + 1
    side = client.get(f"/submissions/{old.pk}/diff/{new.pk}/", {"view": "side"}).content.decode()
    assert 'class="diff side-by-side"' in side
    assert '<td class="code removed"><pre>b = 2</pre></td>' in side
    assert '<td class="code added"><pre>b = 1 &lt;20&gt; 3</pre></td>' in side


def test_the_diff_of_identical_code(client: Client, personas: Personas, curriculum: dict) -> None:
    old = graded(personas.alice, curriculum["r1t1"])
    new = graded(personas.alice, curriculum["r1t1"])
    client.force_login(personas.alice)
    assert "两次提交的代码完全相同。" in client.get(f"/submissions/{old.pk}/diff/{new.pk}/").content.decode()


def test_the_diff_of_different_trials_is_a_clear_error(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    one = graded(personas.alice, curriculum["r1t1"])
    other = graded(personas.alice, curriculum["r1t2"])
    client.force_login(personas.alice)
    response = client.get(f"/submissions/{one.pk}/diff/{other.pk}/")
    assert response.status_code == 400
    assert "只能比较同一试炼的两次提交：这两次提交属于不同的试炼。" in response.content.decode()
    in_english(client)
    english = client.get(f"/submissions/{one.pk}/diff/{other.pk}/").content.decode()
    assert "Only two submissions of the same trial can be compared" in english


@pytest.mark.parametrize("mine_first", [True, False])
def test_bob_cannot_diff_alices_submission(
    client: Client, personas: Personas, curriculum: dict, mine_first: bool
) -> None:
    alices = graded(personas.alice, curriculum["r1t1"], code="secret = 1\n")
    bobs = graded(personas.bob, curriculum["r1t1"])
    client.force_login(personas.bob)
    pair = (bobs.pk, alices.pk) if mine_first else (alices.pk, bobs.pk)
    response = client.get(f"/submissions/{pair[0]}/diff/{pair[1]}/")
    assert response.status_code == 404
    assert "secret" not in response.content.decode()
