"""The Try cell in the browser: a snippet calls the editor's current (unsaved) code as `solution`, its
printed lines, the last expression's tensor and a matplotlib figure appear under the editor, Ctrl+Enter in
the cell runs it, and nothing is counted as an attempt."""

import uuid

import pytest
from playwright.sync_api import Page, expect

from huashen.grading.models import ExerciseProgress, Mode, Submission
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import GRADING_TIMEOUT_MS, open_trial, sign_up, write_code

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SLUG = "tensor-basics"  # 1.1


def _write_snippet(page: Page, snippet: str) -> None:
    cell = page.locator("[data-testid=try-cell] .cm-content")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(snippet)
    expect(cell).to_contain_text(snippet.strip().splitlines()[-1].strip())


@pytest.mark.usefixtures("trial_script")
def test_a_snippet_runs_beside_the_editors_code_and_shows_text_tensor_and_figure(browse: Browse) -> None:
    page = browse.new_page()
    username = f"try-{uuid.uuid4().hex[:6]}"
    sign_up(page, username)
    open_trial(page, SLUG)
    # the editor's code, never saved: the cell sends what the editor holds now
    write_code(page, "import torch\n\ndef triple(x):\n    return 3 * x\n")
    _write_snippet(
        page,
        "import matplotlib.pyplot as plt\n"
        "import torch\n"
        "print('triple of 14 is', solution.triple(14))\n"
        "plt.plot([0, 1, 2], [0, 3, 6])\n"
        "solution.triple(torch.ones(2, 2))\n",
    )
    page.locator("[data-testid=try]").click()
    cell = page.locator("[data-testid=try-cell]")
    expect(cell).to_have_attribute("data-verdict", "passed", timeout=GRADING_TIMEOUT_MS)
    text = page.locator("[data-testid=try-text]")
    expect(text).to_contain_text("triple of 14 is 42")
    expect(text).to_contain_text("tensor([[3., 3.],")
    expect(text).to_contain_text("# shape (2, 2), dtype torch.float32, device cpu")
    figure = page.locator("[data-testid=try-figure]")
    expect(figure).to_have_count(1)
    assert figure.evaluate("image => image.complete && image.naturalWidth > 100")
    expect(page.locator("[data-testid=try-status]")).to_contain_text("没有评分")
    screenshot(page, "try-cell-output")

    # Ctrl+Enter in the cell runs it again; an error shows its traceback, from the snippet's own line
    _write_snippet(page, "x = 1\nsolution.quadruple(x)\n")
    page.locator("[data-testid=try-cell] .cm-content").press("Control+Enter")
    expect(cell).to_have_attribute("data-verdict", "error", timeout=GRADING_TIMEOUT_MS)
    expect(text).to_contain_text("AttributeError")
    expect(text).to_contain_text('File "<try>", line 2')
    expect(page.locator("[data-testid=try-status]")).to_contain_text("抛出了异常")

    # nothing counted: no attempt, no progress, and the tries are not in the run view
    assert Submission.objects.filter(user__username=username, mode=Mode.TRY).count() == 2
    assert not ExerciseProgress.objects.filter(user__username=username).exists()
    expect(page.locator("[data-role=run-view]")).to_be_empty()
