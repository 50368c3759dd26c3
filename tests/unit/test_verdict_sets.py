"""The verdicts agree everywhere they are listed: the worker protocol, the platform's model choices,
the command-line client and the browser's messages.

A verdict added to workers/protocol.py and forgotten elsewhere would be stored without a label, shown
raw in the terminal, or shown as a missing message key in the browser; this test names the place that
lags. The TypeScript messages are read as text: the frontend is not built here.
"""

import re
from pathlib import Path

from django.utils import translation

from huashen.grading.models import Verdict as ModelVerdict
from huashen_cli.messages import VERDICTS as CLI_VERDICTS
from workers.protocol import Verdict as ProtocolVerdict

I18N_TS = Path(__file__).resolve().parents[2] / "frontend" / "src" / "trial" / "i18n.ts"
ENTRY = re.compile(r'^\s*"verdict\.([a-z_]+)":\s*"([^"]*)",?\s*$')


def frontend_verdicts() -> tuple[dict[str, str], dict[str, str]]:
    """The `verdict.*` messages of the English table, then of the Chinese one, as {verdict: label}."""
    text = I18N_TS.read_text(encoding="utf-8")
    en_part, zh_marker, zh_part = text.partition("const zh")
    assert zh_marker, f"{I18N_TS} has no `const zh` table"
    tables = []
    for part in (en_part, zh_part):
        tables.append({m.group(1): m.group(2) for line in part.splitlines() if (m := ENTRY.match(line))})
    return tables[0], tables[1]


PROTOCOL = {v.value for v in ProtocolVerdict}


def test_the_protocol_has_verdicts() -> None:
    assert "passed" in PROTOCOL and "internal_error" in PROTOCOL


def test_model_choices_match_the_protocol() -> None:
    assert set(ModelVerdict.values) == PROTOCOL


def test_cli_labels_match_the_protocol() -> None:
    assert set(CLI_VERDICTS) == PROTOCOL


def test_frontend_labels_match_the_protocol_in_both_languages() -> None:
    en, zh = frontend_verdicts()
    assert set(en) == PROTOCOL, "frontend/src/trial/i18n.ts (en)"
    assert set(zh) == PROTOCOL, "frontend/src/trial/i18n.ts (zh)"
    assert all(en.values()) and all(zh.values())


def test_chinese_labels_are_the_same_everywhere() -> None:
    _, zh = frontend_verdicts()
    with translation.override("zh-hans"):
        model = {value: str(label) for value, label in ModelVerdict.choices}
    cli = {verdict: labels[0] for verdict, labels in CLI_VERDICTS.items()}
    assert model == cli == zh
