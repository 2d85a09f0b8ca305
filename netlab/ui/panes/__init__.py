"""The four panes of the netlab TUI: composer, response, DNS and connections."""
