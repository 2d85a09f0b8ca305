"""Pure renderers: engine values in, rich Text lines out (no widgets)."""
