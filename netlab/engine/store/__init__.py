"""Where exchanges are kept and compared: the history (SQLite, history.py; rows.py encodes an
exchange as a row, private.py decides whether the file may be trusted), the diff of two
exchanges (diff.py) and the load runner (load.py).  No submodule is imported here."""
