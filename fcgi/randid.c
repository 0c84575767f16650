/* randid — random ids; contract in randid.h. */
#include "config.h"

#include <stddef.h>
#include <sys/random.h>
#include <sys/types.h>

#include "qs.h"
#include "randid.h"

void
randid_format(const uint8_t raw[16], char out[RANDID_LEN + 1])
{
	static const char hexdig[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		out[2 * i] = hexdig[raw[i] >> 4];
		out[2 * i + 1] = hexdig[raw[i] & 15];
	}
	out[RANDID_LEN] = '\0';
}

bool
randid_new(char out[RANDID_LEN + 1])
{
	uint8_t raw[16];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return false;
	randid_format(raw, out);
	return true;
}

void
randid_raw(const char *id, uint8_t raw[16])
{
	int i;

	for (i = 0; i < 16; i++)
		raw[i] = (uint8_t)(qs_hexval(id[2 * i]) << 4 |
		    qs_hexval(id[2 * i + 1]));
}

bool
randid_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < RANDID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[RANDID_LEN] == '\0';
}
