"""A student's trial in the browser, graded for real: the editor, Run/Submit, the live terminal and charts,
the feedback, the realm map after a pass, a reconnect mid-run, another student shut out, and English.

Every program here is a trial's own code (the reference or a known-wrong solution from its bundle), some
with a few lines of module-level output added; each run takes a few seconds in the sandbox. The programs
that print run in trial 1.4 (autograd), whose probe imports the solution once: 1.1's imports it three
times (once per simulated device), so its module-level output appears three times.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, WebSocketRoute, expect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise
from huashen.grading.models import Status, Submission
from huashen.grading.results import submission_record_result
from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import (
    HAN,
    check_item,
    log_in,
    open_trial,
    reference_solution,
    sign_up,
    start,
    terminal_lines,
    trial_card,
    verdict,
    write_code,
    wrong_solution,
)
from workers.protocol import GradeResult, Verdict

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.usefixtures("trial_script")]

SLUG = "tensor-basics"  # 1.1
TRAINING_SLUG = "autograd"  # 1.4
ALL_CHECKS = ["shape", "dtype", "describe", "device-follows-availability", "round-trip"]
VISIBLE_CHECKS = ["shape", "dtype", "describe"]


def student(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def stored(submission_id: int) -> Submission:
    return Submission.objects.get(pk=submission_id)


def test_a_wrong_answer_fails_with_its_message_then_the_fix_passes_and_the_records_show_it(
    browse: Browse,
) -> None:
    page = browse.new_page()
    sign_up(page, student("alice"))
    expect(trial_card(page, SLUG)).to_have_attribute("data-state", "open")
    open_trial(page, SLUG)
    expect(page.locator("[data-testid=reference]")).to_be_hidden()  # not before a pass

    write_code(page, wrong_solution(SLUG, "hard_coded_cpu"))  # the device is hard-coded: a hidden check fails
    wrong = start(page, "submit")
    verdict(page, "failed")
    failing = check_item(page, "device-follows-availability")
    expect(failing).to_have_attribute("data-passed", "false")
    message = next(c["message"] for c in stored(wrong).checks if c["key"] == "device-follows-availability")
    expect(failing).to_contain_text(message["zh"])  # the page is in Chinese: the check's own words
    for key in ALL_CHECKS:
        if key != "device-follows-availability":
            expect(check_item(page, key)).to_have_attribute("data-passed", "true")
    expect(page.locator("[data-testid=checks] li")).to_have_count(len(ALL_CHECKS))

    page.locator("nav a[href$='/realms/']").first.click()
    expect(trial_card(page, SLUG)).to_have_attribute("data-state", "attempted")
    open_trial(page, SLUG)

    write_code(page, reference_solution(SLUG))
    right = start(page, "submit")
    assert right != wrong
    verdict(page, "passed")
    for key in ALL_CHECKS:
        expect(check_item(page, key)).to_have_attribute("data-passed", "true")
    expect(page.locator("[data-testid=resources]")).to_contain_text("CPU")
    screenshot(page, "trial-results-passed")
    reference = page.locator("[data-testid=reference]")  # offered once the trial is passed
    reference.locator("[data-action=show-reference]").click()
    expect(reference).to_contain_text("def make_tensor")
    assert (stored(right).verdict, stored(right).score) == ("passed", 100.0)

    page.locator("nav a[href$='/realms/']").first.click()
    card = trial_card(page, SLUG)
    expect(card).to_have_attribute("data-state", "passed")
    expect(card).to_contain_text("100")
    screenshot(page, "realm-map-after-pass")

    # The records: both submissions in the trial's history, newest first; the two compared; the failed one
    # on its own page with its code and its checks; the profile counting the pass.
    card.locator(f"a[href$='/trials/{SLUG}/history/']").click()
    rows = page.locator("[data-testid=history-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-submission-id", str(right))
    expect(rows.nth(0)).to_have_attribute("data-verdict", "passed")
    expect(rows.nth(1)).to_have_attribute("data-submission-id", str(wrong))
    expect(rows.nth(1)).to_have_attribute("data-verdict", "failed")
    page.locator("main form button[type=submit]").click()  # compare: the older as A, the newer as B
    diff = page.locator("[data-testid=diff]")
    expect(diff).to_contain_text('DEVICE = "cpu"')
    expect(diff).to_contain_text("def best_device")
    page.goto(f"/submissions/{wrong}/")
    expect(check_item(page, "device-follows-availability")).to_have_attribute("data-passed", "false")
    expect(check_item(page, "device-follows-availability")).to_contain_text(message["zh"])
    expect(page.locator("[data-testid=submission-code]")).to_contain_text('DEVICE = "cpu"')
    page.locator("nav a[href$='/profile/']").first.click()
    expect(page.locator("[data-testid=profile-realm][data-realm=tensors]")).to_have_attribute(
        "data-passed", "1"
    )


TRAINING = """

# --- a short "training" loop: a tqdm bar on stdout and two live metrics ---
import sys
import time

from tqdm import tqdm

from exercises.kit.report import report

print("<img src=x onerror=\\"document.body.dataset.injected=1\\"><b>not bold</b>")
print("\\x1b[31mred\\x1b[0m and plain")
for step in tqdm(range(40), desc="train", ncols=72, mininterval=0, file=sys.stdout):
    report(step=step, loss=1.0 / (step + 1), accuracy=step / 39)
    time.sleep(0.1)
print("training done")
"""


def test_a_tqdm_bar_redraws_in_place_and_reported_metrics_become_charts(browse: Browse) -> None:
    page = browse.new_page()
    sign_up(page, student("carla"))
    open_trial(page, TRAINING_SLUG)
    write_code(page, reference_solution(TRAINING_SLUG) + TRAINING)
    submission_id = start(page, "run")

    bar = page.locator("[data-testid=terminal] [data-seq]", has_text="train:")
    expect(bar).to_have_count(1)
    expect(page.locator("[data-testid=chart][data-metric=loss]")).to_be_visible()
    screenshot(page, "trial-mid-run")  # the bar part-way, the charts growing

    verdict(page, "passed")
    expect(bar).to_have_count(1)  # every redraw of the bar overwrote the same line
    expect(bar).to_contain_text("100%")
    expect(bar).to_contain_text("40/40")
    bar_text = bar.text_content() or ""
    assert "\r" not in bar_text and bar_text.count("train:") == 1, repr(bar_text)
    assert "39/40" not in bar_text, repr(bar_text)
    terminal = page.locator("[data-testid=terminal]")
    expect(terminal).to_contain_text("training done")
    # HTML in the output is text, never markup; ANSI colours are rendered, their escapes never shown
    expect(terminal).to_contain_text('<img src=x onerror="document.body.dataset.injected=1"><b>not bold</b>')
    expect(terminal.locator("img, b")).to_have_count(0)
    assert page.evaluate("document.body.dataset.injected") is None
    red = terminal.locator("[data-seq] span", has_text="red")
    expect(red).to_have_text("red")
    expect(red).to_have_class(re.compile(r"\bansi-fg-1\b"))
    assert "\x1b" not in (terminal.text_content() or "")
    for metric in ("loss", "accuracy"):
        chart = page.locator(f"[data-testid=charts] [data-testid=chart][data-metric={metric}]")
        expect(chart).to_be_visible()
        expect(chart).to_have_attribute("data-points", "40")
    checks = stored(submission_id).checks
    assert checks and all(check["visible"] for check in checks)  # Run: the visible checks only
    expect(page.locator("[data-testid=checks] li")).to_have_count(len(checks))
    screenshot(page, "trial-run-with-charts")


TICKS = 20
TICKING = f"""

# --- one line every 0.15 s, each in a single write ---
import sys
import time

for tick in range({TICKS}):
    sys.stdout.write(f"tick {{tick:02d}}\\n")
    time.sleep(0.15)
"""


@dataclass
class Relayed:
    """One WebSocket the page opened, relayed by the test: the seqs it got, and whether it was cut."""

    url: str
    route: WebSocketRoute
    server: WebSocketRoute
    seqs: list[int] = field(default_factory=list)
    cut: bool = False

    def sever(self) -> None:
        """The connection drops: nothing more reaches the page, both sides are closed."""
        self.cut = True
        self.server.close(code=1001, reason="gone")
        self.route.close(code=1006, reason="connection lost")


def relay_websockets(page: Page) -> list[Relayed]:
    relayed: list[Relayed] = []

    def handle(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        socket = Relayed(route.url, route, server)
        relayed.append(socket)

        def to_page(message: str | bytes) -> None:
            if socket.cut:
                return  # in flight when the connection dropped: lost
            decoded = json.loads(message)  # one event, or an array of them (the page asks for batch=1)
            socket.seqs.extend(
                event["seq"] for event in (decoded if isinstance(decoded, list) else [decoded])
            )
            route.send(message)

        server.on_message(to_page)
        route.on_message(lambda message: server.send(message))

    page.route_web_socket(re.compile(r"/ws/submissions/\d+/"), handle)
    return relayed


def test_a_reconnect_mid_run_loses_and_repeats_nothing(browse: Browse) -> None:
    page = browse.new_page()
    relayed = relay_websockets(page)
    sign_up(page, student("dora"))
    open_trial(page, TRAINING_SLUG)
    write_code(page, reference_solution(TRAINING_SLUG) + TICKING)
    submission_id = start(page, "run")

    terminal = page.locator("[data-testid=terminal]")
    expect(terminal).to_contain_text("tick 03")
    expect(page.locator("[data-testid=verdict]")).to_have_count(0)  # still running
    first = relayed[0]
    first.sever()
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-state", "reconnecting")
    expect(terminal).to_contain_text("tick 08")  # the run goes on, over a new connection
    assert page.evaluate("document.body.dataset.live") == "open"
    verdict(page, "passed")

    assert len(relayed) == 2, [socket.url for socket in relayed]
    second = relayed[1]
    assert first.seqs and first.seqs[-1] >= 4, first.seqs
    assert second.url.endswith(f"/ws/submissions/{submission_id}/?after={first.seqs[-1]}&batch=1"), second.url
    log = stored(submission_id).log
    final = max(event["seq"] for event in log)
    assert first.seqs + second.seqs == list(range(1, final + 1))  # every event once, in order

    lines = terminal_lines(page)
    ticks = [text for _, text in lines if text.startswith("tick")]
    assert ticks == [f"tick {n:02d}" for n in range(TICKS)], lines
    seqs = [seq for seq, _ in lines]
    assert seqs == sorted(seqs), lines

    # An uninterrupted replay of the same submission draws exactly the same terminal.
    page.unroute_all(behavior="wait")
    page.reload()
    verdict(page, "passed")
    expect(terminal).to_contain_text(f"tick {TICKS - 1:02d}")
    assert terminal_lines(page) == lines


def test_another_student_cannot_open_the_submission_by_page_api_or_websocket(browse: Browse) -> None:
    alice = browse.new_page()
    sign_up(alice, student("alice"))
    open_trial(alice, SLUG)
    write_code(alice, reference_solution(SLUG))
    submission_id = start(alice, "run")
    verdict(alice, "passed")

    bob = browse.new_page()
    sign_up(bob, student("bob"))
    browse.console.allow(rf"/submissions/{submission_id}/: Failed to load resource: .* 404")
    response = bob.goto(f"/submissions/{submission_id}/")
    assert response is not None and response.status == 404
    api = bob.request.get(f"/api/v1/submissions/{submission_id}/")
    assert api.status == 404
    assert api.json()["error"]["code"] == "not_found"
    # alice herself gets all three
    assert alice.request.get(f"/api/v1/submissions/{submission_id}/").status == 200
    assert alice.goto(f"/submissions/{submission_id}/").status == 200

    websocket = browse.stack.url.replace("http://", "ws://") + f"/ws/submissions/{submission_id}/"
    origin = browse.stack.url

    def cookie(page: Page) -> str:
        return "; ".join(
            f"{c['name']}={c['value']}" for c in page.context.cookies() if c["name"] == "sessionid"
        )

    with connect(websocket, additional_headers={"Cookie": cookie(alice), "Origin": origin}) as socket:
        events = [json.loads(message) for message in socket]  # replayed to the end, then closed normally
        assert socket.close_code == 1000
    assert events and events[-1]["payload"]["status"] == "done"

    refused_with: object = None
    try:
        with connect(websocket, additional_headers={"Cookie": cookie(bob), "Origin": origin}) as socket:
            got = list(socket)
            refused_with = ("closed", socket.close_code, got)
    except InvalidStatus as error:  # refused before the handshake completes
        refused_with = ("handshake", error.response.status_code)
    except ConnectionClosed as error:
        refused_with = ("closed", error.rcvd.code if error.rcvd else None, [])
    print("bob on the websocket:", refused_with)
    assert refused_with == ("closed", 4404, []), refused_with
    assert stored(submission_id).status == Status.DONE


def test_the_trial_page_in_english(browse: Browse) -> None:
    page = browse.new_page()
    sign_up(page, student("erin"))
    with page.expect_navigation():
        page.locator("header form.language select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header form.language button")).to_be_hidden()  # the script switches on change
    card = trial_card(page, SLUG)
    expect(card).to_contain_text("First Tensors: Shape, Dtype and Device")
    open_trial(page, SLUG)

    expect(page.locator("main h1")).to_have_text("First Tensors: Shape, Dtype and Device")
    expect(page.locator(".statement")).to_contain_text("Everything PyTorch computes lives in")
    expect(page.locator("[data-testid=run]")).to_have_text("Run")
    expect(page.locator("[data-testid=submit]")).to_have_text("Submit")
    page.locator("[data-testid=reveal-hint]").click()  # one at a time, in the page's language
    expect(page.locator("[data-testid=hint]")).to_have_count(1)
    assert not HAN.search(page.locator("[data-testid=hint]").inner_text())
    write_code(page, reference_solution(SLUG))
    submission_id = start(page, "run", keys="Control+Enter")  # the keyboard shortcut runs
    verdict(page, "passed")
    assert stored(submission_id).mode == "run"
    checks = {c["key"]: c for c in stored(submission_id).checks}
    for key in VISIBLE_CHECKS:
        expect(check_item(page, key)).to_contain_text(checks[key]["title"]["en"])
    for testid in ("status", "verdict", "checks", "resources"):
        text = page.locator(f"[data-testid={testid}]").inner_text()
        assert not HAN.search(text), f"{testid}: {text!r}"
    for link in page.locator("header.top nav a, header.top .account a, header.top .account button").all():
        assert not HAN.search(link.inner_text()), link.inner_text()
    screenshot(page, "trial-english-results")


def test_the_draft_is_saved_on_the_server_and_reset_brings_the_starter_back(browse: Browse) -> None:
    page = browse.new_page()
    username = student("fay")
    sign_up(page, username)
    open_trial(page, SLUG)
    draft = "# my draft, kept on the server\n" + reference_solution(SLUG)  # on top: in view when reopened
    write_code(page, draft)
    expect(page.locator("[data-role=save-state]")).to_have_attribute("data-state", "saved")

    elsewhere = browse.new_page()  # another browser: nothing local, only the account
    log_in(elsewhere, username)
    open_trial(elsewhere, SLUG)
    editor = elsewhere.locator("[data-testid=editor] .cm-content")
    expect(editor).to_contain_text("# my draft, kept on the server")

    elsewhere.once("dialog", lambda dialog: dialog.accept())  # "replace your code with the starter?"
    elsewhere.locator("[data-testid=reset]").click()
    expect(editor).to_contain_text('raise NotImplementedError("make_tensor')
    expect(editor).not_to_contain_text("# my draft")


@pytest.mark.parametrize("path", ["/realms/", f"/trials/{SLUG}/"])
def test_pages_fit_a_phone_screen(browse: Browse, path: str) -> None:
    page = browse.new_page(width=390, height=844)
    sign_up(page, student("gil"))
    page.goto(path)
    if "trials" in path:
        expect(page.locator("[data-testid=editor] .cm-content")).to_be_editable()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than a 390px screen"
    screenshot(page, f"phone{path.replace('/', '-').rstrip('-')}")


def _pass_trials(username: str, realms: tuple[str, ...], per_realm: int) -> None:
    """Passes stored through the result path, as a grader's results would be (no sandbox runs)."""
    user = User.objects.get(username=username)
    for realm in realms:
        for exercise in Exercise.objects.filter(realm__slug=realm).select_related("current_version")[
            :per_realm
        ]:
            submission = Submission.objects.create(
                user=user, exercise=exercise, version=exercise.current_version, code="# passed\n", mode="submit",
                deadline=timezone.now() + dt.timedelta(minutes=10),
            )  # fmt: skip
            submission_record_result(
                result=GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0)
            )


def test_images_a_run_produces_are_shown_with_its_result(browse: Browse) -> None:
    page = browse.new_page()
    username = student("hana")
    sign_up(page, username)
    # Grad-CAM is trial 3.4: three passes in each of realms 1 and 2 open realm 3. In a thread, as on the
    # platform worker: recording a result announces it (async_to_sync), which may not run on this loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_in_own_connection, _pass_trials, username, ("tensors", "models"), 3).result()
    page.reload()
    expect(trial_card(page, "grad-cam")).to_have_attribute("data-state", "open")
    open_trial(page, "grad-cam")
    write_code(page, reference_solution("grad-cam"))
    start(page, "run")
    verdict(page, "passed")
    images = page.locator("[data-testid=artifacts] img")
    expect(images.first).to_be_visible()
    assert images.first.evaluate("image => image.complete && image.naturalWidth > 0")  # a real, decoded PNG
    images.first.scroll_into_view_if_needed()
    screenshot(page, "trial-grad-cam-images")


def _in_own_connection(function: Callable[..., None], *args: object) -> None:
    try:
        function(*args)
    finally:
        connection.close()


def test_a_run_waiting_for_the_grader_shows_its_place_in_the_queue(browse: Browse) -> None:
    second = browse.new_page()  # ready before the first run starts, so it is sent while that one runs
    sign_up(second, student("jun"))
    open_trial(second, TRAINING_SLUG)
    write_code(second, reference_solution(TRAINING_SLUG))

    first = browse.new_page()
    sign_up(first, student("ivy"))
    open_trial(first, TRAINING_SLUG)
    write_code(first, reference_solution(TRAINING_SLUG) + TICKING)
    start(first, "run")
    expect(first.locator("[data-testid=terminal]")).to_contain_text("tick 01")  # the one grader slot is busy

    start(second, "run")
    status = second.locator("[data-testid=status]")
    expect(status).to_have_attribute("data-state", "queued")
    expect(status).to_have_text("排队中：下一个就是你")  # nobody queued before it: the running job is not
    verdict(first, "passed")
    verdict(second, "passed")  # and it is graded once the slot is free
