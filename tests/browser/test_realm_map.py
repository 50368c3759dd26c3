"""Signing up lands on the realm map: the five realms, trial 1.1 open, the later realms locked; the
language switch turns the map into English and the choice sticks to the account."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import log_in, sign_up, trial_card

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_sign_up_lands_on_the_realm_map_with_realm_1_open(browse: Browse) -> None:
    page = browse.new_page()
    sign_up(page, f"newcomer-{uuid.uuid4().hex[:6]}")

    realms = page.locator("ol.realms > li[data-realm]")
    expect(realms).to_have_count(5)
    first = realms.first
    expect(first).to_have_attribute("data-realm", "tensors")
    expect(first).to_have_class("realm unlocked")
    expect(realms.nth(1)).to_have_class("realm locked")
    card = trial_card(page, "tensor-basics")
    expect(card).to_have_attribute("data-state", "open")
    expect(card.locator("a[href$='/trials/tensor-basics/']")).to_be_visible()
    # a trial of a locked realm is shown locked, without a link into it
    locked = realms.nth(1).locator("[data-testid=trial-card]").first
    expect(locked).to_have_attribute("data-state", "locked")
    expect(locked.locator("a[href*='/trials/']")).to_have_count(0)
    screenshot(page, "realm-map-new-student")


def test_the_language_switch_turns_the_map_into_english_and_sticks_to_the_account(browse: Browse) -> None:
    page = browse.new_page()
    username = f"newcomer-{uuid.uuid4().hex[:6]}"
    sign_up(page, username)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    switch = page.locator("header form.language")
    expect(switch.locator("button")).to_be_hidden()  # the script submits on change: no button needed
    with page.expect_navigation():
        switch.locator("select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Realm map")
    expect(trial_card(page, "tensor-basics")).to_contain_text("First Tensors: Shape, Dtype and Device")

    elsewhere = browse.new_page()  # a new browser: no language cookie, only the account's choice
    log_in(elsewhere, username)
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
