"""The HTTP side: one small wrapper around httpx that turns the API's error body into a CliError."""

from typing import Any

import httpx

from huashen_cli.messages import Language

EXIT_OK = 0
EXIT_FAILED = 1  # the thing asked for failed: a failing verdict, an unknown trial, a server that is down
EXIT_USAGE = 2  # wrong arguments, not logged in, a token the server refuses


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def normalise_server(server: str) -> str:
    server = server.strip().rstrip("/")
    if server and "://" not in server:
        server = "http://" + server
    return server


class ApiClient:
    def __init__(self, server: str, token: str, say: Language, *, timeout: float = 30.0) -> None:
        self.server = normalise_server(server)
        self.say = say
        headers = {"Accept": "application/json", "User-Agent": "huashen-cli"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self.http = httpx.Client(base_url=f"{self.server}/api/v1/", headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise CliError(self.say("unreachable", server=self.server, reason=_reason(error))) from None
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            raise CliError(self.say("not_json", status=response.status_code)) from None
        if response.is_success:
            return body
        detail = body.get("error") if isinstance(body, dict) else None
        message = detail.get("message", "") if isinstance(detail, dict) else str(body)[:200]
        if response.status_code == 401:
            has_basic = "auth" in kwargs
            raise CliError(self.say("bad_credentials" if has_basic else "bad_token"), EXIT_USAGE)
        if response.status_code >= 500:
            raise CliError(self.say("server_error", status=response.status_code, message=message))
        raise CliError(self.say("api_error", message=message))


def _reason(error: httpx.TransportError) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0]
