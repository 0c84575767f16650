/*
 * token — opaque, tamper-evident tokens for URLs (page cursors): a few
 * bytes of position, sealed with a checksum and written as base64url.
 *
 * Contract:
 *  - Pure: no I/O, no allocation, no globals.
 *  - token_seal() appends a 32-bit FNV-1a check of (salt, payload) to the
 *    payload and writes base64url without padding (RFC 4648 §5) into out,
 *    NUL-terminated. A salt per kind of token keeps a token of one kind
 *    from opening as another.
 *  - token_open() accepts exactly what token_seal() wrote for a payload
 *    of n bytes: the right length, only base64url characters, no stray
 *    bits in the last character, and a matching check. Anything else
 *    (garbled, truncated, edited) is refused. The check is not a MAC: a
 *    token forged with this source at hand opens, and must be only a
 *    position the caller validates like any other input.
 *  - Sizes: payloads up to TOKEN_MAX_PAYLOAD bytes; TOKEN_LEN(n) is the
 *    length of the text for n payload bytes (without the NUL).
 */
#ifndef FCGILAB_TOKEN_H
#define FCGILAB_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX_PAYLOAD 60
#define TOKEN_CHECK_LEN   4
#define TOKEN_LEN(n)      ((((n) + TOKEN_CHECK_LEN) * 4 + 2) / 3)

/* Write the token of payload[0..n) into out (TOKEN_LEN(n) + 1 bytes). */
void token_seal(const char *salt, const uint8_t *payload, size_t n, char *out);

/* Open s (len characters) as a token of n payload bytes into payload. */
bool token_open(
    const char *salt, const char *s, size_t len, uint8_t *payload, size_t n);

#endif
