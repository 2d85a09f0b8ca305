"""Every default and grammar constant netlab's layers share, in one place that imports
nothing (so the settings file, the TUI before its first frame and the lab server can read
it without loading the engine).  The engine's Options, the settings file's defaults, the
composer's fields, curl/.http/export writers and the CLI all take their values from here.
"""

# -- time ---------------------------------------------------------------------------------
TIMEOUT = 10.0  # seconds: connect, and each read (curl has no such default; netlab's)
HEAD_TIMEOUT = 30.0  # seconds from the request sent to the whole final response head
DNS_TIMEOUT = 5.0  # seconds for one DNS lookup (dig's)

# -- sizes --------------------------------------------------------------------------------
MAX_BODY = 1 << 30  # bytes of a response body the engine reads (1 GiB); larger is an error
MAX_HEADER_BYTES = 64 * 1024  # bytes of one response head
MAX_HEADERS = 5000  # header lines in one response head, as curl allows
SPILL_BYTES = 4 * 1024 * 1024  # bodies above this go to a temporary file
TEXT_BODY_LIMIT = 1 << 20  # --json carries the body as text up to this size
HISTORY_BODY_CAP = 1 << 20  # bytes of each body the history keeps

# -- grammar ------------------------------------------------------------------------------
DEFAULT_PORTS = {"http": 80, "https": 443}
# An HTTP token (RFC 9110 5.6.2): a method, a header name.  Matched whole (request.is_token).
TOKEN_PATTERN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# Where a head ends: the first empty line, with CR LF or bare LF line endings (bytes pattern).
HEAD_END_PATTERN = rb"\r?\n\r?\n"
