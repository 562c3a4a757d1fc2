/* AF_UNIX datagram sockets: socket(AF_UNIX, SOCK_DGRAM), musl's if_nametoindex (which
 * asks SIOCGIFINDEX on one), socketpair(SOCK_DGRAM) with message boundaries, MSG_TRUNC,
 * MSG_PEEK, SIOCINQ/SIOCOUTQ, a closed peer (ECONNREFUSED, then ENOTCONN), abstract names
 * (bind, EADDRINUSE, EINVAL, the sender's address, ECONNREFUSED), autobind, connect and
 * AF_UNSPEC disconnect, EPERM towards a socket connected elsewhere, the receive queue
 * limit (net.unix.max_dgram_qlen), EMSGSIZE, SCM_RIGHTS, poll.  Abstract names carry the
 * pid (the host's namespace is shared) and are printed only as relations. */
#include "common.h"
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>

static const char *unix_errname(int e)
{
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case EADDRINUSE: return "EADDRINUSE";
    case EMSGSIZE: return "EMSGSIZE";
    case EISCONN: return "EISCONN";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    default: return errname(e);
    }
}
#define errname(e) unix_errname(e)

/* An abstract address "\0tyn-dgram-<pid>-<tag>": its length. */
static socklen_t abstract(struct sockaddr_un *a, const char *tag)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "tyn-dgram-%d-%s", (int)getpid(), tag);
    return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int dgram(void)
{
    return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
}

static void section_socket(void)
{
    SECTION("socket and if_nametoindex");
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    OK("socket", s);
    int v = -1;
    socklen_t len = sizeof v;
    R("SO_TYPE", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
    V("type", v);
    P("protocol 2", socket(AF_UNIX, SOCK_DGRAM, 2) == -1 ? errno : 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    R("SIOCGIFINDEX lo", ioctl(s, SIOCGIFINDEX, &ifr));
    V("lo index", ifr.ifr_ifindex);
    V("if_nametoindex lo", if_nametoindex("lo"));
    errno = 0;
    V("if_nametoindex nope", if_nametoindex("tyn-nope0"));
    struct sockaddr_un a;
    len = sizeof a;
    R("getsockname", getsockname(s, (struct sockaddr *)&a, &len));
    V("unbound name len", len);
    len = sizeof a;
    R("getpeername", getpeername(s, (struct sockaddr *)&a, &len));
    R("listen", listen(s, 1));
    R("accept", accept(s, NULL, NULL));
    char c = 'x';
    R("send unconnected", send(s, &c, 1, MSG_DONTWAIT));
    R("recv empty", recv(s, &c, 1, MSG_DONTWAIT));
    close(s);
}

static void section_pair(void)
{
    int sv[2];
    char buf[64];
    SECTION("socketpair");
    R("socketpair", socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv));
    struct pollfd p = {sv[1], POLLIN | POLLOUT, 0};
    poll(&p, 1, 0);
    V("revents fresh", p.revents);
    R("send a", send(sv[0], "a", 1, 0));
    R("send bcd", send(sv[0], "bcd", 3, 0));
    R("send empty", send(sv[0], "", 0, 0));
    R("send hello", send(sv[0], "hello world", 11, 0));
    poll(&p, 1, 0);
    V("revents queued", p.revents);
    int n = -1;
    R("SIOCINQ", ioctl(sv[1], FIONREAD, &n));
    V("next datagram", n);
    R("SIOCOUTQ", ioctl(sv[0], TIOCOUTQ, &n));
    V("in flight >= 15", n >= 15);
    R("recv 1", recv(sv[1], buf, sizeof buf, 0));
    R("peek", recv(sv[1], buf, sizeof buf, MSG_PEEK));
    R("recv bcd", recv(sv[1], buf, sizeof buf, 0));
    R("recv empty one", recv(sv[1], buf, sizeof buf, 0));
    struct iovec iov = {buf, 5};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    R("recvmsg short", recvmsg(sv[1], &mh, 0));
    V("msg_flags trunc", (mh.msg_flags & MSG_TRUNC) != 0);
    R("recv nothing left", recv(sv[1], buf, sizeof buf, 0));
    R("send 7", send(sv[0], "1234567", 7, 0));
    R("recv MSG_TRUNC", recv(sv[1], buf, 2, MSG_TRUNC));
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    R("getpeername", getpeername(sv[0], (struct sockaddr *)&a, &len));
    V("peer len", len);
    R("send back", send(sv[1], "z", 1, 0));
    len = sizeof a;
    R("recvfrom", recvfrom(sv[0], buf, sizeof buf, 0, (struct sockaddr *)&a, &len));
    V("from len (unbound)", len);
    close(sv[1]);
    R("send to closed", send(sv[0], "x", 1, 0));
    R("send again", send(sv[0], "x", 1, 0));
    close(sv[0]);
}

static void section_names(void)
{
    struct sockaddr_un a, b, from, got;
    socklen_t alen = abstract(&a, "a"), blen = abstract(&b, "b"), len;
    char buf[64];
    SECTION("abstract names");
    int s = dgram(), t = dgram(), u = dgram();
    R("bind a", bind(s, (struct sockaddr *)&a, alen));
    R("bind a again", bind(t, (struct sockaddr *)&a, alen));
    R("rebind", bind(s, (struct sockaddr *)&b, blen));
    len = sizeof got;
    R("getsockname", getsockname(s, (struct sockaddr *)&got, &len));
    V("name len matches", len == alen);
    V("name matches", memcmp(&got, &a, alen) == 0);
    struct sockaddr_un shorter = a;
    R("bind prefix is another name", bind(t, (struct sockaddr *)&shorter, alen - 1));
    R("sendto unbound", sendto(u, "hi", 2, 0, (struct sockaddr *)&a, alen));
    len = sizeof from;
    R("recvfrom", recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len));
    V("from len (unbound)", len);
    R("sendto bound", sendto(t, "yo", 2, 0, (struct sockaddr *)&a, alen));
    len = sizeof from;
    R("recvfrom", recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len));
    V("from is t's name", len == alen - 1 && memcmp(&from, &a, alen - 1) == 0);
    R("sendto nobody", sendto(u, "x", 1, 0, (struct sockaddr *)&b, blen));
    R("connect nobody", connect(u, (struct sockaddr *)&b, blen));
    struct sockaddr_un bad = a;
    bad.sun_family = AF_INET;
    R("bind bad family", bind(u, (struct sockaddr *)&bad, alen));
    R("bind too long", bind(u, (struct sockaddr *)&a, sizeof a + 1));
    close(s);
    R("sendto closed name", sendto(u, "x", 1, 0, (struct sockaddr *)&a, alen));
    s = dgram();
    R("name free again", bind(s, (struct sockaddr *)&a, alen));
    close(s);
    close(t);
    close(u);

    SECTION("autobind");
    s = dgram();
    struct sockaddr_un fam = {AF_UNIX};
    R("bind family only", bind(s, (struct sockaddr *)&fam, sizeof(sa_family_t)));
    len = sizeof got;
    R("getsockname", getsockname(s, (struct sockaddr *)&got, &len));
    V("len", len);
    V("abstract", got.sun_path[0] == 0);
    int hex = 1;
    for (int i = 1; i < 6; i++)
        hex &= (got.sun_path[i] >= '0' && got.sun_path[i] <= '9') || (got.sun_path[i] >= 'a' && got.sun_path[i] <= 'f');
    V("five hex digits", hex);
    R("again", bind(s, (struct sockaddr *)&fam, sizeof(sa_family_t)));
    close(s);
}

static void section_connect(void)
{
    struct sockaddr_un a, b, got;
    socklen_t alen = abstract(&a, "ca"), blen = abstract(&b, "cb"), len;
    char buf[64];
    SECTION("connect");
    int s = dgram(), t = dgram(), u = dgram();
    R("bind s", bind(s, (struct sockaddr *)&a, alen));
    R("bind t", bind(t, (struct sockaddr *)&b, blen));
    R("connect u to s", connect(u, (struct sockaddr *)&a, alen));
    len = sizeof got;
    R("getpeername", getpeername(u, (struct sockaddr *)&got, &len));
    V("peer is s", len == alen && memcmp(&got, &a, alen) == 0);
    R("send", send(u, "one", 3, 0));
    R("recv", recv(s, buf, sizeof buf, 0));
    R("sendto another", sendto(u, "two", 3, 0, (struct sockaddr *)&b, blen));
    R("t recv", recv(t, buf, sizeof buf, 0));
    R("connect s to t", connect(s, (struct sockaddr *)&b, blen));
    R("u sends to s (connected elsewhere)", send(u, "x", 1, 0));
    struct sockaddr_un unspec = {AF_UNSPEC};
    R("disconnect s", connect(s, (struct sockaddr *)&unspec, sizeof unspec));
    R("u sends again", send(u, "x", 1, 0));
    R("disconnect u", connect(u, (struct sockaddr *)&unspec, sizeof unspec));
    len = sizeof got;
    R("getpeername", getpeername(u, (struct sockaddr *)&got, &len));
    R("send", send(u, "x", 1, 0));
    close(s);
    close(t);
    close(u);

    SECTION("receive queue limit");
    s = dgram();
    u = dgram();
    R("bind", bind(s, (struct sockaddr *)&a, alen));
    int sent = 0;
    while (sendto(u, "q", 1, 0, (struct sockaddr *)&a, alen) == 1 && sent < 1000)
        sent++;
    printf("sent before %s: %d\n", errname(errno), sent);
    R("connected sender", connect(u, (struct sockaddr *)&a, alen));
    struct pollfd p = {u, POLLOUT, 0};
    poll(&p, 1, 0);
    V("connected sender revents", p.revents);
    R("recv one", recv(s, buf, sizeof buf, 0));
    poll(&p, 1, 0);
    V("revents after a recv", p.revents);
    R("send", send(u, "q", 1, 0));
    R("send", send(u, "q", 1, 0));
    close(u);
    R("queue kept after sender closed", recv(s, buf, sizeof buf, 0));
    close(s);

    SECTION("sizes");
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int sndbuf = 0;
    len = sizeof sndbuf;
    getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
    V("sndbuf", sndbuf);
    char *big = calloc(1, sndbuf);
    R("largest", send(sv[0], big, sndbuf - 32, 0));
    R("one more", send(sv[0], big, sndbuf - 31, 0));
    R("recv", recv(sv[1], big, sndbuf, 0));
    free(big);
    close(sv[0]);
    close(sv[1]);
}

static void section_rights(void)
{
    int sv[2], pp[2];
    char buf[16];
    SECTION("SCM_RIGHTS");
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    pipe(pp);
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } ctl;
    struct iovec iov = {"f", 1};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.space;
    mh.msg_controllen = sizeof ctl.space;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pp[1], sizeof(int));
    R("sendmsg", sendmsg(sv[0], &mh, 0));
    close(pp[1]);
    memset(&ctl, 0, sizeof ctl);
    iov.iov_base = buf;
    iov.iov_len = sizeof buf;
    mh.msg_controllen = sizeof ctl.space;
    R("recvmsg", recvmsg(sv[1], &mh, 0));
    c = CMSG_FIRSTHDR(&mh);
    V("got rights", c != NULL && c->cmsg_type == SCM_RIGHTS);
    int fd = -1;
    if (c)
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    R("write through passed fd", write(fd, "pipe", 4));
    R("read", read(pp[0], buf, sizeof buf));
    close(fd);
    close(pp[0]);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    section_socket();
    section_pair();
    section_names();
    section_connect();
    section_rights();
    return 0;
}
