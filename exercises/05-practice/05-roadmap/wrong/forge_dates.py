# must fail: milestones
"""Forgery: the milestones are an old plan's, all in the past, and the code forges what the grader reads.

In-process, the probe read ROADMAP and wrote out/observations.json with json.dumps beside the student's
code; this forgery patches json.dumps to move every 2024 date to 2027, writes a forged
out/observations.json first and rewrites it from a process in its own session. Behind the boundary the
roadmap reaches the driver as data and the driver writes out/ itself; the grader reads only what the
driver vouched for, so the past dates still fail milestones.
"""

ROADMAP = {
    "topics": [
        {"name": "NLP", "why": "I want to build chat assistants.", "resources": ["Stanford CS224N"]},
        {"name": "MLOps", "why": "Models must be deployed to matter.", "resources": ["Made With ML"]},
        {"name": "RL", "why": "RLHF is how assistants are aligned.", "resources": ["Spinning Up in Deep RL"]},
    ],
    "milestones": [
        {
            "title": "Finish an NLP Transformer project",
            "due": "2024-06-30",
            "topic": "NLP",
            "deliverable": "a fine-tuned classifier and a report",
        },
        {"title": "Deploy it", "due": "2024-09-30", "topic": "MLOps", "deliverable": "a Docker image and CI"},
        {"title": "PPO from scratch", "due": "2024-12-31", "topic": "RL", "deliverable": "CartPole solved"},
    ],
    "review": {"every_weeks": 2, "questions": ["What did I finish?", "What should change?"]},
}


def _forge():
    import json as _json
    import os as _os
    from pathlib import Path as _Path

    _dumps = _json.dumps

    def moved(value, *args, **kwargs):
        return _dumps(value, *args, **kwargs).replace('"2024-', '"2027-')

    _json.dumps = moved
    forged = moved({"roadmap": {"type": "dict", "value": ROADMAP}})
    out = _Path("/work/out")

    def plant():
        try:
            out.mkdir(exist_ok=True)
            (out / "forged.tmp").write_text(forged)
            _os.replace(out / "forged.tmp", out / "observations.json")  # never seen half-written
        except OSError:
            pass

    plant()
    if _os.fork() == 0:
        _os.setsid()
        for _ in range(20_000):
            plant()
        _os._exit(0)


_forge()
