"""The file and command formats a request goes in and out of: curl commands (curl/),
.http files (httpfile/), the exports (raw, .http, curl, python-socket, python-requests) and
the ``--resolve`` text of an address pin (pin.py).  No submodule is imported here: each is
loaded when its format is first seen."""
