/*
 * tap.h — a minimal TAP producer for the C unit tests (picotest-sized).
 *
 * Contract:
 *  - ok(cond, fmt, ...) prints one "ok N - ..." / "not ok N - ..." line and
 *    returns cond, so a test can stop early on a failed precondition.
 *  - done_testing() prints the plan ("1..N") and returns the exit status
 *    for main(): 0 when every point passed, 1 otherwise.
 *  - Header-only, single-threaded, state is per translation unit.
 */
#ifndef FCGILAB_TAP_H
#define FCGILAB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* Compare two strings, printing both as a TAP diagnostic when they differ. */
__attribute__((unused)) static int
is_str(const char *got, const char *want, const char *name)
{
	int same = got != NULL && want != NULL && strcmp(got, want) == 0;

	ok(same, "%s", name);
	if (!same)
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
		    want ? want : "(null)");
	return same;
}

__attribute__((unused)) static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
