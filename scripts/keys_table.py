"""Print the TUI's key table (markdown) from the bindings, the same rows F1 shows.

README.md holds its output between <!-- keys:start --> and <!-- keys:end -->; a test
checks that the two agree.  Run: python scripts/keys_table.py"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def table() -> str:
    from netlab.ui.app import NetlabApp
    from netlab.ui.commands import help_sections

    out = ["| where | key | what |", "|---|---|---|"]
    for title, rows in help_sections(NetlabApp):
        for keys, description, tooltip in rows:
            shown = ", ".join(f"`{k.strip()}`" for k in keys.split(", "))
            what = f"{description}: {tooltip}" if tooltip and tooltip != description else description
            out.append(f"| {title} | {shown.replace('|', chr(92) + '|')} | {what.replace('|', chr(92) + '|')} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table())
