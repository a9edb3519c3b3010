/* pacer.c — window and token bucket. */
#include "update/pacer.h"
#include "util/macro.h"

static void refill(struct pacer *p, uint64_t now)
{
	if (now > p->last_usec && p->rate) {
		p->balance += (double)(now - p->last_usec) * p->rate / (double)USEC_PER_SEC;
		if (p->balance > 0)
			p->balance = 0; /* no burst credit */
	}
	p->last_usec = MAX(p->last_usec, now);
}

void pacer_init(struct pacer *p, const struct upd_pace *pace, unsigned max_window, uint64_t now)
{
	unsigned w = pace->window == UPD_WINDOW_AUTO ? max_window : pace->window;

	*p = (struct pacer){
		.rate = pace->rate,
		.max_window = MAX(max_window, 1u),
		.last_usec = now,
	};
	p->window = MAX(MIN(w, p->max_window), 1u);
}

uint64_t pacer_delay(struct pacer *p, uint64_t now)
{
	refill(p, now);
	if (!p->rate || p->balance >= 0)
		return 0;
	/* Round up so that the send really happens at a zero balance. */
	return (uint64_t)((-p->balance) * (double)USEC_PER_SEC / p->rate) + 1;
}

void pacer_sent(struct pacer *p, size_t bytes, uint64_t now)
{
	refill(p, now);
	if (p->rate)
		p->balance -= (double)bytes;
}

unsigned pacer_window(const struct pacer *p)
{
	return p->window;
}
