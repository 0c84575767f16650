/*
 * test_redis_url — the Redis URL parser (redis_url.h): the forms it takes,
 * percent-decoded credentials, IPv6 hosts, defaults, and every kind of bad
 * URL refused with a message that never quotes the password; masking a
 * URL's password in place.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "redis_url.h"
#include "tap.h"

#define PW "S3cretPw" /* never in a message */

struct good {
	const char *url, *host, *user, *password;
	int port, db;
};

static const struct good goods[] = {
    {"redis://", "127.0.0.1", "", "", 6379, 0},
    {"redis://localhost", "localhost", "", "", 6379, 0},
    {"redis://10.0.0.5:6380/3", "10.0.0.5", "", "", 6380, 3},
    {"redis://h/", "h", "", "", 6379, 0},
    {"redis://h:1/1000", "h", "", "", 1, 1000},
    {"redis://h:65535/0", "h", "", "", 65535, 0},
    {"redis://:6390", "127.0.0.1", "", "", 6390, 0},
    {"redis://my_host-1.example.com", "my_host-1.example.com", "", "", 6379, 0},
    {"redis://:" PW "@h", "h", "", PW, 6379, 0},
    {"redis://:" PW "@", "127.0.0.1", "", PW, 6379, 0},
    {"redis://alice:" PW "@h:7000/2", "h", "alice", PW, 7000, 2},
    {"redis://alice@h", "h", "alice", "", 6379, 0},
    {"redis://alice:@h", "h", "alice", "", 6379, 0},
    {"redis://:@h", "h", "", "", 6379, 0},
    {"redis://@h", "h", "", "", 6379, 0},
    /* '@', ':', '/', '%', '?', '#' percent-encoded; ':' raw in the password */
    {"redis://:p%40ss%3Aw%2Frd%25%3F%23@h", "h", "", "p@ss:w/rd%?#", 6379, 0},
    {"redis://:a:b:c@h", "h", "", "a:b:c", 6379, 0},
    {"redis://al%3Aice:x@h", "h", "al:ice", "x", 6379, 0},
    {"redis://:%20sp%0a%7E@h", "h", "", " sp\n~", 6379, 0},
    {"redis://:caf\xc3\xa9@h", "h", "", "caf\xc3\xa9", 6379, 0},
    {"redis://:!$&'()*+,;=@h", "h", "", "!$&'()*+,;=", 6379, 0},
    {"redis://[::1]:6390", "::1", "", "", 6390, 0},
    {"redis://[::1]", "::1", "", "", 6379, 0},
    {"redis://u:" PW "@[2001:db8::1]:7000/5", "2001:db8::1", "u", PW, 7000, 5},
    {"redis://[::ffff:127.0.0.1]/1", "::ffff:127.0.0.1", "", "", 6379, 1},
};

struct bad {
	const char *url;
	enum redis_url_result want;
	const char *msg; /* a part of the message */
};

static const struct bad bads[] = {
    {"rediss://:" PW "@h:6380", REDIS_URL_ETLS, "stunnel"},
    {"http://h", REDIS_URL_ENOTREDIS, "not a redis://"},
    {"redis:/h", REDIS_URL_ENOTREDIS, "not a redis://"},
    {"REDIS://h", REDIS_URL_ENOTREDIS, "not a redis://"},
    {"", REDIS_URL_ENOTREDIS, "not a redis://"},
    {"redis://h:0", REDIS_URL_EINVAL, "port"},
    {"redis://h:65536", REDIS_URL_EINVAL, "port"},
    {"redis://h:", REDIS_URL_EINVAL, "port"},
    {"redis://h:-1", REDIS_URL_EINVAL, "port"},
    {"redis://h:+1", REDIS_URL_EINVAL, "port"},
    {"redis://h:12a", REDIS_URL_EINVAL, "port"},
    {"redis://h:99999999999999999999", REDIS_URL_EINVAL, "port"},
    {"redis://h: 1", REDIS_URL_EINVAL, "port"},
    {"redis://h/1001", REDIS_URL_EINVAL, "db"},
    {"redis://h/-1", REDIS_URL_EINVAL, "db"},
    {"redis://h/x", REDIS_URL_EINVAL, "db"},
    {"redis://h/1/2", REDIS_URL_EINVAL, "db"},
    {"redis://h//", REDIS_URL_EINVAL, "db"},
    {"redis://h/1 ", REDIS_URL_EINVAL, "db"},
    {"redis://h?db=1", REDIS_URL_EINVAL, "query"},
    {"redis://h/1?x", REDIS_URL_EINVAL, "query"},
    {"redis://h#f", REDIS_URL_EINVAL, "fragment"},
    {"redis://::1:6379", REDIS_URL_EINVAL, "brackets"},
    {"redis://::1", REDIS_URL_EINVAL, "brackets"},
    {"redis://[::1", REDIS_URL_EINVAL, "']'"},
    {"redis://[::g]", REDIS_URL_EINVAL, "IPv6"},
    {"redis://[127.0.0.1]", REDIS_URL_EINVAL, "IPv6"},
    {"redis://[]", REDIS_URL_EINVAL, "IPv6"},
    {"redis://[::1]x", REDIS_URL_EINVAL, "after ']'"},
    {"redis://[::1]:", REDIS_URL_EINVAL, "port"},
    {"redis://[fe80::1%25eth0]", REDIS_URL_EINVAL, "IPv6"},
    {"redis://h h", REDIS_URL_EINVAL, "host"},
    {"redis://h%41", REDIS_URL_EINVAL, "host"},
    {"redis://h\\x", REDIS_URL_EINVAL, "host"},
    {"redis://:" PW "%4@h", REDIS_URL_EINVAL, "percent-encoding"},
    {"redis://:" PW "%zz@h", REDIS_URL_EINVAL, "percent-encoding"},
    {"redis://:" PW "%@h", REDIS_URL_EINVAL, "percent-encoding"},
    {"redis://:" PW "%00@h", REDIS_URL_EINVAL, "%00"},
    {"redis://a%00:" PW "@h", REDIS_URL_EINVAL, "%00"},
    {"redis://:" PW "@x@h", REDIS_URL_EINVAL, "%40"},
    {"redis://:" PW " x@h", REDIS_URL_EINVAL, "percent-encoded"},
    {"redis://:" PW "\tx@h", REDIS_URL_EINVAL, "percent-encoded"},
    {"redis://a b:" PW "@h", REDIS_URL_EINVAL, "percent-encoded"},
    /* a raw '/' ends the authority: what follows is no db */
    {"redis://:" PW "/x@h", REDIS_URL_EINVAL, "port"},
    {"redis://:" PW "@h:6379/" PW, REDIS_URL_EINVAL, "db"},
};

static void
test_goods(void)
{
	struct redis_url u;
	char err[256];
	size_t i;
	int same;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];

		if (!ok(redis_url_parse(g->url, &u, err, sizeof(err)) ==
		            REDIS_URL_OK,
		        "%s parses", g->url)) {
			printf("#   %s\n", err);
			continue;
		}
		same = strcmp(u.host, g->host) == 0 && u.port == g->port &&
		    u.db == g->db && strcmp(u.user, g->user) == 0 &&
		    strcmp(u.password, g->password) == 0;
		ok(same, "%s: host %s port %d db %d user '%s'", g->url, g->host,
		    g->port, g->db, g->user);
		if (!same)
			printf("#   got host %s port %d db %d user '%s'\n",
			    u.host, u.port, u.db, u.user);
		redis_url_wipe(&u);
	}
}

static void
test_bads(void)
{
	struct redis_url u;
	enum redis_url_result r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];

		memset(err, 'x', sizeof(err));
		r = redis_url_parse(b->url, &u, err, sizeof(err));
		redis_url_wipe(&u);
		ok(r == b->want && memchr(err, '\0', sizeof(err)) != NULL &&
		        strstr(err, b->msg) != NULL && strstr(err, PW) == NULL,
		    "'%s' -> %d, message with '%s', no password (%s)", b->url,
		    (int)b->want, b->msg, err);
	}
	/* sizes: the longest credentials and host, and one byte more */
	{
		char url[3000], pw[REDIS_URL_CRED_MAX + 1], host[300];

		memset(pw, 'p', sizeof(pw));
		pw[REDIS_URL_CRED_MAX - 1] = '\0';
		snprintf(url, sizeof(url), "redis://:%s@h", pw);
		ok(redis_url_parse(url, &u, err, sizeof(err)) == REDIS_URL_OK &&
		        strlen(u.password) == REDIS_URL_CRED_MAX - 1,
		    "a password of %d bytes", REDIS_URL_CRED_MAX - 1);
		pw[REDIS_URL_CRED_MAX - 1] = 'p';
		pw[REDIS_URL_CRED_MAX] = '\0';
		snprintf(url, sizeof(url), "redis://:%s@h", pw);
		ok(redis_url_parse(url, &u, err, sizeof(err)) ==
		            REDIS_URL_EINVAL &&
		        strstr(err, "longer") != NULL,
		    "one byte more: refused (%s)", err);
		snprintf(url, sizeof(url), "redis://%s:x@h", pw);
		ok(redis_url_parse(url, &u, err, sizeof(err)) ==
		            REDIS_URL_EINVAL &&
		        strstr(err, "user is longer") != NULL,
		    "a user as long: refused (%s)", err);
		memset(host, 'h', sizeof(host));
		host[REDIS_URL_HOST_MAX] = '\0';
		snprintf(url, sizeof(url), "redis://%s:1", host);
		ok(redis_url_parse(url, &u, err, sizeof(err)) ==
		            REDIS_URL_EINVAL &&
		        strstr(err, "host") != NULL,
		    "a host of %d bytes: refused (%s)", REDIS_URL_HOST_MAX,
		    err);
		host[REDIS_URL_HOST_MAX - 1] = '\0';
		snprintf(url, sizeof(url), "redis://%s:1", host);
		ok(redis_url_parse(url, &u, err, sizeof(err)) == REDIS_URL_OK,
		    "a host of %d bytes", REDIS_URL_HOST_MAX - 1);
		redis_url_wipe(&u);
	}
	/* a tiny message buffer is still a string */
	memset(err, 'x', sizeof(err));
	ok(redis_url_parse("redis://h:0", &u, err, 8) == REDIS_URL_EINVAL &&
	        strlen(err) == 7,
	    "a short err buffer: truncated, NUL-terminated");
	ok(redis_url_parse(NULL, &u, err, sizeof(err)) == REDIS_URL_ENOTREDIS,
	    "NULL: not redis");
	ok(redis_url_is_redis("redis://h") &&
	        redis_url_is_redis("rediss://h") &&
	        !redis_url_is_redis("/var/jobs.db") &&
	        !redis_url_is_redis("sqlite:x") && !redis_url_is_redis(NULL),
	    "redis_url_is_redis");
}

static void
test_wipe(void)
{
	struct redis_url u;
	char err[64];
	size_t i;
	int zero = 1;

	redis_url_parse("redis://alice:" PW "@h", &u, err, sizeof(err));
	redis_url_wipe(&u);
	for (i = 0; i < sizeof(u.password); i++)
		zero &= u.password[i] == 0;
	for (i = 0; i < sizeof(u.user); i++)
		zero &= u.user[i] == 0;
	ok(zero, "wipe: user and password are zeros");
}

static void
test_mask(void)
{
	static const struct {
		const char *in, *out;
		bool masked;
	} cases[] = {
	    {"redis://alice:secret@h:1/2", "redis://alice:******@h:1/2", true},
	    {"redis://:p%40ss@h", "redis://:******@h", true},
	    {"redis://:a:b@[::1]:7", "redis://:***@[::1]:7", true},
	    {"redis://alice@h", "redis://alice@h", false},
	    {"redis://alice:@h", "redis://alice:@h", false},
	    {"redis://h:6379/1", "redis://h:6379/1", false},
	    {"/var/lib/fcgilab/jobs.db", "/var/lib/fcgilab/jobs.db", false},
	    {"sqlite:a:b@c", "sqlite:a:b@c", false},
	    /* invalid URLs: what stands where a password would is covered */
	    {"redis://:pa/ss@h", "redis://:*****@h", true},
	    {"redis://:p@ss@h", "redis://:****@h", true},
	    {"rediss://u:pw@h", "rediss://u:**@h", true},
	};
	char buf[128];
	size_t i;
	bool m;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		m = redis_url_mask(buf);
		ok(m == cases[i].masked && strcmp(buf, cases[i].out) == 0,
		    "mask %s -> %s", cases[i].in, buf);
	}
}

int
main(void)
{
	test_goods();
	test_bads();
	test_wipe();
	test_mask();
	return done_testing();
}
