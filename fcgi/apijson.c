/* apijson — the API's JSON text; contract in apijson.h. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "apijson.h"
#include "num.h"

/* The %g precision that prints x as Python does: the shortest that reads
 * back, and for integral values below 1e16 every digit (Python prints
 * 60.0, where %.1g would give 6e+01). */
static int
real_precision(double x)
{
	char buf[NUM_FMT_MAX];
	int p = num_precision(x), digits;

	if (x == floor(x) && fabs(x) < 1e16) {
		digits = snprintf(buf, sizeof(buf), "%.0f", fabs(x));
		p = digits > p ? digits : p;
	}
	return p;
}

/* The largest printf precision the reals in v need (Python prints each
 * float in its shortest form; jansson has one precision per dump, and a
 * larger one still prints a shorter float in its shortest form as long as
 * it stays under 17 digits). */
static int
max_precision(const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	int p = 0, q;

	switch (json_typeof(v)) {
	case JSON_REAL:
		return real_precision(json_real_value(v));
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, item)
		{
			q = max_precision(item);
			p = q > p ? q : p;
		}
		return p;
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
		{
			q = max_precision(item);
			p = q > p ? q : p;
		}
		return p;
	case JSON_STRING:
	case JSON_INTEGER:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		break;
	}
	return 0;
}

/* jansson's dtostr (2.14, Debian 12's: printf's %g, not dtoa): "%.*g",
 * ".0" when that has neither a point nor an exponent, and the exponent
 * without its '+' or leading zeros (1e-05 prints as 1e-5). */
size_t
apijson_real_text(double x, char buf[APIJSON_REAL_MAX])
{
	char *e, *from, *to;
	int n;

	if (!isfinite(x))
		return 0;
	n = snprintf(buf, APIJSON_REAL_MAX, "%.*g", real_precision(x), x);
	if (n < 0 || n >= APIJSON_REAL_MAX - 2)
		return 0; /* cannot happen: 17 digits, a sign and an exponent */
	e = strchr(buf, 'e');
	if (e == NULL && strchr(buf, '.') == NULL) {
		memcpy(buf + n, ".0", 3);
		return (size_t)n + 2;
	}
	if (e != NULL) {
		to = e + 1;
		from = to + 1; /* past the sign */
		if (*to == '-')
			to++;
		while (*from == '0')
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(buf);
	}
	return (size_t)n;
}

char *
apijson_dump(json_t *v, size_t *lenp)
{
	size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	int p;
	char *s;

	if (v == NULL)
		return NULL;
	if ((p = max_precision(v)) > 0)
		flags |= JSON_REAL_PRECISION(p);
	s = json_dumps(v, flags);
	json_decref(v);
	if (s != NULL && lenp != NULL)
		*lenp = strlen(s);
	return s;
}

json_t *
apijson_error(const char *type, const char *where, const char *field,
    const char *msg, json_t *input, json_t *ctx)
{
	json_t *loc, *err;

	loc =
	    field ? json_pack("[s,s]", where, field) : json_pack("[s]", where);
	err = json_pack("{s:s,s:o,s:s,s:o}", "type", type, "loc", loc, "msg",
	    msg, "input", input ? input : json_null());
	if (err != NULL && ctx != NULL &&
	    json_object_set_new(err, "ctx", ctx) != 0) {
		json_decref(err);
		return NULL;
	}
	if (err == NULL)
		json_decref(ctx);
	return err;
}

json_t *
apijson_pattern_error(const char *where, const char *field, const char *input,
    const char *pattern)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "String should match pattern '%s'", pattern);
	return apijson_error("string_pattern_mismatch", where, field, msg,
	    json_string(input ? input : ""),
	    json_pack("{s:s}", "pattern", pattern));
}

char *
apijson_errors(json_t *errors, size_t *lenp)
{
	if (errors == NULL)
		return NULL;
	return apijson_dump(json_pack("{s:o}", "detail", errors), lenp);
}

char *
apijson_error_body(json_t *error, size_t *lenp)
{
	if (error == NULL)
		return NULL;
	return apijson_errors(json_pack("[o]", error), lenp);
}

char *
apijson_detail(const char *msg, size_t *lenp)
{
	return apijson_dump(json_pack("{s:s}", "detail", msg), lenp);
}
