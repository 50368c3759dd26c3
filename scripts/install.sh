#!/usr/bin/env bash
# Installs what Huashen needs on a fresh Debian/Ubuntu machine; safe to run again (idempotent).
#
#   scripts/install.sh [debian-package ...]
#
# 1. The named system packages (bubblewrap, redis-server, chromium, ...) through apt-get when running as
#    root and they are missing; otherwise a clear message naming each missing package.
# 2. The unprivileged `huashen-sandbox` account the sandbox drops to (root only).
# 3. The Python environment: a venv built from Debian's /usr/bin/python3.11 under $HUASHEN_CACHE
#    (default /opt/huashen), keyed by a hash of the dependency spec in pyproject.toml, so a new clone
#    or a CI run reuses it instead of reinstalling torch. The sandbox account must be able to read it,
#    so it never lives under /root. `.venv` in the checkout is a symlink to it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${HUASHEN_CACHE:-/opt/huashen}
python=${HUASHEN_PYTHON:-/usr/bin/python3.11}
sandbox_user=huashen-sandbox

say() { printf '\033[1m[install]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[install] %s\033[0m\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# --- 1. system packages -------------------------------------------------------------------------
binary_for() {
    case "$1" in
        bubblewrap) echo bwrap ;;
        redis-server) echo redis-server ;;
        chromium) echo chromium ;;
        nodejs) echo node ;;
        *) echo "$1" ;;
    esac
}
missing=()
for package in "$@"; do
    case "$package" in
        fonts-*) dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package") ;;  # no binary to look for
        *) command -v "$(binary_for "$package")" >/dev/null 2>&1 || missing+=("$package") ;;
    esac
done
if [ ${#missing[@]} -gt 0 ]; then
    if is_root && command -v apt-get >/dev/null; then
        say "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        die "missing system packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
    fi
fi

# --- 2. the sandbox account ---------------------------------------------------------------------
if is_root; then
    if ! id "$sandbox_user" >/dev/null 2>&1; then
        say "creating the unprivileged account $sandbox_user"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$sandbox_user"
    fi
elif ! id "$sandbox_user" >/dev/null 2>&1; then
    say "note: no $sandbox_user account (needs root); the sandbox runs rootless as the current user"
fi

# --- 3. the Python environment ------------------------------------------------------------------
[ -x "$python" ] || die "missing $python — install it with: sudo apt-get install python3.11 python3.11-venv"
key=$("$python" "$here/scripts/venv_key.py" "$here/pyproject.toml")
venv="$cache/venv-$key"
if [ ! -x "$venv/bin/python" ]; then
    say "building the Python environment $venv (first time only: a few minutes, torch is large)"
    mkdir -p "$cache"
    chmod 755 "$cache"
    building="$venv.building.$$"
    rm -rf "$building"
    "$python" -m venv "$building"
    "$building/bin/pip" install --quiet --upgrade pip
    "$python" "$here/scripts/venv_key.py" --requirements "$here/pyproject.toml" > "$building/requirements.txt"
    "$building/bin/pip" install --quiet -r "$building/requirements.txt"
    # venvs hard-code their own path; rebuild the scripts for the final location by moving, then fixing.
    mv "$building" "$venv"
    grep -rl "$building" "$venv/bin" 2>/dev/null | xargs -r sed -i "s#$building#$venv#g"
    chmod -R a+rX "$venv"
fi
ln -sfn "$venv" "$here/.venv"
say "Python environment ready: .venv -> $venv"
