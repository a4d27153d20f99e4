"""lib0 variable-length encoding (what Yjs and y-protocols frame everything with): read and write."""

from __future__ import annotations

from notesboard.contract.errors import BadRequest

__all__ = ["Reader", "uint", "var_bytes"]


class Reader:
    """Reads lib0 var-uints and var-byte-strings; BadRequest on truncated or oversized input."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise BadRequest("truncated message")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise BadRequest("number too long")

    def var_bytes(self) -> bytes:
        n = self.uint()
        if self.pos + n > len(self.data):
            raise BadRequest("truncated message")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def at_end(self) -> bool:
        return self.pos == len(self.data)


def uint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def var_bytes(data: bytes) -> bytes:
    return uint(len(data)) + data
