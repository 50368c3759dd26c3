"""A small LMS that speaks LTI 1.3 for real, run as its own process on loopback.

It is what Huashen meets in Moodle or Canvas, reduced to the protocol: its own RSA key and JWKS URL;
OIDC login initiation towards the tool and an auth endpoint that answers with a signed id_token posted
by an auto-submitting form (resource link and deep linking launches); an OAuth2 client-credentials token
endpoint that verifies the tool's signed JWT assertion against the tool's JWKS; line items and a score
endpoint that record what they receive; Names and Roles memberships; and a deep-linking return URL that
verifies the tool's signed answer. `/_control/...` lets a test read what it received and make it misbehave
(forged, expired or replayed tokens, a wrong audience, an unknown deployment, failing score posts).

    python -m tests.lti.lms_standin --port P --tool-login URL --tool-launch URL [--tool-jwks URL]
"""

import argparse
import html
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import jwt
from jwcrypto.jwk import JWK

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
DEFAULT_CONTEXT = {"id": "course-1", "label": "DL101", "title": "Deep Learning 101"}


class _Key:
    def __init__(self) -> None:
        self.jwk = JWK.generate(kty="RSA", size=2048)
        self.kid = self.jwk.thumbprint()
        self.private_pem = self.jwk.export_to_pem(private_key=True, password=None)

    def public(self) -> dict[str, Any]:
        return {**json.loads(self.jwk.export_public()), "kid": self.kid, "alg": "RS256", "use": "sig"}


class StandIn:
    def __init__(self, *, base: str, client_id: str, deployment_id: str, tool_login: str, tool_launch: str,
                 tool_jwks: str) -> None:  # fmt: skip
        self.base = base
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.tool_login = tool_login
        self.tool_launch = tool_launch
        self.tool_jwks_url = tool_jwks
        self.tool_jwks: dict[str, Any] | None = None
        self.key = _Key()
        self.rogue = _Key()  # signs forgeries, never published
        self.lock = threading.Lock()
        self.hints: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, list[str]] = {}
        self.scores: list[dict[str, Any]] = []
        self.lineitems: dict[str, dict[str, Any]] = {}
        self.deep_links: list[dict[str, Any]] = []
        self.members: dict[str, dict[str, dict[str, Any]]] = {}  # context id → user id → member
        self.token_requests = 0
        self.fail_scores = 0
        self.refusals: list[str] = []

    # --- WSGI ---------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        ctype = environ.get("CONTENT_TYPE", "")
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()} if "form" in ctype else {}
        auth = environ.get("HTTP_AUTHORIZATION", "")
        try:
            status, headers, body = self.route(method, path, query, form, raw, ctype, auth)
        except Exception as error:  # pragma: no cover - shows in the test's failure
            status, headers, body = "500 Internal Server Error", [], repr(error).encode()
        start_response(status, [("Content-Length", str(len(body))), *headers])
        return [body]

    def route(
        self, method: str, path: str, query: dict, form: dict, raw: bytes, ctype: str, auth: str
    ) -> tuple:
        if path == "/favicon.ico":
            return "204 No Content", [], b""
        if path == "/jwks":
            return _json({"keys": [self.key.public()]})
        if path == "/launch":
            return self.start_launch(json.loads(query["spec"]))
        if path == "/auth":
            return self.authorize({**query, **form})
        if path == "/token" and method == "POST":
            return self.token(form)
        if path.startswith("/lineitems/"):
            return self.lineitem_call(method, path, raw, ctype, auth)
        if path.startswith("/nrps/"):
            return self.nrps(path.removeprefix("/nrps/"), auth)
        if path == "/deep-link-return" and method == "POST":
            return self.deep_link_return(form)
        if path == "/_control/received":
            with self.lock:
                return _json({"scores": self.scores, "lineitems": self.lineitems, "deep_links": self.deep_links,
                              "token_requests": self.token_requests, "refusals": self.refusals})  # fmt: skip
        if path == "/_control/config" and method == "POST":
            config = json.loads(raw)
            with self.lock:
                if "tool_jwks" in config:
                    self.tool_jwks = config["tool_jwks"]
                if "fail_scores" in config:
                    self.fail_scores = int(config["fail_scores"])
            return _json({"ok": True})
        if path == "/_control/rogue-jwks":
            return _json({"keys": [self.rogue.public()]})
        return "404 Not Found", [], b"not found"

    # --- Launches -----------------------------------------------------------------------------------
    def start_launch(self, spec: dict[str, Any]) -> tuple:
        """The LMS page that starts a launch: third-party initiated login at the tool (a GET redirect)."""
        hint = uuid.uuid4().hex
        with self.lock:
            self.hints[hint] = spec
            context = spec.get("context", DEFAULT_CONTEXT).get("id")
            if context:
                self.members.setdefault(context, {})[spec["sub"]] = {
                    "user_id": spec["sub"], "status": "Active", "roles": spec.get("roles", [ROLE + "Learner"]),
                    **{k: spec[k] for k in ("name", "given_name", "family_name", "email") if k in spec},
                }  # fmt: skip
        params = {
            "iss": self.base, "login_hint": hint, "target_link_uri": self.tool_launch, "lti_message_hint": hint,
            "client_id": self.client_id, "lti_deployment_id": spec.get("deployment_id", self.deployment_id),
        }  # fmt: skip
        return "302 Found", [("Location", f"{self.tool_login}?{urlencode(params)}")], b""

    def authorize(self, params: dict[str, str]) -> tuple:
        """The OIDC auth endpoint: checks the tool's request, answers a signed id_token by form post."""
        problems = []
        if params.get("scope") != "openid" or params.get("response_type") != "id_token":
            problems.append("scope/response_type")
        if params.get("client_id") != self.client_id:
            problems.append("client_id")
        if params.get("redirect_uri") != self.tool_launch:
            problems.append(f"redirect_uri {params.get('redirect_uri')}")
        if params.get("response_mode") != "form_post" or not params.get("nonce") or not params.get("state"):
            problems.append("response_mode/nonce/state")
        spec = self.hints.get(params.get("login_hint", ""))
        if spec is None or params.get("lti_message_hint") != params.get("login_hint"):
            problems.append("login_hint")
        if problems:
            with self.lock:
                self.refusals.append("auth: " + ", ".join(problems))
            return "400 Bad Request", [], ("refused: " + ", ".join(problems)).encode()
        assert spec is not None
        token = self.id_token(spec, nonce=params["nonce"])
        page = (
            f'<!doctype html><html><body><form id="f" method="post" action="{html.escape(params["redirect_uri"])}">'
            f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
            f'<input type="hidden" name="state" value="{html.escape(params["state"])}">'
            '<button type="submit">Continue</button></form>'
            '<script>document.getElementById("f").submit()</script></body></html>'
        )
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page.encode()

    def id_token(self, spec: dict[str, Any], *, nonce: str) -> str:
        now = int(time.time())
        tamper = spec.get("tamper", "")
        context = spec.get("context", DEFAULT_CONTEXT)
        claims: dict[str, Any] = {
            "iss": self.base, "aud": "someone-else" if tamper == "wrong_aud" else self.client_id,
            "azp": self.client_id, "sub": spec["sub"], "nonce": nonce,
            "iat": now - 400 if tamper == "expired" else now, "exp": now - 60 if tamper == "expired" else now + 300,
            LTI + "version": "1.3.0", LTI + "deployment_id": spec.get("deployment_id", self.deployment_id),
            LTI + "roles": spec.get("roles", [ROLE + "Learner"]),
            LTI + "context": {"type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"], **context},
            LTI + "tool_platform": {"guid": "standin-lms", "name": "Stand-in LMS", "product_family_code": "standin"},
            LTI + "launch_presentation": {"document_target": spec.get("document_target", "window"),
                                          "locale": spec.get("locale", "zh-CN")},
        }  # fmt: skip
        for claim in ("name", "given_name", "family_name", "email"):
            if claim in spec and not spec.get("names_only_in_nrps"):
                claims[claim] = spec[claim]
        if spec.get("nrps", True):
            claims[NRPS_CLAIM] = {
                "context_memberships_url": f"{self.base}/nrps/{context['id']}",
                "service_versions": ["2.0"],
            }
        if spec.get("deep_linking"):
            claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
            claims[LTI + "target_link_uri"] = self.tool_launch
            claims[DL_CLAIM + "deep_linking_settings"] = {
                "deep_link_return_url": f"{self.base}/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"], "accept_multiple": False,
                "data": "standin-data-" + context["id"],
            }  # fmt: skip
        else:
            link = spec.get("resource_link", {"id": "link-1", "title": "Trial"})
            lineitem = f"{self.base}/lineitems/{context['id']}/items/{link['id']}"
            with self.lock:
                self.lineitems.setdefault(
                    lineitem, {"id": lineitem, "scoreMaximum": 100, "resourceLinkId": link["id"]}
                )
            claims[LTI + "message_type"] = "LtiResourceLinkRequest"
            claims[LTI + "target_link_uri"] = self.tool_launch
            claims[LTI + "resource_link"] = link
            claims[LTI + "custom"] = spec.get("custom", {})
            claims[AGS_CLAIM] = {
                "scope": [SCOPE_SCORE, SCOPE_LINEITEM], "lineitems": f"{self.base}/lineitems/{context['id']}/items",
                **({} if spec.get("no_lineitem") else {"lineitem": lineitem}),
            }  # fmt: skip
        key = self.rogue if tamper == "wrong_key" else self.key
        # A forgery names the real key's kid: only the signature gives it away.
        return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": self.key.kid})

    # --- Services -----------------------------------------------------------------------------------
    def _tool_keys(self) -> dict[str, Any]:
        if self.tool_jwks is not None:
            return self.tool_jwks
        return httpx.get(self.tool_jwks_url, timeout=10).json()

    def _verify_from_tool(self, token: str, *, audience: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._tool_keys()["keys"]:
            if key.get("kid") == kid:
                public = JWK.from_json(json.dumps(key)).export_to_pem()
                return jwt.decode(token, public, algorithms=["RS256"], audience=audience)
        raise jwt.InvalidTokenError(f"no tool key {kid}")

    def token(self, form: dict[str, str]) -> tuple:
        with self.lock:
            self.token_requests += 1
        try:
            if form.get("grant_type") != "client_credentials":
                raise ValueError("grant_type")
            if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                raise ValueError("client_assertion_type")
            claims = self._verify_from_tool(form.get("client_assertion", ""), audience=f"{self.base}/token")
            if (
                claims.get("iss") != self.client_id
                or claims.get("sub") != self.client_id
                or not claims.get("jti")
            ):
                raise ValueError("iss/sub/jti")
        except (ValueError, jwt.InvalidTokenError) as error:
            with self.lock:
                self.refusals.append(f"token: {error}")
            return _json(
                {"error": "invalid_client", "error_description": str(error)}, status="401 Unauthorized"
            )
        access = uuid.uuid4().hex
        scopes = form.get("scope", "").split()
        with self.lock:
            self.tokens[access] = scopes
        return _json(
            {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(scopes)}
        )

    def _bearer_has(self, auth: str, scope: str) -> bool:
        token = auth.removeprefix("Bearer ").strip()
        return scope in self.tokens.get(token, [])

    def lineitem_call(self, method: str, path: str, raw: bytes, ctype: str, auth: str) -> tuple:
        url = self.base + path
        if path.endswith("/scores") and method == "POST":
            if not self._bearer_has(auth, SCOPE_SCORE):
                return "401 Unauthorized", [], b"no score scope"
            if ctype.split(";")[0].strip() != "application/vnd.ims.lis.v1.score+json":
                return "415 Unsupported Media Type", [], ctype.encode()
            lineitem = url.removesuffix("/scores")
            with self.lock:
                if lineitem not in self.lineitems:
                    return "404 Not Found", [], b"no such line item"
                if self.fail_scores > 0:
                    self.fail_scores -= 1
                    return "503 Service Unavailable", [], b"try later"
                self.scores.append({"lineitem": lineitem, **json.loads(raw)})
            return "200 OK", [], b""
        if method == "POST":  # create a line item in a course
            if not self._bearer_has(auth, SCOPE_LINEITEM):
                return "401 Unauthorized", [], b"no line item scope"
            item = json.loads(raw)
            item["id"] = f"{url}/{uuid.uuid4().hex[:8]}"
            with self.lock:
                self.lineitems[item["id"]] = item
            return _json(item, status="201 Created")
        return "405 Method Not Allowed", [], b""

    def nrps(self, context_id: str, auth: str) -> tuple:
        if not self._bearer_has(auth, SCOPE_NRPS):
            return "401 Unauthorized", [], b"no names and roles scope"
        with self.lock:
            members = list(self.members.get(context_id, {}).values())
        return _json(
            {"id": f"{self.base}/nrps/{context_id}", "context": {"id": context_id}, "members": members}
        )

    def deep_link_return(self, form: dict[str, str]) -> tuple:
        try:
            claims = self._verify_from_tool(form.get("JWT", ""), audience=self.base)
            if (
                claims.get("iss") != self.client_id
                or claims.get(LTI + "message_type") != "LtiDeepLinkingResponse"
            ):
                raise ValueError("iss/message_type")
            if claims.get(LTI + "deployment_id") != self.deployment_id or not claims.get("nonce"):
                raise ValueError("deployment_id/nonce")
        except (ValueError, jwt.InvalidTokenError) as error:
            with self.lock:
                self.refusals.append(f"deep link: {error}")
            return "400 Bad Request", [], str(error).encode()
        items = claims.get(DL_CLAIM + "content_items", [])
        with self.lock:
            self.deep_links.append({"items": items, "data": claims.get(DL_CLAIM + "data")})
        page = "<!doctype html><html><body><p data-testid='lms-stored'>Stored: " + html.escape(
            ", ".join(item.get("title", "") for item in items)) + "</p></body></html>"  # fmt: skip
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page.encode()


def _json(value: Any, *, status: str = "200 OK") -> tuple:
    return status, [("Content-Type", "application/json")], json.dumps(value).encode()


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", default="huashen-tool")
    parser.add_argument("--deployment-id", default="deployment-1")
    parser.add_argument("--tool-login", required=True)
    parser.add_argument("--tool-launch", required=True)
    parser.add_argument("--tool-jwks", default="")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    app = StandIn(base=base, client_id=args.client_id, deployment_id=args.deployment_id, tool_login=args.tool_login,
                  tool_launch=args.tool_launch, tool_jwks=args.tool_jwks)  # fmt: skip
    with make_server(
        "127.0.0.1", args.port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    ) as server:
        print(f"stand-in LMS on {base}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
