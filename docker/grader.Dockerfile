# syntax=docker/dockerfile:1
# The grading side: Celery grader workers that run student code inside bubblewrap (bwrap).
# One image for both queues: `-Q cpu` and `-Q gpu` (the GPU service reserves an NVIDIA device).
# Graders hold no database credentials: they speak only the message contract (workers.protocol) over Redis.
#
#   docker build -f docker/grader.Dockerfile -t huashen-grader .      (from the repository root)
#
# Host requirements for the sandbox. bwrap is not setuid on Debian: it builds its sandbox from
# *unprivileged user namespaces*, so
#   - the host kernel must allow them: `sysctl kernel.unprivileged_userns_clone=1` (Debian/Ubuntu kernels),
#     user.max_user_namespaces > 0, and on Ubuntu >= 23.10 also
#     kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile that allows bwrap);
#   - the container's seccomp profile must allow clone/unshare with CLONE_NEWUSER (Docker's default
#     profile refuses them without CAP_SYS_ADMIN; see security_opt in docker-compose.yml);
#   - per-submission resource limits need cgroup v2 *delegation*: the worker must own a writable cgroup
#     subtree to create one child cgroup per sandbox run (systemd `Delegate=yes` on the host side).
#     Docker mounts /sys/fs/cgroup read-only in unprivileged containers, so the deployment must hand
#     the grader a delegated subtree explicitly.

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

# bubblewrap: the sandbox; libseccomp2: pyseccomp's library; libgl1/libglib2.0-0: OpenCV (grad-cam).
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap libseccomp2 libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

# The worker's own account, and the unprivileged account that student code runs as (as install.sh makes it).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin huashen \
    && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin huashen-sandbox

WORKDIR /app

# torch first, in its own layer: it is by far the largest download and changes least often.
RUN pip install torch==2.14.1 torchvision==0.29.1

# The [grader] extra plus the Celery/Redis client lines of the base dependencies (the worker's transport);
# read from pyproject.toml because the repository is not an installable package (no build system).
COPY pyproject.toml ./
RUN python -c "import re, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; base = [d for d in p['dependencies'] if re.match(r'[A-Za-z0-9_.-]+', d).group(0) in {'celery', 'redis'}]; print('\n'.join(base + p['optional-dependencies']['grader']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# No platform/ here: workers know no Django. Student code and the sandbox read exercises/ and the
# installed packages, so both stay world-readable and owned by root.
COPY workers/ workers/
COPY exercises/ exercises/

# Realm 4's pretrained weights, bound read-only into the sandbox from $TORCH_HOME (docker/grader.env).
# Offline this is the deterministic stand-in checkpoint; where the internet is reachable, mount a volume
# filled by `manage.py fetch_weights` over it instead.
RUN python -c "from exercises.kit.weights import ensure_resnet18; ensure_resnet18('/opt/huashen/torch-home')" \
    && chmod -R a+rX /opt/huashen/torch-home

# The image's default user is unprivileged. docker-compose.yml starts graders as root *in the container*
# with only the capabilities confinement needs (see the comment there and docs/deploy.md): the runner
# creates the job's cgroups and tmpfs, then drops to huashen-sandbox before bwrap; student code never
# runs as root or with a capability.
USER huashen

CMD ["celery", "-A", "workers.celery_app", "worker", "-Q", "cpu", "--concurrency", "2"]
