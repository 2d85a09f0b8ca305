"""Sockets in another network namespace (Linux): a socket keeps the namespace it was made
in, so a short-lived thread enters the namespace (setns), makes the socket and ends; the
caller's own namespace is never touched.  The lab network's per-hop capture uses it."""

from __future__ import annotations

import ctypes
import os
import socket

CLONE_NEWNET = 0x40000000


def netns_socket(namespace: str | None, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket that lives in ``namespace`` (None: this one): made by a thread that enters
    the namespace, creates it and comes back (a socket keeps the namespace it was made in)."""
    if namespace is None:
        return socket.socket(family, kind, proto)
    import threading

    out: list = []

    def make() -> None:
        try:
            own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
            try:
                target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
            except FileNotFoundError:
                raise OSError(2, f"no network namespace {namespace!r} (ip netns list)") from None
            libc = ctypes.CDLL(None, use_errno=True)
            try:
                if libc.setns(target, CLONE_NEWNET) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, f"setns {namespace}: {os.strerror(errno)}")
                try:
                    out.append(socket.socket(family, kind, proto))
                finally:
                    libc.setns(own, CLONE_NEWNET)
            finally:
                os.close(own)
                os.close(target)
        except OSError as exc:
            out.append(exc)

    thread = threading.Thread(target=make)  # a fresh thread: the caller's own namespace is untouched
    thread.start()
    thread.join()
    result = out[0]
    if isinstance(result, BaseException):
        raise result
    return result
