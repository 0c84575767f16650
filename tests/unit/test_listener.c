/* test_listener — ipaddr, allow-lists and opening listeners safely. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipaddr.h"
#include "listener.h"
#include "tap.h"

static struct sockaddr_storage ss;
static socklen_t sslen;

/* A socket address for a numeric address (IPv4 or IPv6 as written). */
static const struct sockaddr *
sa_of(const char *addr)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		sslen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		sslen = sizeof(*s6);
	} else
		abort();
	return (const struct sockaddr *)&ss;
}

static bool
allows(const char *list, const char *peer)
{
	struct listener_acl acl;
	char err[LISTENER_ERR_MAX];
	const struct sockaddr *sa = sa_of(peer);

	if (listener_acl_parse(&acl, list, err, sizeof(err)) != 0)
		abort();
	return listener_acl_allows(&acl, sa, sslen);
}

static void
test_ipaddr(void)
{
	struct ipaddr a, net;

	ok(ipaddr_parse(&a, "::ffff:10.1.2.3") && a.family == AF_INET &&
	        a.a[0] == 10 && a.a[3] == 3,
	    "ipaddr: a mapped address is IPv4");
	ok(!ipaddr_parse(&a, "10.1.2") && !ipaddr_parse(&a, "") &&
	        !ipaddr_parse(&a, NULL) && !ipaddr_parse(&a, " 10.0.0.1"),
	    "ipaddr: partial, empty, NULL and spaced text refused");
	ok(ipaddr_parse(&a, "127.255.0.1") && ipaddr_is_loopback(&a),
	    "ipaddr: 127/8 is loopback");
	ok(ipaddr_parse(&a, "::1") && ipaddr_is_loopback(&a) &&
	        ipaddr_parse(&a, "::ffff:127.0.0.2") && ipaddr_is_loopback(&a),
	    "ipaddr: ::1 and mapped 127/8 are loopback");
	ok(ipaddr_parse(&a, "::") && !ipaddr_is_loopback(&a) &&
	        ipaddr_parse(&a, "0.0.0.0") && !ipaddr_is_loopback(&a) &&
	        ipaddr_parse(&a, "::2") && !ipaddr_is_loopback(&a),
	    "ipaddr: ::, 0.0.0.0 and ::2 are not");
	ipaddr_parse(&net, "10.0.0.0");
	ok(ipaddr_parse(&a, "10.255.1.1") && ipaddr_in_prefix(&a, &net, 8) &&
	        !ipaddr_in_prefix(&a, &net, 9) && ipaddr_in_prefix(&a, &net, 0),
	    "ipaddr: prefixes of 8, 9 and 0 bits");
	ok(!ipaddr_in_prefix(&a, &net, 33), "ipaddr: no 33-bit IPv4 prefix");
	ipaddr_parse(&net, "fd00::");
	ok(ipaddr_parse(&a, "fd12::1") && ipaddr_in_prefix(&a, &net, 8) &&
	        !ipaddr_in_prefix(&a, &net, 12),
	    "ipaddr: IPv6 prefixes");
	ok(!ipaddr_in_prefix(&a, &net, 129), "ipaddr: no 129-bit prefix");
}

static void
test_acl(void)
{
	static const char *const bad[] = {"10.0.0.300", "10.0.0.0/33",
	    "::1/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "host.name",
	    "10.0.0.1/8/8", "*"};
	struct listener_acl acl;
	char err[LISTENER_ERR_MAX], many[40 * 10] = "";
	size_t i;

	ok(allows(NULL, "10.9.9.9") && allows("", "10.9.9.9") &&
	        allows(" , ", "10.9.9.9"),
	    "acl: no list admits all");
	ok(allows("10.1.2.3,127.0.0.1", "127.0.0.1") &&
	        !allows("10.1.2.3", "127.0.0.1"),
	    "acl: exact addresses (libfcgi's form)");
	ok(allows("10.0.0.0/8 192.168.0.0/16", "192.168.7.7") &&
	        !allows("10.0.0.0/8 192.168.0.0/16", "172.16.0.1"),
	    "acl: prefixes, space-separated");
	ok(allows("10.0.0.1", "::ffff:10.0.0.1") &&
	        allows("::ffff:10.0.0.0/104", "10.0.0.9") &&
	        !allows("::ffff:10.0.0.0/104", "11.0.0.9"),
	    "acl: mapped peers and mapped entries are IPv4");
	ok(allows("fd00::/8", "fd00::5") && !allows("fd00::/8", "fe80::1") &&
	        !allows("10.0.0.0/8", "fd00::5"),
	    "acl: IPv6 entries; families do not mix");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(listener_acl_parse(&acl, bad[i], err, sizeof(err)) == -1 &&
		        strstr(err, bad[i]) != NULL,
		    "acl: '%s' refused, named in the message", bad[i]);
	for (i = 0; i < LISTENER_ACL_MAX + 1; i++)
		sprintf(many + strlen(many), "10.0.0.%zu,", i);
	ok(listener_acl_parse(&acl, many, err, sizeof(err)) == -1 &&
	        strstr(err, "more than") != NULL,
	    "acl: more than %d entries refused", LISTENER_ACL_MAX);
}

static int
try_open(const char *addr, const char *allow, bool libfcgi, char *err)
{
	struct listener_acl acl;
	struct listener_spec spec = {addr, 8, 0660, &acl, libfcgi};

	if (listener_acl_parse(&acl, allow, err, LISTENER_ERR_MAX) != 0)
		abort();
	return listener_open(&spec, err, LISTENER_ERR_MAX);
}

static void
test_tcp(void)
{
	char err[LISTENER_ERR_MAX];
	int fd;

	ok(try_open(":0", NULL, false, err) == -1 &&
	        strstr(err, "every interface") != NULL,
	    "tcp: a bare :PORT is refused");
	ok(try_open("0.0.0.0:0", NULL, false, err) == -1 &&
	        strstr(err, "reachable from other machines") != NULL,
	    "tcp: 0.0.0.0 without an allow-list is refused");
	fd = try_open("0.0.0.0:0", "10.0.0.0/8", false, err);
	ok(fd >= 0, "tcp: 0.0.0.0 with an allow-list listens");
	if (fd >= 0)
		close(fd);
	fd = try_open("127.0.0.1:0", NULL, false, err);
	ok(fd >= 0, "tcp: loopback needs no allow-list");
	if (fd >= 0)
		close(fd);
	ok(try_open("0.0.0.0:0", "10.0.0.0/8", true, err) == -1 &&
	        strstr(err, "plain IPv4") != NULL,
	    "tcp, libfcgi: prefixes refused (libfcgi matches exactly)");
	fd = try_open("0.0.0.0:0", "10.0.0.1,10.0.0.2", true, err);
	ok(fd >= 0, "tcp, libfcgi: plain IPv4 entries listen");
	if (fd >= 0)
		close(fd);
	fd = try_open("[::1]:0", NULL, false, err);
	ok(fd >= 0 || errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT,
	    "tcp: [::1] (where IPv6 is up)");
	if (fd >= 0)
		close(fd);
	ok(try_open("[::]:0", "10.0.0.1", true, err) == -1 &&
	        (strstr(err, "IPv4 address only") != NULL ||
	            strstr(err, "::") != NULL),
	    "tcp, libfcgi: [::] refused, libfcgi cannot filter IPv6 peers");
	ok(try_open("127.0.0.1:x", NULL, false, err) == -1,
	    "tcp: a port that is no number");
}

static void
test_unix(void)
{
	char dir[] = "/tmp/test_listener.XXXXXX", path[128], err[256];
	struct stat st;
	struct sockaddr_un sun;
	mode_t old;
	int fd, fd2, c;

	if (!ok(mkdtemp(dir) != NULL, "unix: a temp dir"))
		return;
	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (write(fd, "keep", 4) != 4)
		abort();
	close(fd);
	ok(try_open(path, NULL, false, err) == -1 &&
	        strstr(err, "not a socket") != NULL,
	    "unix: a regular file is refused");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4,
	    "  and left as it was");
	unlink(path);

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	old = umask(0);
	fd = try_open(path, NULL, false, err);
	umask(old);
	ok(fd >= 0 && stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	        (st.st_mode & 0777) == 0660,
	    "unix: mode 0660 from bind() on, whatever the umask");
	ok(try_open(path, NULL, false, err) == -1 &&
	        strstr(err, "another server") != NULL,
	    "unix: a live socket is refused");
	close(fd);
	fd2 = try_open(path, NULL, false, err);
	ok(fd2 >= 0, "unix: a stale socket is replaced");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(connect(c, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "  and it answers");
	close(c);
	close(fd2);
	unlink(path);

	snprintf(path, sizeof(path), "%s/link", dir);
	if (symlink("/etc/passwd", path) != 0)
		abort();
	ok(try_open(path, NULL, false, err) == -1 &&
	        strstr(err, "not a socket") != NULL,
	    "unix: a symlink is refused, not followed or removed");
	ok(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "  the link stays");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_ipaddr();
	test_acl();
	test_tcp();
	test_unix();
	return done_testing();
}
