"""The panes of the netlab TUI: one widget per file."""
