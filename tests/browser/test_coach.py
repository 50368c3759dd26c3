"""The coach in the editor, in Chromium: a mistake typed in the editor is marked while typing, with the why
and the trial that teaches it on hover and in the list under the editor; fixing it clears the mark."""

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import open_trial, sign_up, write_code

SLUG = "tensor-basics"
SOFTMAX = """import torch
import torch.nn.functional as F


def loss_of(model, x, y):
    return F.cross_entropy(F.softmax(model(x), dim=1), y)
"""


def test_a_softmax_before_cross_entropy_is_marked_while_typing_and_cleared_when_fixed(browse: Browse) -> None:
    page = browse.new_page()
    sign_up(page, f"coach-{uuid.uuid4().hex[:8]}")
    open_trial(page, SLUG)
    write_code(page, SOFTMAX)
    # the mark sits on the softmax call; hovering it says why and links the trial that teaches it
    mark = page.locator("[data-testid=editor] .cm-lintRange-warning")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text("F.softmax(model(x), dim=1)")
    mark.hover()
    tooltip = page.locator(".cm-tooltip-lint .coach-note[data-rule='softmax-before-cross-entropy']")
    expect(tooltip).to_contain_text("CrossEntropyLoss")
    expect(tooltip.locator("a")).to_have_attribute("href", "/trials/custom-module/")
    # the same finding is listed under the editor
    item = page.locator("[data-testid=coach] li[data-rule='softmax-before-cross-entropy']")
    expect(item).to_contain_text("第 6 行")
    screenshot(page, "coach-softmax-marked")
    # the fix clears the mark and the list says there is nothing to say
    write_code(page, SOFTMAX.replace("F.softmax(model(x), dim=1)", "model(x)"))
    expect(mark).to_have_count(0)
    expect(page.locator("[data-testid=coach]")).to_contain_text("没有发现常见的 PyTorch 错误")
