"""Export a request (or a whole exchange) in another tool's form.

    raw              the exact request bytes (what `netlab send --raw FILE URL` sends again)
    http             a .http entry (VS Code REST Client / JetBrains), see httpfile/
    curl             a curl command that sends the same bytes, see curl/
    python-socket    a standalone script, standard library only (``socket``, and ``ssl`` for
                     https), that sends the same bytes and prints the response bytes as received
    python-requests  the equivalent ``requests`` call, with comments on the headers requests
                     adds that the exchange did not send, and the reverse

Credential header values are masked unless ``show_secrets`` is given: Authorization,
Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, X-Auth-Token, X-Amz-Security-Token and
the rest of netlab/engine/secrets.py's list, plus the settings file's ``[secrets] headers``
(``Bearer ********``); so is a password in the URL or in an absolute-form request target
(``user:****@host``).  The Export's ``notes`` say when something was masked or left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from netlab.engine.defaults import TIMEOUT
from netlab.engine.errors import NetlabError
from netlab.engine.request import Request, find_header, format_host
from netlab.engine.secrets import mask_headers, mask_request_bytes, mask_url, sensitive_names

__all__ = ["FORMATS", "Export", "export_exchange", "export_request", "masked_request", "bytes_literal",
           "REQUESTS_DEFAULT_HEADERS"]

FORMATS = ("raw", "http", "curl", "python-socket", "python-requests")
SUFFIXES = {"raw": ".txt", "http": ".http", "curl": ".sh", "python-socket": ".py", "python-requests": ".py"}
# what requests.utils.default_headers() gives (requests 2.x), when requests is not importable
REQUESTS_DEFAULT_HEADERS = (("User-Agent", "python-requests/2.x"), ("Accept-Encoding", "gzip, deflate"),
                            ("Accept", "*/*"), ("Connection", "keep-alive"))


@dataclass(frozen=True, slots=True)
class Export:
    format: str
    data: bytes  # what goes into a file
    text: str | None  # the same as text (None for raw bytes that are not UTF-8)
    suffix: str  # a file name suffix for it
    notes: tuple[str, ...] = ()  # what was masked or could not be carried

    def save(self, path: str) -> None:
        """Write ``data`` to ``path``; a new file gets mode 0600 (an export may carry
        credentials).  OSError if it cannot be written."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.data)


def masked_request(request: Request, show_secrets: bool = False) -> tuple[Request, list[str]]:
    """``request`` with credential header values and a URL's password masked (unless
    ``show_secrets``), and what was masked: header names, and "the password in the URL"."""
    if show_secrets:
        return request, []
    sensitive = sensitive_names()
    masked: list[str] = sorted({n for n, _ in request.headers if n.strip().lower() in sensitive}, key=str.lower)
    data = mask_request_bytes(request.data, names=sensitive)
    url, target = mask_url(request.url), mask_url(request.target)
    if target != request.target or (data != request.data and not masked):  # the password is in the bytes
        masked.append(_URL_PASSWORD)
    if not masked:
        return request, []
    headers = tuple(mask_headers(request.headers, names=sensitive))
    return replace(request, url=url, target=target, data=data, headers=headers), masked


def export_exchange(exchange, fmt: str, *, show_secrets: bool = False, name: str | None = None,
                    source: str | None = None) -> Export:
    """Export an engine Exchange's request (with its options: pins, Unix socket, TLS)."""
    return export_request(exchange.request, exchange.options, fmt, show_secrets=show_secrets, name=name,
                          source=source)


def export_request(request: Request, options, fmt: str, *, show_secrets: bool = False, name: str | None = None,
                   source: str | None = None) -> Export:
    """Export ``request`` as ``fmt`` (one of FORMATS).  ``source`` says where it came from
    (e.g. "exchange #12"), for the scripts' docstrings.  Raises NetlabError('usage') for an
    unknown format, or a request curl cannot send."""
    if fmt not in FORMATS:
        raise NetlabError("usage", f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")
    shown, masked = masked_request(request, show_secrets)
    notes = []
    if masked:
        notes.append(f"masked {_what_masked(masked)}; --show-secrets exports it")
    if fmt == "raw":
        data = shown.data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return Export(fmt, data, text, SUFFIXES[fmt], tuple(notes))
    if fmt == "http":
        from netlab.engine.formats.httpfile import write_entry

        text = write_entry(shown, name, options)
        if options is not None and options.dns_server:
            notes.append("the DNS server option is written as # @dns-server (netlab only)")
    elif fmt == "curl":
        from netlab.engine.formats.curl import to_curl

        text = to_curl(shown, options, show_secrets=True) + "\n"
        if options is not None and options.dns_server:
            notes.append("curl has no DNS server option here: the command resolves the name the usual way")
    elif fmt == "python-socket":
        text = python_socket(shown, options, source, masked)
    else:
        text, more = python_requests(shown, options, source, masked)
        notes += more
    return Export(fmt, text.encode("utf-8"), text, SUFFIXES[fmt], tuple(notes))


# ---------------------------------------------------------------------- literals


def bytes_literal(data: bytes, indent: str = "    ", width: int = 76) -> str:
    """A parenthesised Python bytes literal, one source line per line of ``data`` (split
    after each LF, and every ``width`` characters), every CR and LF written out."""
    if not data:
        return 'b""'
    lines = []
    piece: list[str] = []
    size = 0
    for b in data:
        if b == 0x5C:
            s = "\\\\"
        elif b == 0x22:
            s = '\\"'
        elif b == 0x0D:
            s = "\\r"
        elif b == 0x0A:
            s = "\\n"
        elif b == 0x09:
            s = "\\t"
        elif 0x20 <= b < 0x7F:
            s = chr(b)
        else:
            s = f"\\x{b:02x}"
        piece.append(s)
        size += len(s)
        if b == 0x0A or size >= width:
            lines.append('b"' + "".join(piece) + '"')
            piece, size = [], 0
    if piece:
        lines.append('b"' + "".join(piece) + '"')
    if len(lines) == 1:
        return lines[0]
    return "(\n" + "".join(f"{indent}{line}\n" for line in lines) + ")"


def _docstring(request: Request, source: str | None, what: str) -> list[str]:
    url = f"{request.origin}{request.target}" if not request.target.startswith(("http:", "https:")) \
        else request.target
    title = f"{request.method or '?'} {url}".replace('"""', "'''").replace("\\", "\\\\")
    title = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in title)
    origin = f"Exported by netlab from {source}." if source else "Exported by netlab."
    return ['"""' + title + ": " + what, "", origin]


_URL_PASSWORD = "the password in the URL"


def _what_masked(masked) -> str:
    """'the value of Authorization, Cookie and the password in the URL'."""
    names = [m for m in masked if m != _URL_PASSWORD]
    parts = [f"the value of {', '.join(names)}"] if names else []
    if _URL_PASSWORD in masked:
        parts.append(_URL_PASSWORD)
    return " and ".join(parts)


def _masked_note(masked: list[str]) -> list[str]:
    if not masked:
        return []
    what = _what_masked(masked)
    return [f"# Masked: {what} (written ******** or ****).",
            "# Put the real values back, or export again with --show-secrets."]


# ----------------------------------------------------------------- python-socket


_SOCKET_BODY = '''


class Received:
    """Every byte received so far, and how far the framing has read them."""

    def __init__(self, sock):
        self.sock = sock
        self.data = b""
        self.pos = 0

    def more(self):
        chunk = self.sock.recv(65536)  # whatever has arrived, up to 64 KiB
        if not chunk:
            raise EOFError("the server closed the connection")
        self.data += chunk

    def until(self, marker):
        """The bytes up to and including ``marker``."""
        while (end := self.data.find(marker, self.pos)) < 0:
            self.more()
        piece = self.data[self.pos:end + len(marker)]
        self.pos = end + len(marker)
        return piece

    def exactly(self, n):
        while len(self.data) - self.pos < n:
            self.more()
        piece = self.data[self.pos:self.pos + n]
        self.pos += n
        return piece

    def until_close(self):
        try:
            while True:
                self.more()
        except EOFError:
            self.pos = len(self.data)


def read_response(received):
    # The head ends with an empty line (\\r\\n\\r\\n).  1xx heads (100 Continue...) come first.
    while True:
        head = received.until(b"\\r\\n\\r\\n")
        status = int(head.split(b" ", 2)[1])
        if not 100 <= status < 200 or status == 101:
            break
    headers = {}
    for line in head.split(b"\\r\\n")[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip()

    # The body: the head says where it ends.
    if METHOD == "HEAD" or status in (204, 304) or 100 <= status < 200:
        pass  # no body, whatever the headers say
    elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        # chunks: a hex size line, that many bytes, \\r\\n; a 0 size ends them, then
        # trailer lines and an empty line
        while True:
            size = int(received.until(b"\\r\\n").split(b";")[0], 16)
            if size == 0:
                while received.until(b"\\r\\n") != b"\\r\\n":
                    pass
                break
            received.exactly(size + 2)
    elif b"content-length" in headers:
        received.exactly(int(headers[b"content-length"]))
    else:
        received.until_close()  # no length given: the body ends when the server closes
    return received.data[:received.pos]


def show(response):
    """The bytes as received; on a terminal, control characters are escaped."""
    if not sys.stdout.isatty():
        sys.stdout.buffer.write(response)
        return
    text = response.decode("utf-8", "backslashreplace").replace("\\r\\n", "\\n")
    print("".join(c if c in "\\n\\t" or c.isprintable() else repr(c)[1:-1] for c in text), end="")


def main():
'''


def python_socket(request: Request, options, source: str | None = None, masked=()) -> str:
    """A standalone raw-socket client script for ``request`` (see the module docstring)."""
    tls = request.scheme == "https"
    unix = options.unix_socket if options is not None else None
    pin = None
    if options is not None and not unix:
        for p in options.resolve:
            if p.host == request.host.lower() and p.port in (None, request.port):
                pin = p
                break
    timeout = options.timeout if options is not None else TIMEOUT
    out = _docstring(request, source, "the exact request netlab sent, over a plain socket.")
    out += ["",
            "Standard library only.  It prints the response bytes exactly as they arrive (status",
            "line, headers and body; a chunked body with its chunk framing) on standard output, and",
            'each step on standard error."""', "",
            "import socket"]
    if tls:
        out.append("import ssl")
    out += ["import sys", ""]
    out.append(f"HOST = {request.host!r}  # the URL's host{' (the TLS server name)' if tls else ''}")
    out.append(f"PORT = {request.port}")
    if unix:
        out.append(f"UNIX_SOCKET = {unix!r}  # the exchange went over this Unix socket, not TCP")
    elif pin:
        out.append(f"ADDRESS = {pin.addresses[0]!r}  # --resolve pin: connect here instead of resolving HOST")
    if tls:
        cafile = options.cafile if options is not None else None
        insecure = bool(options is not None and options.insecure)
        if cafile:
            out.append(f"CAFILE = {cafile!r}  # verify the server against this CA bundle")
        if insecure:
            out.append("VERIFY = False  # --insecure: the exchange did not verify the certificate")
    out.append(f"TIMEOUT = {timeout:g}  # seconds, for connect() and for each recv()")
    out.append(f"METHOD = {request.method!r}  # a response to HEAD has no body")
    out.append("")
    out += _masked_note(list(masked))
    out.append("# The request, byte for byte: \\r\\n is CR LF, HTTP's line ending; an empty line ends the head.")
    out.append(f"REQUEST = {bytes_literal(request.data)}")
    text = "\n".join(out) + _SOCKET_BODY
    steps = []
    if unix:
        steps += ["    # 1. Connect to the Unix socket.",
                  "    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                  "    sock.settimeout(TIMEOUT)",
                  "    sock.connect(UNIX_SOCKET)",
                  '    print(f"* connected to {UNIX_SOCKET}", file=sys.stderr)']
    else:
        where = "ADDRESS" if pin else "HOST"
        steps += ["    # 1. Connect: resolve the name, open a TCP connection (the kernel picks our local port).",
                  f"    sock = socket.create_connection(({where}, PORT), timeout=TIMEOUT)",
                  '    print(f"* connected: local {sock.getsockname()[:2]} -> remote {sock.getpeername()[:2]}",',
                  "          file=sys.stderr)"]
    if tls:
        cafile = options.cafile if options is not None else None
        insecure = bool(options is not None and options.insecure)
        steps += ["    # 2. TLS: check the server's certificate and name, sending HOST as the server name (SNI).",
                  f"    context = ssl.create_default_context({'cafile=CAFILE' if cafile else ''})"]
        if insecure:
            steps += ["    if not VERIFY:",
                      "        context.check_hostname = False",
                      "        context.verify_mode = ssl.CERT_NONE"]
        steps += ["    sock = context.wrap_socket(sock, server_hostname=HOST)",
                  '    print(f"* TLS {sock.version()} {sock.cipher()[0]}", file=sys.stderr)']
    steps += [f"    # {3 if tls else 2}. Send the request bytes.",
              "    sock.sendall(REQUEST)",
              '    print(f"* sent {len(REQUEST)} bytes", file=sys.stderr)',
              f"    # {4 if tls else 3}. Receive: read until the response's framing says it is complete.",
              "    received = Received(sock)",
              "    try:",
              "        response = read_response(received)",
              "    except EOFError:",
              '        print("* the server closed the connection before the response was complete", file=sys.stderr)',
              "        show(received.data)",
              "        raise SystemExit(1)",
              "    finally:",
              "        sock.close()",
              '    print(f"* received {len(response)} bytes", file=sys.stderr)',
              "    show(response)",
              "",
              "",
              'if __name__ == "__main__":',
              "    main()",
              ""]
    return text + "\n".join(steps)


# --------------------------------------------------------------- python-requests


def _requests_defaults() -> tuple[list[tuple[str, str]], str]:
    try:
        import requests.utils

        return list(requests.utils.default_headers().items()), "requests.utils.default_headers()"
    except Exception:  # noqa: BLE001 - requests missing or broken: the known list
        return list(REQUESTS_DEFAULT_HEADERS), "requests 2.x's defaults"


def _str(value: str) -> str:
    return repr(value)


def _requests_headers(request: Request) -> tuple[dict[str, tuple[str, str]], list[str], list[str]]:
    """Sort the exchange's headers for requests: those passed in ``headers`` (repeats joined, as
    requests sends each name once), those requests computes itself (a Host from the URL, a
    Content-Length from data), and comments on what had to change."""
    sent = request.headers
    host_value = find_header(sent, "host")
    default_host = format_host(request.host, request.port, request.scheme)
    kept: dict[str, tuple[str, str]] = {}
    computed: list[str] = []
    comments: list[str] = []
    for n, v in sent:
        low = n.lower()
        if low == "host" and v == default_host and host_value == v:
            if "host" not in {c.split(":")[0].lower() for c in computed}:
                computed.append(f"Host: {v}  (from the URL)")
            continue
        if low == "content-length" and v == str(len(request.body)):
            computed.append(f"Content-Length: {v}  (from data)")
            continue
        if low == "transfer-encoding":
            comments.append(f"# The exchange sent Transfer-Encoding: {v} with a body it framed itself; requests")
            comments.append("# sends data with a Content-Length instead, so that header is left out.")
            continue
        if low in kept:
            joiner = "; " if low == "cookie" else ", "
            name, old = kept[low]
            kept[low] = (name, old + joiner + v)
            comments.append(f"# requests sends each header once: the exchange's {n} headers are joined with "
                            f"{joiner.strip() or joiner!r}.")
            continue
        kept[low] = (n, v)
    return kept, computed, comments


def _requests_added(request: Request, defaults: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers requests adds that the exchange did not send: its defaults, and a
    ``Content-Length: 0`` on an empty body of a method other than GET/HEAD/OPTIONS."""
    lower_sent = {n.lower() for n, _ in request.headers}
    added = [(n, v) for n, v in defaults if n.lower() not in lower_sent]
    length = find_header(request.headers, "content-length")
    if request.method.upper() not in ("GET", "HEAD", "OPTIONS") and not request.body and length is None:
        added.append(("Content-Length", "0"))
    return added


def _requests_options(request: Request, options, out: list[str], notes: list[str]) -> list[str]:
    """The extra ``requests.request`` arguments the exchange's options call for (``verify=``);
    comments for ``out`` and ``notes`` on what requests cannot do (a Unix socket, --resolve)."""
    extra = []
    if request.scheme == "https" and options is not None:
        if options.insecure:
            extra.append("verify=False")
            out.append("# verify=False: the exchange did not verify the certificate (--insecure).")
        elif options.cafile:
            extra.append(f"verify={_str(options.cafile)}")
    if options is not None and options.unix_socket:
        out.append(f"# The exchange went over the Unix socket {options.unix_socket}; requests needs an adapter for")
        out.append("# that (the requests-unixsocket package): as written, this connects over TCP.")
        notes.append("requests cannot use a Unix socket by itself: see the comment in the script")
    elif options is not None and options.resolve:
        pins = ", ".join(f"{p.host}:{'*' if p.port is None else p.port} -> {','.join(p.addresses)}"
                         for p in options.resolve)
        out.append(f"# The exchange pinned addresses (--resolve {pins}); requests has no such option: it")
        out.append("# resolves the host itself.")
        notes.append("requests has no --resolve: the script resolves the host itself")
    return extra


def python_requests(request: Request, options, source: str | None = None, masked=()) -> tuple[str, list[str]]:
    """The equivalent ``requests`` call, and notes."""
    notes: list[str] = []
    defaults, where = _requests_defaults()
    kept, computed, comments = _requests_headers(request)
    added = _requests_added(request, defaults)
    url = f"{request.origin}{request.target}" if request.target.startswith("/") else request.origin + "/"
    out = _docstring(request, source, "the same request made with requests.")
    out += ["", 'pip install requests  (the call below is what matters; the rest prints the reply)"""', "",
            "import requests", ""]
    out += _masked_note(list(masked))
    if request.is_raw and not _well_formed(request):
        out.append("# The exchange's bytes were written by hand and are not all well-formed HTTP; requests")
        out.append("# always sends a well-formed request, so this is the nearest equivalent.")
    out.append(f"url = {_str(url)}")
    out.append("headers = {")
    for name, value in kept.values():
        out.append(f"    {_str(name)}: {_str(value)},")
    out.append("}")
    if request.body:
        out.append(f"data = {bytes_literal(request.body)}")
    out.append("")
    if added:
        out.append(f"# requests adds these headers itself; the exchange did not send them ({where}):")
        out += [f"#   {n}: {v}" for n, v in added]
        out.append("# To leave one out, set it to None in headers; for User-Agent and Accept-Encoding use")
        out.append("# urllib3.util.SKIP_HEADER (else urllib3 and http.client put their own back).")
    if computed:
        out.append("# The exchange sent these too; requests computes them, so they are not in headers:")
        out += [f"#   {c}" for c in computed]
    out += comments
    extra = _requests_options(request, options, out, notes)
    timeout = options.timeout if options is not None else TIMEOUT
    args = [_str(request.method or "GET"), "url", "headers=headers"]
    if request.body:
        args.append("data=data")
    args += extra + [f"timeout={timeout:g}", "allow_redirects=False"]
    out.append("# allow_redirects=False: netlab does not follow redirects either.")
    out.append(f"response = requests.request({', '.join(args)})")
    out += ["",
            'print(f"HTTP/{response.raw.version / 10:g} {response.status_code} {response.reason}")',
            "for name, value in response.headers.items():",
            '    print(f"{name}: {value}")',
            "print()",
            'print(response.text, end="")',
            ""]
    return "\n".join(out), notes


def _well_formed(request: Request) -> bool:
    from netlab.engine.formats.curl import to_curl

    try:
        to_curl(request)
    except NetlabError:
        return False
    return True
