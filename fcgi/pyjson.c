/* pyjson — Python's json.loads errors; contract in pyjson.h. */
#include "config.h"

#include <string.h>

#include "pyjson.h"

struct pyscan {
	const char *s;
	size_t len;
	const char *msg; /* set at the first error */
	size_t pos;
	int depth;
};

static size_t
py_ws(const struct pyscan *p, size_t i)
{
	while (i < p->len && strchr(" \t\n\r", p->s[i]) != NULL && p->s[i])
		i++;
	return i;
}

static bool
py_fail(struct pyscan *p, const char *msg, size_t pos)
{
	p->msg = msg;
	p->pos = pos;
	return false;
}

static bool
py_string(struct pyscan *p, size_t *i)
{
	size_t begin = *i - 1; /* the opening quote */
	unsigned char c;
	size_t k;

	while (*i < p->len) {
		c = (unsigned char)p->s[*i];
		if (c == '"') {
			(*i)++;
			return true;
		}
		if (c < 0x20)
			return py_fail(p, "Invalid control character at", *i);
		if (c != '\\') {
			(*i)++;
			continue;
		}
		if (*i + 1 >= p->len)
			return py_fail(
			    p, "Unterminated string starting at", begin);
		c = (unsigned char)p->s[*i + 1];
		if (c == 'u') {
			for (k = 0; k < 4; k++)
				if (*i + 2 + k >= p->len ||
				    !strchr("0123456789abcdefABCDEF",
				        p->s[*i + 2 + k]) ||
				    p->s[*i + 2 + k] == '\0')
					return py_fail(p,
					    "Invalid \\uXXXX escape", *i + 1);
			*i += 6;
			continue;
		}
		if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return py_fail(p, "Invalid \\escape", *i);
		*i += 2;
	}
	return py_fail(p, "Unterminated string starting at", begin);
}

/* Python's NUMBER_RE: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? */
static bool
py_number(const struct pyscan *p, size_t *i)
{
	size_t j = *i, k;

	if (j < p->len && p->s[j] == '-')
		j++;
	if (j < p->len && p->s[j] == '0')
		j++;
	else if (j < p->len && p->s[j] >= '1' && p->s[j] <= '9')
		while (j < p->len && p->s[j] >= '0' && p->s[j] <= '9')
			j++;
	else
		return false;
	if (j + 1 < p->len && p->s[j] == '.' && p->s[j + 1] >= '0' &&
	    p->s[j + 1] <= '9')
		for (j++; j < p->len && p->s[j] >= '0' && p->s[j] <= '9';)
			j++;
	if (j < p->len && (p->s[j] == 'e' || p->s[j] == 'E')) {
		k = j + 1;
		if (k < p->len && (p->s[k] == '+' || p->s[k] == '-'))
			k++;
		if (k < p->len && p->s[k] >= '0' && p->s[k] <= '9') {
			while (k < p->len && p->s[k] >= '0' && p->s[k] <= '9')
				k++;
			j = k;
		}
	}
	*i = j;
	return true;
}

static bool py_value(struct pyscan *p, size_t *i);

/* After '{' or '[': the members, up to the closing bracket. */
static bool
py_container(struct pyscan *p, size_t *i, char close)
{
	bool obj = close == '}';

	*i = py_ws(p, *i);
	if (*i < p->len && p->s[*i] == close) {
		(*i)++;
		return true;
	}
	for (;;) {
		if (obj) {
			if (*i >= p->len || p->s[*i] != '"')
				return py_fail(p,
				    "Expecting property name enclosed in "
				    "double quotes",
				    *i);
			(*i)++;
			if (!py_string(p, i))
				return false;
			*i = py_ws(p, *i);
			if (*i >= p->len || p->s[*i] != ':')
				return py_fail(
				    p, "Expecting ':' delimiter", *i);
			*i = py_ws(p, *i + 1);
		}
		if (!py_value(p, i))
			return false;
		*i = py_ws(p, *i);
		if (*i < p->len && p->s[*i] == close) {
			(*i)++;
			return true;
		}
		if (*i >= p->len || p->s[*i] != ',')
			return py_fail(p, "Expecting ',' delimiter", *i);
		*i = py_ws(p, *i + 1);
	}
}

static bool
py_value(struct pyscan *p, size_t *i)
{
	static const char *const words[] = {
	    "null", "true", "false", "NaN", "Infinity", "-Infinity"};
	size_t w;
	bool ok;

	if (*i >= p->len)
		return py_fail(p, "Expecting value", *i);
	switch (p->s[*i]) {
	case '"':
		(*i)++;
		return py_string(p, i);
	case '{':
	case '[':
		if (++p->depth > PYJSON_MAX_DEPTH)
			return py_fail(p, NULL, *i);
		(*i)++;
		ok = py_container(p, i, p->s[*i - 1] == '{' ? '}' : ']');
		p->depth--;
		return ok;
	default:
		break;
	}
	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (p->len - *i >= strlen(words[w]) &&
		    memcmp(p->s + *i, words[w], strlen(words[w])) == 0) {
			*i += strlen(words[w]);
			return true;
		}
	if (py_number(p, i))
		return true;
	return py_fail(p, "Expecting value", *i);
}

bool
pyjson_error(const char *body, size_t len, const char **msg, size_t *pos)
{
	struct pyscan p = {body, len, NULL, 0, 0};
	size_t i = py_ws(&p, 0), k;

	if (py_value(&p, &i)) {
		i = py_ws(&p, i);
		if (i == len)
			return false;
		py_fail(&p, "Extra data", i);
	}
	if (p.msg == NULL)
		return false;
	*msg = p.msg;
	for (*pos = 0, k = 0; k < p.pos; k++) /* bytes to code points */
		if (((unsigned char)body[k] & 0xc0) != 0x80)
			(*pos)++;
	return true;
}
