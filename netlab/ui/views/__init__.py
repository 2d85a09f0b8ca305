"""Pure renderers: engine values in, rich Text lines out (no widgets).

One module a job: ``exchange`` (``prepare``: a finished exchange, every tab ready to draw),
``status`` (the status line, live and final), ``body``, ``raw`` (the bytes as received, the
framing marked), ``hexdump``, ``timing`` (the waterfall), ``connection`` (and its TCP
states), ``search``, ``diff``, ``pager`` (the body for $PAGER); under them ``lines`` (long
views drawn on demand, wrapping) and ``text`` (untrusted text made visible, sizes, times,
addresses)."""
