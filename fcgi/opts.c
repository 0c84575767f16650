/* opts — command-line options from one table; contract in opts.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "opts.h"

#define OPTS_MAX 64

static void
store_int(const struct opt *o, long long v)
{
	if (o->size == sizeof(int)) {
		int i = (int)v;
		memcpy(o->dst, &i, sizeof(i));
	} else {
		uint64_t u = (uint64_t)v; /* long long, size_t, uint64_t */
		memcpy(o->dst, &u, sizeof(u));
	}
}

static long long
load_int(const struct opt *o)
{
	int i;
	uint64_t u;

	if (o->size == sizeof(int)) {
		memcpy(&i, o->dst, sizeof(i));
		return o->type == OPT_FLAG ? i : (long long)(unsigned)i;
	}
	memcpy(&u, o->dst, sizeof(u));
	return (long long)u;
}

/* Store arg in o's place if it is valid. */
static bool
set(const struct opt *o, const char *arg)
{
	long long v;
	double x;
	char *end;

	switch (o->type) {
	case OPT_FLAG:
		if (o->size == sizeof(bool))
			*(bool *)o->dst = true;
		else
			store_int(o, 1);
		return true;
	case OPT_STRING:
		*(const char **)o->dst = arg;
		return true;
	case OPT_INT:
		if (num_parse_int(arg, strlen(arg), &v) != NUM_OK ||
		    (double)v < o->lo || (double)v > o->hi)
			return false;
		store_int(o, v);
		return true;
	case OPT_FLOAT:
	case OPT_MS:
		if (num_parse_float(arg, strlen(arg), &x) != NUM_OK ||
		    !(x >= o->lo && x <= o->hi))
			return false;
		if (o->type == OPT_FLOAT)
			*(double *)o->dst = x;
		else
			*(unsigned *)o->dst = (unsigned)(x * 1000.0 + 0.5);
		return true;
	case OPT_OCTAL:
		errno = 0;
		v = strtol(arg, &end, 8);
		if (errno || *end || end == arg || v < o->lo || v > o->hi)
			return false;
		*(unsigned *)o->dst = (unsigned)v;
		return true;
	}
	return false;
}

static void
bad_value(const struct opts_prog *p, const struct opt *o, const char *arg)
{
	char lo[NUM_FMT_MAX], hi[NUM_FMT_MAX];

	num_format(o->lo, lo);
	num_format(o->hi, hi);
	if (o->type == OPT_OCTAL)
		fprintf(stderr, "%s: bad value for --%s: %s (0%o to 0%o)\n",
		    p->name, o->name, arg, (unsigned)o->lo, (unsigned)o->hi);
	else
		fprintf(stderr, "%s: bad value for --%s: %s (%s to %s)\n",
		    p->name, o->name, arg, lo, hi);
}

enum opts_result
opts_parse(const struct opts_prog *p, int argc, char **argv, int *operand_at)
{
	struct option longopts[OPTS_MAX + 3];
	char shortopts[3 * OPTS_MAX + 8], *s = shortopts;
	size_t i;
	int c, idx;

	if (p->n > OPTS_MAX)
		return OPTS_BAD;
	*s++ = ':'; /* a missing argument is ':', not '?' */
	for (i = 0; i < p->n; i++) {
		longopts[i] = (struct option){p->opts[i].name,
		    p->opts[i].type == OPT_FLAG ? no_argument
		                                : required_argument,
		    NULL, (int)(256 + i)};
		if (p->opts[i].letter != 0) {
			*s++ = p->opts[i].letter;
			if (p->opts[i].type != OPT_FLAG)
				*s++ = ':';
		}
	}
	longopts[i++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[i++] = (struct option){"version", no_argument, NULL, 'V'};
	longopts[i] = (struct option){NULL, 0, NULL, 0};
	strcpy(s, "hV");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct opt *o = NULL;

		if (c == 'h') {
			opts_usage(p, stdout);
			return OPTS_EXIT;
		}
		if (c == 'V') {
			printf("%s %s\n", p->name, PACKAGE_VERSION);
			return OPTS_EXIT;
		}
		if (c >= 256 && (size_t)(c - 256) < p->n)
			o = &p->opts[c - 256];
		for (i = 0; o == NULL && i < p->n; i++)
			if (p->opts[i].letter != 0 && p->opts[i].letter == c)
				o = &p->opts[i];
		if (o == NULL) {
			fprintf(stderr, "%s: %s: %s (see %s --help)\n", p->name,
			    c == ':' ? "option needs a value"
			             : "unknown option",
			    argv[optind - 1], p->name);
			return OPTS_BAD;
		}
		if (!set(o, optarg)) {
			bad_value(p, o, optarg);
			return OPTS_BAD;
		}
	}
	if (argc - optind > p->operands) {
		fprintf(stderr, "%s: unexpected argument: %s (see %s --help)\n",
		    p->name, argv[optind + p->operands], p->name);
		return OPTS_BAD;
	}
	*operand_at = optind;
	return OPTS_OK;
}

/* The default shown in --help: what the table's place holds now. */
static void
default_text(const struct opt *o, char *buf, size_t cap)
{
	char num[NUM_FMT_MAX];

	buf[0] = '\0';
	switch (o->type) {
	case OPT_FLAG:
		return;
	case OPT_STRING:
		if (*(const char *const *)o->dst != NULL)
			snprintf(
			    buf, cap, " (%s)", *(const char *const *)o->dst);
		return;
	case OPT_INT:
		snprintf(buf, cap, " (%lld)", load_int(o));
		return;
	case OPT_FLOAT:
		num_format(*(const double *)o->dst, num);
		snprintf(buf, cap, " (%s)", num);
		return;
	case OPT_MS:
		num_format(*(const unsigned *)o->dst / 1000.0, num);
		snprintf(buf, cap, " (%s)", num);
		return;
	case OPT_OCTAL:
		snprintf(buf, cap, " (0%o)", *(const unsigned *)o->dst);
		return;
	}
}

/* text after a left column of width col, wrapped at 79 columns. */
static void
wrapped(FILE *f, const char *text, int col)
{
	const char *p = text, *word;
	int at = col, n;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		word = p;
		while (*p != '\0' && *p != ' ')
			p++;
		n = (int)(p - word);
		if (n == 0)
			break;
		if (at > col && at + 1 + n > 79) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		}
		if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", n, word);
		at += n;
	}
	fputc('\n', f);
}

void
opts_usage(const struct opts_prog *p, FILE *f)
{
	char left[64], dflt[80], line[512];
	size_t i;

	fprintf(f, "usage: %s %s\n", p->name, p->synopsis);
	if (p->about != NULL)
		fprintf(f, "\n%s", p->about);
	fputc('\n', f);
	for (i = 0; i < p->n; i++) {
		const struct opt *o = &p->opts[i];

		if (o->letter != 0)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->letter,
			    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		default_text(o, dflt, sizeof(dflt));
		snprintf(line, sizeof(line), "%s%s", o->help, dflt);
		if (strlen(left) > 24)
			fprintf(f, "  %s\n%27s", left, "");
		else
			fprintf(f, "  %-24s ", left);
		wrapped(f, line, 27);
	}
	fprintf(f, "  %-24s %s\n  %-24s %s\n", "-h, --help", "this text",
	    "-V, --version", "print the version");
	if (p->after != NULL)
		fprintf(f, "\n%s", p->after);
}
