// One time-zone rule: the server renders every time in the zone of the reader's browser, which this
// module sends once in the `hs_tz` cookie; times the page writes itself use the zone the server names
// on <body data-tz>, so a draft's "saved at" agrees with the history beside it.

export const ZONE_COOKIE = "hs_tz";

export function browserZone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

function cookieValue(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** Writes the zone cookie when it is missing or differs; answers whether it wrote it. */
export function syncZoneCookie(doc: Document, zone: string | null = browserZone()): boolean {
  if (!zone || cookieValue(doc.cookie, ZONE_COOKIE) === zone) return false;
  doc.cookie = `${ZONE_COOKIE}=${encodeURIComponent(zone)}; path=/; max-age=31536000; SameSite=Lax`;
  return true;
}

/** A clock time (HH:MM:SS) in the zone the server rendered the page in, the browser's where it named none. */
export function clockTime(date: Date, doc: Document): string {
  const lang = doc.documentElement.lang || undefined;
  const zone = doc.body?.dataset.tz || undefined;
  const options: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  try {
    return date.toLocaleTimeString(lang, { ...options, timeZone: zone });
  } catch {
    return date.toLocaleTimeString(lang, options);
  }
}
