"""daphne's connections send a frame at once when nothing waits before it (huashen.daphne_writes), and
keep Twisted's buffered way for everything else: order, a full socket, a lost connection, TLS.

Real sockets (a connected pair) under Twisted's own `tcp.Server`; the reactor is a recorder of what the
connection asks of it (whether it waits for the socket to be writable), so no event loop runs here."""

import socket
from collections.abc import Iterator

import pytest
from twisted.internet import protocol, tcp

from huashen import daphne_writes


class Reactor:
    """What a reactor is asked: to be told when a connection's socket is writable."""

    def __init__(self) -> None:
        self.writers: list[object] = []

    def addWriter(self, writer: object) -> None:
        self.writers.append(writer)

    def removeWriter(self, writer: object) -> None:
        if writer in self.writers:
            self.writers.remove(writer)

    def addReader(self, reader: object) -> None:
        pass

    def removeReader(self, reader: object) -> None:
        pass


@pytest.fixture
def written_through() -> Iterator[None]:
    before = tcp.Server.__dict__.get("_writes_through", False)
    assert daphne_writes.install()
    yield
    if not before:
        daphne_writes.uninstall()


@pytest.fixture
def buffered() -> Iterator[None]:
    before = tcp.Server.__dict__.get("_writes_through", False)
    daphne_writes.uninstall()
    yield
    if before:
        daphne_writes.install()


def connection() -> tuple[tcp.Server, socket.socket, Reactor]:
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    reactor = Reactor()
    server = tcp.Server(ours, protocol.Protocol(), ("127.0.0.1", 1), None, 1, reactor)  # type: ignore[arg-type]
    server.repstr = "<test connection>"
    return server, peer, reactor


def received(peer: socket.socket) -> bytes:
    try:
        return peer.recv(1 << 20)
    except BlockingIOError:
        return b""


def test_twisted_alone_waits_for_the_next_turn(buffered: None) -> None:
    server, peer, reactor = connection()
    server.write(b"frame")
    assert received(peer) == b"" and reactor.writers == [server]  # sent only when the reactor says so
    server.doWrite()
    assert received(peer) == b"frame"


def test_a_write_with_nothing_waiting_is_sent_at_once(written_through: None) -> None:
    server, peer, reactor = connection()
    server.write(b"one")
    server.write(b"two")
    assert received(peer) == b"onetwo" and reactor.writers == []


def test_a_write_behind_buffered_bytes_waits_its_turn(written_through: None) -> None:
    server, peer, _reactor = connection()
    server._tempDataBuffer.append(b"first ")  # what an earlier write left for the next turn
    server._tempDataLen += len(b"first ")
    server.write(b"second")
    assert received(peer) == b""  # not ahead of what waits
    server.doWrite()
    assert received(peer) == b"first second"


def test_what_a_full_socket_does_not_take_is_buffered_in_order(written_through: None) -> None:
    server, peer, reactor = connection()
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = bytes(range(256)) * 4096  # 1 MiB: more than the socket's buffers hold
    server.write(data)
    assert reactor.writers == [server]  # the rest waits for the socket to be writable
    got = b""
    for _ in range(10_000):
        got += received(peer)
        if server.dataBuffer or server._tempDataBuffer:
            server.doWrite()
        if len(got) == len(data):
            break
    assert got == data


def test_a_lost_connection_is_left_to_twisted(written_through: None) -> None:
    server, peer, reactor = connection()
    peer.close()
    server.write(b"to nobody")  # the send fails: the buffered way meets it again and reports it
    assert reactor.writers == [server]
    assert server.doWrite() is not None  # Twisted's CONNECTION_LOST, handled by its reactor


def test_a_closing_connection_keeps_the_buffered_way(written_through: None) -> None:
    server, peer, reactor = connection()
    server.disconnecting = True
    server.write(b"late")
    assert received(peer) == b"" and reactor.writers == [server]


def test_it_comes_off_again(buffered: None) -> None:
    assert daphne_writes.install()
    daphne_writes.uninstall()
    assert "write" not in tcp.Server.__dict__
