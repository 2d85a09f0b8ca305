"""netlab's socket engine: no UI imports here (a test checks it).

    from netlab.engine import Engine, Request
    ex = Engine().send(Request.from_url("http://127.0.0.1:8080/ip"))
    ex.response.status, ex.connection.local, ex.timings
"""

from netlab.engine.errors import PHASES, NetlabError
from netlab.engine.http1 import Response
from netlab.engine.request import Request
from netlab.engine.resolve import Pin, parse_pin
from netlab.engine.session import CancelToken, ConnectionInfo, Engine, Exchange, Options, Timings
from netlab.engine.transport import TLSInfo

__all__ = [
    "Engine",
    "Request",
    "Options",
    "Exchange",
    "Response",
    "Timings",
    "ConnectionInfo",
    "TLSInfo",
    "CancelToken",
    "NetlabError",
    "PHASES",
    "Pin",
    "parse_pin",
]
