"""Signing up lands on the realm map: the five realms, trial 1.1 open, the later realms locked."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Browse, screenshot
from tests.browser.pages import sign_up, trial_card

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
