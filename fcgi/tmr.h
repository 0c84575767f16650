/*
 * tmr — timers as pure data structures: a binary min-heap of intrusive
 * nodes for per-request deadlines (each request its own S), and a FIFO
 * "death queue" (lwan) for timeouts that share one duration.
 *
 * Contract:
 *  - Time is injected. Nothing here reads a clock: every call that needs
 *    "now" takes now_ms from the caller (the event loop caches monotonic
 *    ms once per turn). Deadlines are absolute uint64_t milliseconds on
 *    the caller's clock; TMR_NEVER (UINT64_MAX) means "no deadline".
 *  - Nodes are intrusive and caller-owned: struct tmr_node is embedded in
 *    the owner (a request, a connection), which finds itself again with
 *    container_of(). tmr never allocates per arm and never frees a node.
 *    The heap owns only its array of node pointers, which grows by
 *    doubling up to an optional bound; tmr_heap_fini() frees it.
 *  - The owner must cancel an armed node before freeing it. tmr_cancel()
 *    of an unarmed node is a no-op, so "cancel, then free" is always safe.
 *  - Order: nodes fire by deadline; equal deadlines fire in arm order
 *    (FIFO, by a per-heap sequence number). Re-arming counts as a new arm.
 *  - tmr_run() removes a due node from the heap BEFORE calling its
 *    callback, so a callback may re-arm it, cancel or arm any other node,
 *    or free its owner. A node armed during a run does not fire in that
 *    run, even if it is due: the run stops at the first node armed after
 *    it began. So a callback that re-arms itself for "now" fires once per
 *    run, never forever; tmr_next_deadline() then says it is due, and the
 *    caller's next turn fires it (and any due nodes sorting after it).
 *  - Costs: arm, re-arm and cancel are O(log n); tmr_next_deadline() is
 *    O(1); FIFO touch, remove and expire-one are O(1).
 *  - Not thread-safe: one heap or FIFO belongs to one thread (the loop).
 *  - Return convention: functions that can fail return enum tmr_result;
 *    only arming an unarmed node can fail (the array must grow).
 *
 * Limits:
 *  - at most TMR_MAX_NODES (2^32 - 2) nodes in one heap;
 *  - FIFO timeouts are at least 1 ms (0 is raised to 1), which is what
 *    lets an expiry callback touch nodes without looping forever.
 */
#ifndef FCGILAB_TMR_H
#define FCGILAB_TMR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TMR_NEVER     UINT64_MAX
#define TMR_UNARMED   UINT32_MAX
#define TMR_MAX_NODES (UINT32_MAX - 1u)

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#endif

enum tmr_result {
	TMR_OK,
	TMR_ENOMEM, /* the heap array could not grow (realloc failed) */
	TMR_EFULL,  /* the heap holds its configured maximum of nodes */
};

struct tmr_node;

/* Called by tmr_run() for a due node, already removed from the heap.
 * now_ms and ctx are tmr_run()'s arguments. */
typedef void tmr_cb(struct tmr_node *node, uint64_t now_ms, void *ctx);

/* 32 bytes on LP64. Fields are private to tmr; read them with the
 * accessors below. */
struct tmr_node {
	uint64_t deadline; /* absolute ms, valid while armed */
	uint64_t seq;      /* arm order, breaks deadline ties */
	tmr_cb *cb;
	uint32_t idx; /* index in the heap array, TMR_UNARMED if not armed */
};

struct tmr_heap {
	struct tmr_node **v;
	uint32_t len, cap, max;
	uint64_t seq; /* next sequence number */
};

/* Prepare a heap; max bounds the number of armed nodes (0: TMR_MAX_NODES).
 * Allocates nothing. */
void tmr_heap_init(struct tmr_heap *h, uint32_t max);

/* Grow the array now so that n nodes can be armed without allocating. */
enum tmr_result tmr_heap_reserve(struct tmr_heap *h, uint32_t n);

/* Free the array. Nodes still armed are marked unarmed (not called). */
void tmr_heap_fini(struct tmr_heap *h);

/* Number of armed nodes. */
uint32_t tmr_heap_len(const struct tmr_heap *h);

/* Prepare a node (unarmed) with the callback tmr_run() will call. */
void tmr_node_init(struct tmr_node *n, tmr_cb *cb);

bool tmr_armed(const struct tmr_node *n);

/* The node's deadline, or TMR_NEVER when it is not armed. */
uint64_t tmr_deadline(const struct tmr_node *n);

/* Arm n to fire at deadline_ms, or move it there if already armed (never
 * fails then). Fails only for an unarmed node when the heap is full or
 * cannot grow; n is left unarmed. O(log n). */
enum tmr_result tmr_arm(
    struct tmr_heap *h, struct tmr_node *n, uint64_t deadline_ms);

/* Disarm n; a no-op when it is not armed. O(log n). */
void tmr_cancel(struct tmr_heap *h, struct tmr_node *n);

/* The earliest deadline, or TMR_NEVER when no node is armed. O(1). */
uint64_t tmr_next_deadline(const struct tmr_heap *h);

/* Milliseconds from now_ms to the earliest deadline, as epoll_wait()
 * wants it: -1 when nothing is armed, 0 when something is due, at most
 * INT32_MAX. */
int tmr_timeout_ms(const struct tmr_heap *h, uint64_t now_ms);

/* Fire due nodes (deadline <= now_ms) in (deadline, arm order) order,
 * passing now_ms and ctx to each callback; see the contract for nodes
 * armed during the run. Returns the number of callbacks made. */
size_t tmr_run(struct tmr_heap *h, uint64_t now_ms, void *ctx);

/*
 * The FIFO death queue, for timeouts that share one duration (idle and
 * read timeouts): a node's deadline is last_active + timeout_ms, and since
 * every touch moves the node to the tail with last_active = now, the list
 * is sorted by deadline and expiry only ever looks at the head.
 *
 * A FIFO may be attached to a heap (tmr_fifo_attach): it then keeps one
 * node of its own armed at the head's deadline, so the loop's single
 * tmr_run() drives it and its deadline shows in tmr_next_deadline().
 */
struct tmr_fifo_node;
struct tmr_fifo;

/* Called for an expired node, already unlinked; it may touch or remove
 * any node (including re-touching this one) or free the node's owner. */
typedef void tmr_fifo_cb(
    struct tmr_fifo_node *node, uint64_t now_ms, void *ctx);

/* 24 bytes on LP64. */
struct tmr_fifo_node {
	struct tmr_fifo_node *prev, *next; /* NULL when not queued */
	uint64_t last_active;
};

struct tmr_fifo {
	struct tmr_fifo_node head; /* sentinel: head.next is the oldest */
	struct tmr_node timer; /* armed at the head's deadline if attached */
	struct tmr_heap *heap; /* NULL when not attached */
	tmr_fifo_cb *cb;
	uint64_t timeout_ms;
	size_t len;
};

/* Prepare an empty queue whose nodes expire timeout_ms (>= 1) after their
 * last touch. Allocates nothing. */
void tmr_fifo_init(struct tmr_fifo *q, uint64_t timeout_ms, tmr_fifo_cb *cb);

/* Let heap's tmr_run() drive this queue (see above); arms the queue's
 * node when it is not empty. tmr_fifo_fini() detaches it. */
enum tmr_result tmr_fifo_attach(struct tmr_fifo *q, struct tmr_heap *heap);

/* Unlink every node (not called) and detach from the heap. */
void tmr_fifo_fini(struct tmr_fifo *q);

void tmr_fifo_node_init(struct tmr_fifo_node *n);

bool tmr_fifo_queued(const struct tmr_fifo_node *n);

/* Mark n active at now_ms: append it, or move it to the tail. O(1).
 * A now_ms older than the tail's is raised to it, so the list stays
 * sorted. Fails only when attached and the queue's own heap node cannot
 * be armed (n is queued all the same; the next touch retries). */
enum tmr_result tmr_fifo_touch(
    struct tmr_fifo *q, struct tmr_fifo_node *n, uint64_t now_ms);

/* Unlink n; a no-op when it is not queued. O(1). */
void tmr_fifo_remove(struct tmr_fifo *q, struct tmr_fifo_node *n);

/* The head's deadline (last_active + timeout), or TMR_NEVER when empty. */
uint64_t tmr_fifo_next_deadline(const struct tmr_fifo *q);

size_t tmr_fifo_len(const struct tmr_fifo *q);

/* Expire, oldest first, every node with last_active + timeout <= now_ms,
 * passing now_ms and ctx to the callback. Returns the number expired.
 * An attached queue calls this itself from its heap node. */
size_t tmr_fifo_expire(struct tmr_fifo *q, uint64_t now_ms, void *ctx);

#endif
