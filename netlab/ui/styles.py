"""Styles more than one widget draws with (kept light: it imports nothing)."""

# One colour per TCP state: the connection table and the Connection tab's timeline.
STATE_STYLES = {
    "ESTABLISHED": "green", "LISTEN": "bold blue", "SYN_SENT": "yellow", "SYN_RECV": "yellow",
    "FIN_WAIT1": "magenta", "FIN_WAIT2": "magenta", "CLOSING": "magenta", "LAST_ACK": "magenta",
    "CLOSE_WAIT": "bold red", "TIME_WAIT": "dim", "CLOSE": "dim", "CLOSED": "dim", "NONE": "dim",
}
