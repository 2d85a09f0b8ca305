"""Fixed packets of the fixed exchange (tests/ui/fakes.py: 127.0.0.1:54321 → 127.0.0.1:8080,
its request and response bytes), as the capture engine's packet dicts; and the
``extra["below"]`` the send worker attaches, so the Packets tab and the Connection
tab's route draw the same picture every time (snapshot tests)."""

from __future__ import annotations

from tests.ui import fakes

CLIENT, SERVER = ("127.0.0.1", 54321), ("127.0.0.1", 8080)
ISN_C, ISN_S = 1_000_000, 3_000_000_000
SYN_OPTS = {"mss": 65495, "sack_ok": True, "timestamps": [100, 0], "wscale": 7}
TS = {"timestamps": [101, 201]}


def packet(t_ms: float, out: bool, flags: str, seq: int, ack: int, payload: bytes = b"", options=None,
           ttl: int = 64, ident: int = 0) -> dict:
    src, dst = (CLIENT, SERVER) if out else (SERVER, CLIENT)
    return {"t_ms": t_ms, "dir": "out" if out else "in",
            "eth": {"src": "00:00:00:00:00:00", "dst": "00:00:00:00:00:00", "type": "0x0800"},
            "ip": {"version": 4, "src": src[0], "dst": dst[0], "ttl": ttl, "id": ident,
                   "length": 52 + len(payload)},
            "tcp": {"sport": src[1], "dport": dst[1], "seq": seq % (1 << 32), "ack": ack % (1 << 32),
                    "flags": flags, "window": 512, "options": options if options is not None else dict(TS)},
            "payload_bytes": len(payload), "payload": payload.decode("latin-1")}


def packets(request: bytes = fakes.REQUEST, response: bytes = fakes.JSON_RESPONSE) -> list[dict]:
    c, s = ISN_C, ISN_S
    q, r = len(request), len(response)
    return [
        packet(0.0, True, "S", c, 0, options=dict(SYN_OPTS), ident=100),
        packet(0.042, False, "SA", s, c + 1, options=dict(SYN_OPTS)),
        packet(0.061, True, "A", c + 1, s + 1, ident=101),
        packet(0.2, True, "PA", c + 1, s + 1, request, ident=102),
        packet(0.215, False, "A", s + 1, c + 1 + q),
        packet(1.3, False, "PA", s + 1, c + 1 + q, response),
        packet(1.32, True, "A", c + 1 + q, s + 1 + r, ident=103),
        packet(1.5, False, "FA", s + 1 + r, c + 1 + q),
        packet(1.61, True, "FA", c + 1 + q, s + 2 + r, ident=104),
        packet(1.7, False, "A", s + 2 + r, c + 2 + q),
    ]


def dns_pair() -> list[dict]:
    """A DNS query for web.lab.test (A) and its answer of two records, over UDP to 127.0.0.1:5353."""
    question = b"\x03web\x03lab\x04test\x00\x00\x01\x00\x01"
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + question
    answer = b"\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00" + question + b"\xc0\x0c" * 2
    out = []
    for t, is_out, data in ((0.0, True, query), (0.3, False, answer)):
        src, dst = (("127.0.0.1", 40000), ("127.0.0.1", 5353)) if is_out else (("127.0.0.1", 5353), ("127.0.0.1", 40000))
        out.append({"t_ms": t, "dir": "out" if is_out else "in", "eth": None,
                    "ip": {"version": 4, "src": src[0], "dst": dst[0], "ttl": 64, "id": 7, "length": 28 + len(data)},
                    "udp": {"sport": src[1], "dport": dst[1]}, "payload_bytes": len(data),
                    "payload": data.decode("latin-1")})
    return out


ROUTE = {"interface": "lo", "source": "127.0.0.1", "gateway": None, "next_hop_mac": None, "neighbour_state": None,
         "mtu": 65536}


def below(captured: bool = True, error: dict | None = None, pkts: list[dict] | None = None) -> dict:
    out: dict = {"route": dict(ROUTE)}
    if captured or error:
        pkts = packets() if pkts is None and not error else (pkts or [])
        out["capture"] = {"interface": "lo", "packets": len(pkts), "sampled": 0, "error": error}
        out["packets"] = pkts
        out["frames"] = []
    return out


def prepared(captured: bool = True, error: dict | None = None, pkts: list[dict] | None = None):
    p = fakes.prepared()
    p.extra["below"] = below(captured, error, pkts)
    return p
