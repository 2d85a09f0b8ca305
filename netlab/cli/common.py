"""What every command shares: the exit codes, each command's one-line summary, the
settings in effect, and the engine Options a command line asks for.

The dispatcher (netlab/cli/__init__.py) imports this module before a bare `netlab` draws
its first frame, so it imports no argparse, json or engine at module level
(bench/startup.py); the argparse pieces are in netlab/cli/args.py."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

# The line `netlab --help` shows for each command, in its order. Each command's parser
# says the same; the dispatcher lists a command by it without importing the command.
SUMMARIES = {
    "send": "send one request and show the response (like curl -i)",
    "serve": "run the built-in lab server",
    "history": "list the stored exchanges, newest first",
    "replay": "send a stored exchange's request again (same bytes, same target)",
    "conns": "list the machine's sockets (like netstat/ss), headless",
    "dns": "look a name up like dig: any type, any server, UDP/TCP/TLS/HTTPS, --trace",
    "settings": "show the settings file, the values in effect and any problems",
    "labnet": "build or remove the lab network: namespaces with real routers (root)",
    "stack": "the same GET through socket, http.client, urllib, urllib3 and requests: what each adds",
}

# The command line's name of each Options field, for messages about a value.
OPTION_FLAGS = {"timeout": "--timeout", "deadline": "--max-time", "head_timeout": "--head-timeout",
                "max_body_bytes": "--max-body"}

# Where args.Given notes the options given on the command line (see given()).
GIVEN = "_given_options"


def given(args, dest: str) -> bool:
    """Was the option stored in ``args.<dest>`` given on the command line?"""
    return dest in getattr(args, GIVEN, ())


_reported: set[str] = set()  # settings file problems already printed by this process
_read: list = [None, None]  # (path, the file's bytes) and what load() gave for them


def current_settings(err=None):
    """The effective Settings, which is how every command reads the settings file; each
    problem of the file goes to ``err`` once per process, and the defaults are used for the
    keys it names (see netlab/settings.py).  The file is parsed again only when its bytes
    changed (a command asks more than once)."""
    from netlab.engine.text import safe_text
    from netlab.settings import load, settings_path

    path = settings_path()
    try:
        with open(path, "rb") as f:
            key = (path, f.read())
    except OSError:
        key = (path, None)
    if _read[0] != key:
        _read[:] = [key, load(path)]
    loaded = _read[1]
    err = err or sys.stderr
    for problem in loaded.problems:
        if problem.text not in _reported:
            _reported.add(problem.text)
            err.write(f"netlab: {safe_text(problem.text, keep_newlines=False)}\n")
    return loaded.settings


def dns_server_option(text: str) -> tuple[str, int]:
    """``--dns-server ADDR[:PORT]`` of `netlab send` → (address, port); a usage NetlabError if bad."""
    from netlab.engine import NetlabError
    from netlab.engine.dns import parse_dns_server

    try:
        return parse_dns_server(text)
    except ValueError as exc:
        raise NetlabError("usage", f"--dns-server {text!r}: {exc}") from None


def exchange_options(args):
    """The engine Options of `netlab send` (and of its .http and --curl forms): the command
    line's values, and the settings file's for what it leaves out."""
    from netlab.engine import Options, parse_pin

    settings = current_settings()  # problems on stderr, once

    def pick(dest: str, default):  # the command line's value (None for a 0 meaning none), else the file's
        return getattr(args, dest) if given(args, dest) else default

    return Options(
        timeout=pick("timeout", settings.timeout),
        deadline=pick("max_time", settings.max_time),
        head_timeout=pick("head_timeout", settings.head_timeout),
        insecure=args.insecure,
        cafile=args.cacert,
        resolve=tuple(parse_pin(t) for t in args.resolve),
        dns_server=dns_server_option(args.dns_server) if args.dns_server else settings.dns_address,
        unix_socket=args.unix_socket,
        max_body_bytes=pick("max_body", settings.max_body),
        keylog=getattr(args, "keylog", None),
    ).checked(OPTION_FLAGS)
