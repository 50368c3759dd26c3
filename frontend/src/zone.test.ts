import { afterEach, describe, expect, it } from "vitest";

import { clockTime, syncZoneCookie, ZONE_COOKIE } from "./zone";

function clearCookie(): void {
  document.cookie = `${ZONE_COOKIE}=; path=/; max-age=0`;
}

afterEach(() => {
  clearCookie();
  delete document.body.dataset.tz;
});

describe("the time-zone cookie", () => {
  it("is written once with the browser's zone and left alone after", () => {
    expect(syncZoneCookie(document, "Europe/Berlin")).toBe(true);
    expect(document.cookie).toContain(`${ZONE_COOKIE}=Europe%2FBerlin`);
    expect(syncZoneCookie(document, "Europe/Berlin")).toBe(false);
  });

  it("is rewritten when the browser moved to another zone", () => {
    syncZoneCookie(document, "Europe/Berlin");
    expect(syncZoneCookie(document, "America/New_York")).toBe(true);
    expect(document.cookie).toContain(`${ZONE_COOKIE}=America%2FNew_York`);
  });

  it("is not written when the browser names no zone", () => {
    expect(syncZoneCookie(document, null)).toBe(false);
    expect(document.cookie).not.toContain(ZONE_COOKIE);
  });
});

describe("the clock time a page writes", () => {
  const instant = new Date("2026-03-01T12:34:56Z");

  it("is in the zone the server rendered the page in", () => {
    document.documentElement.lang = "en";
    document.body.dataset.tz = "Asia/Shanghai";
    expect(clockTime(instant, document)).toBe("20:34:56");
    document.body.dataset.tz = "Europe/London";
    expect(clockTime(instant, document)).toBe("12:34:56");
  });

  it("falls back to the browser's zone for a zone name it does not know", () => {
    document.documentElement.lang = "en";
    document.body.dataset.tz = "Not/AZone";
    expect(clockTime(instant, document)).toMatch(/^\d\d:\d\d:\d\d$/);
  });
});
