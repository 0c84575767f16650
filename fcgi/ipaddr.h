/*
 * ipaddr — IP addresses as fcgilab's access rules see them: a client's
 * REMOTE_ADDR, a FastCGI peer, an allow-list entry.
 *
 * An address is a family and 16 bytes; an IPv4 address mapped into IPv6
 * (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer) is
 * taken as the IPv4 address it carries, so one rule covers both forms.
 *
 * Contract: pure functions (no I/O, no allocation); bool results.
 */
#ifndef FCGILAB_IPADDR_H
#define FCGILAB_IPADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ipaddr {
	int family;    /* AF_INET or AF_INET6 */
	uint8_t a[16]; /* network order; IPv4 in the first 4 bytes */
};

/* A numeric address ("127.0.0.1", "::1", "::ffff:10.0.0.1"). */
bool ipaddr_parse(struct ipaddr *ip, const char *s);

/* The address of an AF_INET or AF_INET6 socket address. */
bool ipaddr_from_sockaddr(
    struct ipaddr *ip, const struct sockaddr *sa, socklen_t len);

/* 127.0.0.0/8 or ::1. */
bool ipaddr_is_loopback(const struct ipaddr *ip);

/* Are the first bits of ip those of net (same family)? */
bool ipaddr_in_prefix(
    const struct ipaddr *ip, const struct ipaddr *net, unsigned bits);

#endif
