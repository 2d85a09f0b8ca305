"""One error type for every failure, and the translation from what the OS, ssl, h11
and dnspython raise into it.  Translation happens at the edges, once."""

from __future__ import annotations

import errno
import socket
import ssl

__all__ = ["NetlabError", "PHASES", "HEADLINES", "headline", "from_oserror"]

PHASES = ("usage", "dns", "connect", "tls", "send", "receive", "parse", "timeout", "limit", "cancelled")

# The words that open a failure's line in the CLI, so that with the message after them
# it reads as a sentence: "timed out: no data for 0.5 s while ...", never "timeout failed".
HEADLINES = {
    "usage": "invalid input",
    "dns": "DNS lookup failed",
    "connect": "connect failed",
    "tls": "TLS failed",
    "send": "send failed",
    "receive": "receive failed",
    "parse": "parse failed",
    "timeout": "timed out",
    "limit": "limit reached",
    "cancelled": "stopped",
}


def headline(phase: str) -> str:
    """The few words that head a failure of ``phase`` (``HEADLINES``)."""
    return HEADLINES.get(phase, f"{phase} failed")


_HINTS = {
    "dns": "check the host name, /etc/hosts, or pin an address with --resolve HOST:PORT:ADDR",
    "connect": "check that a server listens on that address and port (try `netlab serve`)",
    "tls": "check the scheme (http vs https), pass --cacert FILE, or --insecure to skip verification",
    "send": "the server closed the connection while the request was being sent",
    "receive": "the server closed or reset the connection; the bytes received so far are kept",
    "parse": "the reply is not valid HTTP/1.x; the bytes received are kept: -v, --json or the Raw tab show them",
    "timeout": "raise --timeout, or check that the server answers at all",
    "limit": "raise --max-body if the reply is expected to be this large; what arrived is kept",
    "usage": "see `netlab --help`",
    "cancelled": "",
}


# What to do about a certificate OpenSSL would not verify, by X509_V_ERR_* code.
_SELF_SIGNED = ("the certificate is self-signed, so no CA vouches for it: trust it with --cacert FILE "
                "(that certificate), or skip verification with --insecure (-k)")
_VERIFY_HINTS = {
    18: _SELF_SIGNED,  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: _SELF_SIGNED,  # SELF_SIGNED_CERT_IN_CHAIN
    2: "no trusted CA issued this certificate: pass the issuing CA with --cacert FILE, or --insecure (-k)",
    20: "no trusted CA issued this certificate: pass the issuing CA with --cacert FILE, or --insecure (-k)",
    21: "no trusted CA issued this certificate: pass the issuing CA with --cacert FILE, or --insecure (-k)",
    10: "the certificate's validity period is over: the server must renew it (--insecure (-k) looks anyway)",
    9: "the certificate is not valid yet: check this machine's clock and the server's (--insecure (-k) looks anyway)",
    62: "the certificate does not name this host: use a name it was issued for (--resolve NAME:PORT:ADDR keeps "
        "the address), or --insecure (-k)",
    64: "the certificate does not name this IP address: use a host name it was issued for, or --insecure (-k)",
}
# What was going on when a step timed out, for "no progress within the timeout while ...".
_DOING = {"dns": "resolving the name", "connect": "connecting", "tls": "in the TLS handshake",
          "send": "sending the request", "receive": "receiving the response"}
# OpenSSL's words for a handshake answered with bytes that are not TLS (a plain-HTTP port).
_NOT_TLS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL"}


class NetlabError(Exception):
    """A failure of one phase of an exchange, worded for a person."""

    def __init__(self, phase: str, message: str, hint: str | None = None) -> None:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        super().__init__(f"{phase}: {message}")
        self.phase = phase
        self.message = message
        self.hint = _HINTS.get(phase, "") if hint is None else hint

    @property
    def headline(self) -> str:
        """``timed out``, ``DNS lookup failed``: see HEADLINES."""
        return headline(self.phase)

    def sentence(self) -> str:
        """The failure as one sentence for a person: headline, then the message."""
        return f"{self.headline}: {self.message}"

    def to_dict(self) -> dict:
        return {"phase": self.phase, "message": self.message, "hint": self.hint}

    def __reduce__(self):  # keep it picklable
        return (NetlabError, (self.phase, self.message, self.hint))


def from_oserror(phase: str, exc: BaseException, where: str = "") -> NetlabError:
    """Translate an OSError / ssl error / timeout raised during ``phase``."""
    at = f" {where}" if where else ""
    if isinstance(exc, NetlabError):
        return exc
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return NetlabError("timeout", f"no progress within the timeout while {_DOING.get(phase, phase)}{at}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NetlabError("tls", f"certificate verification failed{at}: {exc.verify_message or exc.reason}",
                           _VERIFY_HINTS.get(exc.verify_code))
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        if reason in _NOT_TLS:
            return NetlabError("tls", f"the handshake{at} got a reply that is not TLS: {reason} "
                                      "(is this port speaking plain HTTP, not TLS?)",
                               "the server answered the TLS handshake with something that is not TLS: "
                               "use http:// for this port")
        return NetlabError("tls", f"the handshake{at} failed: {reason}")
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
