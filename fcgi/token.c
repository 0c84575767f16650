/* token — sealed base64url tokens; contract in token.h. */
#include "config.h"

#include <string.h>

#include "token.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint32_t
check(const char *salt, const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; salt[i] != '\0'; i++)
		h = (h ^ (uint8_t)salt[i]) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int
b64val(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

void
token_seal(const char *salt, const uint8_t *payload, size_t n, char *out)
{
	uint8_t raw[TOKEN_MAX_PAYLOAD + TOKEN_CHECK_LEN];
	size_t i, total = n + TOKEN_CHECK_LEN, o = 0;
	uint32_t h, acc = 0;
	int bits = 0;

	if (n > TOKEN_MAX_PAYLOAD) {
		out[0] = '\0';
		return;
	}
	memcpy(raw, payload, n);
	h = check(salt, payload, n);
	for (i = 0; i < TOKEN_CHECK_LEN; i++)
		raw[n + i] = (uint8_t)(h >> (24 - 8 * i));
	for (i = 0; i < total; i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64[(acc >> bits) & 63];
		}
	}
	if (bits > 0) /* the last bits, zero-filled on the right */
		out[o++] = b64[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

bool
token_open(
    const char *salt, const char *s, size_t len, uint8_t *payload, size_t n)
{
	uint8_t raw[TOKEN_MAX_PAYLOAD + TOKEN_CHECK_LEN];
	size_t i, total = n + TOKEN_CHECK_LEN, o = 0;
	uint32_t acc = 0, h;
	int bits = 0, v;

	if (n > TOKEN_MAX_PAYLOAD || len != TOKEN_LEN(n))
		return false;
	for (i = 0; i < len; i++) {
		if ((v = b64val(s[i])) < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* what is left must be the zero fill of token_seal */
	if (o != total || (acc & ((1u << bits) - 1)) != 0)
		return false;
	h = (uint32_t)raw[n] << 24 | (uint32_t)raw[n + 1] << 16 |
	    (uint32_t)raw[n + 2] << 8 | raw[n + 3];
	if (h != check(salt, raw, n))
		return false;
	memcpy(payload, raw, n);
	return true;
}
