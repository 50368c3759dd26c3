"""试炼 5.4 · 自动化部署 / Trial 5.4 · Automated deployment.

补全三个文件，让每次提交都自动走完：测试 → 构建镜像 → 推送 → 部署。
Complete the three files so that every commit goes: test → build the image → push → deploy.
"""

DOCKERFILE = """\
FROM python:latest
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
# TODO: 非 root 用户 / a non-root user
# TODO: HEALTHCHECK ... /healthz
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

COMPOSE = """\
services:
  api:
    build: .
    # TODO: ports, restart
"""

WORKFLOW = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt && pytest -q
  # TODO: image（needs: test；登录、构建、推送 / log in, build, push）
  # TODO: deploy（needs: image）
"""


def deployment_files():
    """路径 → 文件内容 / path → file content."""
    return {
        "Dockerfile": DOCKERFILE,
        "docker-compose.yml": COMPOSE,
        ".github/workflows/ci.yml": WORKFLOW,
    }


if __name__ == "__main__":
    for path, content in deployment_files().items():
        print(f"===== {path}\n{content}")
