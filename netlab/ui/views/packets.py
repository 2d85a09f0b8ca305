"""The Packets tab's text: the exchange's packets as a ladder (client on the left, server
on the right, time going down, as Wireshark's flow graph draws them), each with its
flags, sequence and acknowledgement numbers relative to each side's first (Wireshark's
"relative sequence numbers"), its length and what it carries; and one packet opened layer
by layer, each layer a box inside the one before (Ethernet ⊃ IP ⊃ TCP/UDP ⊃ payload).

Pure: packet dicts in (the ``--json``'s ``packets``: see engine/capture/dissect.py), Rich
``Text`` out.  Everything that came from the network (DNS names, payload bytes) is
escaped (``views.text.safe``; the hex dump shows printable ASCII only) and never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from rich.text import Text

from netlab.ui.views.lines import Lines
from netlab.ui.views.text import NOTE, fmt_addr, safe

ETHER_TYPES = {"0x0800": "IPv4", "0x86dd": "IPv6", "0x0806": "ARP", "0x8100": "802.1Q VLAN"}
FLAG_WORDS = {"S": "SYN", "F": "FIN", "R": "RST", "P": "PSH", "U": "URG", "A": "ACK", "E": "ECE", "C": "CWR"}
DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
             65: "HTTPS", 255: "ANY"}
DNS_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TLS_RECORDS = {0x14: "TLS change cipher spec", 0x15: "TLS alert", 0x16: "TLS handshake",
               0x17: "TLS application data"}
BOX_STYLES = ("blue", "green", "yellow", "magenta")
OUT_STYLE, IN_STYLE = "bold green", "bold magenta"


def flag_words(flags: str) -> str:
    """``PA`` → ``PSH, ACK``."""
    return ", ".join(FLAG_WORDS.get(f, f) for f in flags if f != ".") or "none"


# -- what each packet is -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Ladder:
    """The packets read as a conversation: per packet its relative seq/ack, what it
    carries and whether it belongs to the HTTP connection (else: DNS)."""

    packets: tuple
    rel: tuple  # per packet: (seq, ack | None) relative, or None (UDP)
    labels: tuple  # per packet: what it carries
    client: str  # "127.0.0.1:54321"
    server: str
    rtt_ms: float | None  # SYN → SYN-ACK
    wscale: dict  # direction → window scale from its SYN
    hops: tuple = ()  # the lab network's per-link captures: {"namespace", "interface", "packets"}

    @property
    def count(self) -> int:
        return len(self.packets)


def _conn_key(p: dict) -> tuple:
    """The connection a packet belongs to, the same for both directions: (client end, server end)."""
    ip, l4 = p["ip"], p.get("tcp") or p.get("udp") or {}
    a, b = (ip["src"], l4.get("sport")), (ip["dst"], l4.get("dport"))
    return (a, b) if p["dir"] == "out" else (b, a)


def _http_key(packets: list[dict], exchange) -> tuple | None:
    """The HTTP connection's key: the exchange's own (local, remote); else the TCP
    connection that carries the most bytes."""
    conn = getattr(exchange, "connection", None)
    keys = {_conn_key(p) for p in packets if "tcp" in p}
    if conn is not None and conn.local and conn.remote:
        for key in keys:
            if key[0][1] == conn.local[1] and key[1][1] == conn.remote[1]:
                return key
    if not keys:
        return None
    size: dict = {}
    for p in packets:
        if "tcp" in p:
            size[_conn_key(p)] = size.get(_conn_key(p), 0) + p.get("payload_bytes", 0)
    return max(size, key=lambda k: size[k])


def _heads(exchange) -> tuple[int, int]:
    """Bytes of the request's head and of the response's heads (1xx heads included)."""
    req = getattr(getattr(exchange, "request", None), "data", b"") or b""
    end = req.find(b"\r\n\r\n")
    request_head = end + 4 if end >= 0 else len(req)
    r = getattr(exchange, "response", None)
    response_head = 0
    if r is not None and getattr(r, "raw_head", None):
        response_head = len(r.raw_head) + sum(len(i.raw) for i in getattr(r, "informational", ()) or ())
    return request_head, response_head


def read_ladder(packets: list[dict], exchange=None, hops=None) -> Ladder:
    """Number the packets as Wireshark does and say what each one carries."""
    http = _http_key(packets, exchange)
    tls = getattr(exchange, "tls", None) is not None
    heads = dict(zip(("out", "in"), _heads(exchange), strict=True)) if exchange is not None else {}
    base, wscale = _bases(packets)
    reader = _Reader(http, heads, tls, base)
    for p in packets:
        reader.read(p)
    syn_t, synack_t = reader.syn_t, reader.synack_t
    rel, labels = reader.rel, reader.labels
    rtt = synack_t - syn_t if syn_t is not None and synack_t is not None else None
    client = server = "?"
    if http is not None:
        client, server = fmt_addr(http[0]), fmt_addr(http[1])
    elif packets:
        client, server = fmt_addr(_conn_key(packets[0])[0]), fmt_addr(_conn_key(packets[0])[1])
    return Ladder(tuple(packets), tuple(rel), tuple(labels), client, server, rtt, wscale, tuple(hops or ()))


def hop_rows(ladder: Ladder, i: int) -> list[str]:
    """Packet ``i`` as each link of the lab network saw it: the same segment (direction,
    sequence number, flags, length) with each router's new Ethernet header and TTL."""
    p = ladder.packets[i]
    if "tcp" not in p:
        return []
    rows = []
    for hop in ladder.hops:
        where = f"{hop.get('namespace') or 'host'} {hop.get('interface')}"
        same = next((q for q in hop.get("packets", ()) if q.get("dir") == p["dir"] and "tcp" in q
                     and q["tcp"]["seq"] == p["tcp"]["seq"] and q["tcp"]["flags"] == p["tcp"]["flags"]
                     and q.get("payload_bytes") == p.get("payload_bytes")), None)
        if same is None:
            rows.append(f"{where}: not seen")
        else:
            eth = same.get("eth") or {}
            rows.append(f"{where}: TTL {same['ip']['ttl']} · {eth.get('src')} → {eth.get('dst')}")
    return rows


def _bases(packets: list[dict]) -> tuple[dict, dict]:
    """Per (connection, direction): the sequence number before its first byte (the ISN,
    or one before the first byte seen when the SYN was not captured); per direction, the
    window scale its SYN announced."""
    base: dict = {}
    wscale: dict = {}
    for p in packets:
        if "tcp" not in p:
            continue
        key = (_conn_key(p), p["dir"])
        syn = "S" in p["tcp"]["flags"]
        if key not in base:
            base[key] = p["tcp"]["seq"] if syn else (p["tcp"]["seq"] - 1) % (1 << 32)
        if syn and "wscale" in (p["tcp"].get("options") or {}):
            wscale[p["dir"]] = p["tcp"]["options"]["wscale"]
    return base, wscale


class _Reader:
    """Reads the packets in order: relative numbers, the handshake, data offsets, FINs."""

    def __init__(self, http, heads: dict, tls: bool, base: dict) -> None:
        self.http, self.heads, self.tls, self.base = http, heads, tls, base
        self.rel: list = []
        self.labels: list[str] = []
        self.sent: dict = {}  # (conn, dir) → the highest stream offset sent so far
        self.fins: set = set()
        self.handshake = 0
        self.syn_t: float | None = None
        self.synack_t: float | None = None

    def read(self, p: dict) -> None:
        if "tcp" not in p:
            self.rel.append(None)
            self.labels.append(_dns_label(p, p.get("payload", ""), tcp=False))
            return
        tcp, key = p["tcp"], _conn_key(p)
        own, other = self.base.get((key, p["dir"])), self.base.get((key, "in" if p["dir"] == "out" else "out"))
        seq = (tcp["seq"] - own) % (1 << 32)
        ack = (tcp["ack"] - other) % (1 << 32) if "A" in tcp["flags"] and other is not None else None
        self.rel.append((seq, ack))
        flags, size = tcp["flags"], p.get("payload_bytes", 0)
        if key != self.http:
            self.labels.append(_dns_label(p, p.get("payload", "")[2:], tcp=True) if size else _bare(flags))
        elif "R" in flags:
            self.labels.append("reset (RST): the connection is aborted")
        elif flags == "S":
            self.syn_t = p["t_ms"] if self.syn_t is None else self.syn_t
            self.handshake = 1
            self.labels.append("handshake 1/3: SYN")
        elif "S" in flags:
            self.synack_t = p["t_ms"] if self.synack_t is None else self.synack_t
            self.handshake = 2
            self.labels.append("handshake 2/3: SYN-ACK")
        else:
            self.labels.append(" + ".join(self._parts(p, key, seq, flags, size)))

    def _parts(self, p: dict, key, seq: int, flags: str, size: int) -> list[str]:
        parts = []
        if size:
            start = max(0, seq - 1)
            end_sent = self.sent.get((key, p["dir"]), 0)
            side = "request" if p["dir"] == "out" else "response"
            if start + size <= end_sent:
                parts.append(f"retransmission of {size} B")
            else:
                parts.append(_data_label(side, start, size, self.heads.get(p["dir"]), self.tls, p.get("payload", "")))
            self.sent[(key, p["dir"])] = max(end_sent, start + size)
        if "F" in flags:
            self.fins.add(p["dir"])
            parts.append(("client" if p["dir"] == "out" else "server") + " closes (FIN)")
        if not parts:
            if self.handshake == 2 and p["dir"] == "out":
                self.handshake = 3
                parts.append("handshake 3/3: ACK")
            elif self.fins - {p["dir"]}:
                parts.append("teardown: ACK of the FIN")
            else:
                parts.append("ACK")
        return parts


def _bare(flags: str) -> str:
    return "DNS over TCP: " + flag_words(flags)


def _data_label(side: str, start: int, size: int, head: int | None, tls: bool, payload: str) -> str:
    if tls:
        kind = TLS_RECORDS.get(ord(payload[0])) if len(payload) >= 3 and payload[1] == "\x03" else None
        return f"{kind or 'TLS data'} {size} B" + (" (encrypted)" if kind == "TLS application data" else "")
    if head is None:  # (no exchange to tell the head from the body)
        return f"{side} data {size} B"
    end = start + size
    if end <= head:
        return f"{side} head {size} B" if start == 0 and end == head else f"{side} head, {size} B of it"
    if start >= head:
        return f"{side} body {size} B"
    return f"{side} head {head - start} B + {end - head} B body"


# -- DNS (a question and its answer count, read from the message's header) ----------------------

def _dns_label(p: dict, payload: str, tcp: bool) -> str:
    facts = dns_facts(payload.encode("latin-1"))
    l4 = p.get("tcp") or p.get("udp") or {}
    over = " over TCP" if tcp else ""
    if facts is None:
        return f"DNS{over}? {p.get('payload_bytes', 0)} B (port {l4.get('sport')} → {l4.get('dport')})"
    if not facts["answer"]:
        return f"DNS query{over} {facts['type']} {facts['name']}"
    n = facts["answers"]
    rcode = facts["rcode"]
    what = f"{n} record{'s' if n != 1 else ''}" if rcode == "NOERROR" else rcode
    return f"DNS answer{over} {facts['type']} {facts['name']}: {what}"


def dns_facts(data: bytes) -> dict | None:
    """id, query or answer, rcode, answer count and the first question of a DNS message
    (None when it is not one); the name escaped."""
    if len(data) < 12:
        return None
    ident, flags, qd, an = (int.from_bytes(data[i:i + 2], "big") for i in (0, 2, 4, 6))
    labels, i = [], 12
    while i < len(data) and qd:
        n = data[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0 or i + 1 + n > len(data):
            return None
        labels.append(data[i + 1:i + 1 + n])
        i += 1 + n
    qtype = int.from_bytes(data[i:i + 2], "big") if i + 2 <= len(data) else 0
    name = safe(b".".join(labels)) or "."
    return {"id": ident, "answer": bool(flags & 0x8000), "rcode": DNS_RCODES.get(flags & 0xF, str(flags & 0xF)),
            "answers": an, "name": name, "type": DNS_TYPES.get(qtype, f"TYPE{qtype}")}


# -- the summary over the ladder ------------------------------------------------------------------

def how_to_capture() -> list[Text]:
    """What to do when the exchange was not captured."""
    return [Text("Packets were not captured for this exchange.", "bold"),
            Text("Tick “Capture packets” in the composer's Options tab (F8) and send again, or start "
                 "netlab --packets (netlab send --packets on the command line).", NOTE),
            Text("Capture opens an AF_PACKET socket: it needs root or CAP_NET_RAW "
                 "(sudo setcap cap_net_raw+ep /path/to/the/real/python).", NOTE)]


def summary(below: dict | None, ladder: Ladder | None) -> list[Text]:
    """One or two lines over the ladder: interface, count, sampled, RTT; or why there are no packets."""
    if below is None or "capture" not in below:
        return how_to_capture()
    cap = below["capture"] or {}
    error = cap.get("error")
    if error:
        out = [Text.assemble(("capture failed: ", "bold red"), safe(error.get("message")))]
        if error.get("hint"):
            out.append(Text(safe(error["hint"]), NOTE))
        out.append(Text("The exchange itself ran as always; its other tabs are complete.", NOTE))
        return out
    if ladder is None or not ladder.count:
        return [Text.assemble(("no packets captured", "bold yellow"), f" on {safe(cap.get('interface') or '?')}",
                              ("  (the exchange's frames did not pass the capture: another interface?)", NOTE))]
    t = Text(no_wrap=False)
    t.append("captured on ", NOTE)
    t.append(safe(cap.get("interface") or "?"), "bold")
    n = ladder.count
    t.append(f" · {n} packet{'s' if n != 1 else ''}", "bold")
    if ladder.rtt_ms is not None:
        t.append(" · RTT ")
        t.append(f"{ladder.rtt_ms:.3f} ms", "bold green")
        t.append(" (SYN → SYN-ACK)", NOTE)
    if cap.get("sampled"):
        t.append(f" · {cap['sampled']} headers only (past the 16 MiB payload budget)", "yellow")
    if not any("tcp" in p and "F" in p["tcp"]["flags"] for p in ladder.packets):
        t.append(" · no FIN yet: the connection stays open for reuse", NOTE)
    return [t, Text("↑↓ j k: a packet · enter: its layers (and back) · w: save as pcap", NOTE)]


# -- the ladder ---------------------------------------------------------------------------------

def _time_w(ladder: Ladder) -> int:
    """The time column: the widest time and two spaces."""
    last = max((p["t_ms"] for p in ladder.packets), default=0.0)
    return max(6, len(f"{last:.3f}")) + 2


def _arrow_w(ladder: Ladder, width: int) -> int:
    """The arrow's width for a view ``width`` cells wide: room for the labels first."""
    label = max((len(x) for x in ladder.labels), default=0)
    if ladder.rtt_ms is not None:
        label = max(label, len(f"handshake 2/3: SYN-ACK · RTT {ladder.rtt_ms:.3f} ms"))
    least = max((len(_inner(ladder, i, True)) + 6 for i in range(ladder.count)), default=18)
    want = width - _time_w(ladder) - 2 - min(label, 40)
    return max(min(least, 24), min(50, want))


def _inner(ladder: Ladder, i: int, compact: bool) -> str:
    """What the arrow says: flags, relative seq (and its range), ack, length."""
    p = ladder.packets[i]
    if "tcp" not in p:
        return f"UDP len {p.get('payload_bytes', 0)}"
    seq, ack = ladder.rel[i]
    size = p.get("payload_bytes", 0)
    flags = p["tcp"]["flags"]
    if compact:  # tcpdump's form: seq first:last+1, ack
        text = f"{flags} {seq}:{seq + size}" if size else f"{flags} {seq}"
        return text + (f" ack {ack}" if ack is not None else "")
    return f"{flags} seq {seq}" + (f" ack {ack}" if ack is not None else "") + (f" len {size}" if size else "")


def ladder_header(ladder: Ladder, width: int) -> Text:
    arrow = _arrow_w(ladder, width)
    tw = _time_w(ladder)
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"{'t ms':>{tw - 2}}  ", "dim")
    left = f"client {ladder.client}"
    right = f"server {ladder.server}"
    if len(left) + len(right) + 1 > arrow:
        left, right = ladder.client, ladder.server
    pad = max(1, arrow - len(left) - len(right))
    t.append(left, OUT_STYLE)
    t.append(" " * pad)
    t.append(right, IN_STYLE)
    t.append("  what it carries", "dim")
    t.truncate(width, overflow="ellipsis")
    return t


def _compact(ladder: Ladder, width: int) -> bool:
    """True when some arrow cannot say "seq … ack … len …" in full: then every arrow uses tcpdump's form."""
    room = _arrow_w(ladder, width) - 4
    return any(len(_inner(ladder, i, False)) + 2 > room for i in range(ladder.count))


def ladder_line(ladder: Ladder, i: int, width: int, compact: bool | None = None) -> Text:
    p = ladder.packets[i]
    arrow = _arrow_w(ladder, width)
    tw = _time_w(ladder)
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"{p['t_ms']:>{tw - 2}.3f}  ", "dim")
    out = p["dir"] == "out"
    room = arrow - 2
    if compact is None:
        compact = _compact(ladder, width)
    inner = f" {_inner(ladder, i, compact)} "
    if len(inner) > room - 2:
        inner = inner[:max(0, room - 3)] + "…"
    dashes = room - len(inner)
    lead = min(2, dashes)
    body = "─" * lead + inner + "─" * (dashes - lead)
    t.append("├" + body + "▶" if out else "◀" + body + "┤", OUT_STYLE if out else IN_STYLE)
    label = ladder.labels[i]
    if tw + arrow + 2 + len(label) > width:  # narrow: the arrow's direction says request or response
        label = label.replace("request ", "").replace("response ", "")
    style = "cyan" if label.startswith("handshake") else "yellow" if "FIN" in label or "RST" in label else \
        "dim" if label in ("ACK",) else ""
    t.append("  ")
    t.append(label, style)
    if "tcp" in p and "S" in p["tcp"]["flags"] and "A" in p["tcp"]["flags"] and ladder.rtt_ms is not None:
        t.append(f" · RTT {ladder.rtt_ms:.3f} ms", "green")
    t.truncate(width, overflow="ellipsis")
    return t


def ladder_lines(ladder: Ladder, width: int) -> Lines:
    """One line a packet (line i is packet i), laid out for ``width``; refits on resize."""
    cache: dict[int, Text] = {}
    compact = _compact(ladder, width)

    def line(i: int) -> Text:
        if i not in cache:
            cache[i] = ladder_line(ladder, i, width, compact)
        return cache[i]

    return Lines(ladder.count, line, width, fit=partial(ladder_lines, ladder))


# -- one packet's layers, each a box inside the one before ----------------------------------------

def _pack(facts: list[str], width: int) -> list[str]:
    """Facts joined by `` · `` into lines at most ``width`` long; a fact longer than a line is cut."""
    out: list[str] = []
    line = ""
    for fact in facts:
        if len(fact) > width:
            fact = fact[:max(0, width - 1)] + "…"
        if line and len(line) + 3 + len(fact) <= width:
            line += " · " + fact
        else:
            if line:
                out.append(line)
            line = fact
    if line:
        out.append(line)
    return out


def _option(name: str, value) -> str:
    names = {"mss": "MSS", "wscale": "window scale", "sack_ok": "SACK permitted", "sack": "SACK",
             "timestamps": "timestamps"}
    label = names.get(name, name)
    if value is True:
        return label
    if name == "timestamps" and isinstance(value, list):
        return f"timestamps val {value[0]} ecr {value[1]}"
    if name == "wscale":
        return f"window scale {value} (×{1 << int(value)})"
    return f"{label} {safe(value)}"


def layer_boxes(ladder: Ladder, i: int) -> list[tuple[str, list[str]]]:
    """(title, facts) of each layer of packet ``i``, outermost first; the payload last (its rows are hex)."""
    p = ladder.packets[i]
    boxes: list[tuple[str, list[str]]] = []
    eth = p.get("eth")
    if eth is not None:
        kind = ETHER_TYPES.get(eth["type"], "")
        facts = [f"src {eth['src']}", f"dst {eth['dst']}", f"type {eth['type']}" + (f" ({kind})" if kind else "")]
        if eth["src"] == eth["dst"] == "00:00:00:00:00:00":
            facts.append("loopback: no real MAC addresses")
        boxes.append(("Ethernet II", facts))
    ip = p["ip"]
    facts = [f"src {ip['src']}", f"dst {ip['dst']}", f"{'TTL' if ip['version'] == 4 else 'hop limit'} {ip['ttl']}"]
    if ip.get("id") is not None:
        facts.append(f"ID {ip['id']} (0x{ip['id']:04x})")
    facts.append(f"length {ip['length']} B")
    boxes.append((f"IPv{ip['version']}", facts))
    if "tcp" in p:
        tcp = p["tcp"]
        seq, ack = ladder.rel[i]
        facts = [f"port {tcp['sport']} → {tcp['dport']}", f"seq {seq} (raw {tcp['seq']})"]
        facts.append(f"ack {ack} (raw {tcp['ack']})" if ack is not None else "no ACK")
        facts.append(f"flags {tcp['flags']} ({flag_words(tcp['flags'])})")
        scale = ladder.wscale.get(p["dir"])
        win = f"window {tcp['window']}"
        if scale and "S" not in tcp["flags"]:
            win += f" (×{1 << scale} = {tcp['window'] << scale} B)"
        facts.append(win)
        opts = tcp.get("options") or {}
        facts += [_option(k, v) for k, v in opts.items()]
        boxes.append(("TCP", facts))
    else:
        udp = p.get("udp") or {}
        facts = [f"port {udp.get('sport')} → {udp.get('dport')}", f"length {8 + p.get('payload_bytes', 0)} B"]
        boxes.append(("UDP", facts))
    label = ladder.labels[i]
    size = p.get("payload_bytes", 0)
    title = f"payload {size} B" + (f": {label}" if size else ": none")
    if p.get("sampled"):
        title += " (headers only: past the capture's payload budget)"
    boxes.append((title, []))
    return boxes


def layers_lines(ladder: Ladder, i: int, width: int) -> Lines:
    """Packet ``i`` as nested boxes ``width`` cells wide; the payload's hex rows drawn as
    they scroll into view.  Refits on resize."""
    from netlab.ui.views.hexdump import hex_lines

    width = max(width, 30)
    boxes = layer_boxes(ladder, i)
    n = len(boxes)
    p = ladder.packets[i]
    way = "client → server" if p["dir"] == "out" else "server → client"
    facts = [f"packet {i + 1} of {ladder.count}", f"{p['t_ms']:.3f} ms", way, ladder.labels[i]]
    head: list[Text] = [Text(row, "bold") for row in _pack(facts, width)]
    hop_lines = hop_rows(ladder, i)
    if hop_lines:
        head.append(Text("the same packet at every hop of the lab network (each router rewrites the frame):", "bold"))
        head += [Text("  " + safe(row)[: width - 2]) for row in hop_lines]
    for depth, (title, facts) in enumerate(boxes):
        inner = width - 2 * depth
        head.append(_framed(depth, n, _top(title, inner, depth)))
        for row in _pack([safe(f) for f in facts], inner - 4):
            head.append(_framed(depth, n, Text("│ " + row.ljust(inner - 4) + " │", BOX_STYLES[depth % 4])))
    depth = n - 1
    inner = width - 2 * depth
    payload = ladder.packets[i].get("payload", "").encode("latin-1")
    hexv = hex_lines(payload).fit(inner - 4) if payload else None
    rows = hexv.count if hexv is not None else 0
    tail = [_framed(d, n, Text("└" + "─" * (width - 2 * d - 2) + "┘", BOX_STYLES[d % 4])) for d in reversed(range(n))]

    def line(k: int) -> Text:
        if k < len(head):
            return head[k]
        k -= len(head)
        if k < rows:
            hexrow = hexv.line(k)
            t = Text("│ ", BOX_STYLES[depth % 4])
            t.append_text(hexrow)
            t.append(" " * max(0, inner - 4 - hexrow.cell_len))
            t.append(" │", BOX_STYLES[depth % 4])
            return _framed(depth, n, t)
        return tail[k - rows]

    return Lines(len(head) + rows + len(tail), line, width, fit=partial(layers_lines, ladder, i))


def _top(title: str, inner: int, depth: int) -> Text:
    title = safe(title)
    room = inner - 6
    if len(title) > room:
        title = title[:max(0, room - 1)] + "…"
    t = Text("┌─ ", BOX_STYLES[depth % 4])
    t.append(title, "bold " + BOX_STYLES[depth % 4])
    t.append(" " + "─" * max(0, inner - 5 - len(title)) + "┐", BOX_STYLES[depth % 4])
    return t


def _framed(depth: int, n: int, middle: Text) -> Text:
    """``middle`` inside the side walls of the ``depth`` boxes around it."""
    t = Text(no_wrap=True)
    for d in range(depth):
        t.append("│", BOX_STYLES[d % 4])
    t.append_text(middle)
    for d in reversed(range(depth)):
        t.append("│", BOX_STYLES[d % 4])
    return t
