// JSON requests to Huashen's API with the session cookie; errors come back in the one error body
// `{"error": {"code", "message", "field"}}`, whose message is already in the user's language.

import { t } from "./i18n";

export interface ApiResult<T> {
  ok: boolean;
  status: number;
  data: T | null;
  // `line` and `column`: a `syntax_error` only (1-based).
  error: { code: string; message: string; field: string | null; line?: number | null; column?: number | null } | null;
}

function csrfToken(): string {
  const config = document.getElementById("trial-config");
  if (config?.textContent) {
    try {
      const token = (JSON.parse(config.textContent) as { csrfToken?: unknown }).csrfToken;
      if (typeof token === "string" && token !== "") return token;
    } catch {
      /* fall through to the cookie */
    }
  }
  const match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api<T>(
  url: string,
  init: { method?: string; body?: unknown; keepalive?: boolean } = {},
): Promise<ApiResult<T>> {
  const method = init.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      keepalive: init.keepalive ?? false,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    return { ok: false, status: 0, data: null, error: { code: "network", message: t("networkError"), field: null } };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.ok) return { ok: true, status: response.status, data: body as T, error: null };
  const error =
    body !== null && typeof body === "object" && "error" in body
      ? ((body as { error: ApiResult<T>["error"] }).error ?? null)
      : null;
  return {
    ok: false,
    status: response.status,
    data: null,
    error: error ?? { code: String(response.status), message: `HTTP ${response.status}`, field: null },
  };
}
