/*
 * test_tmr — the timer heap and the FIFO death queue, on injected time:
 * ordering, FIFO ties, cancel, re-arm from callbacks, bounds, and a seeded
 * stress run against a naive O(n) reference model.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "tmr.h"

/* xorshift64*: a small seeded PRNG so every run is the same run. */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

/* Every node in the array sits at its own index and no child sorts before
 * its parent. */
static int
heap_valid(const struct tmr_heap *h)
{
	uint32_t i;
	const struct tmr_node *c, *p;

	for (i = 0; i < h->len; i++) {
		if (h->v[i]->idx != i)
			return 0;
		if (i == 0)
			continue;
		c = h->v[i];
		p = h->v[(i - 1) / 2];
		if (c->deadline < p->deadline ||
		    (c->deadline == p->deadline && c->seq < p->seq))
			return 0;
	}
	return 1;
}

/* --- a timer owner, found again with container_of ------------------------ */

struct owner {
	int id;
	int fired;
	uint64_t fired_at;
	struct tmr_node t;
};

struct log {
	int *ids;
	uint64_t *deadlines;
	size_t n, cap;
};

static void
log_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct owner *o = container_of(node, struct owner, t);
	struct log *lg = ctx;

	o->fired++;
	o->fired_at = now_ms;
	if (lg->n < lg->cap) {
		lg->ids[lg->n] = o->id;
		lg->deadlines[lg->n] = node->deadline;
	}
	lg->n++;
}

static void
log_init(struct log *lg, size_t cap)
{
	lg->ids = calloc(cap, sizeof(*lg->ids));
	lg->deadlines = calloc(cap, sizeof(*lg->deadlines));
	lg->n = 0;
	lg->cap = cap;
}

static void
log_free(struct log *lg)
{
	free(lg->ids);
	free(lg->deadlines);
}

static double
elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static void
test_basics(void)
{
	struct tmr_heap h;
	struct owner a = {.id = 1}, b = {.id = 2};
	struct log lg;

	log_init(&lg, 8);
	tmr_heap_init(&h, 0);
	tmr_node_init(&a.t, log_cb);
	tmr_node_init(&b.t, log_cb);
	ok(tmr_next_deadline(&h) == TMR_NEVER,
	    "empty heap: next deadline NEVER");
	ok(tmr_timeout_ms(&h, 0) == -1, "empty heap: epoll timeout -1");
	ok(!tmr_armed(&a.t) && tmr_deadline(&a.t) == TMR_NEVER,
	    "new node is unarmed");
	tmr_cancel(&h, &a.t);
	ok(tmr_heap_len(&h) == 0, "cancel of an unarmed node is a no-op");

	ok(tmr_arm(&h, &a.t, 100) == TMR_OK && tmr_armed(&a.t), "arm");
	ok(tmr_arm(&h, &b.t, 50) == TMR_OK, "arm a second node");
	ok(tmr_next_deadline(&h) == 50, "next deadline is the earliest");
	ok(tmr_timeout_ms(&h, 20) == 30, "timeout from now is the difference");
	ok(tmr_timeout_ms(&h, 60) == 0, "timeout is 0 when due");
	ok(tmr_run(&h, 49, &lg) == 0, "nothing fires before its deadline");
	ok(tmr_run(&h, 50, &lg) == 1 && b.fired == 1 && !tmr_armed(&b.t),
	    "a node fires at its deadline and is disarmed");
	ok(tmr_arm(&h, &a.t, 10) == TMR_OK && tmr_heap_len(&h) == 1 &&
	        tmr_next_deadline(&h) == 10,
	    "re-arm moves an armed node (earlier)");
	ok(tmr_arm(&h, &a.t, 1000) == TMR_OK && tmr_next_deadline(&h) == 1000,
	    "re-arm moves an armed node (later)");
	tmr_cancel(&h, &a.t);
	tmr_cancel(&h, &a.t);
	ok(tmr_heap_len(&h) == 0 && !tmr_armed(&a.t), "cancel twice is safe");
	ok(tmr_run(&h, UINT64_MAX - 1, &lg) == 0 && a.fired == 0,
	    "a cancelled node never fires");
	ok(tmr_arm(&h, &a.t, (uint64_t)INT32_MAX * 4) == TMR_OK &&
	        tmr_timeout_ms(&h, 0) == INT32_MAX,
	    "far deadlines clamp the epoll timeout to INT32_MAX");
	tmr_heap_fini(&h);
	ok(!tmr_armed(&a.t), "fini leaves nodes unarmed");
	log_free(&lg);
}

static void
test_fifo_ties(void)
{
	struct tmr_heap h;
	struct owner o[6];
	struct log lg;
	int i, order_ok;
	static const int want[] = {0, 2, 3, 4, 1, 5};

	log_init(&lg, 16);
	tmr_heap_init(&h, 0);
	for (i = 0; i < 6; i++) {
		o[i] = (struct owner){.id = i};
		tmr_node_init(&o[i].t, log_cb);
	}
	for (i = 0; i < 5; i++)
		tmr_arm(&h, &o[i].t, 7);
	tmr_arm(&h, &o[1].t, 7); /* a re-arm counts as a new arm */
	tmr_arm(&h, &o[5].t, 8);
	tmr_run(&h, 100, &lg);
	order_ok = lg.n == 6;
	for (i = 0; order_ok && i < 6; i++)
		order_ok = lg.ids[i] == want[i];
	ok(order_ok, "equal deadlines fire in arm order; re-arm goes last");
	tmr_heap_fini(&h);
	log_free(&lg);
}

static void
test_bounded(void)
{
	struct tmr_heap h;
	struct owner o[5];
	int i, armed = 1;

	tmr_heap_init(&h, 4);
	for (i = 0; i < 5; i++) {
		o[i] = (struct owner){.id = i};
		tmr_node_init(&o[i].t, log_cb);
	}
	for (i = 0; i < 4; i++)
		armed &= tmr_arm(&h, &o[i].t, (uint64_t)i) == TMR_OK;
	ok(armed, "a bounded heap takes its maximum");
	ok(tmr_arm(&h, &o[4].t, 1) == TMR_EFULL && !tmr_armed(&o[4].t),
	    "one more is TMR_EFULL and stays unarmed");
	ok(tmr_arm(&h, &o[0].t, 99) == TMR_OK, "re-arm never fails when full");
	tmr_cancel(&h, &o[2].t);
	ok(tmr_arm(&h, &o[4].t, 1) == TMR_OK, "a cancel makes room");
	ok(heap_valid(&h) && h.cap == 4, "the array never grew past the bound");
	tmr_heap_fini(&h);

	tmr_heap_init(&h, 0);
	ok(tmr_heap_reserve(&h, 10000) == TMR_OK && h.cap >= 10000,
	    "reserve grows the array ahead of time");
	tmr_heap_fini(&h);
}

#define N_MANY 10000

/* 10,000 random deadlines, armed and fired in one run: fire order is
 * (deadline, arm order), each exactly once. Times arm + fire. */
static void
test_many(void)
{
	struct tmr_heap h;
	struct owner *o = calloc(N_MANY, sizeof(*o));
	struct log lg;
	struct timespec t0, t1, t2;
	size_t i, fired;
	int in_order = 1, once = 1;

	rng_seed(42);
	log_init(&lg, N_MANY);
	tmr_heap_init(&h, 0);
	for (i = 0; i < N_MANY; i++) {
		o[i].id = (int)i;
		tmr_node_init(&o[i].t, log_cb);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < N_MANY; i++)
		tmr_arm(&h, &o[i].t, 1000 + rng_below(60000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fired = tmr_run(&h, UINT64_MAX - 1, &lg);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	printf("# 10000 timers: arm %.0f us (%.0f ns each), fire %.0f us "
	       "(%.0f ns each), array %u slots x %zu B\n",
	    elapsed_us(&t0, &t1), elapsed_us(&t0, &t1) * 1e3 / N_MANY,
	    elapsed_us(&t1, &t2), elapsed_us(&t1, &t2) * 1e3 / N_MANY, h.cap,
	    sizeof(*h.v));
	ok(fired == N_MANY && lg.n == N_MANY, "10,000 timers all fire");
	for (i = 1; i < lg.n; i++) {
		if (lg.deadlines[i] < lg.deadlines[i - 1] ||
		    (lg.deadlines[i] == lg.deadlines[i - 1] &&
		        lg.ids[i] < lg.ids[i - 1]))
			in_order = 0;
	}
	for (i = 0; i < N_MANY; i++)
		once &= o[i].fired == 1;
	ok(in_order, "in deadline order, ties in arm order");
	ok(once, "each exactly once");
	ok(tmr_heap_len(&h) == 0, "the heap is empty after");
	tmr_heap_fini(&h);
	log_free(&lg);
	free(o);
}

/* Cancel a random half of 10,000, then fire in steps of time: exactly the
 * other half fires, in order, each when due. */
static void
test_cancel_half(void)
{
	struct tmr_heap h;
	struct owner *o = calloc(N_MANY, sizeof(*o));
	uint32_t *perm = calloc(N_MANY, sizeof(*perm));
	struct log lg;
	uint32_t i, j, tmp;
	uint64_t now;
	int good = 1, valid = 1;

	rng_seed(7);
	log_init(&lg, N_MANY);
	tmr_heap_init(&h, 0);
	for (i = 0; i < N_MANY; i++) {
		o[i].id = (int)i;
		tmr_node_init(&o[i].t, log_cb);
		tmr_arm(&h, &o[i].t, rng_below(5000));
		perm[i] = i;
	}
	for (i = N_MANY - 1; i > 0; i--) {
		j = rng_below(i + 1);
		tmp = perm[i], perm[i] = perm[j], perm[j] = tmp;
	}
	for (i = 0; i < N_MANY / 2; i++) {
		tmr_cancel(&h, &o[perm[i]].t);
		if (i % 1000 == 0)
			valid &= heap_valid(&h);
	}
	ok(valid && heap_valid(&h) && tmr_heap_len(&h) == N_MANY / 2,
	    "cancel of a random half keeps the heap valid");
	for (now = 0; now < 5000; now += 37) {
		tmr_run(&h, now, &lg);
		valid &= tmr_next_deadline(&h) > now;
	}
	tmr_run(&h, 5000, &lg);
	ok(valid, "after each run nothing due is left");
	for (i = 0; i < N_MANY / 2; i++)
		o[perm[i]].id = -1; /* mark the cancelled half */
	for (i = 0; i < N_MANY; i++) {
		if (o[i].id < 0)
			good &= o[i].fired == 0;
		else
			good &= o[i].fired == 1 &&
			    o[i].fired_at >= o[i].t.deadline &&
			    o[i].fired_at < o[i].t.deadline + 37;
	}
	ok(good && lg.n == N_MANY / 2,
	    "exactly the other half fires, none early");
	tmr_heap_fini(&h);
	log_free(&lg);
	free(perm);
	free(o);
}

/* --- re-arming from callbacks ------------------------------------------- */

struct rearm {
	struct tmr_heap *h;
	struct tmr_node t;
	int left; /* re-arms still to do */
	int want; /* fires expected: 1 + the initial left */
	int fired;
	uint64_t step;
};

static void
rearm_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct rearm *r = container_of(node, struct rearm, t);

	(void)ctx;
	r->fired++;
	if (r->left-- > 0)
		tmr_arm(r->h, node, now_ms + r->step);
}

static void
test_rearm(void)
{
	struct tmr_heap h;
	struct rearm *r = calloc(1000, sizeof(*r));
	struct rearm self = {0};
	uint64_t now;
	size_t runs = 0;
	int i, good = 1;

	rng_seed(99);
	tmr_heap_init(&h, 0);
	for (i = 0; i < 1000; i++) {
		r[i].h = &h;
		r[i].left = 1 + (int)rng_below(5);
		r[i].want = r[i].left + 1;
		r[i].step = 1 + rng_below(50);
		tmr_node_init(&r[i].t, rearm_cb);
		tmr_arm(&h, &r[i].t, rng_below(100));
	}
	for (now = 0; tmr_heap_len(&h) > 0 && now < 10000; now++)
		tmr_run(&h, now, NULL);
	for (i = 0; i < 1000; i++)
		good &= r[i].fired == r[i].want && !tmr_armed(&r[i].t);
	ok(good && tmr_heap_len(&h) == 0,
	    "1,000 nodes re-arming themselves from their callbacks all finish");

	/* A node re-arming itself for "now" fires once per run, not forever. */
	self.h = &h;
	self.left = 1000000;
	self.step = 0;
	tmr_node_init(&self.t, rearm_cb);
	tmr_arm(&h, &self.t, 5);
	for (i = 0; i < 3; i++)
		runs += tmr_run(&h, 5, NULL);
	ok(runs == 3 && self.fired == 3 && tmr_next_deadline(&h) == 5,
	    "self re-arm at now fires once per run and stays due");
	tmr_heap_fini(&h);
	free(r);
}

/* A callback that cancels a due node and arms another mid-run. */
struct meddle {
	struct tmr_heap *h;
	struct tmr_node t;
	struct owner *victim, *newcomer;
	struct log *lg;
};

static void
meddle_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct meddle *m = container_of(node, struct meddle, t);

	(void)ctx;
	m->lg->ids[m->lg->n++] = -1;
	tmr_cancel(m->h, &m->victim->t);
	tmr_arm(m->h, &m->newcomer->t, now_ms); /* due, but waits a run */
}

static void
test_meddle(void)
{
	struct tmr_heap h;
	struct owner a = {.id = 1}, victim = {.id = 2}, newcomer = {.id = 3};
	struct meddle m;
	struct log lg;

	log_init(&lg, 8);
	tmr_heap_init(&h, 0);
	m = (struct meddle){&h, {0}, &victim, &newcomer, &lg};
	tmr_node_init(&m.t, meddle_cb);
	tmr_node_init(&a.t, log_cb);
	tmr_node_init(&victim.t, log_cb);
	tmr_node_init(&newcomer.t, log_cb);
	tmr_arm(&h, &m.t, 10);
	tmr_arm(&h, &victim.t, 10);
	tmr_arm(&h, &a.t, 11);
	ok(tmr_run(&h, 20, &lg) == 2, "run fires the meddler and one other");
	ok(lg.n == 2 && lg.ids[0] == -1 && lg.ids[1] == 1 && victim.fired == 0,
	    "a node cancelled by an earlier callback does not fire");
	ok(newcomer.fired == 0 && tmr_next_deadline(&h) == 20,
	    "a node armed during the run waits for the next run");
	ok(tmr_run(&h, 20, &lg) == 1 && newcomer.fired == 1, "and fires then");
	tmr_heap_fini(&h);
	log_free(&lg);
}

/* --- stress against a naive reference model ----------------------------- */

#define M_NODES 300
#define LOG_CAP (1 << 20)

struct model {
	uint64_t deadline[M_NODES], seq[M_NODES], next_seq;
	int armed[M_NODES];
	uint32_t count, max;
};

struct sut {
	struct tmr_heap h;
	struct owner o[M_NODES];
	int *log;
	size_t n;
	uint64_t fires; /* drives the callbacks' deterministic actions */
};

static struct sut *sut_g;

static int
model_arm(struct model *m, int i, uint64_t d)
{
	if (!m->armed[i] && m->count >= m->max)
		return 0;
	if (!m->armed[i])
		m->count++;
	m->armed[i] = 1;
	m->deadline[i] = d;
	m->seq[i] = m->next_seq++;
	return 1;
}

static void
model_cancel(struct model *m, int i)
{
	if (m->armed[i])
		m->count--;
	m->armed[i] = 0;
}

/* What a callback does on its k-th fire, a pure function of (id, k), so
 * the heap and the model take the same actions. */
static void
action(uint64_t id, uint64_t k, int *what, int *target, uint64_t *delta)
{
	uint64_t x = (id * 0x9e3779b97f4a7c15ULL) ^ (k * 0xbf58476d1ce4e5b9ULL);

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	*what =
	    (int)(x % 4); /* 0 nothing, 1 re-arm self, 2 arm other, 3 cancel */
	*target = (int)((x >> 8) % M_NODES);
	*delta = (x >> 20) % 40; /* 0 makes it due at once */
}

static void
sut_cb(struct tmr_node *node, uint64_t now_ms, void *ctx)
{
	struct owner *o = container_of(node, struct owner, t);
	struct sut *s = sut_g;
	int what, target;
	uint64_t delta;

	(void)ctx;
	if (s->n < LOG_CAP)
		s->log[s->n] = o->id;
	s->n++;
	action((uint64_t)o->id, s->fires++, &what, &target, &delta);
	if (what == 1)
		tmr_arm(&s->h, node, now_ms + delta);
	else if (what == 2)
		tmr_arm(&s->h, &s->o[target].t, now_ms + delta);
	else if (what == 3)
		tmr_cancel(&s->h, &s->o[target].t);
}

static void
model_run(struct model *m, uint64_t now, int *log, size_t *n, uint64_t *fires)
{
	uint64_t run_seq = m->next_seq, delta;
	int i, best, what, target;

	for (;;) {
		best = -1;
		for (i = 0; i < M_NODES; i++) {
			if (!m->armed[i])
				continue;
			if (best < 0 || m->deadline[i] < m->deadline[best] ||
			    (m->deadline[i] == m->deadline[best] &&
			        m->seq[i] < m->seq[best]))
				best = i;
		}
		if (best < 0 || m->deadline[best] > now ||
		    m->seq[best] >= run_seq)
			return;
		model_cancel(m, best);
		if (*n < LOG_CAP)
			log[*n] = best;
		(*n)++;
		action((uint64_t)best, (*fires)++, &what, &target, &delta);
		if (what == 1)
			model_arm(m, best, now + delta);
		else if (what == 2)
			model_arm(m, target, now + delta);
		else if (what == 3)
			model_cancel(m, target);
	}
}

/* One seeded run of `ops` random operations; returns 1 when the heap and
 * the model fired the same nodes in the same order and agree at the end. */
static size_t stress_fires;

static int
stress_one(uint64_t seed, uint32_t max, int ops)
{
	static struct sut s;
	static struct model m;
	static int mlog[LOG_CAP], slog[LOG_CAP];
	size_t mn = 0;
	uint64_t now = 0, mfires = 0, d, seq0;
	int op, i, same = 1;
	enum tmr_result r;

	memset(&s, 0, sizeof(s));
	memset(&m, 0, sizeof(m));
	sut_g = &s;
	s.log = slog;
	tmr_heap_init(&s.h, max);
	m.max = max ? max : UINT32_MAX;
	for (i = 0; i < M_NODES; i++) {
		s.o[i].id = i;
		tmr_node_init(&s.o[i].t, sut_cb);
	}
	rng_seed(seed);
	for (op = 0; op < ops && same; op++) {
		i = (int)rng_below(M_NODES);
		switch (rng_below(8)) {
		case 0:
		case 1:
		case 2:
			d = now + rng_below(200);
			r = tmr_arm(&s.h, &s.o[i].t, d);
			same &= (r == TMR_OK) == model_arm(&m, i, d);
			break;
		case 3:
			tmr_cancel(&s.h, &s.o[i].t);
			model_cancel(&m, i);
			break;
		default:
			now += rng_below(30);
			seq0 = s.h.seq;
			tmr_run(&s.h, now, NULL);
			model_run(&m, now, mlog, &mn, &mfires);
			/* Anything still due was armed during the run. */
			same &= tmr_next_deadline(&s.h) > now ||
			    s.h.v[0]->seq >= seq0;
			break;
		}
		same &= s.n == mn && s.h.len == m.count;
		if (op % 997 == 0)
			same &= heap_valid(&s.h);
	}
	for (op = 0; same && (size_t)op < mn && op < LOG_CAP; op++)
		same &= slog[op] == mlog[op];
	for (i = 0; same && i < M_NODES; i++) {
		same &= tmr_armed(&s.o[i].t) == m.armed[i];
		if (m.armed[i])
			same &= s.o[i].t.deadline == m.deadline[i];
	}
	stress_fires += mn;
	if (!same)
		printf("# seed %" PRIu64
		       " diverged at op %d (fired %zu vs %zu)\n",
		    seed, op, s.n, mn);
	tmr_heap_fini(&s.h);
	return same;
}

static void
test_stress(void)
{
	uint64_t seed;
	int all = 1;

	for (seed = 1; seed <= 20; seed++)
		all &= stress_one(seed, 0, 20000);
	ok(all, "stress: 20 seeds x 20,000 ops match the reference model");
	printf("# stress: %zu callbacks compared\n", stress_fires);
	all = 1;
	for (seed = 100; seed <= 110; seed++)
		all &= stress_one(seed, 40, 20000);
	ok(all, "stress with a bounded heap (max 40): EFULL agrees too");
}

/* --- the FIFO death queue ------------------------------------------------ */

struct idle {
	int id;
	int expired;
	struct tmr_fifo_node q;
};

struct fifo_ctx {
	struct tmr_fifo *q;
	int order[16];
	int n;
	int retouch; /* id to touch again from its own callback */
};

static void
idle_cb(struct tmr_fifo_node *node, uint64_t now_ms, void *ctx)
{
	struct idle *c = container_of(node, struct idle, q);
	struct fifo_ctx *fc = ctx;

	c->expired++;
	fc->order[fc->n++] = c->id;
	if (c->id == fc->retouch)
		tmr_fifo_touch(fc->q, node, now_ms);
}

static void
test_fifo(void)
{
	struct tmr_fifo q;
	struct idle c[4];
	struct fifo_ctx fc = {.q = &q, .retouch = -1};
	int i;

	tmr_fifo_init(&q, 100, idle_cb);
	for (i = 0; i < 4; i++) {
		c[i] = (struct idle){.id = i};
		tmr_fifo_node_init(&c[i].q);
	}
	ok(tmr_fifo_next_deadline(&q) == TMR_NEVER, "empty FIFO: NEVER");
	for (i = 0; i < 4; i++)
		tmr_fifo_touch(&q, &c[i].q, 10 * (uint64_t)i);
	ok(tmr_fifo_len(&q) == 4 && tmr_fifo_next_deadline(&q) == 100,
	    "head deadline is oldest touch + timeout");
	tmr_fifo_touch(&q, &c[0].q, 35);
	ok(tmr_fifo_len(&q) == 4 && tmr_fifo_next_deadline(&q) == 110,
	    "touch moves a node to the tail");
	tmr_fifo_remove(&q, &c[2].q);
	tmr_fifo_remove(&q, &c[2].q);
	ok(tmr_fifo_len(&q) == 3 && !tmr_fifo_queued(&c[2].q),
	    "remove unlinks, twice is a no-op");
	ok(tmr_fifo_expire(&q, 129, &fc) == 1 && fc.order[0] == 1,
	    "expire takes exactly the nodes due");
	ok(tmr_fifo_expire(&q, 135, &fc) == 2 && fc.order[1] == 3 &&
	        fc.order[2] == 0 && tmr_fifo_len(&q) == 0,
	    "in touch order, up to and including deadline == now");

	tmr_fifo_touch(&q, &c[0].q, 200);
	tmr_fifo_touch(
	    &q, &c[1].q, 150); /* stale now is raised to the tail's */
	ok(c[1].q.last_active == 200, "a stale touch keeps the list sorted");
	fc.retouch = 0;
	ok(tmr_fifo_expire(&q, 300, &fc) == 2 && tmr_fifo_len(&q) == 1 &&
	        tmr_fifo_next_deadline(&q) == 400,
	    "a callback may touch its own node; it is not expired twice");
	tmr_fifo_fini(&q);
	ok(tmr_fifo_len(&q) == 0 && !tmr_fifo_queued(&c[0].q),
	    "fini unlinks what is left");
}

static void
test_fifo_attached(void)
{
	struct tmr_heap h;
	struct tmr_fifo q;
	struct idle c[3];
	struct fifo_ctx fc = {.q = &q, .retouch = -1};
	struct owner other = {.id = 9};
	struct log lg;
	int i;

	log_init(&lg, 4);
	tmr_heap_init(&h, 0);
	tmr_fifo_init(&q, 50, idle_cb);
	ok(tmr_fifo_attach(&q, &h) == TMR_OK && tmr_heap_len(&h) == 0,
	    "attach an empty queue arms nothing");
	for (i = 0; i < 3; i++) {
		c[i] = (struct idle){.id = i};
		tmr_fifo_node_init(&c[i].q);
		tmr_fifo_touch(&q, &c[i].q, (uint64_t)i * 20);
	}
	ok(tmr_heap_len(&h) == 1 && tmr_next_deadline(&h) == 50,
	    "the queue's own heap node sits at the head's deadline");
	tmr_fifo_touch(&q, &c[0].q, 45);
	ok(tmr_run(&h, 50, &fc) == 1 && fc.n == 0 &&
	        tmr_next_deadline(&h) == 70,
	    "an early wake-up expires nothing and re-syncs");
	/* The context passed to tmr_run() reaches the FIFO callbacks, so one
	 * run mixes queue and per-request timers. */
	ok(tmr_run(&h, 94, &fc) == 1 && fc.n == 2 && fc.order[0] == 1 &&
	        fc.order[1] == 2 && tmr_next_deadline(&h) == 95,
	    "tmr_run drives the queue");
	tmr_fifo_remove(&q, &c[0].q);
	tmr_run(&h, 95, &fc);
	ok(tmr_heap_len(&h) == 0, "an empty queue leaves the heap");
	tmr_node_init(&other.t, log_cb);
	tmr_arm(&h, &other.t, 1);
	tmr_fifo_touch(&q, &c[0].q, 100);
	tmr_fifo_fini(&q);
	ok(tmr_heap_len(&h) == 1 && tmr_armed(&other.t),
	    "fini takes the queue's node out of the heap, no other");
	tmr_heap_fini(&h);
	log_free(&lg);
}

int
main(void)
{
	printf("# sizeof(struct tmr_node) = %zu, heap slot = %zu, "
	       "sizeof(struct tmr_fifo_node) = %zu\n",
	    sizeof(struct tmr_node), sizeof(struct tmr_node *),
	    sizeof(struct tmr_fifo_node));
	test_basics();
	test_fifo_ties();
	test_bounded();
	test_many();
	test_cancel_half();
	test_rearm();
	test_meddle();
	test_stress();
	test_fifo();
	test_fifo_attached();
	return done_testing();
}
