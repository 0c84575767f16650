/*
 * listener — the listening socket of a FastCGI backend (the mux, the
 * pool), opened so that only the front end it is meant for can reach it.
 *
 * Where a backend listens:
 *  - fd 0, as spawn-fcgi hands it over (the FastCGI convention);
 *  - a unix socket PATH (any address without ':' or starting with '/'):
 *    created with its final mode (the umask is set around bind(), so
 *    there is no moment with a wider one); a stale socket there is
 *    replaced, a live one (someone answers) or any other kind of file is
 *    refused, never unlinked;
 *  - TCP HOST:PORT or [V6]:PORT. HOST is required: a bare ":PORT" (every
 *    interface) is refused, so that listening beyond this machine is
 *    always a written choice.
 * A TCP listener (fd 0's included) on an address other than loopback
 * must come with an allow-list of peers, or it is refused: without one,
 * anyone on the network could talk FastCGI to the backend directly and
 * bypass lighttpd and all its limits.
 *
 * The allow-list is the libfcgi convention FCGI_WEB_SERVER_ADDRS (or a
 * backend's --allow): addresses separated by commas or spaces; here an
 * entry may also be a prefix ("10.0.0.0/8", "fd00::/8"). A peer that is
 * an IPv4 address mapped into IPv6 matches IPv4 entries. Unix sockets are
 * not filtered (their file mode is the access control).
 *
 * Contract: listener_acl_* are pure (no I/O, no allocation: the list is
 * a fixed array in the struct). listener_open does only the socket calls
 * it names; on failure it returns -1 with a one-line reason in err and
 * leaves nothing open or created. The fd returned is the caller's.
 */
#ifndef FCGILAB_LISTENER_H
#define FCGILAB_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "ipaddr.h"

#define LISTENER_ACL_MAX 32
#define LISTENER_ERR_MAX 256

struct listener_acl {
	unsigned n; /* 0: no list given */
	struct {
		struct ipaddr net;
		unsigned bits; /* prefix length */
	} e[LISTENER_ACL_MAX];
};

/* Parse list into acl (replacing what it held). NULL or "" gives an empty
 * list. Returns 0, or -1 with the reason in err (a bad entry, too many). */
int listener_acl_parse(
    struct listener_acl *acl, const char *list, char *err, size_t errlen);

/* Does the list admit the peer address sa? An empty list admits all;
 * non-IP families (unix) are always admitted. */
bool listener_acl_allows(
    const struct listener_acl *acl, const struct sockaddr *sa, socklen_t len);

struct listener_spec {
	const char *addr; /* NULL: fd 0; else PATH, HOST:PORT, [V6]:PORT */
	int backlog;
	unsigned mode; /* a unix socket's mode */
	const struct listener_acl *acl;
	/* The allow-list's entries must be plain IPv4 addresses, and only
	 * IPv4 or loopback may be listened on (libfcgi filters peers itself,
	 * and only by exact IPv4 address). */
	bool libfcgi_acl;
};

/* Open (or check) the listener. Returns the fd (0 for fd 0), or -1. */
int listener_open(const struct listener_spec *spec, char *err, size_t errlen);

/* Does spec name a unix socket path (which listener_open creates)? */
bool listener_is_unix(const struct listener_spec *spec);

#endif
