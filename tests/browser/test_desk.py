"""The student's desk in the browser: no keystroke lost to a reload, and the error pages in both languages."""

import datetime as dt
import re
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from huashen.accounts.models import User
from huashen.grading.models import Submission
from huashen.practice.models import Draft
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import GRADING_TIMEOUT_MS, open_trial, sign_up, write_code

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SLUG = "tensor-basics"  # 1.1


def _student(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _editor_text(page: Page) -> str:
    return page.locator("[data-testid=editor] .cm-content").inner_text()


def _type_at_end(page: Page, text: str) -> None:
    editor = page.locator("[data-testid=editor] .cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)
    expect(editor).to_contain_text(text)


def _saved_draft(username: str) -> str:
    draft = Draft.objects.filter(user__username=username, exercise__slug=SLUG).first()
    return draft.code if draft is not None else ""


@pytest.mark.usefixtures("trial_script")
def test_an_edit_survives_a_reload_200_ms_after_typing_and_submit_sends_it(browse: Browse) -> None:
    # given a student with a saved draft
    page = browse.new_page()
    username = _student("reload")
    sign_up(page, username)
    open_trial(page, SLUG)
    write_code(page, "x = 1\n")
    expect(page.locator("[data-role=save-state]")).to_have_attribute("data-state", "saved")
    # when she types and reloads 200 ms later (before the autosave's pause is over)
    marker = f"# edit {uuid.uuid4().hex[:8]}"
    _type_at_end(page, marker)
    page.wait_for_timeout(200)
    page.reload()
    # then the editor shows the edit
    expect(page.locator("[data-testid=editor] .cm-content")).to_contain_text(marker)
    # and the server has it soon (sent as the page went away, or again from the copy the browser kept)
    page.wait_for_function(
        "() => document.querySelector('[data-role=save-state]')?.dataset.state !== 'saving'", timeout=30_000
    )
    deadline_ms = 30_000
    while marker not in _saved_draft(username) and deadline_ms > 0:
        page.wait_for_timeout(200)
        deadline_ms -= 200
    assert marker in _saved_draft(username)
    # and Submit pressed right after typing sends the editor's text, not the last saved draft
    second = f"# then {uuid.uuid4().hex[:8]}"
    _type_at_end(page, second)
    page.locator("[data-testid=submit]").click()
    user = User.objects.get(username=username)
    deadline_ms = 30_000
    while not Submission.objects.filter(user=user).exists() and deadline_ms > 0:
        page.wait_for_timeout(200)
        deadline_ms -= 200
    assert second in Submission.objects.get(user=user).code


@pytest.mark.usefixtures("trial_script")
def test_an_edit_whose_saves_never_arrive_is_restored_from_the_browser_and_saved_later(
    browse: Browse,
) -> None:
    # given a student whose draft saves do not reach the server (the network is gone)
    page = browse.new_page()
    username = _student("offline")
    sign_up(page, username)
    open_trial(page, SLUG)
    write_code(page, "y = 2\n")
    expect(page.locator("[data-role=save-state]")).to_have_attribute("data-state", "saved")

    # (this document's fetch refuses them: a route would not hold the request sent as the page goes away)
    page.evaluate(
        """() => {
          const real = window.fetch.bind(window);
          window.fetch = (url, init) =>
            init?.method === "PUT" && String(url).includes("/draft/")
              ? Promise.reject(new TypeError("offline"))
              : real(url, init);
        }"""
    )
    marker = f"# kept {uuid.uuid4().hex[:8]}"
    _type_at_end(page, marker)
    page.wait_for_timeout(200)
    # when she reloads, the server never having seen the edit
    page.reload()
    assert marker not in _saved_draft(username)
    # then the editor shows it, restored from the browser's copy, and says so
    expect(page.locator("[data-testid=editor] .cm-content")).to_contain_text(marker)
    # and the reloaded page (whose saves get through) saves the restored edit
    expect(page.locator("[data-role=save-state]")).to_have_attribute("data-state", "saved", timeout=30_000)
    assert marker in _saved_draft(username)


@pytest.mark.parametrize(
    ("language", "not_found", "forbidden"),
    [("zh-CN", "页面不存在", "没有权限"), ("en-US", "Page not found", "Not allowed")],
)
def test_the_404_and_403_pages_in_both_languages(
    browse: Browse, language: str, not_found: str, forbidden: str
) -> None:
    page = browse.new_page()
    browse.console.allow(r"Failed to load resource: the server responded with a status of 40[34]")
    if language == "en-US":
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": browse.stack.url}])
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.locator("[data-testid=error-page] h1")).to_have_text(not_found)
    expect(page.locator(".error-links a[href='/login/']")).to_be_visible()
    # a signed-in student meets the 403 of an instructor's page, with the way back to her realm map
    sign_up(page, _student("lost"))  # in the language she reads the site in
    response = page.goto("/teach/")
    assert response is not None and response.status == 403
    expect(page.locator("[data-testid=error-page] h1")).to_have_text(forbidden)
    page.locator(".error-links a[href='/realms/']").click()
    page.wait_for_url("**/realms/")


@pytest.mark.usefixtures("trial_script")
def test_a_syntax_error_is_marked_in_the_editor_at_once_and_is_no_attempt(browse: Browse) -> None:
    page = browse.new_page()
    browse.console.allow(r"Failed to load resource: the server responded with a status of 400")
    username = _student("syntax")
    sign_up(page, username)
    open_trial(page, SLUG)
    write_code(page, "import torch\n\ndef shared_tensor(values):\n    return torch.as_tensor(values +\n")
    started = time.monotonic()
    with page.expect_response(lambda response: response.url.endswith("/api/v1/submissions/")) as answered:
        page.locator("[data-testid=submit]").click()
    marker = page.locator("[data-testid=editor] [data-testid=syntax-error]")
    expect(marker).to_be_visible()
    timing = answered.value.request.timing
    print(  # a figure for the record, not an assertion: timings are no test
        f"syntax error: the API answered {answered.value.status} in "
        f"{timing['responseEnd'] - timing['requestStart']:.0f} ms; marked "
        f"{1000 * (time.monotonic() - started):.0f} ms after the click (the draft saved first)"
    )
    expect(marker).to_contain_text("第 4 行")  # the bracket never closed
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-state", "syntax-error")
    expect(page.locator("[data-testid=run]")).to_be_enabled()  # ready for the fix at once
    assert not Submission.objects.filter(user__username=username).exists()
    # and an edit clears the marker
    _type_at_end(page, ")")
    expect(marker).to_have_count(0)


@pytest.mark.usefixtures("trial_script")
def test_the_starter_code_shows_each_error_once_with_the_checks_first(browse: Browse) -> None:
    page = browse.new_page()
    sign_up(page, _student("starter"))
    open_trial(page, SLUG)
    # when the untouched starter code is submitted (every function raises NotImplementedError)
    page.locator("[data-testid=submit]").click()
    expect(page.locator("[data-testid=verdict]")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    # then the checks come first and the log is folded below them
    assert page.evaluate(
        """() => {
          const feedback = document.querySelector(".feedback");
          const log = document.querySelector("[data-testid=log]");
          return !!(feedback.compareDocumentPosition(log) & Node.DOCUMENT_POSITION_FOLLOWING) && !log.open;
        }"""
    )
    # and each distinct traceback is in the log once, its copies counted
    log_text = page.locator("[data-testid=terminal]").text_content() or ""
    for function in ("make_tensor", "describe", "round_trip"):
        assert log_text.count(f"NotImplementedError: {function}: 还没写 / not written yet") <= 1, log_text
    counts = page.locator("[data-testid=terminal] .term-repeat").evaluate_all(
        "badges => badges.map(badge => Number(badge.dataset.repeat))"
    )
    assert counts and max(counts) > 1, log_text
    assert log_text.count("Traceback (most recent call last):") == len(
        page.locator("[data-testid=terminal] .term-line", has_text="Traceback (most recent call last):").all()
    )
    screenshot(page, "desk-starter-feedback")


@pytest.mark.usefixtures("trial_script")
def test_the_split_drags_and_is_remembered_and_the_editor_goes_full_screen(browse: Browse) -> None:
    page = browse.new_page(width=1280, height=900)
    sign_up(page, _student("wide"))
    open_trial(page, SLUG)
    editor = page.locator("[data-testid=editor] .cm-editor")
    before = editor.bounding_box()
    handle = page.locator("[data-testid=split-handle]")
    box = handle.bounding_box()
    assert before is not None and box is not None
    # when the student drags the split 250 px to the left
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] - 250, box["y"] + 40, steps=5)
    page.mouse.up()
    after = editor.bounding_box()
    assert after is not None and after["width"] > before["width"] + 200, (before, after)
    # then the editor keeps that width on the next visit
    page.reload()
    expect(page.locator("[data-testid=editor] .cm-content")).to_be_editable()
    again = page.locator("[data-testid=editor] .cm-editor").bounding_box()
    assert again is not None and abs(again["width"] - after["width"]) < 8, (after, again)
    # and full screen gives the editor the window
    page.locator("[data-testid=full-screen]").click()
    full = page.locator("[data-testid=editor] .cm-editor").bounding_box()
    assert full is not None and full["width"] > 1100 and full["height"] > 600, full
    screenshot(page, "desk-full-screen")
    page.locator("[data-testid=full-screen]").click()
    expect(page.locator(".trial-work.full-screen")).to_have_count(0)


@pytest.mark.usefixtures("trial_script")
def test_a_phone_reads_the_statement_then_codes_and_sees_results_in_tabs(browse: Browse) -> None:
    page = browse.new_page(width=390, height=844, phone=True)
    sign_up(page, _student("phone"))
    open_trial(page, SLUG)
    # a first visit opens on the statement, with the tabs at hand
    tabs = page.locator("[data-testid=trial-tabs]")
    expect(tabs).to_be_visible()
    expect(page.locator(".statement")).to_be_visible()
    expect(page.locator("[data-testid=editor]")).to_be_hidden()
    screenshot(page, "desk-phone-statement")
    # the code tab puts the editor near the top, tall enough to write in
    tabs.locator("[data-tab=code]").click()
    expect(page.locator(".statement")).to_be_hidden()
    editor = page.locator("[data-testid=editor] .cm-editor").bounding_box()
    assert editor is not None and editor["y"] < 400 and editor["height"] > 280, editor
    # a touch screen has no keyboard: the shortcuts line beside the editor is not shown
    expect(page.locator(".shortcuts")).to_have_count(1)
    expect(page.locator(".shortcuts")).to_be_hidden()
    screenshot(page, "desk-phone-code")
    # Run opens the results tab
    page.locator("[data-testid=run]").click()
    expect(tabs.locator("[data-tab=results]")).to_have_attribute("aria-selected", "true")
    expect(page.locator("[data-testid=verdict]")).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    expect(page.locator("[data-testid=editor]")).to_be_hidden()
    screenshot(page, "desk-phone-results")


@pytest.mark.usefixtures("trial_script")
def test_one_time_zone_the_browsers_for_the_saved_draft_and_the_history(browse: Browse) -> None:
    """A reader in New York (the server's default zone is Asia/Shanghai, 13 hours ahead): the editor's
    "saved at" and the history page's times are both New York's."""
    zone = ZoneInfo("America/New_York")
    page = browse.new_page(timezone_id="America/New_York")
    username = _student("zone")
    sign_up(page, username)
    open_trial(page, SLUG)
    page.reload()  # the first page sent the browser's zone; from now on the server renders in it
    expect(page.locator("body")).to_have_attribute("data-tz", "America/New_York")
    write_code(page, "x = 1\n")
    state = page.locator("[data-role=save-state]")
    expect(state).to_have_attribute("data-state", "saved")
    shown = re.search(r"(\d{2}):(\d{2}):\d{2}", state.inner_text())
    assert shown, state.inner_text()
    now = dt.datetime.now(zone)
    candidates = {(moment.hour, moment.minute) for moment in (now, now - dt.timedelta(minutes=1))}
    assert (int(shown.group(1)), int(shown.group(2))) in candidates, (state.inner_text(), now)
    page.locator("[data-testid=submit]").click()
    user = User.objects.get(username=username)
    deadline = time.monotonic() + 30
    while not Submission.objects.filter(user=user).exists() and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    submission = Submission.objects.get(user=user)
    page.goto(f"/trials/{SLUG}/history/")
    expected = submission.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    expect(page.locator(f"time[datetime] >> text={expected}")).to_have_count(1)
