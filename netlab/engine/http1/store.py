"""Where a body's bytes are kept: in memory up to a size, then in a temporary file."""

from __future__ import annotations

import hashlib
import os
import tempfile

from netlab.engine import defaults

SPILL_BYTES = defaults.SPILL_BYTES  # bodies above this go to a temporary file


class BodyStore:
    """Bytes kept in memory up to ``spill_at``, then in a temporary file.

    Given ``path``, writes go straight to that file (``-o FILE``)."""

    def __init__(self, spill_at: int = SPILL_BYTES, path: str | None = None) -> None:
        self.spill_at = spill_at
        self.size = 0
        self.path = path
        self._mem: bytearray | None = bytearray()
        self._file = open(path, "w+b") if path else None  # read back for sha256 / --json

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def write(self, data) -> None:
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._mem += data
        if len(self._mem) > self.spill_at:
            self._file = tempfile.TemporaryFile(prefix="netlab-body-")
            self._file.write(self._mem)
            self._mem = None

    def truncate(self, size: int) -> None:
        if size >= self.size:
            return
        self.size = size
        if self._file is not None:
            self._file.flush()
            self._file.truncate(size)
            self._file.seek(size)
        else:
            assert self._mem is not None  # None only once spilled to a file
            del self._mem[size:]

    def finish(self) -> None:
        if self._file is not None:
            self._file.flush()

    def getvalue(self) -> bytes:
        if self._file is None:
            assert self._mem is not None  # None only once spilled to a file
            return bytes(self._mem)
        self._file.flush()
        data = _pread(self._file, self.size, 0)  # one copy in memory, not chunks and their join
        if len(data) < self.size:  # a read stops short of 2 GiB on Linux: the rest in chunks
            data += b"".join(_pread(self._file, min(1 << 20, self.size - n), n)
                             for n in range(len(data), self.size, 1 << 20))
        return data

    def head(self, n: int) -> bytes:
        if self._file is None:
            assert self._mem is not None  # None only once spilled to a file
            return bytes(self._mem[:n])
        self._file.flush()
        with open(self._file.fileno(), "rb", closefd=False) as f:
            f.seek(0)
            return f.read(n)

    def iter_chunks(self, size: int = 1 << 20):
        if self._file is None:
            assert self._mem is not None  # None only once spilled to a file
            yield bytes(self._mem)
            return
        self._file.flush()
        pos = 0
        while pos < self.size:
            chunk = _pread(self._file, min(size, self.size - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    def sha256(self) -> str:
        h = hashlib.sha256()
        for chunk in self.iter_chunks():
            h.update(chunk)
        return h.hexdigest()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _pread(f, n: int, offset: int) -> bytes:
    return os.pread(f.fileno(), n, offset)
