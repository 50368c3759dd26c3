"""How a WebSocket refusal looks from the client in the in-process tests."""

from channels.testing import WebsocketCommunicator


async def refusal(communicator: WebsocketCommunicator, timeout: float = 5) -> tuple[str, int | None]:
    """("closed", code) for a socket accepted and then closed at once (what a browser can read);
    ("refused", code) for one refused before the handshake (a browser sees only HTTP 403)."""
    connected, code = await communicator.connect(timeout=timeout)
    if not connected:
        return "refused", code
    message = await communicator.receive_output(timeout=timeout)
    assert message["type"] == "websocket.close", message
    return "closed", message.get("code", 1000)


def forget_handshakes() -> None:
    """Forget every token, session and access answer the handshake caches hold: database ids and users
    are made afresh by each test, and an answer cached by one must not let a socket in the next."""
    from huashen.api.ws_auth import handshake_caches_clear
    from huashen.grading.consumers import access_cache_clear

    handshake_caches_clear()
    access_cache_clear()
