"""Check for trial 5.5, roadmap. Runs outside the sandbox: structure only.

The driver receives ROADMAP from the student's process as data (probe.py) and records it; every check
here is *verified*: it judges that data, which is the student's whole answer.

This is a manual trial: the checks below only make sure the roadmap has the shape a reviewer needs
(topics with resources, dated milestones that each serve a topic, a review cadence); the reviewer scores
its substance by the rubric in exercise.toml.
"""

import datetime

from exercises.kit.check import Check, show

REFERENCE_DATE = datetime.date(2026, 1, 1)  # milestones must lie after this fixed date
MIN_TOPICS = 3
MIN_MILESTONES = 3
MIN_QUESTIONS = 2
MAX_CADENCE_DAYS = 92  # at least once a quarter

NOTE = "ROADMAP reached the driver as data (the answer itself); the structure is judged here."
CHECKS = [
    Check("structure", zh="ROADMAP 是包含三个部分的 dict", en="ROADMAP is a dict with the three parts", points=10,
          basis="verified", basis_note=NOTE),
    Check("topics", zh=f"至少 {MIN_TOPICS} 个专题，各有理由和学习资源", en=f"At least {MIN_TOPICS} topics, each with a reason and resources", points=30,
          basis="verified", basis_note=NOTE),
    Check("milestones", zh=f"至少 {MIN_MILESTONES} 个带日期、成果和专题的里程碑", en=f"At least {MIN_MILESTONES} dated milestones with a deliverable and a topic", points=40,
          basis="verified", basis_note=NOTE + " Dates are compared with a fixed date written here."),
    Check("review", zh="定期复盘：周期和复盘问题", en="A review cadence with review questions", points=20,
          basis="verified", basis_note=NOTE),
]  # fmt: skip

EXAMPLE = """ROADMAP = {
    "topics": [{"name": "NLP", "why": "...", "resources": ["Stanford CS224N", "Hugging Face LLM course"]}, ...],
    "milestones": [{"title": "Finish an NLP Transformer project", "due": "2027-03-31",
                    "topic": "NLP", "deliverable": "a fine-tuned model, its repo and a blog post"}, ...],
    "review": {"every_weeks": 2, "questions": ["What did I finish?", "What should change?"]},
}"""


def check(ctx):
    yield ctx.evaluate("structure", check_structure)
    yield ctx.evaluate("topics", check_topics)
    yield ctx.evaluate("milestones", check_milestones)
    yield ctx.evaluate("review", check_review)


def text(value, minimum=1):
    return isinstance(value, str) and len(value.strip()) >= minimum


def roadmap(ctx):
    """(the ROADMAP dict, None) or (None, (zh, en))."""
    observed = ctx.observed("roadmap")
    if not isinstance(observed, dict):
        return None, ("没有 ROADMAP 的观测结果。", "No observation of ROADMAP.")
    if observed.get("missing"):
        return None, (
            f"solution.py 没有定义 ROADMAP。在模块顶层写：\n{EXAMPLE}",
            f"solution.py defines no ROADMAP. At the top level of the module write:\n{EXAMPLE}",
        )
    value = observed.get("value")
    if observed.get("type") != "dict" or not isinstance(value, dict) or "$type" in value:
        kind = observed.get("type") if isinstance(observed.get("type"), str) else "?"
        return None, (
            f"ROADMAP 是 {kind}，应是 dict，这样路线图里的每一项都能跟踪和检查：\n{EXAMPLE}",
            f"ROADMAP is a {kind}; it should be a dict, so that every part of the plan can be tracked:\n{EXAMPLE}",
        )
    return value, None


def part(ctx, key, name):
    value, problem = roadmap(ctx)
    if problem:
        return None, ctx.failed(key, zh=problem[0], en=problem[1])
    if name not in value:
        return None, ctx.failed(
            key,
            zh=f"ROADMAP 里没有 {name!r}。三个部分是 'topics'、'milestones'、'review'：\n{EXAMPLE}",
            en=f"ROADMAP has no {name!r}. Its three parts are 'topics', 'milestones' and 'review':\n{EXAMPLE}",
        )
    return value[name], None


def check_structure(ctx):
    value, problem = roadmap(ctx)
    if problem:
        return ctx.failed("structure", zh=problem[0], en=problem[1])
    missing = [name for name in ("topics", "milestones", "review") if name not in value]
    if missing:
        return ctx.failed(
            "structure",
            zh=f"ROADMAP 缺少 {', '.join(map(repr, missing))}：\n{EXAMPLE}",
            en=f"ROADMAP lacks {', '.join(map(repr, missing))}:\n{EXAMPLE}",
        )
    return ctx.passed(
        "structure",
        zh="ROADMAP 有 topics、milestones、review 三部分。",
        en="ROADMAP has topics, milestones and review.",
    )


def check_topics(ctx):
    topics, failure = part(ctx, "topics", "topics")
    if failure:
        return failure
    if not isinstance(topics, list) or len(topics) < MIN_TOPICS:
        count = len(topics) if isinstance(topics, list) else show(topics)
        return ctx.failed(
            "topics",
            zh=f"'topics' 应是至少 {MIN_TOPICS} 个专题的列表（现在是 {count}）：例如 NLP、CV、RL、MLOps 里你要深挖的方向。",
            en=f"'topics' should be a list of at least {MIN_TOPICS} topics (it is {count}): the directions you "
            "will dig into, e.g. among NLP, CV, RL, MLOps.",
        )
    for index, topic in enumerate(topics):
        where = f"topics[{index}]"
        if not isinstance(topic, dict) or "$type" in topic:
            return ctx.failed(
                "topics",
                zh=f'{where} 是 {show(topic)}，应是 dict：{{"name": ..., "why": ..., "resources": [...]}}——专题名、为什么选它、用什么学。',
                en=f'{where} is {show(topic)}; it should be a dict {{"name": ..., "why": ..., "resources": [...]}}: '
                "the topic, why you chose it, and what you will learn it from.",
            )
        if not text(topic.get("name")):
            return ctx.failed(
                "topics", zh=f"{where} 缺少 'name'（专题名）。", en=f"{where} has no 'name' (the topic)."
            )
        if not text(topic.get("why"), 10):
            return ctx.failed(
                "topics",
                zh=f"专题 {topic['name']!r} 缺少 'why'：用一两句话写下为什么选它、它和你的目标有什么关系。",
                en=f"Topic {topic['name']!r} has no 'why': a sentence or two on why you chose it and how it serves your goal.",
            )
        resources = topic.get("resources")
        if not isinstance(resources, list) or not resources or not all(text(item, 3) for item in resources):
            return ctx.failed(
                "topics",
                zh=f"专题 {topic['name']!r} 的 'resources' 应是非空的字符串列表：具体的课程、书、论文或比赛（最好带链接）。",
                en=f"'resources' of topic {topic['name']!r} should be a non-empty list of strings: specific courses, "
                "books, papers or competitions (links welcome).",
            )
    names = ", ".join(topic["name"].strip() for topic in topics)
    return ctx.passed("topics", zh=f"{len(topics)} 个专题：{names}。", en=f"{len(topics)} topics: {names}.")


def parse_date(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def check_milestones(ctx):
    milestones, failure = part(ctx, "milestones", "milestones")
    if failure:
        return failure
    topics, _ = part(ctx, "milestones", "topics")
    topic_names = {
        topic["name"].strip().lower()
        for topic in (topics if isinstance(topics, list) else [])
        if isinstance(topic, dict) and text(topic.get("name"))
    }
    if not isinstance(milestones, list) or len(milestones) < MIN_MILESTONES:
        count = len(milestones) if isinstance(milestones, list) else show(milestones)
        return ctx.failed(
            "milestones",
            zh=f"'milestones' 应是至少 {MIN_MILESTONES} 个里程碑的列表（现在是 {count}），例如“完成一个 NLP Transformer 项目”。",
            en=f"'milestones' should be a list of at least {MIN_MILESTONES} milestones (it is {count}), such as "
            '"finish an NLP Transformer project".',
        )
    previous = None
    for index, milestone in enumerate(milestones):
        where = f"milestones[{index}]"
        if not isinstance(milestone, dict) or "$type" in milestone:
            return ctx.failed(
                "milestones",
                zh=f'{where} 是 {show(milestone)}，应是 dict：{{"title", "due", "topic", "deliverable"}}。',
                en=f'{where} is {show(milestone)}; it should be a dict with "title", "due", "topic" and "deliverable".',
            )
        if not text(milestone.get("title")):
            return ctx.failed("milestones", zh=f"{where} 缺少 'title'。", en=f"{where} has no 'title'.")
        title = milestone["title"].strip()
        due = parse_date(milestone.get("due"))
        if due is None:
            return ctx.failed(
                "milestones",
                zh=f"里程碑 {title!r} 的 'due' 是 {show(milestone.get('due'))}，应是 ISO 日期字符串 'YYYY-MM-DD'（或 datetime.date）。",
                en=f"'due' of milestone {title!r} is {show(milestone.get('due'))}; it should be an ISO date "
                "'YYYY-MM-DD' (or a datetime.date).",
            )
        if due <= REFERENCE_DATE:
            return ctx.failed(
                "milestones",
                zh=f"里程碑 {title!r} 的日期 {due} 不在 {REFERENCE_DATE} 之后：里程碑是未来的目标。",
                en=f"Milestone {title!r} is due {due}, not after {REFERENCE_DATE}: milestones lie in the future.",
            )
        if previous is not None and due < previous:
            return ctx.failed(
                "milestones",
                zh=f"里程碑 {title!r}（{due}）排在更晚的里程碑（{previous}）后面：按日期先后排列，后一个建立在前一个之上。",
                en=f"Milestone {title!r} ({due}) comes after a later one ({previous}): list them in date order, "
                "each building on the one before.",
            )
        previous = due
        if not text(milestone.get("deliverable"), 5):
            return ctx.failed(
                "milestones",
                zh=f"里程碑 {title!r} 缺少 'deliverable'：完成时能拿出什么？（代码仓库、博客、比赛提交、演示……）",
                en=f"Milestone {title!r} has no 'deliverable': what will exist when it is done? (a repository, a "
                "blog post, a competition submission, a demo…)",
            )
        topic = milestone.get("topic")
        if not text(topic) or topic.strip().lower() not in topic_names:
            return ctx.failed(
                "milestones",
                zh=f"里程碑 {title!r} 的 'topic' 是 {show(topic)}，应是 topics 里某个专题的 name，说明它推进的是哪个方向。",
                en=f"'topic' of milestone {title!r} is {show(topic)}; it should be the name of one of your topics, "
                "saying which direction it advances.",
            )
    return ctx.passed(
        "milestones",
        zh=f"{len(milestones)} 个里程碑，从 {parse_date(milestones[0]['due'])} 到 {previous}。",
        en=f"{len(milestones)} milestones, from {parse_date(milestones[0]['due'])} to {previous}.",
    )


def whole_number(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_review(ctx):
    review, failure = part(ctx, "review", "review")
    if failure:
        return failure
    if not isinstance(review, dict) or "$type" in review:
        return ctx.failed(
            "review",
            zh='\'review\' 应是 dict，例如 {"every_weeks": 2, "questions": [...]}。',
            en='\'review\' should be a dict such as {"every_weeks": 2, "questions": [...]}.',
        )
    cadences = [key for key in ("every_days", "every_weeks") if key in review]
    if len(cadences) != 1 or not whole_number(review[cadences[0]]) or review[cadences[0]] < 1:
        return ctx.failed(
            "review",
            zh="复盘周期要写成 'every_days' 或 'every_weeks' 之一，取正整数，例如 \"every_weeks\": 2。",
            en="Give the review cadence as exactly one of 'every_days' or 'every_weeks', a positive integer, "
            'e.g. "every_weeks": 2.',
        )
    days = review[cadences[0]] * (7 if cadences[0] == "every_weeks" else 1)
    if days > MAX_CADENCE_DAYS:
        return ctx.failed(
            "review",
            zh=f"每 {days} 天才复盘一次太稀了：计划会在你发现之前就偏离。至少每季度一次，最好每一到两周。",
            en=f"A review every {days} days is too rare: the plan drifts before you notice. At least once a "
            "quarter, better every week or two.",
        )
    questions = review.get("questions")
    if (
        not isinstance(questions, list)
        or len(questions) < MIN_QUESTIONS
        or not all(text(item, 5) for item in questions)
    ):
        return ctx.failed(
            "review",
            zh=f"'questions' 应是至少 {MIN_QUESTIONS} 个复盘问题（字符串）：每次复盘时问自己什么？",
            en=f"'questions' should hold at least {MIN_QUESTIONS} review questions (strings): what will you ask "
            "yourself at every review?",
        )
    return ctx.passed(
        "review",
        zh=f"每 {days} 天复盘一次，{len(questions)} 个复盘问题。提交后由老师按评分标准评阅整份路线图。",
        en=f"A review every {days} days with {len(questions)} questions. After you submit, a reviewer scores "
        "the whole roadmap by the rubric.",
    )
