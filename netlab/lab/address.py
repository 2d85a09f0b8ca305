"""Where the lab server may listen: loopback unless the user says ``public``.

It binds a loopback address (127.0.0.0/8, ::1, "localhost") unless it is given another
*IP address* and ``public=True``: anything else raises ``BindRefused`` before a socket
is made. A host name other than localhost is refused too: the server does not ask a
resolver what to bind.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for "localhost", 127.0.0.0/8 and ::1 (brackets and an IPv6 zone allowed)."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class BindRefused(ValueError):
    """The lab server will not bind this host: ``reason`` is "not-loopback" (an address
    other machines can reach, without ``public=True``) or "not-an-address" (a host name
    other than localhost: the server does not ask a resolver what to bind)."""

    def __init__(self, host: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.host = host
        self.reason = reason


def bind_address(host: str, public: bool = False) -> str:
    """The address the lab server binds for ``host``; raises BindRefused.

    "localhost" is 127.0.0.1 (as curl treats it, without asking a resolver). Any other
    host must be an IP address; one that is not loopback needs ``public=True``."""
    text = host.strip()
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if bare.rstrip(".").lower() == "localhost":
        return "127.0.0.1"
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        raise BindRefused(host, "not-an-address",
                          f"{host!r} is not an IP address (give an address such as 127.0.0.1, ::1, "
                          "0.0.0.0, or localhost)") from None
    if not public and not is_loopback(bare):
        raise BindRefused(host, "not-loopback",
                          f"{bare} is not a loopback address: other machines could reach the lab "
                          "server there")
    return bare
