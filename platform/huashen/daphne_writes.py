"""daphne's sockets send at once what they are given, as asyncio's own transports do.

Twisted buffers every write on a connection until the reactor's next turn: the socket is registered for
write readiness (an epoll change), the turn calls it back, it sends, and it is unregistered (another
change). Under daphne's asyncio reactor that is most of what one WebSocket frame costs: with 1,000
followers of 50 runs, profiling a daphne showed a third of its time in registering and unregistering
writers (`bench/fanout.py`). Twisted knows and keeps it (twisted/twisted#5303, "Default transport
implementation doesn't write out bytes immediately", open since 2011); asyncio's selector transport
tries the send first ("Optimization: try to send now").

`install` gives daphne's plain-TCP server connections that behaviour: a write to a connection with
nothing waiting in its buffer is sent right away, and only what the kernel does not take (a full socket
buffer, an error) goes the buffered way, so the order of bytes, a lost connection's handling, producers
and TLS are Twisted's own. Turned off with `DAPHNE_WRITE_THROUGH=0` (the benchmark's baseline).

This relies on `twisted.internet.abstract.FileDescriptor`'s buffer attributes (`dataBuffer`,
`_tempDataBuffer`, `_writeDisconnected`, `_writeDisconnecting`), the same from Twisted 20 to 26:
`install` leaves Twisted alone (returning False) when the class ones are missing, and a connection
without its list of waiting writes takes the buffered way.
"""

import logging
from typing import Any

logger = logging.getLogger(__name__)

# What Twisted keeps on the class; the list of writes waiting for the next turn (`_tempDataBuffer`) is set
# per connection, and a connection without it never writes through.
_CLASS_ATTRIBUTES = ("dataBuffer", "_writeDisconnected", "_writeDisconnecting", "TLS", "writeSomeData")


def install() -> bool:
    """Make daphne's TCP connections send at once when nothing waits before the data; True when in place."""
    from twisted.internet import tcp

    if getattr(tcp.Server, "_writes_through", False):
        return True
    if not all(hasattr(tcp.Server, name) for name in _CLASS_ATTRIBUTES):
        logger.warning("this Twisted's transports differ from the ones known here: writes stay buffered")
        return False
    buffered = tcp.Server.write

    def write(self: Any, data: bytes) -> None:
        if (
            data
            and not self.TLS
            and self.connected
            and not self.disconnecting
            and not self._writeDisconnected
            and not self._writeDisconnecting
            and not self.dataBuffer
            and getattr(self, "_tempDataBuffer", None) == []
        ):
            sent = self.writeSomeData(data)
            # An int is what the kernel took (0: its buffer is full); anything else is the connection
            # lost, which the buffered path meets again on its next send and handles as Twisted does.
            if isinstance(sent, int) and sent > 0:
                if sent >= len(data):
                    return
                data = data[sent:]
        buffered(self, data)

    tcp.Server.write = write  # type: ignore[method-assign]
    tcp.Server._writes_through = True  # type: ignore[attr-defined]
    return True


def uninstall() -> None:
    """Back to Twisted's own buffered writes (tests)."""
    from twisted.internet import tcp

    if getattr(tcp.Server, "_writes_through", False):
        del tcp.Server.write
        del tcp.Server._writes_through  # type: ignore[attr-defined]
