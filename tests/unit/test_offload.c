/*
 * test_offload — the CPU thread pool: results and threads, the bounded
 * queue, cancel in each state (queued, running, finished), the "owner
 * frees itself at once" pattern, a loop that stays responsive while a
 * worker is busy, shutdown, and a seeded cancel-race stress run (meant to
 * be run under ASan and TSan as well).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "cpuwork.h"
#include "ev.h"
#include "offload.h"
#include "tap.h"

static pthread_t main_thread;

static void
sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Poll the counts until they match (-1: any), for at most 10 s. */
static int
wait_counts(struct offload_pool *pool, long q, long r, long f)
{
	size_t nq, nr, nf;
	int i;

	for (i = 0; i < 100000; i++) {
		offload_counts(pool, &nq, &nr, &nf);
		if ((q < 0 || (long)nq == q) && (r < 0 || (long)nr == r) &&
		    (f < 0 || (long)nf == f))
			return 1;
		sleep_us(100);
	}
	return 0;
}

/* Wait for the eventfd, then drain; returns callbacks made. */
static size_t
wait_drain(struct offload_pool *pool, int timeout_ms)
{
	struct pollfd p = {.fd = offload_fd(pool), .events = POLLIN};

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	return offload_drain(pool);
}

/* --- a prime-counting job ------------------------------------------------- */

struct prime_job {
	struct offload_job job; /* the pool's part */
	unsigned long n, result;
	int work_on_main, done_on_main, calls;
	enum offload_status status;
};

static void
prime_work(struct offload_job *job)
{
	struct prime_job *p = container_of(job, struct prime_job, job);

	p->work_on_main = pthread_equal(pthread_self(), main_thread);
	p->result = cpu_count_primes(p->n);
}

static void
prime_done(struct offload_job *job, enum offload_status st)
{
	struct prime_job *p = container_of(job, struct prime_job, job);

	p->done_on_main = pthread_equal(pthread_self(), main_thread);
	p->status = st;
	p->calls++;
}

static void
test_basic(void)
{
	struct offload_pool *pool;
	struct prime_job *p = calloc(100, sizeof(*p));
	size_t got = 0;
	int i, good = 1, tries = 0;

	ok(offload_new(&pool, 0, 4) == OFFLOAD_EINVAL && pool == NULL,
	    "0 threads is OFFLOAD_EINVAL");
	if (!ok(offload_new(&pool, 2, 100) == OFFLOAD_OK,
	        "offload_new(2, 100)"))
		return;
	for (i = 0; i < 100; i++) {
		p[i].n = 1000 + (unsigned long)i * 97;
		offload_job_init(&p[i].job, prime_work, prime_done);
		good &= offload_submit(pool, &p[i].job) == OFFLOAD_OK;
	}
	ok(good, "100 jobs submitted");
	while (got < 100 && tries++ < 1000)
		got += wait_drain(pool, 100);
	for (i = 0; i < 100; i++)
		good &= p[i].calls == 1 && p[i].status == OFFLOAD_DONE &&
		    p[i].result == cpu_count_primes(p[i].n);
	ok(got == 100 && good, "each done once, with the right result");
	good = 1;
	for (i = 0; i < 100; i++)
		good &= !p[i].work_on_main && p[i].done_on_main;
	ok(good, "work() on a pool thread, done() on the draining thread");
	ok(offload_submit(pool, &p[0].job) == OFFLOAD_OK &&
	        wait_drain(pool, 5000) == 1 && p[0].calls == 2,
	    "a drained job can be submitted again");
	offload_free(pool);
	free(p);
}

/* --- a job that waits at a gate (or until cancelled) -----------------------
 */

struct gate_job {
	struct offload_job job;
	atomic_int *gate;
	int calls;
	enum offload_status status;
	atomic_int ran;
};

static void
gate_work(struct offload_job *job)
{
	struct gate_job *g = container_of(job, struct gate_job, job);

	atomic_store(&g->ran, 1);
	while (!atomic_load(g->gate) && !offload_cancelled(job))
		sleep_us(200);
}

static void
gate_done(struct offload_job *job, enum offload_status st)
{
	struct gate_job *g = container_of(job, struct gate_job, job);

	g->status = st;
	g->calls++;
}

static void
gate_init(struct gate_job *g, atomic_int *gate)
{
	offload_job_init(&g->job, gate_work, gate_done);
	g->gate = gate;
	g->calls = 0;
	atomic_init(&g->ran, 0);
}

static void
test_queue_and_cancel(void)
{
	struct offload_pool *pool;
	struct gate_job g[6];
	atomic_int gates[6];
	int i;

	offload_new(&pool, 1, 3);
	for (i = 0; i < 6; i++) {
		atomic_init(&gates[i], 0);
		gate_init(&g[i], &gates[i]);
	}
	offload_submit(pool, &g[0].job);
	ok(wait_counts(pool, 0, 1, 0), "the only thread is busy");
	for (i = 1; i <= 3; i++)
		offload_submit(pool, &g[i].job);
	ok(offload_submit(pool, &g[4].job) == OFFLOAD_EFULL,
	    "a full queue says OFFLOAD_EFULL");
	ok(offload_submit(pool, &g[1].job) == OFFLOAD_EBUSY,
	    "submitting a queued job says OFFLOAD_EBUSY");
	ok(offload_cancel(pool, &g[5].job) == OFFLOAD_CANCEL_IDLE,
	    "cancel of an idle job: IDLE");
	ok(offload_cancel(pool, &g[2].job) == OFFLOAD_CANCEL_REMOVED &&
	        wait_counts(pool, 2, 1, 0),
	    "cancel of a queued job removes it");
	ok(offload_submit(pool, &g[4].job) == OFFLOAD_OK,
	    "which makes room in the queue");
	ok(offload_cancel(pool, &g[0].job) == OFFLOAD_CANCEL_DETACHED &&
	        offload_cancel(pool, &g[0].job) == OFFLOAD_CANCEL_DETACHED,
	    "cancel of a running job detaches it (twice is the same)");
	ok(wait_drain(pool, 5000) == 1 && g[0].calls == 1 &&
	        g[0].status == OFFLOAD_CANCELLED,
	    "the detached job reports CANCELLED (it polled offload_cancelled)");
	for (i = 0; i < 50000 && !atomic_load(&g[1].ran); i++)
		sleep_us(100);
	ok(wait_counts(pool, 2, 1, 0) && atomic_load(&g[1].ran),
	    "the next queued job runs");
	/* Let g[1] finish but do not drain yet, then cancel it. */
	atomic_store(&gates[1], 1);
	ok(wait_counts(pool, -1, -1, 1) &&
	        offload_cancel(pool, &g[1].job) == OFFLOAD_CANCEL_REMOVED,
	    "cancel of a finished, undrained job removes it");
	offload_drain(pool);
	ok(g[1].calls == 0 && g[2].calls == 0, "removed jobs never see done()");
	atomic_store(&gates[3], 1);
	atomic_store(&gates[4], 1);
	for (i = 0; i < 100 && (g[3].calls == 0 || g[4].calls == 0); i++)
		wait_drain(pool, 100);
	ok(g[3].status == OFFLOAD_DONE && g[4].status == OFFLOAD_DONE,
	    "the rest complete normally");
	offload_free(pool);
}

/* --- the owner that frees itself at once -----------------------------------
 */

/* A request owns a separately allocated job holding inputs and outputs;
 * when its client goes away it cancels, and on DETACHED frees itself right
 * away: the pool still holds the job, which done(CANCELLED) frees. Any
 * touch of the freed request is a use-after-free for ASan/valgrind. */
struct request;
struct req_job {
	struct offload_job job;
	struct request *owner; /* NULL once detached */
	atomic_int *gate;
	unsigned long n, result;
	int *freed_jobs;
};

struct request {
	struct req_job *job;
	unsigned long answer;
	int answered;
};

static void
req_work(struct offload_job *job)
{
	struct req_job *j = container_of(job, struct req_job, job);

	/* Only the job: never j->owner, which may be freed meanwhile. */
	while (j->gate != NULL && !atomic_load(j->gate))
		sleep_us(200);
	j->result = cpu_count_primes(j->n);
}

static void
req_done(struct offload_job *job, enum offload_status st)
{
	struct req_job *j = container_of(job, struct req_job, job);

	if (st == OFFLOAD_DONE && j->owner != NULL) {
		j->owner->answer = j->result;
		j->owner->answered = 1;
		j->owner->job = NULL;
	}
	(*j->freed_jobs)++;
	free(j);
}

static struct request *
req_new(unsigned long n, atomic_int *gate, int *freed_jobs)
{
	struct request *r = calloc(1, sizeof(*r));

	r->job = calloc(1, sizeof(*r->job));
	offload_job_init(&r->job->job, req_work, req_done);
	r->job->owner = r;
	r->job->gate = gate;
	r->job->n = n;
	r->job->freed_jobs = freed_jobs;
	return r;
}

/* The client went away: after this the request is gone. */
static enum offload_cancel
req_abandon(struct offload_pool *pool, struct request *r, int *freed_jobs)
{
	enum offload_cancel c = OFFLOAD_CANCEL_IDLE;

	if (r->job != NULL) {
		c = offload_cancel(pool, &r->job->job);
		if (c == OFFLOAD_CANCEL_DETACHED) {
			r->job->owner = NULL; /* the pool frees it in done() */
		} else {
			free(r->job);
			(*freed_jobs)++;
		}
	}
	free(r);
	return c;
}

static void
test_owner_detach(void)
{
	struct offload_pool *pool;
	struct request *r;
	atomic_int gate = 0;
	int freed = 0;

	offload_new(&pool, 1, 4);
	r = req_new(5000, &gate, &freed);
	offload_submit(pool, &r->job->job);
	wait_counts(pool, 0, 1, 0);
	ok(req_abandon(pool, r, &freed) == OFFLOAD_CANCEL_DETACHED &&
	        freed == 0,
	    "running: the request is freed at once, its job detached");
	atomic_store(&gate, 1);
	ok(wait_drain(pool, 5000) == 1 && freed == 1,
	    "done(CANCELLED) frees the job, not touching the request");
	r = req_new(5000, NULL, &freed);
	offload_submit(pool, &r->job->job);
	ok(wait_drain(pool, 5000) == 1 && r->answered &&
	        r->answer == cpu_count_primes(5000) && freed == 2,
	    "a request that stays gets its answer");
	free(r);
	offload_free(pool);
}

/* --- the loop stays responsive ----------------------------------------------
 */

struct responsive {
	struct tmr_node tick;
	int ticks, ticks_while_running, finished;
	atomic_int gate;
	struct gate_job job;
	struct offload_pool *pool;
};

static void
tick_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct responsive *s = container_of(node, struct responsive, tick);
	size_t running;

	(void)now_ms;
	s->ticks++;
	offload_counts(s->pool, NULL, &running, NULL);
	if (running == 1)
		s->ticks_while_running++;
	if (s->ticks_while_running >= 10)
		atomic_store(&s->gate, 1); /* let the busy job end */
	if (!s->finished)
		ev_timer_after(ctx, node, 5);
}

static void
drain_io(struct ev_loop *loop, int fd, unsigned events, void *data)
{
	struct responsive *s = data;

	(void)fd;
	(void)events;
	offload_drain(s->pool);
	if (s->job.calls == 1) {
		s->finished = 1;
		ev_stop(loop);
	}
}

static void
test_responsive(void)
{
	struct ev_loop *loop;
	static struct responsive s;
	int rc;

	ev_new(&loop, 0);
	offload_new(&s.pool, 1, 4);
	ok(ev_add(loop, offload_fd(s.pool), EV_READ, drain_io, &s) == EV_OK,
	    "the pool's eventfd joins the loop");
	tmr_node_init(&s.tick, tick_cb);
	ev_timer_after(loop, &s.tick, 5);
	gate_init(&s.job, &s.gate);
	offload_submit(s.pool, &s.job.job);
	rc = ev_run(loop);
	ok(rc == EV_OK && s.finished && s.job.status == OFFLOAD_DONE,
	    "the busy job completes through the loop");
	ok(s.ticks_while_running >= 10,
	    "the loop kept ticking while a worker was busy (%d ticks)",
	    s.ticks_while_running);
	tmr_cancel(ev_timers(loop), &s.tick);
	ev_del(loop, offload_fd(s.pool));
	offload_free(s.pool);
	ev_free(loop);
}

/* --- shutdown
 * ----------------------------------------------------------------- */

static void
test_shutdown(void)
{
	struct offload_pool *pool;
	struct gate_job g[4];
	atomic_int closed = 0, open = 1;
	int i;

	offload_new(&pool, 1, 8);
	for (i = 0; i < 4; i++)
		gate_init(&g[i], i == 0 ? &open : &closed);
	offload_submit(pool, &g[0].job);
	ok(wait_counts(pool, 0, 0, 1), "one job finished, not drained");
	for (i = 1; i < 4; i++)
		offload_submit(pool, &g[i].job);
	ok(wait_counts(pool, 2, 1, 1), "one running (gate shut), two queued");
	offload_free(pool); /* asks g[1] to stop, joins */
	ok(g[0].calls == 1 && g[0].status == OFFLOAD_DONE,
	    "shutdown: the finished job gets DONE");
	ok(g[1].calls == 1 && g[1].status == OFFLOAD_ABORTED,
	    "the running job was asked to stop: ABORTED");
	ok(g[2].calls == 1 && g[2].status == OFFLOAD_ABORTED &&
	        g[3].calls == 1 && g[3].status == OFFLOAD_ABORTED &&
	        !atomic_load(&g[2].ran),
	    "queued jobs never ran: ABORTED");
}

/* --- stress: cancel races ----------------------------------------------------
 */

static uint64_t rng_state = 12345;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

#define S_JOBS 10000
#define S_LIVE 8

struct stress {
	int freed_jobs, done_ok, done_cancelled, removed, detached, wrong;
};

static struct stress st;

/* Busy for about n loop iterations, then a checkable result. */
static void
stress_work(struct offload_job *job)
{
	struct req_job *j = container_of(job, struct req_job, job);
	volatile unsigned long spin = 0;
	unsigned long i;

	for (i = 0; i < j->n; i++)
		spin += i;
	(void)spin;
	j->result = j->n * 3 + 1;
}

static void
stress_done(struct offload_job *job, enum offload_status s)
{
	struct req_job *j = container_of(job, struct req_job, job);

	if (s == OFFLOAD_DONE) {
		st.done_ok++;
		if (j->owner == NULL || j->result != j->n * 3 + 1)
			st.wrong++;
		else {
			j->owner->job = NULL;
			j->owner->answered = 1;
		}
	} else {
		st.done_cancelled++;
		if (s != OFFLOAD_CANCELLED || j->owner != NULL)
			st.wrong++;
	}
	st.freed_jobs++;
	free(j);
}

static void
stress_abandon(struct offload_pool *pool, struct request **live, int k)
{
	struct request *r = live[k];
	enum offload_cancel c;

	c = offload_cancel(pool, &r->job->job);
	if (c == OFFLOAD_CANCEL_DETACHED) {
		st.detached++;
		r->job->owner = NULL;
	} else {
		st.removed += c == OFFLOAD_CANCEL_REMOVED;
		st.wrong += c != OFFLOAD_CANCEL_REMOVED;
		free(r->job);
		st.freed_jobs++;
	}
	free(r);
	live[k] = NULL;
}

static void
test_stress(void)
{
	struct offload_pool *pool;
	struct request *live[S_LIVE] = {0};
	int submitted = 0, answered = 0, k, spins = 0;
	enum offload_result rr;

	offload_new(&pool, 3, 4);
	while ((submitted < S_JOBS ||
	           answered + st.removed + st.detached < submitted) &&
	    spins++ < 2000000) {
		k = (int)(rng() % S_LIVE);
		if (live[k] != NULL && live[k]->answered) {
			free(live[k]);
			live[k] = NULL;
			answered++;
		} else if (live[k] == NULL && submitted < S_JOBS) {
			live[k] = req_new(rng() % 300000, NULL, NULL);
			offload_job_init(
			    &live[k]->job->job, stress_work, stress_done);
			rr = offload_submit(pool, &live[k]->job->job);
			if (rr != OFFLOAD_OK) {
				free(live[k]->job);
				free(live[k]);
				live[k] = NULL;
				st.wrong += rr != OFFLOAD_EFULL;
			} else
				submitted++;
		} else if (live[k] != NULL && rng() % 64 == 0)
			stress_abandon(pool, live, k);
		if (rng() % 8 == 0)
			offload_drain(pool);
	}
	while (st.freed_jobs < submitted && spins++ < 4000000)
		if (wait_drain(pool, 10) == 0)
			break;
	for (k = 0; k < S_LIVE; k++) {
		if (live[k] != NULL) {
			answered++;
			free(live[k]);
		}
	}
	offload_free(pool);
	printf("# stress: %d jobs: %d done, %d removed by cancel, %d detached "
	       "while running\n",
	    submitted, st.done_ok, st.removed, st.detached);
	ok(submitted == S_JOBS && st.wrong == 0,
	    "stress: every outcome as the contract says");
	ok(st.freed_jobs == submitted && st.done_cancelled == st.detached &&
	        st.done_ok + st.removed + st.detached == submitted,
	    "each job ends exactly once (done, removed or detached+cancelled)");
	ok(st.detached > 0 && st.removed > 0,
	    "both cancel paths were exercised");
}

int
main(void)
{
	main_thread = pthread_self();
	printf(
	    "# sizeof(struct offload_job) = %zu\n", sizeof(struct offload_job));
	test_basic();
	test_queue_and_cancel();
	test_owner_detach();
	test_responsive();
	test_shutdown();
	test_stress();
	return done_testing();
}
