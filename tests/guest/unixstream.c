/* Named AF_UNIX stream sockets: socket(AF_UNIX, SOCK_STREAM), bind to a path in /tmp (a
 * socket inode: stat, EADDRINUSE, ENXIO on open, unlink) and to abstract names, listen,
 * connect (ECONNREFUSED, EISCONN, a full backlog answering EAGAIN when non-blocking),
 * accept/accept4 (blocking, with a forked client), getsockname/getpeername, SO_PEERCRED,
 * poll readiness of a listener, data both ways, EOF and ECONNRESET after the listener
 * closes.  (SOCK_SEQPACKET is not implemented in Tyn: ESOCKTNOSUPPORT, not printed.)  Names carry the pid and are printed only as relations. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stddef.h>

static const char *unix_errname(int e)
{
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ENOTCONN: return "ENOTCONN";
    case EADDRINUSE: return "EADDRINUSE";
    case EISCONN: return "EISCONN";
    case ENXIO: return "ENXIO";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    default: return errname(e);
    }
}
#define errname(e) unix_errname(e)

static socklen_t path_addr(struct sockaddr_un *a, const char *tag)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "/tmp/tyn-ustream-%d-%s", (int)getpid(), tag);
    return sizeof *a;
}

static socklen_t abstract(struct sockaddr_un *a, const char *tag)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "tyn-ustream-%d-%s", (int)getpid(), tag);
    return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int stream(int flags)
{
    return socket(AF_UNIX, SOCK_STREAM | flags, 0);
}

static void section_unconnected(void)
{
    SECTION("unconnected");
    int s = stream(SOCK_NONBLOCK);
    OK("socket", s);
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    R("getsockname", getsockname(s, (struct sockaddr *)&a, &len));
    V("unbound len", len);
    len = sizeof a;
    R("getpeername", getpeername(s, (struct sockaddr *)&a, &len));
    char c = 'x';
    R("send", send(s, &c, 1, MSG_NOSIGNAL));
    R("recv", recv(s, &c, 1, 0));
    R("listen unbound", listen(s, 1));
    R("accept", accept(s, NULL, NULL));
    struct pollfd p = {s, POLLIN | POLLOUT, 0};
    R("poll", poll(&p, 1, 0));
    V("revents", p.revents);
    struct ucred cr;
    len = sizeof cr;
    R("SO_PEERCRED", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    V("len", len);
    V("pid", cr.pid);
    V("uid", (int)cr.uid);
    close(s);
}

static void section_path(void)
{
    SECTION("path names");
    struct sockaddr_un a, got;
    socklen_t alen = path_addr(&a, "p");
    int l = stream(SOCK_NONBLOCK);
    R("bind", bind(l, (struct sockaddr *)&a, alen));
    struct stat st;
    R("stat", stat(a.sun_path, &st));
    V("is socket", S_ISSOCK(st.st_mode));
    V("perm", st.st_mode & 0777);
    R("open", open(a.sun_path, O_RDONLY));
    int other = stream(0);
    R("bind again", bind(other, (struct sockaddr *)&a, alen));
    socklen_t len = sizeof got;
    R("getsockname", getsockname(l, (struct sockaddr *)&got, &len));
    V("len is path + NUL", len == offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1);
    V("same path", strcmp(got.sun_path, a.sun_path) == 0);
    R("connect not listening", connect(other, (struct sockaddr *)&a, alen));
    R("listen", listen(l, 1));
    struct pollfd p = {l, POLLIN | POLLOUT, 0};
    R("poll idle listener", poll(&p, 1, 0));
    int c1 = stream(SOCK_NONBLOCK), c2 = stream(SOCK_NONBLOCK), c3 = stream(SOCK_NONBLOCK);
    R("connect 1", connect(c1, (struct sockaddr *)&a, alen));
    R("connect 2", connect(c2, (struct sockaddr *)&a, alen));
    R("connect 3 (backlog full)", connect(c3, (struct sockaddr *)&a, alen));
    R("connect again", connect(c1, (struct sockaddr *)&a, alen));
    p.revents = 0;
    R("poll listener", poll(&p, 1, 0));
    V("revents", p.revents);
    R("send before accept", send(c1, "early", 5, 0));
    len = sizeof got;
    int s1 = accept4(l, (struct sockaddr *)&got, &len, SOCK_CLOEXEC);
    OK("accept4", s1);
    V("peer addr len", len);
    V("cloexec", fcntl(s1, F_GETFD));
    char buf[16] = {0};
    R("recv", recv(s1, buf, sizeof buf, 0));
    V("data", strcmp(buf, "early") == 0);
    R("reply", send(s1, "reply", 5, 0));
    memset(buf, 0, sizeof buf);
    R("recv reply", recv(c1, buf, sizeof buf, 0));
    R("again", send(s1, "again", 5, 0));
    len = sizeof got;
    memset(&got, 0, sizeof got);
    R("recvfrom", recvfrom(c1, buf, sizeof buf, 0, (struct sockaddr *)&got, &len));
    V("sender is the path", len > offsetof(struct sockaddr_un, sun_path) && strcmp(got.sun_path, a.sun_path) == 0);
    R("anon", send(c1, "anon", 4, 0));
    len = sizeof got;
    R("recvfrom unbound sender", recvfrom(s1, buf, sizeof buf, 0, (struct sockaddr *)&got, &len));
    V("no name", len);
    len = sizeof got;
    R("peer of client", getpeername(c1, (struct sockaddr *)&got, &len));
    V("peer is the path", strcmp(got.sun_path, a.sun_path) == 0);
    len = sizeof got;
    R("name of accepted", getsockname(s1, (struct sockaddr *)&got, &len));
    V("name is the path", strcmp(got.sun_path, a.sun_path) == 0);
    struct ucred cr;
    len = sizeof cr;
    R("SO_PEERCRED", getsockopt(s1, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    V("peer pid is me", cr.pid == getpid());
    V("peer uid is mine", cr.uid == getuid());
    R("connect 3 after accept", connect(c3, (struct sockaddr *)&a, alen));
    close(l);
    memset(buf, 0, sizeof buf);
    R("pending client recv", recv(c2, buf, sizeof buf, 0));
    int e = 0;
    len = sizeof e;
    R("SO_ERROR", getsockopt(c2, SOL_SOCKET, SO_ERROR, &e, &len));
    printf("error: %s\n", errname(e));
    R("connect after close", connect(other, (struct sockaddr *)&a, alen));
    R("unlink", unlink(a.sun_path));
    R("connect after unlink", connect(other, (struct sockaddr *)&a, alen));
    R("accepted still works", send(s1, "x", 1, 0));
    R("client gets it", recv(c1, buf, 1, 0));
    close(s1);
    R("EOF", recv(c1, buf, 1, 0));
    close(c1); close(c2); close(c3); close(other);
}

static void section_blocking(void)
{
    SECTION("blocking accept, forked client");
    struct sockaddr_un a;
    socklen_t alen = abstract(&a, "b");
    int l = stream(0);
    R("bind abstract", bind(l, (struct sockaddr *)&a, alen));
    R("listen", listen(l, 4));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int c = stream(0);
        if (connect(c, (struct sockaddr *)&a, alen) != 0)
            _exit(2);
        char buf[8];
        if (send(c, "ping", 4, 0) != 4 || recv(c, buf, 4, MSG_WAITALL) != 4 || memcmp(buf, "pong", 4))
            _exit(3);
        struct ucred cr;
        socklen_t len = sizeof cr;
        if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || cr.pid != getppid())
            _exit(4);
        close(c);
        _exit(0);
    }
    int s = accept(l, NULL, NULL);
    OK("accept", s);
    char buf[8] = {0};
    R("recv", recv(s, buf, 4, MSG_WAITALL));
    V("ping", memcmp(buf, "ping", 4) == 0);
    struct ucred cr;
    socklen_t len = sizeof cr;
    R("SO_PEERCRED", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    V("peer is the child", cr.pid == child);
    R("send", send(s, "pong", 4, 0));
    R("EOF", recv(s, buf, 4, 0));
    int status = -1;
    R("wait", waitpid(child, &status, 0) == child ? 0 : -1);
    V("child status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    close(s);
    close(l);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    section_unconnected();
    section_path();
    section_blocking();
    return 0;
}
