# must fail: topics, milestones
"""Classic mistake: a wish list — topic names without reasons or resources, milestones without dates."""

ROADMAP = {
    "topics": ["NLP", "CV", "RL"],
    "milestones": [
        {"title": "Learn Transformers", "due": "soon", "topic": "NLP", "deliverable": "understand them"},
        {"title": "Do a Kaggle competition", "due": "someday", "topic": "CV", "deliverable": "a good rank"},
        {"title": "Learn RL", "due": "next year", "topic": "RL", "deliverable": "know RL"},
    ],
    "review": {"every_weeks": 4, "questions": ["Am I on track?", "What next?"]},
}
