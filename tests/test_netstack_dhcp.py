"""The DHCP client (net/dhcp.pyx) against a scripted scapy DHCP server, and the command-line
configuration (net/netconfig.pyx)."""

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

from net_support import *  # noqa: F403
from net_support import ns, start_stack

XID = 0x1234ABCD
SERVER = GW
DNS = "10.0.2.3"
LEASE = 3600


@pytest.fixture
def bare():
    start_stack(configure=False)
    yield ns


def options_of(p) -> dict:
    return {o[0]: o[1:] for o in p[DHCP].options if isinstance(o, tuple)}


def client_message(expect_type, broadcast=True):
    frames = sent()
    if len(frames) == 1 and ARP in frames[0]:          # the server's address expired from the cache
        assert frames[0][ARP].pdst == SERVER
        feed(eth_to_me(ARP(op=2, hwsrc=GW_MAC, psrc=GW, hwdst=MY_MAC, pdst=ME), GW_MAC))
        frames = sent()
    f = only(frames)
    assert f[UDP].sport == 68 and f[UDP].dport == 67
    if broadcast:
        assert f.dst == BROADCAST_MAC and f[IP].dst == "255.255.255.255"
    b = f[BOOTP]
    assert b.op == 1 and b.chaddr[:6] == mac_bytes(MY_MAC)
    opts = options_of(f)
    assert opts["message-type"] == ({"discover": 1, "request": 3}[expect_type],)
    assert len(bytes(f[BOOTP])) >= 300
    return f, opts


def server_reply(kind, xid, yiaddr=ME, extra=(), dst="255.255.255.255", server=SERVER):
    opts = [("message-type", kind), ("server_id", server)]
    if kind in ("offer", "ack"):
        opts += [("subnet_mask", "255.255.255.0"), ("router", GW), ("name_server", DNS, "10.0.2.4"),
                 ("lease_time", LEASE), ("domain", b"example.test")]
    opts += list(extra) + ["end"]
    return (Ether(src=GW_MAC, dst=BROADCAST_MAC if dst == "255.255.255.255" else MY_MAC)
            / IP(src=server, dst=dst) / UDP(sport=67, dport=68)
            / BOOTP(op=2, xid=xid, yiaddr=yiaddr, siaddr=server, chaddr=mac_bytes(MY_MAC) + b"\0" * 10)
            / DHCP(options=opts))


def acquire():
    assert ns.dhcp_begin(XID) == 0
    d, _ = client_message("discover")
    assert d[BOOTP].xid == XID and d[IP].src == "0.0.0.0"
    assert ns.dhcp_current_state() == "selecting"
    feed(server_reply("offer", XID))
    r, opts = client_message("request")
    assert opts["requested_addr"] == (ME,) and opts["server_id"] == (SERVER,) and r[BOOTP].xid == XID
    assert ns.dhcp_current_state() == "requesting"
    feed(server_reply("ack", XID, dst=ME))
    assert ns.dhcp_current_state() == "bound"


def test_full_exchange_configures_interface_and_resolver(bare):
    acquire()
    assert ns.addr() == (ip(ME), ip("255.255.255.0"), ip(GW))
    assert ns.resolver() == ([ip(DNS), ip("10.0.2.4")], "example.test")
    lease = ns.dhcp_current_lease()
    assert lease["lease_time"] == LEASE and lease["server_id"] == ip(SERVER)
    assert ns.next_deadline() == LEASE // 2 * SECOND    # T1
    feed(ping())                                         # the address works
    assert only(sent())[ARP].pdst == PEER


def test_discover_retransmitted_with_backoff(bare):
    ns.dhcp_begin(XID)
    client_message("discover")
    times = []
    for _ in range(6):
        t = ns.next_deadline()
        times.append(t // SECOND)
        ns.timers_run(t)
        d, _ = client_message("discover")
        assert d[BOOTP].xid == XID
    assert times == [4, 12, 28, 60, 124, 188]            # 4, 8, 16, 32, 64, 64 s apart
    assert d[BOOTP].secs == 188


def test_request_retransmitted_then_discovery_restarts(bare):
    ns.dhcp_begin(XID)
    client_message("discover")
    feed(server_reply("offer", XID))
    client_message("request")
    for _ in range(3):
        ns.timers_run(ns.next_deadline())
        client_message("request")
    ns.timers_run(ns.next_deadline())
    d, _ = client_message("discover")
    assert d[BOOTP].xid != XID


def test_nak_restarts_discovery(bare):
    ns.dhcp_begin(XID)
    client_message("discover")
    feed(server_reply("offer", XID))
    client_message("request")
    feed(server_reply("nak", XID))
    d, _ = client_message("discover")
    assert ns.dhcp_current_state() == "selecting" and ns.addr()[0] == 0


def test_foreign_and_malformed_replies_ignored(bare):
    ns.dhcp_begin(XID)
    client_message("discover")
    feed(server_reply("offer", XID + 1))                              # another client's transaction
    feed(server_reply("ack", XID))                                    # not an offer while selecting
    feed(server_reply("offer", XID, yiaddr="0.0.0.0"))
    bad = bytearray(bytes(server_reply("offer", XID)))
    bad[14 + 20 + 8 + 236:14 + 20 + 8 + 240] = b"\0\0\0\0"            # no magic cookie
    ns.input(bytes(bad[:14 + 20]) + bytes(bad[14 + 20:]))
    assert sent() == [] and ns.dhcp_current_state() == "selecting"
    assert drops().get("drop_dhcp_unexpected") == 3
    # The UDP checksum no longer matches after the edit, so the cookie case is a UDP drop.
    assert drops().get("drop_udp_bad_checksum", 0) + drops().get("drop_dhcp_malformed", 0) == 1


def test_option_running_past_the_end_is_malformed(bare):
    ns.dhcp_begin(XID)
    client_message("discover")
    p = server_reply("offer", XID)
    payload = bytes(p[BOOTP])
    cut = payload[:payload.index(b"\xff", 240)] + bytes([15, 40]) + b"short"
    feed(Ether(src=GW_MAC, dst=BROADCAST_MAC) / IP(src=SERVER, dst="255.255.255.255") / UDP(sport=67, dport=68) / cut)
    assert drops() == {"drop_dhcp_malformed": 1}


def test_renew_at_t1_unicast_to_server(bare):
    acquire()
    ns.timers_run(LEASE // 2 * SECOND)
    r, opts = client_message("request", broadcast=False)
    assert r[IP].dst == SERVER and r[IP].src == ME and r[BOOTP].ciaddr == ME
    assert "requested_addr" not in opts and "server_id" not in opts
    assert ns.dhcp_current_state() == "renewing"
    feed(server_reply("ack", r[BOOTP].xid, dst=ME))
    assert ns.dhcp_current_state() == "bound"
    ns.timers_run((LEASE // 2 + 300) * SECOND)            # the server's ARP entry expires
    assert ns.next_deadline() == (LEASE // 2 + LEASE // 2) * SECOND   # the new T1


def run_until(end_ns) -> list:
    """Run every timer due before end_ns, answering the stack's ARP requests for the server;
    the DHCP messages the client sent, with their times."""
    messages = []
    while 0 < ns.next_deadline() < end_ns:
        t = ns.next_deadline()
        ns.timers_run(t)
        for f in sent():
            if ARP in f:
                feed(eth_to_me(ARP(op=2, hwsrc=GW_MAC, psrc=GW, hwdst=MY_MAC, pdst=ME), GW_MAC))
                f = only(sent())
            messages.append((t // SECOND, f))
    return messages


def test_rebind_at_t2_then_expiry_removes_the_address(bare):
    acquire()
    t1, t2 = LEASE // 2, LEASE * 7 // 8
    renewals = run_until(t2 * SECOND)
    assert [t for t, _ in renewals] == [t1, t1 + 675, t1 + 675 + 337, 2981, 3065, 3125]
    assert all(f[IP].dst == SERVER and f[BOOTP].ciaddr == ME for _, f in renewals)
    assert ns.dhcp_current_state() == "renewing"
    ns.timers_run(t2 * SECOND)
    r, _ = client_message("request")
    assert r[IP].src == ME and r[BOOTP].ciaddr == ME and ns.dhcp_current_state() == "rebinding"
    rebinds = run_until(LEASE * SECOND)
    assert rebinds and all(f[IP].dst == "255.255.255.255" for _, f in rebinds)
    ns.timers_run(LEASE * SECOND)
    client_message("discover")
    assert ns.addr()[0] == 0 and ns.resolver() == ([], "")
    assert ns.dhcp_current_state() == "selecting"


def test_nak_while_renewing_unbinds(bare):
    acquire()
    ns.timers_run(LEASE // 2 * SECOND)
    r, _ = client_message("request", broadcast=False)
    feed(server_reply("nak", r[BOOTP].xid, dst=ME))
    client_message("discover")
    assert ns.addr()[0] == 0


# ---- configuration from the command line ----

def test_config_parse():
    start_stack(configure=False)
    rc, c = ns.config_parse()
    assert rc == 0 and c["mode"] == 0
    rc, c = ns.config_parse(ip="192.168.7.2/24", gateway="192.168.7.1", dns="1.1.1.1,9.9.9.9", domain="lan")
    assert rc == 0 and c["mode"] == 1
    assert (c["addr"], c["netmask"], c["gateway"]) == (ip("192.168.7.2"), ip("255.255.255.0"), ip("192.168.7.1"))
    assert c["dns"] == [ip("1.1.1.1"), ip("9.9.9.9")] and c["domain"] == b"lan"
    assert ns.config_parse(ip="10.1.2.3/32")[1]["netmask"] == 0xFFFFFFFF
    assert ns.config_parse(ip="off")[1]["mode"] == 2
    for bad in ("10.0.0.1", "10.0.0.1/0", "10.0.0.1/33", "10.0.0/8", "256.0.0.1/8", "1.2.3.4/8x", "0.0.0.0/8", ""):
        assert ns.config_parse(ip=bad)[0] == -1, bad
    assert ns.config_parse(gateway="10.0.0.256")[0] == -2
    assert ns.config_parse(dns="1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4")[0] == -3
    assert ns.config_parse(dns="1.1.1.1,")[0] == -3
    assert ns.config_parse(domain="x" * 64)[0] == -4


def test_static_config_applied(bare):
    assert ns.config_apply(ip="192.168.7.2/24", gateway="192.168.7.1", dns="1.1.1.1", domain="lan") == 0
    assert ns.addr() == (ip("192.168.7.2"), ip("255.255.255.0"), ip("192.168.7.1"))
    assert ns.resolver() == ([ip("1.1.1.1")], "lan")
    assert sent() == [] and ns.dhcp_current_state() == "off"


def test_default_config_starts_dhcp(bare):
    assert ns.config_apply(xid=7) == 0
    d, _ = client_message("discover")
    assert d[BOOTP].xid == 7
