"""A next-stage roadmap: NLP first, with MLOps to ship it and a taste of RL; reviewed every two weeks."""

ROADMAP = {
    "goal": "Within a year, train, evaluate and deploy Transformer models for Chinese and English text.",
    "topics": [
        {
            "name": "NLP with Transformers",
            "why": "Text is where I want to work; attention and pre-trained models are the core of modern NLP.",
            "resources": [
                "Stanford CS224N: Natural Language Processing with Deep Learning (lectures + assignments)",
                "Hugging Face LLM Course (huggingface.co/learn)",
                "The Annotated Transformer (Harvard NLP)",
            ],
        },
        {
            "name": "MLOps",
            "why": "Realm 5.4 showed me that a model is only useful once it is tested, packaged and monitored.",
            "resources": [
                "Made With ML (madewithml.com): testing, CI/CD and serving for ML",
                "Full Stack Deep Learning lectures",
            ],
        },
        {
            "name": "Reinforcement learning",
            "why": "RLHF fine-tunes language models; I want to understand policy gradients before using it.",
            "resources": [
                "Sutton & Barto, Reinforcement Learning: An Introduction (chapters 1-6, 13)",
                "OpenAI Spinning Up in Deep RL",
            ],
        },
        {
            "name": "Competitions",
            "why": "Deadlines and leaderboards keep me honest about what actually works.",
            "resources": ["Kaggle NLP competitions (one active competition per half-year)"],
        },
    ],
    "milestones": [
        {
            "title": "Implement a Transformer encoder from scratch",
            "due": "2027-02-28",
            "topic": "NLP with Transformers",
            "deliverable": "A repository with a tested encoder matching nn.TransformerEncoder's outputs, and a blog post.",
        },
        {
            "title": "Finish an NLP Transformer project",
            "due": "2027-04-30",
            "topic": "NLP with Transformers",
            "deliverable": "Fine-tuned Chinese text classifier with an evaluation report (accuracy, errors by class).",
        },
        {
            "title": "Ship the classifier",
            "due": "2027-06-30",
            "topic": "MLOps",
            "deliverable": "Docker image, CI pipeline and a public demo endpoint with monitoring and a rollback plan.",
        },
        {
            "title": "Enter a Kaggle NLP competition",
            "due": "2027-09-30",
            "topic": "Competitions",
            "deliverable": "A final submission in the top 50 % and a write-up of what helped and what did not.",
        },
        {
            "title": "Train a policy with PPO",
            "due": "2027-12-15",
            "topic": "Reinforcement learning",
            "deliverable": "PPO on CartPole and LunarLander from my own code, with learning curves.",
        },
    ],
    "review": {
        "every_weeks": 2,
        "questions": [
            "Which milestone did I move forward, and what is the evidence (commits, results)?",
            "What blocked me, and what will I do differently in the next two weeks?",
            "Is the next milestone still the right one, or should a date or a topic change?",
        ],
        "quarterly": "Every three months: compare the plan with what happened and rewrite the next quarter.",
    },
}
