"""The HTML error pages (404, 403, 500 and the CSRF refusal), in the visitor's language, with the site's
navigation, so a wrong link leads somewhere instead of to a bare status line. The API answers its own
JSON error body for the same statuses (`huashen.api.errors`), which calls these for every other path.

The 500 page is rendered with the request when it can be, and without anything that needs the database
or the session when it cannot: the error being answered may be the database itself.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, *, status: int, title: str, message: str, detail: str = "") -> HttpResponse:
    context = {"status": status, "title": title, "message": message, "detail": detail}
    try:
        body = loader.render_to_string("errors/page.html", context, request)
    except Exception:
        # The page's header asks for the user (session, database); the error may be that very outage.
        logger.exception(
            "the %s page could not be rendered with the request; answering the plain page", status
        )
        body = loader.render_to_string("errors/plain.html", context)
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        status=404,
        title=_("页面不存在"),
        message=_("没有找到这个页面：链接可能写错了，或者它指向的内容已不存在。"),
        detail=request.path,
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The pages raise PermissionDenied with a translated sentence that says who may see the page.
    reason = str(exception) if isinstance(exception, PermissionDenied) else ""
    return _page(
        request,
        status=403,
        title=_("没有权限"),
        message=reason or _("你没有查看这个页面的权限。换一个账号登录，或者回到境界地图。"),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF refusal: almost always a form left open past a sign-in or sign-out in another tab."""
    return _page(
        request,
        status=403,
        title=_("表单已过期"),
        message=_("这个表单已经过期（可能在另一个标签页里登录或退出了）。请刷新页面后再提交一次。"),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        status=500,
        title=_("服务器出错了"),
        message=_("处理这个请求时出了错，服务器已记下这次错误。请稍后再试。"),
    )
