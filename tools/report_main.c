/*
 * fcgilab-report — turn send_many CSV runs into the comparison `fcgilab
 * compare` prints: a side-by-side table, an explanation computed from the
 * figures, and an SVG timeline (report.h). main() only reads options.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "report.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fcgilab-report [--svg FILE] [--json] [--title TEXT]\n"
	    "                      [--timeout SECS] LABEL POOL CSV [LABEL POOL "
	    "CSV]...\n"
	    "\n"
	    "Compare send_many runs (each given by a label, its pool size, 0 "
	    "for\n"
	    "the async server, and the CSV written by send_many --csv): print "
	    "a\n"
	    "table and an explanation computed from the figures, and draw an\n"
	    "SVG timeline with one bar per request.\n"
	    "\n"
	    "  --svg FILE      write the timeline to FILE\n"
	    "  --json          print the figures as JSON instead of text\n"
	    "  --title TEXT    the timeline's title\n"
	    "  --timeout SECS  the client timeout the runs used (for the "
	    "text)\n"
	    "  -h, --help      this text;  -V, --version  the version\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"svg", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"title", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	const char *svg = NULL, *title = "send_many runs";
	struct report_run *runs;
	double timeout = 60;
	long long pool;
	char err[128];
	size_t n, i;
	int c, json = 0, rc = 1;
	FILE *f;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			svg = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 't':
			title = optarg;
			break;
		case 'T':
			if (num_parse_float(optarg, strlen(optarg), &timeout) !=
			        NUM_OK ||
			    !(timeout > 0)) {
				fprintf(
				    stderr, "fcgilab-report: bad --timeout\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("fcgilab-report " PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc || (argc - optind) % 3 != 0) {
		usage(stderr);
		return 2;
	}
	n = (size_t)(argc - optind) / 3;
	if ((runs = calloc(n, sizeof(*runs))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		const char *ps = argv[optind + 3 * i + 1];

		if (num_parse_int(ps, strlen(ps), &pool) != NUM_OK ||
		    pool < 0 || pool > 1000000) {
			fprintf(
			    stderr, "fcgilab-report: bad pool size '%s'\n", ps);
			rc = 2;
			goto out;
		}
		if (report_load(&runs[i], argv[optind + 3 * i], (unsigned)pool,
		        argv[optind + 3 * i + 2], err) != 0) {
			fprintf(stderr, "fcgilab-report: %s\n", err);
			goto out;
		}
	}
	if (json) {
		if (report_json(stdout, runs, n) != 0)
			goto out;
	} else {
		report_table(stdout, runs, n);
		putchar('\n');
		report_explain(stdout, runs, n, timeout);
	}
	if (svg != NULL) {
		if ((f = fopen(svg, "w")) == NULL) {
			perror(svg);
			goto out;
		}
		report_svg(f, runs, n, title);
		if (fclose(f) != 0) {
			perror(svg);
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		report_run_free(&runs[i]);
	free(runs);
	return rc;
}
