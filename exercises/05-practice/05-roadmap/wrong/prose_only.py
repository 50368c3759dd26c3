# must fail: structure, topics, milestones, review
"""Classic mistake: the roadmap written as prose, so nothing in it can be tracked or checked."""

ROADMAP = """
Next year I want to get really good at NLP, maybe also look at RL and deployment.
I will take some courses and do a Kaggle competition, and check my progress from time to time.
"""
