/*
 * mod_lesson — the lesson's own routes on the mux, the right way and the
 * wrong way side by side:
 *
 *   /wait_async?secs=S          a timer: the loop serves everyone else
 *                               while this request waits
 *   /wait_async_blocking?secs=S the mistake: a real sleep on the loop,
 *                               which stalls every request of the mux
 *   /cpu_async?n=N              the primes below N counted on the mux's
 *                               thread pool; the loop stays free
 *   /cpu_async_blocking?n=N     the mistake: counted on the loop
 *
 * The app (app.h) has routed and validated the request; this module only
 * decides HOW the work is done. The blocking twins are served only when
 * the mux was told to (mux_config.blocking_routes): app.c answers 404 for
 * them otherwise.
 *
 * Contract: a route module (mux_route.h); it keeps no state of its own
 * but a request's pool work, which the mux hands back or drops.
 */
#ifndef FCGILAB_MOD_LESSON_H
#define FCGILAB_MOD_LESSON_H

struct mux;

/* Serve the four routes on m. */
void mod_lesson_register(struct mux *m);

#endif
