"""Starting the stand-in LMS (`lms_standin.py`) as its own process, and walking a launch through it."""

import json
import os
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "huashen-tool"
DEPLOYMENT_ID = "deployment-1"


class StandInProcess:
    def __init__(self, *, port: int, tool_base: str, log: Path, tool_jwks: str = "") -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._log_file = log.open("w")
        argv = [sys.executable, "-m", "tests.lti.lms_standin", "--port", str(port),
                "--client-id", CLIENT_ID, "--deployment-id", DEPLOYMENT_ID,
                "--tool-login", f"{tool_base}/lti/login/", "--tool-launch", f"{tool_base}/lti/launch/",
                "--tool-jwks", tool_jwks]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"}
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/jwks", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.process.poll() is not None:
                break
        self.stop()
        raise AssertionError(f"the stand-in LMS did not start:\n{log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()

    def received(self) -> dict:
        return httpx.get(f"{self.url}/_control/received", timeout=10).json()

    def configure(self, **config: object) -> None:
        httpx.post(f"{self.url}/_control/config", content=json.dumps(config), timeout=10).raise_for_status()

    def launch_url(self, spec: dict) -> str:
        return f"{self.url}/launch?{urlencode({'spec': json.dumps(spec)})}"

    def registration_fields(self) -> dict:
        return {
            "name": "Stand-in LMS", "issuer": self.url, "client_id": CLIENT_ID,
            "auth_url": f"{self.url}/auth", "token_url": f"{self.url}/token", "keyset_url": f"{self.url}/jwks",
            "deployment_ids": [DEPLOYMENT_ID],
        }  # fmt: skip


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the (auto-submitting) form on an HTML page."""
    action = unescape(re.search(r'<form[^>]*action="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    fields = {unescape(name): unescape(value) for name, value in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}  # fmt: skip
    return action, fields


def id_token_form(standin: StandInProcess, spec: dict, tool_get) -> tuple[str, dict[str, str]]:
    """Walk a launch up to the form the LMS posts to the tool: the LMS's login initiation, the tool's
    answer (its cookie check page reloads itself with `lti1p3_new_window=1`, as its script does), the
    LMS's auth endpoint. `tool_get(url)` requests a tool URL with the browser's cookies and returns
    (status, location, body)."""
    start = httpx.get(standin.launch_url(spec), timeout=10)
    assert start.status_code == 302, start.text
    login_url = start.headers["location"]
    status, location, body = tool_get(login_url)
    if status == 200 and "lti1p3_new_window" in body:
        status, location, body = tool_get(login_url + "&lti1p3_new_window=1")
    assert status == 302, (status, body[:500])
    assert location.startswith(standin.url + "/auth?"), location
    auth = httpx.get(location, timeout=10)
    assert auth.status_code == 200, auth.text
    return form_fields(auth.text)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
