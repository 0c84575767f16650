/* ipaddr — IP addresses for access rules; contract in ipaddr.h. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "ipaddr.h"

static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};

/* Take a mapped IPv4 address as IPv4. */
static void
unmap(struct ipaddr *ip)
{
	if (ip->family == AF_INET6 && memcmp(ip->a, v4_mapped, 12) == 0) {
		memmove(ip->a, ip->a + 12, 4);
		memset(ip->a + 4, 0, 12);
		ip->family = AF_INET;
	}
}

bool
ipaddr_parse(struct ipaddr *ip, const char *s)
{
	memset(ip, 0, sizeof(*ip));
	if (s == NULL)
		return false;
	if (inet_pton(AF_INET, s, ip->a) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->a) == 1)
		ip->family = AF_INET6;
	else
		return false;
	unmap(ip);
	return true;
}

bool
ipaddr_from_sockaddr(
    struct ipaddr *ip, const struct sockaddr *sa, socklen_t len)
{
	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memcpy(ip->a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		ip->family = AF_INET;
	} else if (sa->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6)) {
		memcpy(
		    ip->a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		ip->family = AF_INET6;
	} else
		return false;
	unmap(ip);
	return true;
}

bool
ipaddr_is_loopback(const struct ipaddr *ip)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};

	if (ip->family == AF_INET)
		return ip->a[0] == 127;
	return ip->family == AF_INET6 && memcmp(ip->a, v6_loopback, 16) == 0;
}

bool
ipaddr_in_prefix(
    const struct ipaddr *ip, const struct ipaddr *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (ip->family != net->family ||
	    bits > (ip->family == AF_INET ? 32u : 128u))
		return false;
	if (memcmp(ip->a, net->a, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (ip->a[whole] & mask) == (net->a[whole] & mask);
}
