"""proc/initstack: the initial user stack, checked by decoding it and against Linux itself.

The differential test runs tests/guest/tools/auxdump.c (static musl) on the host with ASLR
off, takes the stack Linux built for the same argv/envp/execfn, and compares it with what
initstack_build lays out given the same inputs (random bytes, hwcap, ELF values).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tyn.twins import initstack_twin as ist
from tyn.twins import elf_twin as elf
from guest import musl

TOP = 0x7ffffffff000
A = ist.AUX
NAMES = {v: k for k, v in A.items()}
RANDOM = bytes(range(0x10, 0x20))


def u64(mem: bytes, base: int, addr: int) -> int:
    return struct.unpack_from("<Q", mem, addr - base)[0]


def cstr(mem: bytes, base: int, addr: int) -> bytes:
    i = addr - base
    return mem[i:mem.index(b"\0", i)]


def decode(mem: bytes, base: int, rsp: int):
    """argc, argv, envp (as strings) and the auxv pairs starting at rsp."""
    argc = u64(mem, base, rsp)
    p = rsp + 8
    argv = [cstr(mem, base, u64(mem, base, p + 8 * i)) for i in range(argc)]
    assert u64(mem, base, p + 8 * argc) == 0
    p += 8 * (argc + 1)
    envp = []
    while (ptr := u64(mem, base, p)) != 0:
        envp.append(cstr(mem, base, ptr))
        p += 8
    p += 8
    auxv = []
    while True:
        k, v = u64(mem, base, p), u64(mem, base, p + 8)
        auxv.append((k, v))
        p += 16
        if k == 0:
            break
    return argc, argv, envp, auxv, p


def build(argv, envp, execfn, **kw):
    rc, mem, lay = ist.build(argv, envp, execfn, RANDOM, **kw)
    assert rc > 0, rc
    return rc, mem, lay


def test_layout_decodes():
    argv, envp = ["/bin/prog", "-x", "", "arg with spaces"], ["HOME=/", "PATH=/bin", "E="]
    rsp, mem, lay = build(argv, envp, "/bin/prog", phdr=0x400040, phnum=7, entry=0x401234, hwcap=0x178bfbff)
    base = TOP - (1 << 20)
    assert rsp % 16 == 0 and rsp == lay["rsp"] and lay["size"] == TOP - rsp
    argc, av, ev, auxv, end = decode(mem, base, rsp)
    assert (argc, av, ev) == (4, [a.encode() for a in argv], [e.encode() for e in envp])
    d = dict(auxv)
    assert [NAMES[k] for k, _ in auxv] == [
        "AT_HWCAP", "AT_PAGESZ", "AT_CLKTCK", "AT_PHDR", "AT_PHENT", "AT_PHNUM", "AT_BASE", "AT_FLAGS",
        "AT_ENTRY", "AT_UID", "AT_EUID", "AT_GID", "AT_EGID", "AT_SECURE", "AT_RANDOM", "AT_HWCAP2",
        "AT_EXECFN", "AT_PLATFORM", "AT_NULL"]
    assert d[A["AT_PHDR"]] == 0x400040 and d[A["AT_PHNUM"]] == 7 and d[A["AT_PHENT"]] == 56
    assert d[A["AT_ENTRY"]] == 0x401234 and d[A["AT_HWCAP"]] == 0x178bfbff and d[A["AT_PAGESZ"]] == 4096
    assert d[A["AT_CLKTCK"]] == 100 and d[A["AT_SECURE"]] == 0
    assert all(d[A[k]] == 0 for k in ("AT_UID", "AT_EUID", "AT_GID", "AT_EGID", "AT_BASE", "AT_FLAGS"))
    r = d[A["AT_RANDOM"]]
    assert mem[r - base:r - base + 16] == RANDOM and r == lay["random"]
    assert cstr(mem, base, d[A["AT_PLATFORM"]]) == b"x86_64" and d[A["AT_PLATFORM"]] == r + 16
    assert cstr(mem, base, d[A["AT_EXECFN"]]) == b"/bin/prog"
    # execfn ends 8 bytes below the top, which stay zero; strings are contiguous, argv[0] lowest
    assert d[A["AT_EXECFN"]] + len("/bin/prog") + 1 == TOP - 8 and mem[-8:] == bytes(8)
    assert lay["strings"] == u64(mem, base, rsp + 8) and lay["env_start"] == u64(mem, base, lay["envp"])
    assert lay["strings"] & ~15 == d[A["AT_PLATFORM"]] + 7
    # padding between the end of auxv and the random bytes is zero, and short
    assert end <= r and end + 16 > r - 0 and mem[end - base:r - base] == bytes(r - end)
    # nothing below rsp was written
    assert set(mem[:rsp - base]) == {0xAA}


def test_minsigstksz_first():
    _, mem, lay = build(["a"], [], "/a", minsigstksz=3632)
    _, _, _, auxv, _ = decode(mem, TOP - (1 << 20), lay["rsp"])
    assert auxv[0] == (A["AT_MINSIGSTKSZ"], 3632) and len(auxv) == 20


def test_sysinfo_ehdr_before_minsigstksz():
    """x86_64's ARCH_DLINFO: the vDSO's address first, then AT_MINSIGSTKSZ, then the rest."""
    _, mem, lay = build(["a"], [], "/a", minsigstksz=3632, sysinfo_ehdr=0x7ffff8000000)
    _, _, _, auxv, _ = decode(mem, TOP - (1 << 20), lay["rsp"])
    assert auxv[:3] == [(A["AT_SYSINFO_EHDR"], 0x7ffff8000000), (A["AT_MINSIGSTKSZ"], 3632),
                        (A["AT_HWCAP"], 0)] and len(auxv) == 21


def test_no_args_no_env():
    rsp, mem, lay = build([], [], "/init")
    argc, av, ev, auxv, _ = decode(mem, TOP - (1 << 20), rsp)
    assert (argc, av, ev) == (0, [], [])


def test_dry_run_and_exact_fit():
    args = (["/x", "y" * 1000], ["A=" + "b" * 3000], "/x")
    rc, mem, lay = ist.build(*args, RANDOM, dry_run=True)
    assert mem is None and rc == lay["rsp"]
    rc2, mem2, lay2 = ist.build(*args, RANDOM, buf_size=lay["size"])
    assert rc2 == rc and lay2 == lay and len(mem2) == lay["size"]
    rc3, _, _ = ist.build(*args, RANDOM, buf_size=lay["size"] - 1)
    assert rc3 == ist.E2BIG


def test_other_stack_top():
    rsp, mem, lay = build(["p"], ["K=V"], "/p", stack_top=0x10000000)
    assert rsp < 0x10000000 and rsp % 16 == 0
    assert decode(mem, 0x10000000 - (1 << 20), rsp)[1] == [b"p"]


def test_errors():
    assert ist.build(["a"], [], "/a", RANDOM, stack_top=TOP + 8)[0] == ist.EINVAL
    assert ist.build(["a"], [], "/a", RANDOM, null_execfn=True)[0] == ist.EINVAL
    assert ist.build(["a"], [], "/a", RANDOM, stack_top=0)[0] == ist.EINVAL
    assert ist.build(["a" * 131072], [], "/a", RANDOM, buf_size=1 << 20)[0] == ist.E2BIG
    assert ist.build(["a" * 131071], [], "/a", RANDOM, buf_size=1 << 20)[0] > 0
    assert ist.build(["a"], [], "/a", RANDOM, buf_size=64)[0] == ist.E2BIG
    # a stack too low in the address space for its contents
    assert ist.build(["a" * 5000], [], "/a", RANDOM, stack_top=0x2000, dry_run=True)[0] == ist.E2BIG


text = st.text(st.characters(min_codepoint=1, max_codepoint=0x2ff), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(text, max_size=12), st.lists(text, max_size=12), text.filter(bool),
       st.sampled_from([TOP, 0x7fff0000, 0x400000]), st.integers(0, 1))
def test_random_inputs(argv, envp, execfn, top, mss):
    rsp, mem, lay = build(argv, envp, execfn, stack_top=top, minsigstksz=mss * 2048, buf_size=1 << 16)
    base = top - (1 << 16)
    argc, av, ev, auxv, end = decode(mem, base, rsp)
    assert rsp % 16 == 0 and (argc, av, ev) == (len(argv), [a.encode() for a in argv], [e.encode() for e in envp])
    d = dict(auxv)
    assert cstr(mem, base, d[A["AT_EXECFN"]]) == execfn.encode()
    assert mem[d[A["AT_RANDOM"]] - base:][:16] == RANDOM
    assert end <= d[A["AT_RANDOM"]] < end + 16
    assert set(mem[:rsp - base]) <= {0xAA}
    assert ist.build(argv, envp, execfn, RANDOM, stack_top=top, minsigstksz=mss * 2048, dry_run=True)[2] == lay


def test_cpu_hwcap_is_cpuid1_edx():
    flags = Path("/proc/cpuinfo").read_text()
    h = ist.cpu_hwcap()
    assert h & 1 and h < 2 ** 32                      # FPU
    assert bool(h & (1 << 25)) == (" sse " in flags)  # SSE


# ------------------------------------------------------------------ Linux

@pytest.fixture(scope="module")
def auxdump():
    why = musl.available()
    if why:
        pytest.skip(why)
    if shutil.which("setarch") is None:
        pytest.skip("setarch (util-linux) missing: cannot turn ASLR off")
    return musl.build(Path(__file__).parent / "guest" / "tools" / "auxdump.c")


@pytest.mark.parametrize("argv, env", [
    ([], {}),
    (["one"], {"A": "1"}),
    (["x" * 17, "", "three 3", "ünï"], {"HOME": "/", "PATH": "/bin:/usr/bin", "LONG": "v" * 300, "E": ""}),
    (["a", "bb", "ccc"], {"K1": "x", "K2": "yy"}),
])
def test_matches_linux(auxdump, tmp_path, argv, env):
    exe = tmp_path / "auxdump-with-a-longer-name"
    exe.write_bytes(auxdump.read_bytes())
    exe.chmod(0o755)
    r = subprocess.run(["setarch", "-R", str(exe), *argv], env=env, capture_output=True, timeout=30)
    if r.returncode != 0:
        pytest.skip(f"auxdump under setarch -R failed: {r.returncode} {r.stderr[-200:]!r}")
    lines = dict(line.split(" ", 1) for line in r.stdout.decode().splitlines())
    top, rsp_l, dump = int(lines["top"], 16), int(lines["rsp"], 16), bytes.fromhex(lines["dump"])
    assert rsp_l + len(dump) == top
    argc, av, ev, auxv_l, end_l = decode(dump, rsp_l, rsp_l)
    dl = dict(auxv_l)
    argv_b = [str(exe).encode()] + [a.encode() for a in argv]
    envp_b = [f"{k}={v}".encode() for k, v in env.items()]
    assert (av, ev) == (argv_b, envp_b)
    # the same ELF values the kernel would get from proc/elf
    plan = elf.parse(exe.read_bytes())
    assert (dl[A["AT_PHDR"]], dl[A["AT_PHENT"]], dl[A["AT_PHNUM"]], dl[A["AT_ENTRY"]]) == \
        (plan["phdr"], plan["phent"], plan["phnum"], plan["entry"])
    rnd = dump[dl[A["AT_RANDOM"]] - rsp_l:][:16]
    kw = dict(stack_top=top, phdr=plan["phdr"], phent=plan["phent"], phnum=plan["phnum"], entry=plan["entry"],
              hwcap=dl[A["AT_HWCAP"]], hwcap2=dl.get(A["AT_HWCAP2"], 0),
              minsigstksz=dl.get(A["AT_MINSIGSTKSZ"], 0))
    rc, mem, lay = ist.build(argv_b, envp_b, str(exe).encode(), rnd, **kw)
    assert rc > 0
    base = top - (1 << 20)
    argc_m, av_m, ev_m, auxv_m, end_m = decode(mem, base, rc)
    # Strings, platform and random bytes: the same bytes at the same addresses.
    r = lay["random"]
    assert r == dl[A["AT_RANDOM"]] and lay["platform"] == dl[A["AT_PLATFORM"]]
    assert lay["execfn"] == dl[A["AT_EXECFN"]]
    assert mem[r - base:] == dump[r - rsp_l:]
    # argv/envp pointers: identical
    assert [u64(mem, base, lay["argv"] + 8 * i) for i in range(len(argv_b))] == \
        [u64(dump, rsp_l, rsp_l + 8 + 8 * i) for i in range(len(argv_b))]
    # auxv: Linux's, minus what Tyn does not offer (vDSO, rseq), in the same order with the same values
    absent = {A["AT_SYSINFO_EHDR"], A["AT_RSEQ_FEATURE_SIZE"], A["AT_RSEQ_ALIGN"]}
    unknown = [k for k, _ in auxv_l if k not in NAMES]
    assert not unknown, f"Linux offers aux entries this test does not know: {unknown}"
    assert auxv_m == [(k, v) for k, v in auxv_l if k not in absent]
    # Padding: zero on both sides; the final rsp follows Linux's rule for either auxv length.
    assert dump[end_l - rsp_l:r - rsp_l] == bytes(r - end_l) and mem[end_m - base:r - base] == bytes(r - end_m)
    items = len(argv_b) + 1 + len(envp_b) + 1 + 1
    assert rsp_l == (r - 16 * len(auxv_l) - 8 * items) & ~15
    assert rc == (r - 16 * len(auxv_m) - 8 * items) & ~15
