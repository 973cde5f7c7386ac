"""The few protobuf wire-format rules the plugin protocol needs.

Hand-written so the provider starts without the protobuf runtime: requests are
read as {field number: [values]}, responses are built field by field. Field
numbers follow Terraform's tfplugin6 protocol definition.
"""

from __future__ import annotations

Fields = dict[int, list[int | bytes]]


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode(buf: bytes) -> Fields:
    fields: Fields = {}
    i, n = 0, len(buf)
    while i < n:
        key, i = _read_varint(buf, i)
        number, kind = key >> 3, key & 7
        value: int | bytes
        if kind == 0:
            value, i = _read_varint(buf, i)
        elif kind == 2:
            size, i = _read_varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif kind == 1:
            value, i = int.from_bytes(buf[i : i + 8], "little"), i + 8
        elif kind == 5:
            value, i = int.from_bytes(buf[i : i + 4], "little"), i + 4
        else:
            raise ValueError(f"unsupported wire type {kind}")
        fields.setdefault(number, []).append(value)
    return fields


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def first_bytes(fields: Fields, number: int) -> bytes:
    values = fields.get(number)
    return values[0] if values and isinstance(values[0], bytes) else b""


def first_int(fields: Fields, number: int) -> int:
    values = fields.get(number)
    return values[0] if values and isinstance(values[0], int) else 0


def string(fields: Fields, number: int) -> str:
    return first_bytes(fields, number).decode()


def message(number: int, payload: bytes) -> bytes:
    """A length-delimited field (bytes, string or embedded message); always written."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def text(number: int, value: str) -> bytes:
    return message(number, value.encode()) if value else b""


def varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def varint_present(number: int, value: int) -> bytes:
    """A varint field written even when zero (proto3 `optional`: presence matters)."""
    return _varint(number << 3) + _varint(value)
