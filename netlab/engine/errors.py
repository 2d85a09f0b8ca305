"""One error type for every failure, and the translation from what the OS, ssl, h11
and dnspython raise into it.  Translation happens at the edges, once."""

from __future__ import annotations

import errno
import socket
import ssl

__all__ = ["NetlabError", "PHASES", "from_oserror"]

PHASES = ("usage", "dns", "connect", "tls", "send", "receive", "parse", "timeout", "limit", "cancelled")

_HINTS = {
    "dns": "check the host name, /etc/hosts, or pin an address with --resolve HOST:PORT:ADDR",
    "connect": "check that a server listens on that address and port (try `netlab serve`)",
    "tls": "check the scheme (http vs https), pass --cacert FILE, or --insecure to skip verification",
    "send": "the server closed the connection while the request was being sent",
    "receive": "the server closed or reset the connection; the bytes received so far are kept",
    "parse": "the reply is not valid HTTP/1.x; look at the raw bytes received (-v)",
    "timeout": "raise --timeout, or check that the server answers at all",
    "limit": "raise --max-body / the header limit if the reply is expected to be this large",
    "usage": "see `netlab --help`",
    "cancelled": "",
}


class NetlabError(Exception):
    """A failure of one phase of an exchange, worded for a person."""

    def __init__(self, phase: str, message: str, hint: str | None = None) -> None:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        super().__init__(f"{phase}: {message}")
        self.phase = phase
        self.message = message
        self.hint = _HINTS.get(phase, "") if hint is None else hint

    def to_dict(self) -> dict:
        return {"phase": self.phase, "message": self.message}

    def __reduce__(self):  # keep it picklable
        return (NetlabError, (self.phase, self.message, self.hint))


def from_oserror(phase: str, exc: BaseException, where: str = "") -> NetlabError:
    """Translate an OSError / ssl error / timeout raised during ``phase``."""
    at = f" {where}" if where else ""
    if isinstance(exc, NetlabError):
        return exc
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return NetlabError("timeout", f"no progress within the timeout while in phase '{phase}'{at}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NetlabError("tls", f"certificate verification failed{at}: {exc.verify_message or exc.reason}")
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        if reason == "WRONG_VERSION_NUMBER":
            reason += " (is this port speaking plain HTTP, not TLS?)"
        return NetlabError("tls", f"TLS failed{at}: {reason}")
    if isinstance(exc, ConnectionRefusedError):
        return NetlabError(phase, f"connection refused{at}")
    if isinstance(exc, ConnectionResetError):
        return NetlabError(phase, f"connection reset by peer{at}")
    if isinstance(exc, BrokenPipeError):
        return NetlabError(phase, f"connection closed by peer (broken pipe){at}")
    if isinstance(exc, FileNotFoundError):
        return NetlabError(phase, f"no such socket file{at}")
    if isinstance(exc, OSError):
        name = errno.errorcode.get(exc.errno or 0, "")
        text = exc.strerror or str(exc)
        return NetlabError(phase, f"{text}{f' ({name})' if name else ''}{at}")
    return NetlabError(phase, f"{type(exc).__name__}: {exc}{at}")
