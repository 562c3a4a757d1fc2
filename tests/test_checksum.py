"""net/checksum against an independent reference (RFC 1071 by the book)."""
from hypothesis import given, strategies as st

from tyn.twins import checksum_twin as ck


def reference(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def test_rfc1071_example():
    # RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
    assert ck.checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def test_ipv4_header_verifies_to_zero():
    hdr = bytearray.fromhex("4500003c1c4640004006" "0000" "ac100a63ac100a0c")
    csum = ck.checksum(bytes(hdr))
    hdr[10:12] = csum.to_bytes(2, "big")
    assert ck.checksum(bytes(hdr)) == 0


@given(st.binary(max_size=3000))
def test_matches_reference(data):
    assert ck.checksum(data) == reference(data)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=200))
def test_pseudo_header(src, dst, seg):
    pseudo = src.to_bytes(4, "big") + dst.to_bytes(4, "big") + bytes([0, 6]) + len(seg).to_bytes(2, "big")
    assert ck.checksum_with_pseudo(src, dst, 6, seg) == reference(pseudo + seg)
