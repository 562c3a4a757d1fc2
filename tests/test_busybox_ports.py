"""Port programs beside the BEAM: `tyn.build image --busybox` puts Debian's busybox-static
in the image (/bin/sh and the applet links), and then os:cmd/1, open_port with
spawn_executable (a static program over stdin/stdout) and exit statuses work in the guest
as under hostrun.  Without the option the error is clear and the VM keeps running.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from tyn.build import erts, image as image_mod

REPO = Path(__file__).resolve().parents[1]
PREFIX = "bb "

# One line per check: "bb <name>: <term>".  Only what is the same on Linux and in the guest
# (hostrun's `ls /` lists the host's root: the guest's own root is checked apart).
PROGRAM = r'''
Out = fun(K, V) -> io:format("bb ~s: ~0p~n", [K, V]) end,
Out("cmd.echo", os:cmd("echo hi; echo there")),
Root = string:split(os:cmd("ls /"), "\n", all),
Out("cmd.ls_root", [D || D <- ["bin", "etc", "tmp"], lists:member(D, Root)]),
Out("root", Root),
Out("cmd.pipeline", os:cmd("echo one two three | tr ' ' '\\n' | sed -n 2p")),
Out("cmd.exit_code_in_shell", os:cmd("sh -c 'exit 5'; echo $?")),
Head = open_port({spawn_executable, "/usr/bin/head"}, [binary, exit_status, use_stdio, {args, ["-n", "1"]}]),
port_command(Head, <<"ping\n">>),
Collect = fun Loop(P, Acc) -> receive {P, {data, D}} -> Loop(P, [D | Acc]);
                                       {P, {exit_status, S}} -> {iolist_to_binary(lists:reverse(Acc)), S}
                             after 20000 -> timeout end end,
Out("port.head", Collect(Head, [])),
Cat = open_port({spawn_executable, "/bin/cat"}, [binary, use_stdio, exit_status]),
port_command(Cat, <<"echo back">>),
Out("port.cat", receive {Cat, {data, CD}} -> CD after 20000 -> timeout end),
port_close(Cat),
Sh = fun(Cmd) -> P = open_port({spawn_executable, "/bin/sh"}, [binary, exit_status, {args, ["-c", Cmd]}]),
                 Collect(P, []) end,
Out("port.exit_3", Sh("exit 3")),
Out("port.killed", Sh("kill -9 $$")),
Out("port.spawn", begin P = open_port({spawn, "echo spawned"}, [binary, exit_status]), Collect(P, []) end),
Out("port.missing", try open_port({spawn_executable, "/no/such/program"}, []) catch error:E -> {error, E} end),
Out("port.many", [os:cmd("echo " ++ integer_to_list(I)) || I <- lists:seq(1, 12)]),
Out("alive", is_process_alive(self())),
halt().
'''

EXPECTED = {
    "cmd.echo": '"hi\\nthere\\n"',
    "cmd.ls_root": '["bin","etc","tmp"]',
    "cmd.pipeline": '"two\\n"',
    "cmd.exit_code_in_shell": '"5\\n"',
    "port.head": '{<<"ping\\n">>,0}',
    "port.cat": '<<"echo back">>',
    "port.exit_3": '{<<>>,3}',
    "port.killed": '{<<>>,137}',
    "port.spawn": '{<<"spawned\\n">>,0}',
    "port.missing": '{error,enoent}',
    "port.many": '["1\\n","2\\n","3\\n","4\\n","5\\n","6\\n","7\\n","8\\n","9\\n","10\\n","11\\n","12\\n"]',
    "alive": 'true',
}

# Without --busybox there is no /bin/sh: os:cmd gives what the shell's exec failure leaves
# (no output, or epipe: see below) and spawn_executable of it is enoent, and the VM goes on.
PROGRAM_WITHOUT = r'''
Out = fun(K, V) -> io:format("bb ~s: ~0p~n", [K, V]) end,
%% The shell child's failed exec races os:cmd's write of the command (on Linux too): the
%% pipe is either still open (no output) or already closed (the port, linked, exits epipe).
Self = self(),
{Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), os:cmd("echo hi")} end),
Out("cmd.echo", receive {Pid, O} -> O; {'DOWN', Ref, process, Pid, Why} -> {exited, Why} end),
Out("port.sh", try open_port({spawn_executable, "/bin/sh"}, [{args, ["-c", "true"]}]) catch error:E -> {error, E} end),
Out("alive", is_process_alive(self())),
halt().
'''

EXPECTED_WITHOUT = {"cmd.echo": ('[]', '{exited,epipe}'), "port.sh": ("{error,enoent}",), "alive": ("true",)}


# Printed but not compared: `ls /` itself (hostrun lists the host's root).
APART = ("root",)


def checks(text: str, apart: bool = False) -> dict[str, str]:
    got = {}
    for line in text.replace("\r\n", "\n").splitlines():
        if line.startswith(PREFIX) and ": " in line:
            k, v = line[len(PREFIX):].split(": ", 1)
            if apart == (k in APART):
                got[k] = v
    return got


def build(tmp_path_factory, program: str, busybox: bool) -> Path:
    out = tmp_path_factory.mktemp("busybox") / ("bb.img" if busybox else "plain.img")
    args = [sys.executable, "-m", "tyn.build", "image", "--eval", program, "-o", str(out)]
    p = subprocess.run(args + (["--busybox"] if busybox else []), capture_output=True, text=True, cwd=REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.fixture(scope="module")
def bb_image(tmp_path_factory) -> Path:
    return build(tmp_path_factory, PROGRAM, True)


@pytest.fixture(scope="module")
def plain_image(tmp_path_factory) -> Path:
    return build(tmp_path_factory, PROGRAM_WITHOUT, False)


def test_image_has_busybox_and_links(bb_image):
    from tyn.build.cpio import read_members
    from tyn.hostrun import extract_cpio
    blob = extract_cpio(bb_image.read_bytes(), str(bb_image))
    members = {m.name: m for m in read_members(blob)}
    assert members["bin/busybox"].data == erts.ensure_busybox().read_bytes()
    assert members["bin/sh"].is_symlink and members["bin/sh"].data == b"busybox"
    assert members["usr/bin/head"].is_symlink and members["usr/bin/head"].data == b"../../bin/busybox"
    env = dict(line.split("=", 1) for line in members["etc/tyn/env"].data.decode().splitlines() if "=" in line)
    assert env["PATH"].split(":")[-4:] == list(image_mod.BUSYBOX_DIRS)


def test_help_names_the_option():
    p = subprocess.run([sys.executable, "-m", "tyn.build", "image", "--help"], capture_output=True, text=True,
                       cwd=REPO)
    assert "--busybox" in p.stdout and "busybox-static" in p.stdout


def test_hostrun(bb_image):
    p = subprocess.run([sys.executable, "-m", "tyn.hostrun", str(bb_image)], capture_output=True, text=True,
                       timeout=300, cwd=REPO, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    assert checks(p.stdout) == EXPECTED


def test_guest(bb_image, boot):
    vm = boot(bb_image, accel="tcg", timeout=600)
    vm.expect_exit(0)
    assert checks(vm.log) == EXPECTED, vm.log[-4000:]
    # The guest's own root filesystem, seen through busybox's ls.
    assert checks(vm.log, apart=True)["root"] == '["bin","dev","etc","otp","sbin","tmp","usr",[]]'



@pytest.mark.parametrize("smp", [1, 2])
def test_guest_without_busybox(plain_image, boot, smp):
    vm = boot(plain_image, accel="tcg", args=["--smp", str(smp)], timeout=600)
    vm.expect_exit(0)
    got = checks(vm.log)
    assert got.keys() == EXPECTED_WITHOUT.keys(), vm.log[-4000:]
    assert all(got[k] in EXPECTED_WITHOUT[k] for k in got), vm.log[-4000:]
