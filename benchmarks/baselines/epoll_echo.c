/* epoll_echo: the raw epoll baseline of benchmarks/echo.cpp — the limit for
 * one core.
 *
 *   bench_epoll_echo [host:port]       (default 127.0.0.1:0; "tcp://" prefix allowed)
 *
 * One thread, level-triggered epoll, one 64 KiB read buffer shared by every
 * connection. A readable connection gets one recv() and the bytes go straight
 * back with send(); only what the kernel does not take is copied into a
 * per-connection buffer, and the connection then stops reading (EPOLLOUT
 * only) until that is flushed: backpressure, as every server of the benchmark.
 * An idle connection costs one small struct. TCP_NODELAY on accepted sockets.
 *
 * Contract shared with examples/echo-server and the other baselines: prints
 * "Listening on tcp://HOST:PORT" once listening, echoes every byte, exits 0 on
 * SIGINT/SIGTERM. No dependencies beyond libc and Linux.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum { READ_BUFFER = 64 * 1024, MAX_EVENTS = 256, ACCEPT_BATCH = 64 };

struct conn {
    int fd;
    char* pending; /* bytes the kernel did not take, from pending_off to pending_len */
    size_t pending_len;
    size_t pending_off;
};

/* Marks the listening socket and the signalfd in epoll_event.data.ptr. */
static char listener_tag;
static char signal_tag;
static char read_buffer[READ_BUFFER];

static void die(const char* what) {
    perror(what);
    exit(1);
}

static void close_conn(struct conn* c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c->pending);
    free(c);
}

static void set_events(int ep, struct conn* c, unsigned events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl(MOD)");
}

/* Sends what is pending; returns 0 when flushed, 1 when the kernel is full, -1 on error. */
static int flush_pending(struct conn* c) {
    while (c->pending_off < c->pending_len) {
        ssize_t n =
            send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->pending_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 1;
        } else {
            return -1;
        }
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 0;
}

static void on_readable(int ep, struct conn* c) {
    ssize_t n = recv(c->fd, read_buffer, sizeof read_buffer, 0);
    if (n == 0) {
        close_conn(c);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            close_conn(c);
        return;
    }
    ssize_t sent = send(c->fd, read_buffer, (size_t)n, MSG_NOSIGNAL);
    if (sent == n)
        return;
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            close_conn(c);
            return;
        }
        sent = 0;
    }
    c->pending_len = (size_t)(n - sent);
    c->pending_off = 0;
    c->pending = malloc(c->pending_len);
    if (!c->pending)
        die("malloc");
    memcpy(c->pending, read_buffer + sent, c->pending_len);
    set_events(ep, c, EPOLLOUT); /* stop reading until flushed */
}

static void on_writable(int ep, struct conn* c) {
    int r = flush_pending(c);
    if (r < 0) {
        close_conn(c);
    } else if (r == 0) {
        set_events(ep, c, EPOLLIN);
    }
}

static void accept_batch(int ep, int listener) {
    for (int i = 0; i < ACCEPT_BATCH; ++i) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                perror("accept4");
            return; /* EMFILE & co.: level-triggered, retried on the next turn */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn* c = calloc(1, sizeof *c);
        if (!c)
            die("calloc");
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_ctl(ADD)");
    }
}

int main(int argc, char** argv) {
    const char* uri = argc > 1 ? argv[1] : "127.0.0.1:0";
    if (strncmp(uri, "tcp://", 6) == 0)
        uri += 6;
    const char* colon = strrchr(uri, ':');
    if (!colon || (size_t)(colon - uri) >= 64) {
        fprintf(stderr, "usage: bench_epoll_echo [host:port]\n");
        return 2;
    }
    char host[64];
    memcpy(host, uri, (size_t)(colon - uri));
    host[colon - uri] = '\0';

    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((unsigned short)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "bench_epoll_echo: not an IPv4 address: %s\n", host);
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0)
        die("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0)
        die("bind");
    if (listen(listener, SOMAXCONN) != 0)
        die("listen");
    socklen_t len = sizeof addr;
    if (getsockname(listener, (struct sockaddr*)&addr, &len) != 0)
        die("getsockname");

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &signals, NULL) != 0)
        die("sigprocmask");
    int sfd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener_tag};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) != 0)
        die("epoll_ctl(listener)");
    ev.data.ptr = &signal_tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
        die("epoll_ctl(signalfd)");

    char printable[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, printable, sizeof printable);
    printf("Listening on tcp://%s:%u\n", printable, (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            void* tag = events[i].data.ptr;
            if (tag == &listener_tag) {
                accept_batch(ep, listener);
            } else if (tag == &signal_tag) {
                return 0; /* SIGINT/SIGTERM: the kernel closes the rest */
            } else {
                struct conn* c = tag;
                /* EPOLLHUP/EPOLLERR surface as a failing recv() or send(). */
                if (c->pending) {
                    on_writable(ep, c);
                } else {
                    on_readable(ep, c);
                }
            }
        }
    }
}
