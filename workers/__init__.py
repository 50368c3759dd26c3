"""The grading side of Huashen: Celery grader tasks, the runner, the sandbox and the in-sandbox harness.

Nothing here imports Django or platform code; the web side and the graders speak only the message
contract in `workers.protocol`.
"""
