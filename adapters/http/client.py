"""A small client of the synaps REST API (used by the CLI and the tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["TERMINAL_RUN_STATUSES", "ApiError", "SynapsClient"]

TERMINAL_RUN_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


class ApiError(Exception):
    """The API answered with an error (a problem body) or could not be reached."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{detail} ({code}, HTTP {status})" if status else detail)
        self.status = status
        self.code = code
        self.detail = detail


class SynapsClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        api_key: str | None = None,
        access_token: str | None = None,
    ):
        headers = {"X-API-Key": api_key} if api_key else {}
        if access_token and not api_key:
            headers["Authorization"] = f"Bearer {access_token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SynapsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                code, detail = body.get("code", "error"), body.get("detail", response.text)
            except ValueError:
                code, detail = "error", response.text or response.reason_phrase
            raise ApiError(response.status_code, code, detail)
        return response

    def submit(
        self,
        kind: str,
        input: Any = None,
        *,
        queue: str | None = None,
        priority: int | None = None,
        thread_id: str | None = None,
        max_attempts: int | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"kind": kind, "input": input}
        for name, value in (
            ("queue", queue),
            ("priority", priority),
            ("thread_id", thread_id),
            ("max_attempts", max_attempts),
        ):
            if value is not None:
                body[name] = value
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = self._request("POST", "/v1/commands/submit", json=body, headers=headers)
        return response.status_code, response.json()

    def get_run(
        self, run_id: str, *, min_position: int | None = None, wait: float | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if min_position is not None:
            params["min_position"] = min_position
        if wait is not None:
            params["wait"] = wait
        timeout = httpx.Timeout((self._http.timeout.read or 30.0) + (wait or 0))
        response = self._request("GET", f"/v1/runs/{run_id}", params=params, timeout=timeout)
        return response.json()  # type: ignore[no-any-return]

    def list_runs(self, **filters: Any) -> dict[str, Any]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._request("GET", "/v1/runs", params=params).json()  # type: ignore[no-any-return]

    def cancel_run(self, run_id: str, reason: str = "") -> dict[str, Any]:
        response = self._request("POST", f"/v1/runs/{run_id}/cancel", json={"reason": reason})
        return response.json()  # type: ignore[no-any-return]

    def wait_for_run(
        self,
        run_id: str,
        timeout: float = 60.0,
        *,
        min_position: int | None = None,
        settled: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Wait until the run ends (or ``settled`` says it is far enough), by long polls
        the API answers from change notices."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                poll = 1.0 if settled else 30.0  # the long poll only ends at the end
                run = self.get_run(
                    run_id, min_position=min_position, wait=max(0.1, min(poll, left))
                )
            except ApiError as exc:
                if exc.status != 404 or left <= 0:
                    raise
                time.sleep(0.05)  # not in the views yet (no position to wait for)
                continue
            if run["status"] in TERMINAL_RUN_STATUSES or (settled and settled(run)):
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} is still {run['status']} after {timeout}s")

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """``/readyz``: whether the API is ready, and its checks (a 503 carries them too)."""
        try:
            response = self._http.get("/readyz")
            return response.status_code == 200, response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {exc}") from exc

    def upload(self, content: bytes, content_type: str) -> dict[str, Any]:
        """Store content for a command to use; its artifact reference."""
        response = self._request(
            "POST", "/v1/artifacts", content=content, headers={"Content-Type": content_type}
        )
        return response.json()  # type: ignore[no-any-return]

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self._request("POST", path, json=body)

    def get(self, path: str, **params: Any) -> httpx.Response:
        if params:
            return self._request(
                "GET", path, params={k: v for k, v in params.items() if v is not None}
            )
        return self._request("GET", path)

    # -- identity -------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return self._request("GET", "/v1/auth/whoami").json()  # type: ignore[no-any-return]

    def login(self, email: str, password: str) -> dict[str, Any]:
        body = {"email": email, "password": password}
        return self._request("POST", "/v1/auth/login", json=body).json()  # type: ignore[no-any-return]

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        body = {"refresh_token": refresh_token}
        return self._request("POST", "/v1/auth/refresh", json=body).json()  # type: ignore[no-any-return]

    def logout(self, refresh_token: str | None) -> None:
        self._request("POST", "/v1/auth/logout", json={"refresh_token": refresh_token})

    def create_key(
        self,
        key_type: str,
        *,
        tenant: str | None = None,
        scopes: list[str] | None = None,
        name: str = "",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"type": key_type, "name": name}
        if tenant is not None:
            body["tenant"] = tenant
        if scopes is not None:
            body["scopes"] = scopes
        return self._request("POST", "/v1/keys", json=body).json()  # type: ignore[no-any-return]

    def list_keys(self, tenant: str | None = None) -> list[dict[str, Any]]:
        params = {"tenant": tenant} if tenant else {}
        return self._request("GET", "/v1/keys", params=params).json()["keys"]  # type: ignore[no-any-return]

    def revoke_key(self, key_id: str, reason: str = "") -> dict[str, Any]:
        response = self._request("POST", f"/v1/keys/{key_id}/revoke", json={"reason": reason})
        return response.json()  # type: ignore[no-any-return]

    def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/v1/users", json=body).json()  # type: ignore[no-any-return]

    def list_users(self, tenant: str | None = None) -> list[dict[str, Any]]:
        params = {"tenant": tenant} if tenant else {}
        return self._request("GET", "/v1/users", params=params).json()["users"]  # type: ignore[no-any-return]

    def disable_user(self, user_id: str, reason: str = "") -> dict[str, Any]:
        response = self._request("POST", f"/v1/users/{user_id}/disable", json={"reason": reason})
        return response.json()  # type: ignore[no-any-return]
