# must fail: milestones
"""Classic mistake: milestones copied from an old plan, all already in the past."""

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
