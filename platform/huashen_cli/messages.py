"""The client's words in both languages of the platform (zh-Hans is the source, as on the server).

The language is HUASHEN_LANG if set, else the account's language saved at `huashen login`, else Chinese.
"""

import os

MESSAGES: dict[str, tuple[str, str]] = {
    # errors
    "not_logged_in": (
        "尚未登录：先运行 `huashen login 服务器地址`。",
        "Not logged in: run `huashen login SERVER_URL` first.",
    ),
    "unreachable": ("无法连接服务器 {server}：{reason}", "Cannot reach the server {server}: {reason}"),
    "bad_token": (
        "令牌无效或已被撤销：请重新运行 `huashen login`。",
        "The token is invalid or was revoked: run `huashen login` again.",
    ),
    "bad_credentials": ("用户名或密码不对。", "Wrong username or password."),
    "server_error": (
        "服务器出错（HTTP {status}）：{message}",
        "The server failed (HTTP {status}): {message}",
    ),
    "api_error": ("{message}", "{message}"),
    "not_json": (
        "服务器的回答不是 API 的格式（HTTP {status}）：地址对吗？",
        "The server's answer is not the API's (HTTP {status}): is the URL right?",
    ),
    "file_missing": ("读不到文件 {path}：{reason}", "Cannot read {path}: {reason}"),
    "file_not_utf8": ("{path} 不是 UTF-8 文本。", "{path} is not UTF-8 text."),
    "no_password": (
        "需要密码：在终端里输入，或用 --password-stdin 从标准输入读。",
        "A password is needed: type it at a terminal, or pass --password-stdin.",
    ),
    # login
    "username_prompt": ("用户名：", "Username: "),
    "password_prompt": ("密码：", "Password: "),
    "logged_in": (
        "已登录 {server}，用户 {username}（{role}）。令牌保存在 {path}。",
        "Logged in to {server} as {username} ({role}). Token saved in {path}.",
    ),
    "logged_out": ("已退出，令牌已撤销。", "Logged out; the token was revoked."),
    # realms and status
    "realm_line": (
        "{order}. {name} — 已通过 {passed}/{total}{lock}",
        "{order}. {name} — passed {passed}/{total}{lock}",
    ),
    "locked": ("（未开启）", " (locked)"),
    "state_locked": ("未开启", "locked"),
    "state_open": ("未尝试", "open"),
    "state_attempted": ("尝试中", "attempted"),
    "state_passed": ("已通过", "passed"),
    "status_total": ("共通过 {passed}/{total} 个试炼。", "Passed {passed} of {total} trials."),
    "best": ("最好 {score:.0f}%", "best {score:.0f}%"),
    # exercise
    "starter_written": ("已写入初始代码：{path}", "Starter code written to {path}"),
    "starter_kept": ("{path} 已存在，没有覆盖。", "{path} exists; left as it is."),
    "points": ("{points} 分 · {device} · 提示 {hints} 条", "{points} points · {device} · {hints} hints"),
    # submit
    "submitted": ("已提交 #{id}（{mode}）：{exercise}", "Submitted #{id} ({mode}): {exercise}"),
    "coach_heading": (
        "教练发现了 {count} 处常见的 PyTorch 错误（只是建议，不影响得分）：",
        "The coach found {count} common PyTorch mistake(s) (advice only, never part of the score):",
    ),
    "coach_finding": ("  第 {line} 行：{title}", "  line {line}: {title}"),
    "coach_learn": ("    {why}\n    学习：{url}", "    {why}\n    Learn it in: {url}"),
    "queued": ("排队等待评测…", "Waiting in the queue…"),
    "queued_for": ("排队等待评测… {seconds} 秒", "Waiting in the queue… {seconds}s"),
    "running": ("开始运行（{device}）", "Running ({device})"),
    "reconnecting": ("连接中断，重新连接…", "Connection lost; reconnecting…"),
    "live_unavailable": (
        "实时日志不可用（{reason}），改为轮询结果。",
        "The live log is unavailable ({reason}); polling for the result.",
    ),
    "verdict": ("结果：{verdict}  得分 {score}", "Verdict: {verdict}  score {score}"),
    "check_line": ("{mark} {title}  {score}/{max_score}", "{mark} {title}  {score}/{max_score}"),
    "artifact": ("[图像] {name}", "[image] {name}"),
    "metric": ("[指标] {text}", "[metric] {text}"),
    "details": ("详情：{url}", "Details: {url}"),
    # history
    "history_empty": ("还没有提交。", "No submissions yet."),
    # --help
    "help_description": (
        "化神命令行客户端：试炼、提交与实时评测日志。",
        "化神 Huashen command-line client: trials, submissions and live grading logs.",
    ),
    "help_epilog": (
        "退出码：0 成功或通过，1 失败，2 用法或认证错误。HUASHEN_LANG=en 显示英文，NO_COLOR=1 不用颜色。",
        "Exit codes: 0 success/passed, 1 failed, 2 usage or authentication error. Set HUASHEN_LANG=en for English, NO_COLOR=1 for plain output.",
    ),
    "help_no_color": ("不使用颜色", "never colour the output"),
    "help_login": ("登录服务器并保存 API 令牌", "sign in to a server and save an API token"),
    "help_server": (
        "服务器地址，例如 https://huashen.example.edu",
        "the server's address, e.g. https://huashen.example.edu",
    ),
    "help_username": ("用户名（缺省时询问）", "your username (asked for when missing)"),
    "help_password_stdin": ("从标准输入读取密码", "read the password from standard input"),
    "help_token": (
        "改用已有的令牌（在“API 令牌”页面生成）",
        "use an existing token (made on the API tokens page) instead",
    ),
    "help_name": (
        "新令牌的名称（默认：huashen-cli on 本机名）",
        "the new token's name (default: huashen-cli on this machine)",
    ),
    "help_logout": ("撤销保存的令牌并忘记它", "revoke the saved token and forget it"),
    "help_realms": ("各个境界及其试炼", "the realms and their trials"),
    "help_status": ("我的进度：通过的试炼和最好成绩", "your progress: trials passed and best scores"),
    "help_exercise": (
        "显示试炼说明并写出初始代码文件",
        "show a trial's statement and write its starter file",
    ),
    "help_slug": ("试炼，例如 tensor-basics", "the trial, e.g. tensor-basics"),
    "help_output": ("初始代码写到哪里（默认：试炼名.py）", "where to write the starter (default: SLUG.py)"),
    "help_submit": ("提交答案并实时查看评测", "submit a solution and follow its grading live"),
    "help_file": ("你的答案文件", "your solution"),
    "help_run": (
        "练习运行：照常检查，但不计入进度",
        "a practice run: checked, but not counted in your progress",
    ),
    "help_history": ("我的提交，最新的在前", "your submissions, newest first"),
    "help_history_slug": ("只看这个试炼的", "only this trial's"),
    "help_limit": ("显示多少条（默认 20）", "how many (default 20)"),
    "limit_too_small": ("--limit 至少为 1。", "--limit must be at least 1."),
    "history_columns": ("编号|试炼|模式|状态|结果|得分|时间", "id|trial|mode|status|verdict|score|time"),
}

VERDICTS: dict[str, tuple[str, str]] = {
    "passed": ("通过", "passed"),
    "failed": ("未通过", "failed"),
    "error": ("运行出错", "error"),
    "time_limit": ("超时", "time limit"),
    "memory_limit": ("内存超限", "memory limit"),
    "output_limit": ("输出超限", "output limit"),
    "gpu_oom": ("显存不足", "GPU out of memory"),
    "sandbox_violation": ("违反沙箱规则", "sandbox violation"),
    "internal_error": ("平台内部错误", "internal error"),
}


class Language:
    """Which of the two languages to speak; `zh` is the default, as on the platform."""

    def __init__(self, saved: str | None = None) -> None:
        chosen = os.environ.get("HUASHEN_LANG") or saved or "zh-hans"
        self.english = chosen.lower().startswith("en")

    def __call__(self, key: str, **values: object) -> str:
        zh, en = MESSAGES[key]
        return (en if self.english else zh).format(**values)

    def pick(self, bilingual: dict[str, str] | None) -> str:
        """The right half of a `{"zh", "en"}` pair from the API (the other one if it is empty)."""
        if not bilingual:
            return ""
        first, second = ("en", "zh") if self.english else ("zh", "en")
        return bilingual.get(first) or bilingual.get(second) or ""

    def verdict(self, verdict: str | None) -> str:
        if verdict is None:
            return "—"
        zh, en = VERDICTS.get(verdict, (verdict, verdict))
        return en if self.english else zh
