"""The widgets the panes and screens are built of: one widget per file."""
