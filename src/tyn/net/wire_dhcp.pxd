# DHCP messages (RFC 2131 over BOOTP, RFC 951; options RFC 2132).  Addresses host order.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef enum:
    BOOTREQUEST = 1
    BOOTREPLY = 2
    DHCP_SERVER_PORT = 67
    DHCP_CLIENT_PORT = 68
    DHCP_FIXED_LEN = 236            # BOOTP header before the options
    DHCP_MIN_LEN = 300              # BOOTP's minimum message (RFC 1542 §2.1: pad to it)
    DHCP_MAX_LEN = 576              # what every client must accept (RFC 2131 §2)
    DHCP_FLAG_BROADCAST = 0x8000
    # message types (option 53)
    DHCPDISCOVER = 1
    DHCPOFFER = 2
    DHCPREQUEST = 3
    DHCPDECLINE = 4
    DHCPACK = 5
    DHCPNAK = 6
    DHCPRELEASE = 7
    # options
    DHO_PAD = 0
    DHO_SUBNET_MASK = 1
    DHO_ROUTERS = 3
    DHO_DOMAIN_NAME_SERVERS = 6
    DHO_HOST_NAME = 12
    DHO_DOMAIN_NAME = 15
    DHO_DHCP_REQUESTED_ADDRESS = 50
    DHO_DHCP_LEASE_TIME = 51
    DHO_DHCP_MESSAGE_TYPE = 53
    DHO_DHCP_SERVER_IDENTIFIER = 54
    DHO_DHCP_PARAMETER_REQUEST_LIST = 55
    DHO_DHCP_MAX_MESSAGE_SIZE = 57
    DHO_DHCP_RENEWAL_TIME = 58
    DHO_DHCP_REBINDING_TIME = 59
    DHO_DHCP_CLIENT_IDENTIFIER = 61
    DHO_END = 255
    DHCP_MAX_DNS = 3
    DHCP_DOMAIN_MAX = 64            # bytes kept, NUL included
    # dhcp_message.present bits: which options the message carried
    DHCP_HAS_SUBNET_MASK = 1 << 0
    DHCP_HAS_ROUTER = 1 << 1
    DHCP_HAS_LEASE_TIME = 1 << 2
    DHCP_HAS_SERVER_ID = 1 << 3
    DHCP_HAS_RENEWAL_TIME = 1 << 4
    DHCP_HAS_REBINDING_TIME = 1 << 5
    DHCP_HAS_REQUESTED_ADDRESS = 1 << 6

cdef struct dhcp_message:
    uint8_t op                      # BOOTREQUEST / BOOTREPLY
    uint32_t xid
    uint16_t secs
    uint16_t flags
    uint32_t ciaddr                 # client's address (RENEWING/REBINDING)
    uint32_t yiaddr                 # "your" address, offered/assigned
    uint32_t siaddr
    uint32_t giaddr
    uint8_t chaddr[6]
    uint8_t message_type            # DHCP* (0: plain BOOTP, which we ignore)
    uint32_t present                # DHCP_HAS_*
    uint32_t server_id
    uint32_t requested_address
    uint32_t subnet_mask
    uint32_t router                 # the first router listed
    uint32_t dns[DHCP_MAX_DNS]
    uint32_t dns_count
    uint32_t lease_time             # seconds
    uint32_t renewal_time           # T1, seconds
    uint32_t rebinding_time         # T2, seconds
    char domain_name[DHCP_DOMAIN_MAX]

# NET_OK or NET_DROP_DHCP_MALFORMED (short, not Ethernet, no magic cookie, an option
# running past the end).  Options are read from the options field only (no overload).
cdef extern int wire_dhcp_parse(const uint8_t *data, uint32_t len, dhcp_message *out) noexcept nogil
# Write a client message (op, xid, secs, flags, ciaddr, chaddr; options: message type,
# requested address and server id when present, a parameter request list, max message
# size) into buf (at least DHCP_MIN_LEN bytes); returns its length.
cdef extern uint32_t wire_dhcp_emit(uint8_t *buf, uint32_t cap, const dhcp_message *msg) noexcept nogil
