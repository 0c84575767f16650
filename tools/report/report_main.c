/*
 * fcgilab-report — turn send_many CSV runs into the comparison `fcgilab
 * compare` prints: a header saying how to replay it, a side-by-side table
 * (or one row per pool size), an explanation computed from the figures,
 * an SVG timeline and the pool-size sweep (report.h, report_svg.h).
 * main() only reads options.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "report.h"
#include "report_svg.h"

#define INFO_MAX 32

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fcgilab-report [--svg FILE] [--sweep-svg FILE] [--json]\n"
	    "                      [--title TEXT] [--timeout SECS] [--sweep]\n"
	    "                      [--info KEY=VALUE]... LABEL POOL CSV "
	    "[LABEL POOL CSV]...\n"
	    "\n"
	    "Compare send_many runs (each given by a label, \"NAME\" or "
	    "\"NAME|MODEL\",\n"
	    "its pool size, 0 for the async server, and the CSV written by\n"
	    "send_many --csv): print a table and an explanation computed from "
	    "the\n"
	    "figures, and draw an SVG timeline with one lane per pool worker.\n"
	    "\n"
	    "  --svg FILE        write the timeline to FILE\n"
	    "  --sweep-svg FILE  write total time against pool size to FILE\n"
	    "  --sweep           one table row per run (default with more "
	    "than 3)\n"
	    "  --json            print the figures as JSON instead of text\n"
	    "  --title TEXT      the pictures' title\n"
	    "  --timeout SECS    the client timeout the runs used\n"
	    "  --info KEY=VALUE  a header line (the run's settings); "
	    "repeatable\n"
	    "  -h, --help        this text;  -V, --version  the version\n");
}

static int
write_svg(const char *path, const struct report_run *runs, size_t n,
    const char *title, double timeout, int sweep)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	rc = sweep ? report_svg_sweep(f, runs, n, title)
	           : report_svg_timeline(f, runs, n, title, timeout);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "fcgilab-report: could not write %s\n", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"svg", required_argument, NULL, 's'},
	    {"sweep-svg", required_argument, NULL, 'S'},
	    {"sweep", no_argument, NULL, 'w'}, {"json", no_argument, NULL, 'j'},
	    {"title", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"info", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	const char *svg = NULL, *sweep_svg = NULL, *title = "send_many runs";
	struct report_info info[INFO_MAX];
	struct report_run *runs;
	double timeout = 60;
	long long pool;
	char err[128], **paras, *eq;
	size_t n, i, ninfo = 0, np;
	int c, json = 0, sweep = 0, rc = 1;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			svg = optarg;
			break;
		case 'S':
			sweep_svg = optarg;
			break;
		case 'w':
			sweep = 1;
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
		case 'i':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg || ninfo == INFO_MAX) {
				fprintf(stderr,
				    "fcgilab-report: --info needs KEY=VALUE "
				    "(at most %d)\n",
				    INFO_MAX);
				return 2;
			}
			*eq = '\0';
			info[ninfo].key = optarg;
			info[ninfo++].value = eq + 1;
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
		if (report_json(stdout, info, ninfo, runs, n, timeout) != 0)
			goto out;
	} else {
		report_header(stdout, info, ninfo);
		report_table(stdout, runs, n, sweep);
		if ((paras = report_explain(runs, n, timeout, &np)) == NULL)
			goto out;
		printf("\nWhat the numbers say:\n");
		report_paras_print(stdout, paras, np);
		report_paras_free(paras, np);
	}
	if (svg != NULL && write_svg(svg, runs, n, title, timeout, 0) != 0)
		goto out;
	if (sweep_svg != NULL &&
	    write_svg(sweep_svg, runs, n, title, timeout, 1) != 0)
		goto out;
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	for (i = 0; i < n; i++)
		report_run_free(&runs[i]);
	free(runs);
	return rc;
}
