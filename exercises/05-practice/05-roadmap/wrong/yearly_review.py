# must fail: review
"""Classic mistake: a review once a year — by then the plan has long drifted."""

ROADMAP = {
    "topics": [
        {"name": "NLP", "why": "I want to build chat assistants.", "resources": ["Stanford CS224N"]},
        {"name": "MLOps", "why": "Models must be deployed to matter.", "resources": ["Made With ML"]},
        {"name": "RL", "why": "RLHF is how assistants are aligned.", "resources": ["Spinning Up in Deep RL"]},
    ],
    "milestones": [
        {
            "title": "Finish an NLP Transformer project",
            "due": "2027-03-31",
            "topic": "NLP",
            "deliverable": "a fine-tuned classifier and a report",
        },
        {"title": "Deploy it", "due": "2027-06-30", "topic": "MLOps", "deliverable": "a Docker image and CI"},
        {"title": "PPO from scratch", "due": "2027-10-31", "topic": "RL", "deliverable": "CartPole solved"},
    ],
    "review": {"every_weeks": 52, "questions": ["Did I do it?", "What next year?"]},
}
