/* tmr — timer heap and FIFO death queue; contract in tmr.h. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "tmr.h"

#define TMR_MIN_CAP 16u

/* Heap order: earlier deadline first, then earlier arm. */
static bool
node_before(const struct tmr_node *a, const struct tmr_node *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->seq < b->seq;
}

static void
heap_place(struct tmr_heap *h, uint32_t i, struct tmr_node *n)
{
	h->v[i] = n;
	n->idx = i;
}

static void
sift_up(struct tmr_heap *h, uint32_t i)
{
	struct tmr_node *n = h->v[i];
	uint32_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!node_before(n, h->v[parent]))
			break;
		heap_place(h, i, h->v[parent]);
		i = parent;
	}
	heap_place(h, i, n);
}

static void
sift_down(struct tmr_heap *h, uint32_t i)
{
	struct tmr_node *n = h->v[i];
	uint32_t child;

	for (;;) {
		/* len <= UINT32_MAX - 1, so 2i + 1 is computed in 64 bits. */
		if ((uint64_t)i * 2 + 1 >= h->len)
			break;
		child = i * 2 + 1;
		if (child + 1 < h->len &&
		    node_before(h->v[child + 1], h->v[child]))
			child++;
		if (!node_before(h->v[child], n))
			break;
		heap_place(h, i, h->v[child]);
		i = child;
	}
	heap_place(h, i, n);
}

/* Restore the heap around slot i after its node changed or was replaced. */
static void
heap_fix(struct tmr_heap *h, uint32_t i)
{
	if (i > 0 && node_before(h->v[i], h->v[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

static enum tmr_result
heap_grow(struct tmr_heap *h, uint32_t want)
{
	struct tmr_node **v;
	uint64_t cap;

	if (want <= h->cap)
		return TMR_OK;
	if (want > h->max)
		return TMR_EFULL;
	cap = h->cap ? h->cap : TMR_MIN_CAP;
	while (cap < want)
		cap *= 2;
	if (cap > h->max)
		cap = h->max;
	if (cap > SIZE_MAX / sizeof(*v))
		return TMR_ENOMEM;
	if ((v = realloc(h->v, (size_t)cap * sizeof(*v))) == NULL)
		return TMR_ENOMEM;
	h->v = v;
	h->cap = (uint32_t)cap;
	return TMR_OK;
}

void
tmr_heap_init(struct tmr_heap *h, uint32_t max)
{
	h->v = NULL;
	h->len = h->cap = 0;
	h->max = (max == 0 || max > TMR_MAX_NODES) ? TMR_MAX_NODES : max;
	h->seq = 0;
}

enum tmr_result
tmr_heap_reserve(struct tmr_heap *h, uint32_t n)
{
	return heap_grow(h, n);
}

void
tmr_heap_fini(struct tmr_heap *h)
{
	uint32_t i;

	for (i = 0; i < h->len; i++)
		h->v[i]->idx = TMR_UNARMED;
	free(h->v);
	h->v = NULL;
	h->len = h->cap = 0;
}

uint32_t
tmr_heap_len(const struct tmr_heap *h)
{
	return h->len;
}

void
tmr_node_init(struct tmr_node *n, tmr_cb *cb)
{
	n->deadline = TMR_NEVER;
	n->seq = 0;
	n->cb = cb;
	n->idx = TMR_UNARMED;
}

bool
tmr_armed(const struct tmr_node *n)
{
	return n->idx != TMR_UNARMED;
}

uint64_t
tmr_deadline(const struct tmr_node *n)
{
	return tmr_armed(n) ? n->deadline : TMR_NEVER;
}

enum tmr_result
tmr_arm(struct tmr_heap *h, struct tmr_node *n, uint64_t deadline_ms)
{
	enum tmr_result r;

	n->deadline = deadline_ms;
	n->seq = h->seq++;
	if (tmr_armed(n)) {
		heap_fix(h, n->idx);
		return TMR_OK;
	}
	if ((r = heap_grow(h, h->len + 1)) != TMR_OK)
		return r;
	heap_place(h, h->len++, n);
	sift_up(h, n->idx);
	return TMR_OK;
}

void
tmr_cancel(struct tmr_heap *h, struct tmr_node *n)
{
	uint32_t i = n->idx;
	struct tmr_node *last;

	if (i == TMR_UNARMED)
		return;
	n->idx = TMR_UNARMED;
	last = h->v[--h->len];
	if (last == n)
		return;
	heap_place(h, i, last);
	heap_fix(h, i);
}

uint64_t
tmr_next_deadline(const struct tmr_heap *h)
{
	return h->len ? h->v[0]->deadline : TMR_NEVER;
}

int
tmr_timeout_ms(const struct tmr_heap *h, uint64_t now_ms)
{
	uint64_t next = tmr_next_deadline(h);

	if (next == TMR_NEVER)
		return -1;
	if (next <= now_ms)
		return 0;
	if (next - now_ms > INT32_MAX)
		return INT32_MAX;
	return (int)(next - now_ms);
}

size_t
tmr_run(struct tmr_heap *h, uint64_t now_ms, void *ctx)
{
	uint64_t run_seq = h->seq; /* nodes armed from here on wait */
	struct tmr_node *n;
	size_t fired = 0;

	while (h->len > 0) {
		n = h->v[0];
		if (n->deadline > now_ms || n->seq >= run_seq)
			break;
		tmr_cancel(h, n);
		fired++;
		n->cb(n, now_ms, ctx);
	}
	return fired;
}

/* --- the FIFO death queue -------------------------------------------------
 */

static void
fifo_unlink(struct tmr_fifo *q, struct tmr_fifo_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
	q->len--;
}

/* Keep the queue's heap node at the head's deadline (attached queues). */
static enum tmr_result
fifo_sync_timer(struct tmr_fifo *q)
{
	uint64_t next;

	if (q->heap == NULL)
		return TMR_OK;
	if ((next = tmr_fifo_next_deadline(q)) == TMR_NEVER) {
		tmr_cancel(q->heap, &q->timer);
		return TMR_OK;
	}
	/* An armed timer at or before the head's deadline is good enough: it
	 * fires early at worst, expires nothing and re-syncs. */
	if (tmr_armed(&q->timer) && tmr_deadline(&q->timer) <= next)
		return TMR_OK;
	return tmr_arm(q->heap, &q->timer, next);
}

static void
fifo_timer_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct tmr_fifo *q = container_of(node, struct tmr_fifo, timer);

	tmr_fifo_expire(q, now_ms, ctx);
}

void
tmr_fifo_init(struct tmr_fifo *q, uint64_t timeout_ms, tmr_fifo_cb *cb)
{
	q->head.prev = q->head.next = &q->head;
	q->head.last_active = 0;
	tmr_node_init(&q->timer, fifo_timer_cb);
	q->heap = NULL;
	q->cb = cb;
	q->timeout_ms = timeout_ms ? timeout_ms : 1;
	q->len = 0;
}

enum tmr_result
tmr_fifo_attach(struct tmr_fifo *q, struct tmr_heap *heap)
{
	q->heap = heap;
	return fifo_sync_timer(q);
}

void
tmr_fifo_fini(struct tmr_fifo *q)
{
	while (q->head.next != &q->head)
		fifo_unlink(q, q->head.next);
	if (q->heap != NULL)
		tmr_cancel(q->heap, &q->timer);
	q->heap = NULL;
}

void
tmr_fifo_node_init(struct tmr_fifo_node *n)
{
	n->prev = n->next = NULL;
	n->last_active = 0;
}

bool
tmr_fifo_queued(const struct tmr_fifo_node *n)
{
	return n->next != NULL;
}

enum tmr_result
tmr_fifo_touch(struct tmr_fifo *q, struct tmr_fifo_node *n, uint64_t now_ms)
{
	struct tmr_fifo_node *tail;

	if (tmr_fifo_queued(n))
		fifo_unlink(q, n);
	tail = q->head.prev;
	if (tail != &q->head && tail->last_active > now_ms)
		now_ms = tail->last_active;
	n->last_active = now_ms;
	n->prev = tail;
	n->next = &q->head;
	tail->next = n;
	q->head.prev = n;
	q->len++;
	return fifo_sync_timer(q);
}

void
tmr_fifo_remove(struct tmr_fifo *q, struct tmr_fifo_node *n)
{
	if (tmr_fifo_queued(n))
		fifo_unlink(q, n);
	/* The heap node is left armed: it fires early at worst. */
}

uint64_t
tmr_fifo_next_deadline(const struct tmr_fifo *q)
{
	const struct tmr_fifo_node *n = q->head.next;

	if (n == &q->head)
		return TMR_NEVER;
	if (n->last_active > TMR_NEVER - 1 - q->timeout_ms)
		return TMR_NEVER - 1;
	return n->last_active + q->timeout_ms;
}

size_t
tmr_fifo_len(const struct tmr_fifo *q)
{
	return q->len;
}

size_t
tmr_fifo_expire(struct tmr_fifo *q, uint64_t now_ms, void *ctx)
{
	struct tmr_fifo_node *n;
	size_t n_expired = 0;

	/* Touches made by callbacks append nodes with last_active >= now_ms,
	 * whose deadline is > now_ms since timeout_ms >= 1: the loop ends. */
	while (tmr_fifo_next_deadline(q) <= now_ms) {
		n = q->head.next;
		fifo_unlink(q, n);
		n_expired++;
		q->cb(n, now_ms, ctx);
	}
	/* XXX: if the heap cannot take the node here, the next touch retries;
	 * until then this queue's expiries wait. */
	(void)fifo_sync_timer(q);
	return n_expired;
}
