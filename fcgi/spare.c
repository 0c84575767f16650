/* spare — kept blocks for reuse; contract in spare.h. */
#include "config.h"

#include <stdlib.h>

#include "spare.h"

#if defined(__SANITIZE_ADDRESS__)
#define SPARE_KEEP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPARE_KEEP 0
#endif
#endif
#ifndef SPARE_KEEP
#define SPARE_KEEP 1
#endif

void
spare_init(struct spare *s, size_t size, unsigned max)
{
	s->head = NULL;
	s->n = 0;
	s->max = SPARE_KEEP ? max : 0;
	s->size = size < sizeof(void *) ? sizeof(void *) : size;
}

void *
spare_get(struct spare *s)
{
	void *p = s->head;

	if (p == NULL)
		return malloc(s->size);
	s->head = *(void **)p;
	s->n--;
	return p;
}

void
spare_put(struct spare *s, void *p)
{
	if (p == NULL)
		return;
	if (s->n >= s->max) {
		free(p);
		return;
	}
	*(void **)p = s->head;
	s->head = p;
	s->n++;
}

void
spare_fini(struct spare *s)
{
	void *p;

	while ((p = s->head) != NULL) {
		s->head = *(void **)p;
		free(p);
	}
	s->n = 0;
}
