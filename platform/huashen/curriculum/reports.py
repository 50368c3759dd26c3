"""A sync's summary as sentences people read (the admin's messages, the sync report pages), not JSON."""

from typing import Any

from django.utils.translation import gettext as _


def _slugs(value: Any) -> list[str]:
    return [str(slug) for slug in value] if isinstance(value, list) else []


def sync_summary_lines(summary: dict[str, Any]) -> list[str]:
    """One line per kind of change that happened, in the reader's language; empty kinds are left out."""
    lines = [_("境界：%(n)d 个") % {"n": int(summary.get("realms") or 0)}]
    listed = (
        ("created", _("新建：%(slugs)s")),
        ("new_versions", _("新版本：%(slugs)s")),
        ("replaced", _("已用 exercises/ 的内容替换：%(slugs)s")),
        ("edited_in_admin", _("在管理后台编辑过、与 exercises/ 不同（保留了编辑）：%(slugs)s")),
        ("retired", _("已下线：%(slugs)s")),
    )
    for key, sentence in listed:
        slugs = _slugs(summary.get(key))
        if slugs:
            lines.append(sentence % {"slugs": ", ".join(slugs)})
    unchanged = len(_slugs(summary.get("unchanged")))
    if unchanged:
        lines.append(_("未改变：%(n)d 个试炼") % {"n": unchanged})
    return lines


def sync_error_lines(errors: list[dict[str, Any]]) -> list[str]:
    return [
        _("%(file)s · %(field)s：%(message)s")
        % {"file": e.get("file", ""), "field": e.get("field") or "—", "message": e.get("message", "")}
        for e in errors
    ]
