"""The one text form of an address pin (netlab.engine.resolve.Pin): ``HOST:PORT:ADDR[,ADDR]``,
as curl's ``--resolve``, a .http file's ``# @resolve`` and the history store write it, and as
``parse_pin`` reads it back."""

from __future__ import annotations

from netlab.engine.request import host_port
from netlab.engine.resolve import Pin

__all__ = ["pin_text"]


def pin_text(pin: Pin) -> str:
    """A Pin as the ``--resolve`` text ``parse_pin`` reads back: ``host:port:addr,addr``
    (``*`` for any port, brackets around an IPv6 address)."""
    port = "*" if pin.port is None else str(pin.port)
    return f"{pin.host}:{port}:{','.join(host_port(a) for a in pin.addresses)}"
