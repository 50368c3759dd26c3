"""What the kit itself tells a student, in both languages: the one catalogue of its own sentences.

These texts stand where a traceback would: an observation's `error`, the reply the agent sends for a
failed call, the student's log. A trial's check embeds such a text in its zh and its en message alike,
so each is written once with both languages in it ("中文 / English"), the way the starter code's own
messages are ("还没写 / not written yet"). tests/kit/test_messages.py walks this catalogue, and fails on a
sentence about solution.py written anywhere else in the kit.
"""

CATALOGUE: dict[str, dict[str, str]] = {
    "no_function": {
        "zh": "solution.py 没有定义函数 {name}()：试炼要调用它",
        "en": "solution.py defines no function {name}(): the trial calls it",
    },
    "cannot_load": {
        "zh": "无法载入 solution.py",
        "en": "solution.py cannot be loaded",
    },
    "raised": {
        "zh": "solution.py 抛出了错误",
        "en": "solution.py raised an error",
    },
    "unreadable_answer": {
        "zh": "读不懂 solution.py 的回答：{error}",
        "en": "the answer of solution.py could not be read: {error}",
    },
    "ended": {
        "zh": "运行 solution.py 的进程在回答之前就结束了",
        "en": "the process running solution.py ended before it answered",
    },
    "ended_status": {
        "zh": "运行 solution.py 的进程在回答之前就结束了（退出码 {status}）",
        "en": "the process running solution.py ended before it answered (exit status {status})",
    },
    "ended_signal": {
        "zh": "运行 solution.py 的进程在回答之前就结束了（信号 {signal}）",
        "en": "the process running solution.py ended before it answered (signal {signal})",
    },
}


def both(key: str, **params: object) -> str:
    """The catalogue's sentence `key` in Chinese and English, one line: "中文 / English"."""
    entry = CATALOGUE[key]
    return f"{entry['zh'].format(**params)} / {entry['en'].format(**params)}"
