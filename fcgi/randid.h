/*
 * randid — the ids of jobs and uploads: 128 random bits (getrandom), as
 * 32 lowercase hex digits. Unguessable, so an id works as a capability
 * (README, "Security"); and only [0-9a-f], so one is safe as a file name
 * and in a URL.
 *
 * Contract: randid_new reads the kernel's random source (getrandom) and
 * nothing else; the others are pure. out holds RANDID_LEN + 1 bytes.
 */
#ifndef FCGILAB_RANDID_H
#define FCGILAB_RANDID_H

#include <stdbool.h>
#include <stdint.h>

#define RANDID_LEN     32
#define RANDID_PATTERN "^[0-9a-f]{32}$" /* as a regular expression */

/* A new id; false if the kernel gave no randomness. */
bool randid_new(char out[RANDID_LEN + 1]);

/* The id of 16 raw bytes. */
void randid_format(const uint8_t raw[16], char out[RANDID_LEN + 1]);

/* The 16 raw bytes of a valid id (randid_valid). */
void randid_raw(const char *id, uint8_t raw[16]);

/* Is s an id: exactly RANDID_LEN lowercase hex digits? */
bool randid_valid(const char *s);

#endif
