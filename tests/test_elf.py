"""proc/elf: validation and load plans of static x86_64 executables.

Real inputs (a musl static binary, a static-PIE, beam.smp when the ERTS is cached, dynamic
executables) and synthetic ones built here; every parse runs on bytes placed against an
unmapped guard page, so an out-of-bounds read would crash the test process.
"""

from __future__ import annotations

import ctypes
import mmap
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tyn.twins import elf_twin as elf
from guest import musl

PAGE = 4096
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_PHDR, PT_TLS = 1, 2, 3, 4, 6, 7
PT_GNU_STACK, PT_GNU_RELRO = 0x6474E551, 0x6474E552
PF_X, PF_W, PF_R = 1, 2, 4
ET_EXEC, ET_DYN = 2, 3
E = elf.ERRORS

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)


class Guarded:
    """data placed flush against a PROT_NONE page (after it, or before it)."""

    def __init__(self, data: bytes, guard_after: bool = True):
        n = max(len(data), 1)
        pages = (n + PAGE - 1) // PAGE
        self.m = mmap.mmap(-1, (pages + 2) * PAGE)
        base = ctypes.addressof(ctypes.c_char.from_buffer(self.m))
        assert _libc.mprotect(base, PAGE, 0) == 0
        assert _libc.mprotect(base + (pages + 1) * PAGE, PAGE, 0) == 0
        start = (pages + 1) * PAGE - len(data) if guard_after else PAGE
        self.m[start:start + len(data)] = data
        self.view = memoryview(self.m)[start:start + len(data)]


def parse(data: bytes, bias_hint: int = 0):
    results = []
    for after in (True, False):
        g = Guarded(data, after)
        try:
            results.append(elf.parse(g.view, bias_hint))
        except elf.ElfError as e:
            results.append(e.name)
        finally:
            g.view.release()
    assert results[0] == results[1]
    if isinstance(results[0], str):
        raise elf.ElfError(E[results[0]])
    return results[0]


def code(data: bytes, bias_hint: int = 0) -> str:
    try:
        parse(data, bias_hint)
        return "OK"
    except elf.ElfError as e:
        return e.name


# ------------------------------------------------------------ synthetic files

def phdr(p_type, flags=PF_R, offset=0, vaddr=0, filesz=0, memsz=None, align=PAGE, paddr=None):
    return dict(type=p_type, flags=flags, offset=offset, vaddr=vaddr, paddr=vaddr if paddr is None else paddr,
                filesz=filesz, memsz=filesz if memsz is None else memsz, align=align)


def make_elf(phdrs, entry=0x401000, e_type=ET_EXEC, size=0x3000, phoff=64, ident=None, machine=62,
             version=1, phentsize=56, ehsize=64, phnum=None):
    ident = ident or (b"\x7fELF" + bytes([2, 1, 1]) + bytes(9))
    hdr = struct.pack("<16sHHIQQQIHHHHHH", ident, e_type, machine, version, entry, phoff, 0, 0, ehsize,
                      phentsize, len(phdrs) if phnum is None else phnum, 64, 0, 0)
    table = b"".join(struct.pack("<IIQQQQQQ", p["type"], p["flags"], p["offset"], p["vaddr"], p["paddr"],
                                 p["filesz"], p["memsz"], p["align"]) for p in phdrs)
    blob = bytearray(max(size, phoff + len(table), 64))
    blob[:64] = hdr
    blob[phoff:phoff + len(table)] = table
    return bytes(blob)


def simple_phdrs(bss=0x100):
    """A musl-static-like layout: headers, text, data+bss, GNU_STACK."""
    return [phdr(PT_LOAD, PF_R, 0, 0x400000, 0x800),
            phdr(PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x800),
            phdr(PT_LOAD, PF_R | PF_W, 0x1fd0, 0x402fd0, 0x40, 0x40 + bss),
            phdr(PT_GNU_STACK, PF_R | PF_W, align=16)]


def test_simple_plan():
    p = parse(make_elf(simple_phdrs()))
    assert p["type"] == ET_EXEC and p["bias"] == 0 and p["entry"] == 0x401000
    assert (p["phdr"], p["phent"], p["phnum"]) == (0x400040, 56, 4)
    assert p["has_gnu_stack"] and p["stack_prot"] == elf.PROT_R | elf.PROT_W
    L = p["loads"]
    assert [(s["start"], s["end"], s["prot"]) for s in L] == [
        (0x400000, 0x401000, elf.PROT_R), (0x401000, 0x402000, elf.PROT_R | elf.PROT_X),
        (0x402000, 0x404000, elf.PROT_R | elf.PROT_W)]
    # data: copied from the page-aligned file offset, the page delta included (like a file mapping)
    d = L[2]
    assert (d["file_offset"], d["file_size"]) == (0x1000, 0xfd0 + 0x40)
    assert d["zero_start"] == 0x402000 + 0xfd0 + 0x40 and d["zero_start"] + d["zero_size"] == d["end"]
    assert (d["vaddr"], d["filesz"], d["memsz"]) == (0x402fd0, 0x40, 0x140)
    assert p["brk"] == p["highest"] == 0x404000 and p["lowest"] == 0x400000


def test_bss_only_segment_copies_nothing():
    ph = simple_phdrs() + [phdr(PT_LOAD, PF_R | PF_W, 0x2123, 0x405123, 0, 0x3000)]
    s = parse(make_elf(ph))["loads"][3]
    assert (s["start"], s["end"], s["file_size"], s["zero_start"], s["zero_size"]) == \
        (0x405000, 0x409000, 0, 0x405000, 0x4000)


def test_stack_flags():
    ph = simple_phdrs()
    ph[3] = phdr(PT_GNU_STACK, PF_R | PF_W | PF_X, align=16)
    assert parse(make_elf(ph))["stack_prot"] == elf.PROT_R | elf.PROT_W | elf.PROT_X
    p = parse(make_elf(ph[:3]))
    assert not p["has_gnu_stack"] and p["stack_prot"] == elf.PROT_R | elf.PROT_W


def test_pt_phdr_preferred_and_checked():
    ph = [phdr(PT_PHDR, PF_R, 64, 0x400040, 56 * 5)] + simple_phdrs()
    p = parse(make_elf(ph))
    assert p["phdr"] == 0x400040 and p["phnum"] == 5
    ph[0] = phdr(PT_PHDR, PF_R, 64, 0x900040, 56 * 5)
    assert code(make_elf(ph)) == "PHDR_NOT_MAPPED"


def test_phdrs_not_in_any_load():
    ph = simple_phdrs()
    ph[0] = phdr(PT_LOAD, PF_R, 0x1000, 0x400000, 0x10)       # text starts elsewhere
    ph[1] = phdr(PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x800)
    assert code(make_elf(ph)) == "PHDR_NOT_MAPPED"
    # the table must be covered entirely, not just its start
    ph = simple_phdrs()
    ph[0] = phdr(PT_LOAD, PF_R, 0, 0x400000, 64 + 56)
    assert code(make_elf(ph)) == "PHDR_NOT_MAPPED"


def test_tls_reported_and_left_alone():
    ph = simple_phdrs() + [phdr(PT_TLS, PF_R, 0x1fd0, 0x402fd0, 0x10, 0x20, align=8)]
    assert parse(make_elf(ph))["has_tls"] == 1


def test_static_pie_bias():
    ph = [phdr(PT_LOAD, PF_R, 0, 0, 0x300), phdr(PT_LOAD, PF_R | PF_X, 0x1000, 0x1000, 0x900),
          phdr(PT_LOAD, PF_R | PF_W, 0x1ec0, 0x2ec0, 0x148, 0x398), phdr(PT_DYNAMIC, PF_R | PF_W, 0x1ec0, 0x2ec0, 0x120)]
    blob = make_elf(ph, entry=0x1033, e_type=ET_DYN)
    p = parse(blob)
    assert p["type"] == ET_DYN and p["bias"] == elf.DEFAULT_DYN_BASE
    assert p["entry"] == elf.DEFAULT_DYN_BASE + 0x1033 and p["phdr"] == elf.DEFAULT_DYN_BASE + 64
    assert p["loads"][0]["start"] == elf.DEFAULT_DYN_BASE
    q = parse(blob, bias_hint=0x7f0000000000)
    assert q["bias"] == 0x7f0000000000 and q["brk"] == 0x7f0000004000
    # the hint is rounded down to the largest p_align
    ph2 = [dict(s, align=0x200000) if s["type"] == PT_LOAD else s for s in ph]
    assert parse(make_elf(ph2, entry=0x1033, e_type=ET_DYN), bias_hint=0x7f0000123000)["bias"] == 0x7f0000000000
    assert code(blob, bias_hint=0x123) == "BAD_ARGUMENT"
    # ET_EXEC ignores the hint
    assert parse(make_elf(simple_phdrs()), bias_hint=0x7f0000000000)["bias"] == 0


@pytest.mark.parametrize("mutate, expected", [
    (lambda b: b"\x7fELG" + b[4:], "BAD_MAGIC"),
    (lambda b: b[:4] + b"\x01" + b[5:], "BAD_CLASS"),
    (lambda b: b[:5] + b"\x02" + b[6:], "BAD_ENDIAN"),
    (lambda b: b[:6] + b"\x00" + b[7:], "BAD_VERSION"),
    (lambda b: b[:20] + b"\x02\x00\x00\x00" + b[24:], "BAD_VERSION"),
    (lambda b: b[:18] + struct.pack("<H", 3) + b[20:], "BAD_MACHINE"),       # EM_386
    (lambda b: b[:18] + struct.pack("<H", 183) + b[20:], "BAD_MACHINE"),     # EM_AARCH64
    (lambda b: b[:16] + struct.pack("<H", 1) + b[18:], "BAD_TYPE"),          # ET_REL
    (lambda b: b[:16] + struct.pack("<H", 4) + b[18:], "BAD_TYPE"),          # ET_CORE
    (lambda b: b[:52] + struct.pack("<H", 40) + b[54:], "BAD_PHDRS"),        # e_ehsize
    (lambda b: b[:54] + struct.pack("<H", 64) + b[56:], "BAD_PHDRS"),        # e_phentsize
    (lambda b: b[:56] + struct.pack("<H", 0) + b[58:], "BAD_PHDRS"),         # e_phnum 0
    (lambda b: b[:56] + struct.pack("<H", 74) + b[58:], "BAD_PHDRS"),        # too many
    (lambda b: b[:56] + struct.pack("<H", 0xffff) + b[58:], "BAD_PHDRS"),    # PN_XNUM
    (lambda b: (b[:56] + struct.pack("<H", 73) + b[58:])[:0x1000], "TRUNCATED"),  # table past EOF
    (lambda b: b[:32] + struct.pack("<Q", 0x2fff) + b[40:], "TRUNCATED"),    # e_phoff near EOF
    (lambda b: b[:32] + struct.pack("<Q", 2 ** 64 - 8) + b[40:], "TRUNCATED"),  # e_phoff wraps
    (lambda b: b[:3], "TRUNCATED"),
    (lambda b: b[:63], "TRUNCATED"),
    (lambda b: b"", "TRUNCATED"),
])
def test_header_errors(mutate, expected):
    assert code(mutate(make_elf(simple_phdrs()))) == expected


def _with(i, **kw):
    ph = simple_phdrs()
    ph[i] = dict(ph[i], **kw)
    return ph


@pytest.mark.parametrize("phdrs, entry, expected", [
    ([phdr(PT_GNU_STACK, PF_R | PF_W)], 0x401000, "NO_LOAD"),
    ([dict(p, memsz=0) if p["type"] == PT_LOAD else p for p in simple_phdrs()], 0x401000, "NO_LOAD"),
    (simple_phdrs() + [phdr(PT_INTERP, PF_R, 0x200, 0x400200, 20)], 0x401000, "DYNAMIC"),
    ([phdr(PT_INTERP, PF_R, 0x200, 0x400200, 20)], 0x401000, "DYNAMIC"),   # before any other check
    (_with(2, memsz=0x20), 0x401000, "BAD_SEGMENT"),                        # memsz < filesz
    (_with(1, align=0x3000), 0x401000, "BAD_SEGMENT"),                      # not a power of two
    (_with(1, offset=0x1008), 0x401000, "BAD_SEGMENT"),                     # offset/vaddr not congruent
    (_with(1, offset=0x3000), 0x401000, "TRUNCATED"),                       # data past EOF
    (_with(1, filesz=0x2001, memsz=0x2001), 0x401000, "TRUNCATED"),
    (_with(1, offset=2 ** 64 - 0x1000), 0x401000, "TRUNCATED"),
    (_with(0, vaddr=0x1000), 0x401000, "SEGMENT_RANGE"),                    # below mmap_min_addr
    (_with(2, vaddr=0x7ffffffff000, offset=0x2000), 0x401000, "SEGMENT_RANGE"),
    (_with(2, memsz=2 ** 47), 0x401000, "SEGMENT_RANGE"),
    (_with(2, vaddr=2 ** 64 - 0x30, offset=0x1fd0), 0x401000, "SEGMENT_RANGE"),
    (_with(2, vaddr=0x401fd0), 0x401000, "OVERLAP"),                        # shares text's page
    (_with(2, vaddr=0x300fd0), 0x401000, "OVERLAP"),                        # descending
    (simple_phdrs() + [phdr(PT_LOAD, PF_R, 0x1000 * (i % 2), 0x500000 + 0x1000 * i, 0x10) for i in range(14)],
     0x401000, "TOO_MANY_LOADS"),
    (simple_phdrs(), 0x402000, "BAD_ENTRY"),                                # not in text
    (simple_phdrs(), 0x400010, "BAD_ENTRY"),                                # in a non-exec segment
    (simple_phdrs(), 0x401800, "BAD_ENTRY"),                                # past p_memsz
])
def test_segment_errors(phdrs, entry, expected):
    assert code(make_elf(phdrs, entry=entry)) == expected


def test_sixteen_loads_fit():
    ph = simple_phdrs() + [phdr(PT_LOAD, PF_R, 0x1000 * (i % 2), 0x500000 + 0x1000 * i, 0x10) for i in range(13)]
    assert len(parse(make_elf(ph))["loads"]) == elf.MAX_LOADS


def test_null_data_and_strerror():
    with pytest.raises(elf.ElfError) as e:
        elf.parse(make_elf(simple_phdrs()), null_data=True)
    assert e.value.name == "BAD_ARGUMENT"
    for name, c in E.items():
        assert elf.strerror(c) and elf.strerror(c) != "unknown ELF error", name
    assert "PT_INTERP" in elf.strerror(E["DYNAMIC"])
    assert elf.strerror(-99) == "unknown ELF error"


# --------------------------------------------------------- random mutations

BASE = make_elf([phdr(PT_PHDR, PF_R, 64, 0x400040, 56 * 6)] + simple_phdrs() +
                [phdr(PT_TLS, PF_R, 0x1fd0, 0x402fd0, 0x10, 0x20, align=8)], size=0x2100)


def check_invariants(p, length):
    L = p["loads"]
    assert 1 <= len(L) <= elf.MAX_LOADS
    for i, s in enumerate(L):
        assert s["start"] % PAGE == 0 and s["end"] % PAGE == 0 and s["start"] < s["end"]
        assert elf.MIN_VADDR <= s["start"] and s["end"] <= elf.USER_END
        assert s["file_offset"] % PAGE == 0 and s["file_offset"] + s["file_size"] <= length
        assert s["zero_start"] == s["start"] + s["file_size"] and s["zero_start"] + s["zero_size"] == s["end"]
        assert s["start"] <= s["vaddr"] and s["vaddr"] + s["memsz"] <= s["end"]
        if i:
            assert L[i - 1]["end"] <= s["start"]
    assert any(s["prot"] & elf.PROT_X and s["vaddr"] <= p["entry"] < s["vaddr"] + s["memsz"] for s in L)
    assert any(s["start"] <= p["phdr"] and p["phdr"] + 56 * p["phnum"] <= s["end"] for s in L)
    assert p["brk"] == L[-1]["end"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 64 + 56 * 7 - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(BASE)))
def test_mutations_never_read_out_of_bounds(edits, cut):
    blob = bytearray(BASE)
    for at, v in edits:
        blob[at] = v
    data = bytes(blob[:cut]) if cut < len(BASE) and edits and edits[0][1] & 1 else bytes(blob)
    try:
        p = parse(data)
    except elf.ElfError:
        return
    check_invariants(p, len(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([PT_LOAD, PT_LOAD, PT_LOAD, PT_PHDR, PT_GNU_STACK, PT_TLS, PT_NOTE]),
                          st.integers(0, 7), st.integers(0, 0x3000), st.integers(0, 2 ** 48),
                          st.integers(0, 0x3000), st.integers(0, 0x10000), st.sampled_from([0, 1, 16, PAGE, 0x200000, 3])),
                min_size=1, max_size=10),
       st.integers(0, 2 ** 48), st.sampled_from([ET_EXEC, ET_DYN]))
def test_random_headers(rows, entry, e_type):
    ph = [phdr(t, f, off, va, fs, fs + ms, al) for t, f, off, va, fs, ms, al in rows]
    data = make_elf(ph, entry=entry, e_type=e_type, size=0x4000)
    try:
        p = parse(data)
    except elf.ElfError:
        return
    check_invariants(p, len(data))


# ----------------------------------------------------------- real binaries

def readelf_phdrs(data: bytes):
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    out = []
    for i in range(phnum):
        t, f, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i)
        out.append(dict(type=t, flags=f, offset=off, vaddr=va, filesz=fs, memsz=ms))
    return phoff, out


def expected_plan(data: bytes, bias: int):
    phoff, ph = readelf_phdrs(data)
    loads = [p for p in ph if p["type"] == PT_LOAD]
    entry, = struct.unpack_from("<Q", data, 24)
    return dict(entry=entry + bias, phnum=len(ph),
                starts=[(p["vaddr"] + bias) & ~(PAGE - 1) for p in loads],
                brk=(loads[-1]["vaddr"] + bias + loads[-1]["memsz"] + PAGE - 1) & ~(PAGE - 1))


@pytest.fixture(scope="module")
def musl_programs(tmp_path_factory):
    why = musl.available()
    if why:
        pytest.skip(why)
    src = tmp_path_factory.mktemp("elf") / "hello.c"
    src.write_text('#include <stdio.h>\n__thread int t = 5;\nint main(void){printf("hi %d\\n", t);return 0;}\n')
    return musl.build(src), musl.build(src, static_pie=True)


def test_musl_static(musl_programs):
    data = musl_programs[0].read_bytes()
    p = parse(data)
    exp = expected_plan(data, 0)
    assert p["type"] == ET_EXEC and p["entry"] == exp["entry"] and p["brk"] == exp["brk"]
    assert [s["start"] for s in p["loads"]] == exp["starts"]
    assert p["phnum"] == exp["phnum"] and p["has_tls"]
    check_invariants(p, len(data))


def test_musl_static_pie(musl_programs):
    data = musl_programs[1].read_bytes()
    assert struct.unpack_from("<H", data, 16)[0] == ET_DYN
    p = parse(data)
    exp = expected_plan(data, p["bias"])
    assert p["bias"] == elf.DEFAULT_DYN_BASE and p["entry"] == exp["entry"]
    assert [s["start"] for s in p["loads"]] == exp["starts"]
    check_invariants(p, len(data))


def test_dynamic_executables_refused(tmp_path):
    for exe in (shutil.which("true"), shutil.which("musl-gcc") and _dynamic_musl(tmp_path)):
        if exe:
            assert code(Path(exe).read_bytes()) == "DYNAMIC", exe


def _dynamic_musl(tmp_path):
    src = tmp_path / "dyn.c"
    src.write_text("int main(void){return 0;}\n")
    out = tmp_path / "dyn"
    r = subprocess.run(["musl-gcc", "-O2", str(src), "-o", str(out)], capture_output=True)
    return out if r.returncode == 0 else None


def test_beam_smp():
    from tyn.build import erts
    cached = sorted(erts.cache_root().glob("otp-*/erts-*/bin/beam.smp"))
    if not cached:
        pytest.skip("no cached ERTS")
    data = cached[0].read_bytes()
    p = parse(data)
    exp = expected_plan(data, 0)
    assert p["type"] == ET_EXEC and p["entry"] == exp["entry"] and p["brk"] == exp["brk"]
    assert [s["start"] for s in p["loads"]] == exp["starts"]
    assert p["phdr"] == p["loads"][0]["start"] + 64
    check_invariants(p, len(data))
