"""试炼 5.5 · 规划下一阶段 / Trial 5.5 · Plan the next stage.

填写你的进阶路线图。/ Fill in your learning roadmap.
"""

ROADMAP = {
    # 一年后想达到什么状态？/ Where do you want to be in a year?
    "goal": "TODO",
    # 至少 3 个专题 / at least 3 topics: {"name": ..., "why": ..., "resources": [...]}
    "topics": [
        {"name": "TODO", "why": "TODO", "resources": []},
    ],
    # 至少 3 个里程碑，按日期排列 / at least 3 milestones, in date order:
    # {"title": ..., "due": "YYYY-MM-DD", "topic": <a topic's name>, "deliverable": ...}
    "milestones": [],
    # 复盘 / review: {"every_weeks": 2, "questions": [...]}
    "review": {},
}


if __name__ == "__main__":
    import pprint

    pprint.pprint(ROADMAP)
