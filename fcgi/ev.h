/*
 * ev — a thin epoll event loop (a tidier Redis ae): fd handlers, the timer
 * heap, deferred close/free, signals through signalfd, a cross-thread
 * wakeup, and an accept loop that backs off when fds run out.
 *
 * Contract:
 *  - One loop, one thread. Every function here is for the loop's thread,
 *    except ev_wakeup() and ev_stop(), which any thread (and a signal
 *    handler) may call.
 *  - Ownership: the loop owns its epoll fd, its wakeup eventfd, its
 *    signalfd, its fd table and its timer heap. It never owns a caller's
 *    fd, except one handed to ev_close(), which it closes at the end of
 *    the turn. Handler data, timer nodes (struct tmr_node), deferred
 *    records (struct ev_defer) and listeners are caller-owned and
 *    intrusive; the loop allocates nothing after ev_new() (which also
 *    sizes the list of fds ev_add_deferred() has not handed to epoll).
 *  - The fd table is indexed by fd and allocated once by ev_new(), sized
 *    from the soft RLIMIT_NOFILE (raise it first: ev_raise_nofile()).
 *    One record is 24 bytes; untouched pages of the table cost no RSS.
 *  - Level-triggered. A handler need not drain a socket to EAGAIN, and
 *    backpressure is just ev_mod() without EV_READ: nothing is lost, the
 *    readiness is reported again next turn. The price is toggling
 *    EV_WRITE while output is queued, which the mux does anyway.
 *    EV_HUP and EV_ERR are always delivered to a registered fd, whatever
 *    its mask (epoll reports them unasked, and level-triggered would spin
 *    on them): a handler must close or ev_del() on them.
 *  - One turn (ev_run_once) is: hand epoll the deferred additions, read
 *    the monotonic clock, compute the sleep from the next timer deadline,
 *    epoll_wait, read the clock again (that value is ev_now() for the
 *    whole turn), dispatch fd events, run due timers (tmr_run with ctx =
 *    the loop), then process deferred work.
 *    The clock is read only there, so handlers share one "now"; the read
 *    before sleeping keeps a long batch from making timers late.
 *  - Safe closing: ev_close() takes the fd out of epoll at once and closes
 *    it at the end of the turn, and ev_defer() runs a free function there.
 *    Until then the fd number cannot be reused, and every event is checked
 *    before dispatch ("still registered, same registration, still
 *    interested?"), so a handler may close a connection whose later event
 *    is in the same batch. Always close a registered fd with ev_close(),
 *    never close(2) directly.
 *  - Return convention: enum ev_result; on anything but EV_OK, errno says
 *    why (EV_ESYS: the failing system call's errno). Nothing here exits.
 */
#ifndef FCGILAB_EV_H
#define FCGILAB_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tmr.h"

enum ev_result {
	EV_OK,
	EV_ESYS,   /* a system call failed; errno is its error */
	EV_ENOMEM, /* allocation failed; errno is ENOMEM */
	EV_EINVAL, /* bad fd or wrong state: errno EBADF (fd outside the
	            * table), EEXIST (already added, or closing), ENOENT (not
	            * added), EINVAL (bad argument) */
};

/* Interest (ev_add, ev_mod) and delivered events (handler). */
#define EV_READ  0x01u /* EPOLLIN */
#define EV_WRITE 0x02u /* EPOLLOUT */
#define EV_RDHUP 0x04u /* EPOLLRDHUP: the peer shut down its write side */
#define EV_HUP   0x08u /* delivered only: EPOLLHUP */
#define EV_ERR   0x10u /* delivered only: EPOLLERR */

struct ev_loop;

/* Called with the events that are ready and still of interest. */
typedef void ev_io_fn(
    struct ev_loop *loop, int fd, unsigned events, void *data);

/* One fd-table record: 24 bytes on LP64. Private to ev; here for sizeof. */
struct ev_fd {
	ev_io_fn *fn;
	union {
		void *data; /* while registered */
		int next;   /* while closing: next fd on the close list */
	} u;
	uint32_t gen; /* registration number, carried in epoll_event.data */
	uint16_t mask;
	uint16_t flags;
};

/* A deferred call, embedded in its owner; runs at the end of the turn. */
struct ev_defer;
typedef void ev_defer_fn(struct ev_defer *d);
struct ev_defer {
	struct ev_defer *next;
	ev_defer_fn *fn;
	bool queued;
};

/* Create a loop whose fd table covers fds 0 .. max_fds - 1 (0: the soft
 * RLIMIT_NOFILE, at most EV_MAX_FDS). On failure *out is NULL. */
#define EV_MAX_FDS (1u << 20)
enum ev_result ev_new(struct ev_loop **out, unsigned max_fds);

/* Run pending deferred work, close the loop's own fds, free it. Caller
 * fds still registered are left open (their owners close them). */
void ev_free(struct ev_loop *loop);

/* Size of the fd table (fds 0 .. n - 1 can be added). */
unsigned ev_max_fds(const struct ev_loop *loop);

/* Register fd for the events in mask (EV_READ|EV_WRITE|EV_RDHUP; 0 is
 * allowed). data is handed to fn on each dispatch. */
enum ev_result ev_add(
    struct ev_loop *loop, int fd, unsigned mask, ev_io_fn *fn, void *data);

/* The same, but epoll hears of fd only before the loop next waits: an
 * fd closed (ev_close) or deleted within this turn never costs an
 * epoll_ctl at all (a server that reads, answers and closes a new
 * connection in the turn that accepted it). Until then ev_mod() only
 * records the mask. If epoll then refuses the fd, its handler gets
 * EV_ERR (errno says why) and must close it. */
enum ev_result ev_add_deferred(
    struct ev_loop *loop, int fd, unsigned mask, ev_io_fn *fn, void *data);

/* Change the interest of a registered fd. */
enum ev_result ev_mod(struct ev_loop *loop, int fd, unsigned mask);

/* The interest of fd, or 0 when it is not registered. */
unsigned ev_mask(const struct ev_loop *loop, int fd);

/* Unregister fd; pending events for it in this batch are dropped. The
 * fd stays open. */
enum ev_result ev_del(struct ev_loop *loop, int fd);

/* Unregister fd (if registered) and close it at the end of this turn.
 * A second ev_close() of the same fd in the turn is a no-op. An fd
 * outside the table is EV_EINVAL (EBADF) and is left open. */
enum ev_result ev_close(struct ev_loop *loop, int fd);

/* Call fn(d) at the end of this turn, after events and timers (FIFO).
 * Deferring a record that is already queued is a no-op. */
void ev_defer(struct ev_loop *loop, struct ev_defer *d, ev_defer_fn *fn);

/* One turn (see the contract). timeout_ms: -1 waits until an event or
 * the next timer, 0 polls, > 0 waits at most that long. An interrupted
 * epoll_wait (EINTR) is a turn with no events. */
enum ev_result ev_run_once(struct ev_loop *loop, int timeout_ms);

/* Turn until ev_stop(); then clear the stop request and return EV_OK.
 * Returns EV_ESYS if epoll_wait fails. */
enum ev_result ev_run(struct ev_loop *loop);

/* Ask ev_run() to return after the current turn. Any thread. */
void ev_stop(struct ev_loop *loop);

/* --- time ----------------------------------------------------------------
 */

/* Monotonic milliseconds as read at this turn (see the contract). */
uint64_t ev_now(const struct ev_loop *loop);

/* Read the clock now (for a handler that has just blocked on purpose). */
uint64_t ev_update_now(struct ev_loop *loop);

/* Replace the clock (tests); NULL restores CLOCK_MONOTONIC in ms. */
typedef uint64_t ev_clock_fn(void *data);
void ev_set_clock(struct ev_loop *loop, ev_clock_fn *fn, void *data);

/* The loop's timer heap. Nodes armed here fire during a turn with
 * ctx = the loop (cast the tmr_cb's ctx to struct ev_loop *). */
struct tmr_heap *ev_timers(struct ev_loop *loop);

/* Arm (or re-arm) node to fire delay_ms after ev_now(). */
enum tmr_result ev_timer_after(
    struct ev_loop *loop, struct tmr_node *node, uint64_t delay_ms);

/* --- signals and wakeup ---------------------------------------------------
 */

/* Called on the loop thread for each signal read from the signalfd. */
typedef void ev_signal_fn(struct ev_loop *loop, int signo, void *data);

/* Deliver the n signals in signos through a signalfd (one per loop;
 * calling again adds signals and replaces fn/data). The signals are
 * blocked in the CALLING thread: call this before creating any thread,
 * so threads inherit the block and the kernel has no thread to run a
 * default action on (offload workers also block every signal). The
 * block is not undone by ev_free(). */
enum ev_result ev_signal(struct ev_loop *loop, const int *signos, size_t n,
    ev_signal_fn *fn, void *data);

/* Called on the loop thread after one or more ev_wakeup() calls. */
typedef void ev_wakeup_fn(struct ev_loop *loop, void *data);
void ev_on_wakeup(struct ev_loop *loop, ev_wakeup_fn *fn, void *data);

/* Wake the loop from any thread or a signal handler (an eventfd write;
 * several wakeups before the loop runs coalesce into one call). */
void ev_wakeup(struct ev_loop *loop);

/* --- resources and listening ----------------------------------------------
 */

/* Raise the soft RLIMIT_NOFILE to the hard limit (or, when that is
 * unlimited, to fs.nr_open). Returns the soft limit now in force, or -1
 * with errno. */
long ev_raise_nofile(void);

/* Called for each accepted connection, which it owns (non-blocking,
 * close-on-exec). It may pause the listener (e.g. at a connection cap). */
typedef void ev_accept_fn(struct ev_loop *loop, int fd, void *data);

#define EV_ACCEPT_BATCH 64

struct ev_listener {
	struct tmr_node backoff; /* resumes a listener paused for a while */
	ev_accept_fn *fn;
	void *data;
	int fd;
	uint32_t backoff_ms; /* pause after EMFILE, ENFILE, ENOBUFS, ENOMEM */
	bool paused;
	uint64_t accepted, pauses; /* counters */
	int last_errno;            /* of the last accept4 failure */
};

/* Accept on the listening socket fd (made non-blocking here): on each
 * readiness accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) loops until EAGAIN, or
 * EV_ACCEPT_BATCH connections (the rest wait for the next turn: a flood
 * of connections, each maybe served at once by the callback, must not
 * keep the other fds and the timers waiting). When
 * fds or memory run out it pauses for backoff_ms (slowcgi) instead of
 * spinning on a readiness it cannot serve. */
enum ev_result ev_listener_start(struct ev_loop *loop, struct ev_listener *l,
    int fd, uint32_t backoff_ms, ev_accept_fn *fn, void *data);

/* Stop accepting for ms milliseconds (0: until ev_listener_resume). */
enum ev_result ev_listener_pause(
    struct ev_loop *loop, struct ev_listener *l, uint64_t ms);

/* Accept again (a no-op when not paused). */
enum ev_result ev_listener_resume(struct ev_loop *loop, struct ev_listener *l);

/* Stop listening: unregister and cancel the backoff; the fd stays open. */
void ev_listener_stop(struct ev_loop *loop, struct ev_listener *l);

#endif
