from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the browser's, so it follows them to a new device.

    Sits after AuthenticationMiddleware and overrides what LocaleMiddleware chose from the request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        language = getattr(user, "language", None) if user.is_authenticated else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


TIME_ZONE_COOKIE = "hs_tz"


def zone_from_name(name: str | None) -> ZoneInfo | None:
    """An IANA zone name the browser sent, or None where it is missing or not a zone this machine knows.
    The page script writes the cookie with encodeURIComponent (America%2FNew_York): decoded here."""
    if name and "%" in name:
        name = unquote(name)
    if not name or len(name) > 64 or name not in _known_zones():
        return None
    return ZoneInfo(name)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


class UserTimezoneMiddleware:
    """One time-zone rule for every time a user reads: the zone of their browser.

    The page script sends the browser's IANA zone once in the `hs_tz` cookie; from then on the server
    renders every time (pages, CSV exports) in it and says which zone it is in the page footer. Without
    the cookie (first visit, no script) times are in the site's TIME_ZONE, and the footer says that too.
    The trial page's "saved at" is formatted in the zone the server names, so it agrees with the history.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_from_name(request.COOKIES.get(TIME_ZONE_COOKIE))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
