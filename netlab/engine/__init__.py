"""netlab's socket engine: no UI imports here (a test checks it).

    from netlab.engine import Engine, Request
    ex = Engine().send(Request.from_url("http://127.0.0.1:8080/ip"))
    ex.response.status, ex.connection.local, ex.timings

The names below are imported on first use (PEP 562), so a light module such as
``netlab.engine.rawtext`` can be used before the first frame without pulling in the
session, h11 and ssl.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "Engine": "session", "Options": "session", "Exchange": "session", "Timings": "session",
    "ConnectionInfo": "session", "CancelToken": "session",
    "Request": "request", "Response": "http1", "TLSInfo": "transport",
    "NetlabError": "errors", "PHASES": "errors", "Pin": "resolve", "parse_pin": "resolve",
}

__all__ = ["Engine", "Request", "Options", "Exchange", "Response", "Timings", "ConnectionInfo", "TLSInfo",
           "CancelToken", "NetlabError", "PHASES", "Pin", "parse_pin"]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'netlab.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"netlab.engine.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
