"""What a hostile peer sends, shared by the CLI and TUI escaping tests: terminal escapes
(clear screen, window title, an OSC 8 hyperlink, an OSC 52 clipboard write, a cursor
position report and a window title report — the last two make a terminal type into
netlab's input), C1 controls, bidi and zero-width characters, and Rich markup, in the
reason phrase, header values, a chunked body and a trailer."""

from __future__ import annotations

ESC_SEQ = ("\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x.test\x1b\\link\x1b]8;;\x1b\\"
           "\x1b]52;c;cHduZWQ=\x07\x1b[6n\x1b[21t")
# ... and how it must look: every control character written out
ESC_SEQ_SHOWN = (r"\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x.test\x1b\link\x1b]8;;\x1b"
                 "\\" r"\x1b]52;c;cHduZWQ=\x07\x1b[6n\x1b[21t")
MARKUP = "[bold red]red[/bold red] [link=http://evil.test]click[/link]"
# C1 controls (CSI as one character, NEL), bidi override and pop, zero-width space,
# an isolate: as UTF-8 in the body
UNICODE_BITS = "\u009b31m \u0085 \u202eevil\u202c \u200bzw \u2066iso\u2069"
UNICODE_SHOWN = r"\x9b31m \x85 \u202eevil\u202c \u200bzw \u2066iso\u2069"

# Header values and the reason phrase are Latin-1 on the wire: \x9b and \x85 arrive as
# single C1 bytes.
HOSTILE_HEAD = (b"HTTP/1.1 200 OK " + ESC_SEQ.encode("latin-1") + b"\x9b\x85 " + MARKUP.encode() + b"\r\n"
                b"X-Evil: " + ESC_SEQ.encode("latin-1") + b"\x9b2J\x85\r\n"
                b"X-Markup: " + MARKUP.encode() + b"\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n"
                b"Transfer-Encoding: chunked\r\n"
                b"Trailer: X-Trailer\r\n\r\n")


def hostile_body(plain_lines: int) -> bytes:
    """The body: one hostile line, then ``plain_lines`` plain ones."""
    return ("first " + MARKUP + " " + ESC_SEQ + " " + UNICODE_BITS + "\n").encode() + b"a plain line\n" * plain_lines


def chunked(body: bytes) -> bytes:
    """``body`` as one chunk, then the last chunk with a hostile trailer."""
    return (b"%x\r\n" % len(body) + body + b"\r\n"
            b"0\r\nX-Trailer: " + ESC_SEQ.encode("latin-1") + b"\x9b [bold]t[/bold]\r\n\r\n")
