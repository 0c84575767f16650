/*
 * spare — a bounded stack of freed blocks of one size, kept for reuse.
 *
 * The mux allocates a connection, a request and a PARAMS buffer for
 * every request lighttpd sends (it opens a connection per request), and
 * frees them in batches at the end of a turn: more than malloc's
 * per-thread cache keeps, so each batch went through malloc's slow
 * paths. A spare stack hands the same blocks back instead.
 *
 * Contract:
 *  - Blocks are plain malloc'd memory of the stack's size (at least a
 *    pointer): spare_get() returns one (contents undefined) or NULL on
 *    ENOMEM; spare_put() keeps it, or frees it when max are kept already;
 *    spare_fini() frees every kept block. The stack owns the blocks it
 *    keeps; a block handed out is the caller's until spare_put() or
 *    free() (a block may also be freed, or realloc'd, as any malloc'd
 *    block).
 *  - Under AddressSanitizer nothing is kept (max is 0), so a block used
 *    after it was given back is reported as with free().
 *  - No I/O, no locking: one stack belongs to one thread.
 */
#ifndef FCGILAB_SPARE_H
#define FCGILAB_SPARE_H

#include <stddef.h>

struct spare {
	void *head; /* kept blocks, linked through their first word */
	unsigned n, max;
	size_t size;
};

void spare_init(struct spare *s, size_t size, unsigned max);
void *spare_get(struct spare *s);
void spare_put(struct spare *s, void *p);
void spare_fini(struct spare *s);

#endif
