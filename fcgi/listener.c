/* listener — a backend's listening socket; contract in listener.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"

/* --- the allow-list ------------------------------------------------------ */

static int
acl_entry(struct listener_acl *acl, const char *tok, char *err, size_t errlen)
{
	char addr[64], *slash, *end;
	long bits = -1, max;

	if (acl->n == LISTENER_ACL_MAX) {
		snprintf(err, errlen, "allow-list: more than %d entries",
		    LISTENER_ACL_MAX);
		return -1;
	}
	if (strlen(tok) >= sizeof(addr))
		goto bad;
	strcpy(addr, tok);
	if ((slash = strchr(addr, '/')) != NULL) {
		*slash = '\0';
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end != '\0' || bits < 0)
			goto bad;
	}
	if (!ipaddr_parse(&acl->e[acl->n].net, addr))
		goto bad;
	/* a mapped entry is an IPv4 one: its prefix counts from bit 96 */
	max = acl->e[acl->n].net.family == AF_INET ? 32 : 128;
	if (bits >= 0 && max == 32 && strchr(addr, ':') != NULL)
		bits -= 96;
	if (bits > max || (slash != NULL && bits < 0))
		goto bad;
	acl->e[acl->n].bits = bits < 0 ? (unsigned)max : (unsigned)bits;
	acl->n++;
	return 0;
bad:
	snprintf(err, errlen,
	    "allow-list: '%s' is not an IP address or prefix (a.b.c.d, "
	    "a.b.c.d/n, v6, v6/n)",
	    tok);
	return -1;
}

int
listener_acl_parse(
    struct listener_acl *acl, const char *list, char *err, size_t errlen)
{
	const char *p = list ? list : "";
	char tok[128];
	size_t n;

	acl->n = 0;
	for (;;) {
		p += strspn(p, ", ");
		if ((n = strcspn(p, ", ")) == 0)
			return 0;
		if (n >= sizeof(tok)) {
			snprintf(
			    err, errlen, "allow-list: an entry is too long");
			return -1;
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (acl_entry(acl, tok, err, errlen) != 0)
			return -1;
		p += n;
	}
}

bool
listener_acl_allows(
    const struct listener_acl *acl, const struct sockaddr *sa, socklen_t len)
{
	struct ipaddr ip;
	unsigned i;

	if (acl == NULL || acl->n == 0 ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return true;
	if (!ipaddr_from_sockaddr(&ip, sa, len))
		return false;
	for (i = 0; i < acl->n; i++)
		if (ipaddr_in_prefix(&ip, &acl->e[i].net, acl->e[i].bits))
			return true;
	return false;
}

/* --- opening ------------------------------------------------------------- */

static bool
acl_is_plain_ipv4(const struct listener_acl *acl)
{
	unsigned i;

	for (i = 0; acl != NULL && i < acl->n; i++)
		if (acl->e[i].net.family != AF_INET || acl->e[i].bits != 32)
			return false;
	return true;
}

/* A TCP listener on sa reachable from other machines without an
 * allow-list is refused (see listener.h). Returns 0 or -1 with err. */
static int
check_reach(const struct listener_spec *spec, const struct sockaddr *sa,
    socklen_t len, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2] = "?", port[8] = "?";
	struct ipaddr ip;

	if (!ipaddr_from_sockaddr(&ip, sa, len))
		return 0; /* unix: the file mode decides */
	if (ipaddr_is_loopback(&ip))
		return 0;
	getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV);
	if (spec->acl == NULL || spec->acl->n == 0) {
		snprintf(err, errlen,
		    "%s%s%s:%s is reachable from other machines: give the "
		    "front ends that may connect (--allow ADDR,... or "
		    "FCGI_WEB_SERVER_ADDRS), or listen on loopback",
		    ip.family == AF_INET6 ? "[" : "", host,
		    ip.family == AF_INET6 ? "]" : "", port);
		return -1;
	}
	if (spec->libfcgi_acl && ip.family == AF_INET6) {
		snprintf(err, errlen,
		    "[%s]:%s: libfcgi filters peers by IPv4 address only; "
		    "listen on IPv4 or on loopback",
		    host, port);
		return -1;
	}
	return 0;
}

static int
open_fd0(const struct listener_spec *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int), sslen = sizeof(ss);
	int accepting = 0;

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 ||
	    !accepting) {
		snprintf(err, errlen,
		    "fd 0 is not a listening socket (start it with spawn-fcgi, "
		    "or use --listen)");
		return -1;
	}
	if (getsockname(0, (struct sockaddr *)&ss, &sslen) != 0) {
		snprintf(err, errlen, "fd 0: %s", strerror(errno));
		return -1;
	}
	return check_reach(spec, (struct sockaddr *)&ss, sslen, err, errlen);
}

static int
open_unix(const struct listener_spec *spec, char *err, size_t errlen)
{
	const char *path = spec->addr;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(
		    err, errlen, "%s: path too long for a unix socket", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
			    "%s exists and is not a socket: not replacing it",
			    path);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			snprintf(err, errlen,
			    "%s: another server listens there", path);
			goto fail;
		}
		unlink(path); /* a stale socket: no one answers */
	}
	old = umask(~(mode_t)spec->mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, spec->backlog) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (rc == 0)
			unlink(path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int
open_tcp(const struct listener_spec *spec, char *err, size_t errlen)
{
	const char *addr = spec->addr, *colon = strrchr(addr, ':');
	struct addrinfo hints, *res, *ai;
	char host[256];
	size_t hlen;
	int fd = -1, one = 1, gai, saved = 0;

	hlen = (size_t)(colon - addr);
	if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
		addr++;
		hlen -= 2;
	}
	if (hlen == 0) {
		snprintf(err, errlen,
		    "%s: give the address to listen on (e.g. 127.0.0.1%s); a "
		    "bare :PORT would listen on every interface",
		    spec->addr, colon);
		return -1;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "%s: host name too long", spec->addr);
		return -1;
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", spec->addr, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		/* checked before bind(): no peer ever reaches a refused one */
		if (check_reach(
		        spec, ai->ai_addr, ai->ai_addrlen, err, errlen) != 0) {
			freeaddrinfo(res);
			return -1;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", spec->addr, strerror(saved));
		return -1;
	}
	if (listen(fd, spec->backlog) != 0) {
		snprintf(err, errlen, "%s: %s", spec->addr, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

bool
listener_is_unix(const struct listener_spec *spec)
{
	return spec->addr != NULL &&
	    (spec->addr[0] == '/' || strchr(spec->addr, ':') == NULL);
}

int
listener_open(const struct listener_spec *spec, char *err, size_t errlen)
{
	if (spec->libfcgi_acl && !acl_is_plain_ipv4(spec->acl)) {
		snprintf(err, errlen,
		    "allow-list: libfcgi takes plain IPv4 addresses only");
		return -1;
	}
	if (spec->addr == NULL)
		return open_fd0(spec, err, errlen);
	if (listener_is_unix(spec))
		return open_unix(spec, err, errlen);
	return open_tcp(spec, err, errlen);
}
