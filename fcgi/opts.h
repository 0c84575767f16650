/*
 * opts — a program's command-line options from one table: the getopt
 * tables, the parsing with its range checks, and the --help text (each
 * option's default read from where its value goes) all come from it, so
 * a new option is one line of the table.
 *
 *   static struct opt table[] = {
 *       {"max-secs", 0, OPT_FLOAT, &cfg.max_secs, 0, 0, 86400, "S",
 *           "largest accepted secs"},
 *       ...
 *   };
 *   switch (opts_parse(&prog, argc, argv)) { ... }
 *
 * Contract:
 *  - A value is stored only when it is valid; an invalid one is reported
 *    in one line ("fcgilab-mux: bad value for --max-secs: x (0 to
 *    86400)"), as is an unknown option, and the parse fails. Numbers are parsed
 * as the app parses them (num.h).
 *  - -h/--help prints the usage on stdout, -V/--version the version:
 *    opts_parse says so (OPTS_EXIT) and the caller exits 0.
 *  - No allocation; messages on stderr; never exits (main does).
 */
#ifndef FCGILAB_OPTS_H
#define FCGILAB_OPTS_H

#include <stddef.h>
#include <stdio.h>

enum opt_type {
	OPT_FLAG,   /* int or bool (size): set to 1 */
	OPT_STRING, /* const char * (argv's own) */
	OPT_INT,    /* a whole number in [lo, hi], stored in size bytes
	               (int, unsigned, long long, size_t, uint64_t) */
	OPT_FLOAT,  /* a double in [lo, hi] */
	OPT_MS,     /* seconds (decimal) in [lo, hi], stored as unsigned
	               milliseconds */
	OPT_OCTAL,  /* an unsigned in [lo, hi], written in octal (a mode) */
};

struct opt {
	const char *name; /* long name, without "--" */
	char letter;      /* short name, or 0 */
	enum opt_type type;
	void *dst;
	size_t size; /* of *dst, for OPT_INT and OPT_FLAG */
	double lo, hi;
	const char *arg;  /* the argument's name in --help ("N", "SECS") */
	const char *help; /* one line; the default is added from *dst */
};

struct opts_prog {
	const char *name;     /* "fcgilab-mux" */
	const char *synopsis; /* "[OPTIONS]" */
	const char *about;    /* text before the options, or NULL */
	const char *after;    /* text after them, or NULL */
	const struct opt *opts;
	size_t n;
	int operands; /* positional arguments allowed (0 or 1) */
};

enum opts_result {
	OPTS_OK,   /* argv[*operand_at] onwards are the operands */
	OPTS_EXIT, /* --help or --version was answered: exit 0 */
	OPTS_BAD,  /* a usage error was reported: exit 2 */
};

enum opts_result opts_parse(
    const struct opts_prog *p, int argc, char **argv, int *operand_at);

void opts_usage(const struct opts_prog *p, FILE *f);

#endif
