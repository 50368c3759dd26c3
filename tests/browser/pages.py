"""What a student does in the browser, in the words of the pages' DOM contract (data-testid attributes).

Trial page: `[data-testid=editor]` (CodeMirror, `.cm-content`), `run`, `submit`, `reset`, `status`,
`terminal` (one element per line with `data-seq`), `charts` > `chart[data-metric]`,
`verdict[data-verdict]`, `checks` > `li[data-check][data-passed]`, `resources`, `artifacts`,
`reveal-hint`/`hint`; `document.body.dataset.live` is "open" while the live socket is.
Realm map: `[data-testid=trial-card][data-slug][data-state]`, each linking to its trial page.
"""

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = {
    "tensor-basics": ROOT / "exercises" / "01-tensors" / "01-tensor-basics",  # 1.1
    "autograd": ROOT / "exercises" / "01-tensors" / "04-autograd",  # 1.4: imports the solution once
    "grad-cam": ROOT / "exercises" / "03-vision-sequences" / "04-grad-cam",  # 3.4: an overlay image
}
PASSWORD = "correct horse battery staple 42"
HAN = re.compile(r"[\u4e00-\u9fff]")
GRADING_TIMEOUT_MS = 90_000


def sign_up(page: Page, username: str) -> None:
    page.goto("/signup/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password1]").fill(PASSWORD)
    form.locator("input[name=password2]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/realms/")


def log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("[type=submit]").click()
    page.wait_for_url(
        re.compile(r"/(realms|teach)/$")
    )  # students start on the realm map, instructors on /teach/


def trial_card(page: Page, slug: str) -> Locator:
    return page.locator(f"[data-testid=trial-card][data-slug='{slug}']")


def open_trial(page: Page, slug: str) -> None:
    """From the realm map: follow the trial card's link to the trial page, and wait for the editor."""
    trial_card(page, slug).locator(f"a[href$='/trials/{slug}/']").first.click()
    page.wait_for_url(f"**/trials/{slug}/")
    expect(page.locator("[data-testid=editor] .cm-content")).to_be_editable()


def write_code(page: Page, code: str) -> None:
    editor = page.locator("[data-testid=editor] .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    expect(editor).to_contain_text(code.strip().splitlines()[-1].strip())


def start(page: Page, button: str, *, keys: str | None = None) -> int:
    """Press Run or Submit (or, with `keys`, its shortcut in the editor); the submission's id, read from
    the live socket the page opens for it."""
    with page.expect_websocket(lambda socket: "/ws/submissions/" in socket.url) as opened:
        if keys is None:
            page.locator(f"[data-testid={button}]").click()
        else:
            page.locator("[data-testid=editor] .cm-content").press(keys)
    match = re.search(r"/ws/submissions/(\d+)/", opened.value.url)
    assert match, opened.value.url
    return int(match.group(1))


def verdict(page: Page, expected: str) -> Locator:
    found = page.locator(f"[data-testid=verdict][data-verdict='{expected}']")
    expect(found).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    return found


def check_item(page: Page, key: str) -> Locator:
    return page.locator(f"[data-testid=checks] li[data-check='{key}']")


def terminal_lines(page: Page) -> list[tuple[int, str]]:
    """(data-seq, text) of every line the terminal shows, in document order."""
    return page.locator("[data-testid=terminal] [data-seq]").evaluate_all(
        "lines => lines.map(line => [Number(line.dataset.seq), line.textContent])"
    )


def reference_solution(slug: str) -> str:
    return (BUNDLES[slug] / "reference" / "solution.py").read_text()


def wrong_solution(slug: str, name: str) -> str:
    return (BUNDLES[slug] / "wrong" / f"{name}.py").read_text()
