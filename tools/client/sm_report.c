/* sm_report — send_many's output; see sm_report.h. */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "num.h"
#include "sm_report.h"

#define LINE_MAX_BYTES 1024

void
smr_init(struct sm_report *r, const struct smr_info *info)
{
	memset(r, 0, sizeof(*r));
	r->info = info;
	r->out = stdout;
	latency_init(&r->latency, 0);
	latency_reserve(
	    &r->latency, info->count); /* failing here is harmless */
}

void
smr_free(struct sm_report *r)
{
	latency_free(&r->latency);
}

/* The secs text of request index (1-based) into buf, "" when none. */
static const char *
secs_of(const struct sm_report *r, size_t index, char buf[NUM_FMT_MAX])
{
	if (r->info->secs != NULL) {
		num_format(r->info->secs[index - 1], buf);
		return buf;
	}
	return r->info->url_secs != NULL ? r->info->url_secs : "";
}

/* Append the body on one line: controls as spaces, "..." when cut. */
static size_t
put_body(char *o, size_t room, const struct sm_result *res)
{
	size_t i, n = 0, len = res->body_len;

	while (len > 0 && (unsigned char)res->body[len - 1] <= ' ')
		len--; /* a trailing newline is not worth showing */
	if (len == 0 || room < 2)
		return 0;
	o[n++] = ' ';
	for (i = 0; i < len && n + 4 < room; i++) {
		unsigned char ch = (unsigned char)res->body[i];
		o[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	if ((i < len || res->body_total > res->body_len) && n + 4 <= room) {
		memcpy(o + n, "...", 3);
		n += 3;
	}
	return n;
}

static void
print_line(struct sm_report *r, const struct sm_result *res)
{
	char line[LINE_MAX_BYTES], sb[NUM_FMT_MAX];
	const char *secs = secs_of(r, res->index, sb);
	size_t n;
	int k;

	k = snprintf(line, sizeof(line), "request %zu", res->index);
	if (*secs != '\0')
		k += snprintf(
		    line + k, sizeof(line) - (size_t)k, " (secs=%s)", secs);
	if (res->status != 0) {
		k += snprintf(line + k, sizeof(line) - (size_t)k, " -> %d%s%s",
		    res->status, *res->reason ? " " : "", res->reason);
		n = (size_t)k +
		    put_body(line + k, sizeof(line) - (size_t)k - 32, res);
	} else {
		k += snprintf(line + k, sizeof(line) - (size_t)k, " -> %s",
		    sm_kind_name(res->kind));
		if (res->detail != NULL)
			k += snprintf(line + k, sizeof(line) - (size_t)k,
			    " (%.200s)", res->detail);
		n = (size_t)k;
	}
	snprintf(
	    line + n, sizeof(line) - n, " in %.3f s\n", res->end - res->start);
	if (r->progress_shown && r->out_is_tty)
		smr_progress_clear(r);
	fputs(line, r->out);
}

static void
csv_row(struct sm_report *r, const struct sm_result *res)
{
	char sb[NUM_FMT_MAX];

	fprintf(r->csv, "%zu,%s,%.6f,%.6f,%.6f,%d,%s,%s\n", res->index,
	    secs_of(r, res->index, sb), res->start, res->end,
	    res->end - res->start, res->status, sm_kind_name(res->kind),
	    res->worker != NULL ? res->worker : "");
}

void
smr_on_result(void *arg, const struct sm_result *res)
{
	struct sm_report *r = arg;

	r->done++;
	r->kinds[res->kind]++;
	if (res->kind == SM_OK)
		r->ok++;
	if (res->status > 0 && res->status < SMR_STATUS_MAX) {
		r->statuses[res->status]++;
		latency_record(&r->latency, res->end - res->start);
	}
	if (r->lines)
		print_line(r, res);
	if (r->csv != NULL)
		csv_row(r, res);
}

void
smr_on_progress(void *arg, const struct sm_progress *pr)
{
	struct sm_report *r = arg;

	if (r->tty == NULL)
		return;
	if (r->out_is_tty)
		fflush(r->out);
	fprintf(r->tty,
	    "\r%zu/%zu done, %zu in flight, %zu errors, %.1f s\033[K", pr->done,
	    r->info->count, pr->inflight, pr->errors, pr->elapsed);
	fflush(r->tty);
	r->progress_shown = true;
}

void
smr_progress_clear(struct sm_report *r)
{
	if (r->tty == NULL || !r->progress_shown)
		return;
	fputs("\r\033[K", r->tty);
	fflush(r->tty);
	r->progress_shown = false;
}

void
smr_csv_header(FILE *f)
{
	fputs("index,secs,start,end,latency,status,error,worker\n", f);
}

void
smr_header(struct sm_report *r)
{
	const struct smr_info *in = r->info;

	fprintf(r->out, "send_many: %zu request%s to %s, ", in->count,
	    in->count == 1 ? "" : "s", in->url);
	if (in->unlimited)
		fputs("all at once", r->out);
	else
		fprintf(r->out, "%zu at a time%s", in->concurrency,
		    in->keepalive ? " (keep-alive)" : "");
	if (in->secs_text != NULL)
		fprintf(r->out, ", secs %s", in->secs_text);
	if (in->secs != NULL && strcmp(in->secs_mode, "range") == 0)
		fprintf(r->out, ", seed %llu", (unsigned long long)in->seed);
	fprintf(r->out, ", timeout %g s\n", in->timeout);
	fflush(r->out);
}

/* "1.234 s" from one second up, "12.345 ms" below. */
static const char *
dur(double s, char buf[32])
{
	if (s >= 1 || s == 0)
		snprintf(buf, 32, "%.3f s", s);
	else
		snprintf(buf, 32, "%.3f ms", s * 1000);
	return buf;
}

static void
summary_latency(struct sm_report *r)
{
	struct latency *st = &r->latency;
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32];

	if (latency_count(st) == 0) {
		fputs("latency: no responses\n", r->out);
		return;
	}
	fprintf(r->out,
	    "latency (%zu responses, from intended start): min %s, p50 %s, "
	    "p95 %s, p99 %s, max %s; mean %s, stdev %s\n",
	    latency_count(st), dur(latency_min(st), a),
	    dur(latency_percentile(st, 50), b),
	    dur(latency_percentile(st, 95), c),
	    dur(latency_percentile(st, 99), d), dur(latency_max(st), e),
	    dur(latency_mean(st), f), dur(latency_stdev(st), g));
}

static void
summary_counts(struct sm_report *r)
{
	const char *sep = " ";
	size_t i;

	fputs("status:", r->out);
	for (i = 0; i < SMR_STATUS_MAX; i++) {
		if (r->statuses[i] == 0)
			continue;
		fprintf(r->out, "%s%zu x%zu", sep, i, r->statuses[i]);
		sep = ", ";
	}
	fputs(*sep == ' ' ? " none\n" : "\n", r->out);
	fputs("errors:", r->out);
	for (i = 0, sep = " "; i < SM_KIND__MAX; i++) {
		if (i == SM_OK || r->kinds[i] == 0)
			continue;
		fprintf(r->out, "%s%s %zu", sep, sm_kind_name((enum sm_kind)i),
		    r->kinds[i]);
		sep = ", ";
	}
	fputs(*sep == ' ' ? " none\n" : "\n", r->out);
}

void
smr_summary_text(struct sm_report *r)
{
	const struct smr_info *in = r->info;
	char w[32], sb[NUM_FMT_MAX], mb[NUM_FMT_MAX];
	double sum = 0, max = 0;
	size_t i;

	fprintf(r->out, "summary: %zu request%s, %zu ok (2xx), %zu failed\n",
	    in->count, in->count == 1 ? "" : "s", r->ok, in->count - r->ok);
	fprintf(r->out, "wall %s, %.1f requests/s\n", dur(r->wall, w),
	    r->wall > 0 ? (double)r->done / r->wall : 0.0);
	summary_latency(r);
	summary_counts(r);
	if (in->secs != NULL) {
		for (i = 0; i < in->count; i++) {
			sum += in->secs[i];
			max = in->secs[i] > max ? in->secs[i] : max;
		}
		/* the waits have 2 decimals; drop float noise of the sum */
		num_format(round(sum * 1e6) / 1e6, sb);
		num_format(max, mb);
		fprintf(r->out, "secs: sum %s, longest %s\n", sb, mb);
	}
	if (in->secs != NULL && strcmp(in->secs_mode, "range") == 0)
		fprintf(r->out, "seed: %llu%s\n", (unsigned long long)in->seed,
		    in->seed_given ? "" : " (random; replay with --seed)");
	fflush(r->out);
}

static json_t *
json_latency(struct sm_report *r)
{
	struct latency *st = &r->latency;

	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
	    "count", (json_int_t)latency_count(st), "min", latency_min(st),
	    "mean", latency_mean(st), "stdev", latency_stdev(st), "p50",
	    latency_percentile(st, 50), "p90", latency_percentile(st, 90),
	    "p95", latency_percentile(st, 95), "p99",
	    latency_percentile(st, 99), "p999", latency_percentile(st, 99.9),
	    "max", latency_max(st));
}

static json_t *
json_counts(struct sm_report *r, bool statuses)
{
	json_t *o = json_object();
	char key[16];
	size_t i;

	for (i = 0; o != NULL && statuses && i < SMR_STATUS_MAX; i++) {
		if (r->statuses[i] == 0)
			continue;
		snprintf(key, sizeof(key), "%zu", i);
		json_object_set_new(
		    o, key, json_integer((json_int_t)r->statuses[i]));
	}
	for (i = 0; o != NULL && !statuses && i < SM_KIND__MAX; i++)
		if (i != SM_OK)
			json_object_set_new(o, sm_kind_name((enum sm_kind)i),
			    json_integer((json_int_t)r->kinds[i]));
	return o;
}

static json_t *
json_secs(struct sm_report *r)
{
	const struct smr_info *in = r->info;
	double sum = 0, max = 0;
	size_t i;

	if (in->secs == NULL)
		return json_pack("{s:s, s:s?}", "mode", in->secs_mode, "value",
		    in->url_secs);
	for (i = 0; i < in->count; i++) {
		sum += in->secs[i];
		max = in->secs[i] > max ? in->secs[i] : max;
	}
	return json_pack("{s:s, s:s, s:f, s:f}", "mode", in->secs_mode, "spec",
	    in->secs_text, "sum", sum, "max", max);
}

/* The seed only means something for a random range. */
static json_t *
seed_json(const struct smr_info *in)
{
	if (in->secs == NULL || strcmp(in->secs_mode, "range") != 0)
		return json_null();
	return json_integer((json_int_t)in->seed);
}

int
smr_summary_json(struct sm_report *r, FILE *f)
{
	const struct smr_info *in = r->info;
	json_t *o;
	int rc;

	o = json_pack("{s:s, s:I, s:I, s:b, s:b, s:o, s:o, s:b, s:f, s:f, "
	              "s:f, s:I, s:I, s:I, s:o, s:o, s:o}",
	    "url", in->url, "count", (json_int_t)in->count, "concurrency",
	    (json_int_t)in->concurrency, "all_at_once", in->unlimited,
	    "keepalive", in->keepalive, "secs", json_secs(r), "seed",
	    seed_json(in), "seed_given", in->seed_given, "timeout", in->timeout,
	    "wall", r->wall, "requests_per_sec",
	    r->wall > 0 ? (double)r->done / r->wall : 0.0, "completed",
	    (json_int_t)r->done, "ok", (json_int_t)r->ok, "failed",
	    (json_int_t)(in->count - r->ok), "errors", json_counts(r, false),
	    "status", json_counts(r, true), "latency", json_latency(r));
	if (o == NULL)
		return -1;
	rc = json_dumpf(o, f, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (rc == 0 && fputc('\n', f) == EOF)
		rc = -1;
	return rc;
}
