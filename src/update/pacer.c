/* pacer.c — window and token bucket, fixed or adaptive (see pacer.h). */
#include "update/pacer.h"
#include "util/macro.h"

#define MIN_RATE 256 /* bytes/s: a back-off never goes below */

static void refill(struct pacer *p, uint64_t now)
{
	if (now > p->last_usec && p->rate) {
		p->balance += (double)(now - p->last_usec) * p->rate / (double)USEC_PER_SEC;
		if (p->balance > 0)
			p->balance = 0; /* no burst credit */
	}
	p->last_usec = MAX(p->last_usec, now);
}

static uint32_t clamp_rate(const struct pacer *p, uint32_t rate)
{
	if (p->ceiling_rate && (rate == 0 || rate > p->ceiling_rate))
		return p->ceiling_rate;
	return rate;
}

void pacer_init(struct pacer *p, const struct pacer_config *cfg, uint64_t now)
{
	unsigned max = MAX(cfg->max_window, 1u), w;

	if (cfg->ceiling_window)
		max = MIN(max, cfg->ceiling_window);
	*p = (struct pacer){
		.auto_window = cfg->pace.window == UPD_WINDOW_AUTO,
		.auto_rate = cfg->pace.auto_rate,
		.max_window = max,
		.ceiling_rate = cfg->ceiling_rate,
		.last_usec = now,
		.slow_start = true,
	};
	w = p->auto_window ? MAX(cfg->start_window, 1u) : cfg->pace.window;
	p->window = MAX(MIN(w, max), 1u);
	p->rate = clamp_rate(p, p->auto_rate ? cfg->start_rate : cfg->pace.rate);
	p->peak_window = p->window;
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

uint32_t pacer_rate(const struct pacer *p)
{
	return p->rate;
}

/* Once per round: the adaptive rate cap creeps back up while nothing goes wrong. */
static void grow_rate(struct pacer *p, double delivery_rate)
{
	double next;

	if (!p->auto_rate || !p->rate)
		return;
	next = (double)p->rate * 1.1;
	/* A cap well above what is delivered no longer shapes anything: drop it. */
	if (next > 2.0 * delivery_rate && delivery_rate > 0 && !p->ceiling_rate) {
		p->rate = 0;
		return;
	}
	p->rate = clamp_rate(p, next > UINT32_MAX ? UINT32_MAX : (uint32_t)next);
}

void pacer_on_ack(struct pacer *p, uint64_t rtt_usec, bool full, bool took, double delivery_rate)
{
	double queued;

	if (!full || rtt_usec == 0) {
		/* No round trip to judge by (the first chunk waited for the erase, those sent
		 * behind it waited for the first): in slow start each request taken still adds
		 * one, as an acknowledgement does in TCP's, so the window is not left at its start
		 * for the round the first samples take. */
		if (took && p->auto_window && p->slow_start && p->window < p->max_window) {
			p->window++;
			p->grows++;
			p->peak_window = MAX(p->peak_window, p->window);
		}
		return;
	}
	if (!p->base_rtt || rtt_usec < p->base_rtt)
		p->base_rtt = rtt_usec;
	p->srtt = p->srtt > 0 ? 0.875 * p->srtt + 0.125 * (double)rtt_usec : (double)rtt_usec;
	if (++p->acks_in_round < p->window)
		return;
	p->acks_in_round = 0;
	grow_rate(p, delivery_rate);
	if (!p->auto_window)
		return;
	queued = p->window * (1.0 - (double)p->base_rtt / p->srtt);
	/* Slow start reads the round's last answer, not the smoothed one that lags a doubling. */
	if (p->slow_start &&
	    p->window * (1.0 - (double)p->base_rtt / (double)rtt_usec) >= PACER_QUEUE_LOW / 2)
		p->slow_start = false;
	if (queued < PACER_QUEUE_LOW && p->window < p->max_window) {
		p->window = p->slow_start ? MIN(2 * p->window, p->max_window) : p->window + 1;
		p->grows++;
	} else if (queued > PACER_QUEUE_HIGH && p->window > 1) {
		p->window--;
		p->shrinks++;
		p->slow_start = false;
	}
	p->peak_window = MAX(p->peak_window, p->window);
}

void pacer_on_congestion(struct pacer *p, double delivery_rate)
{
	p->backoffs++;
	p->acks_in_round = 0;
	p->slow_start = false;
	if (p->auto_window)
		p->window = MAX(p->window / 2, 1u);
	if (p->auto_rate) {
		double cap = delivery_rate > 0 ? 0.75 * delivery_rate : 0;

		if (p->rate && (cap == 0 || (double)p->rate * 0.5 < cap))
			cap = (double)p->rate * 0.5;
		/* Nothing delivered yet and no cap: no rate to cap at; the window backs off. */
		if (cap > 0)
			p->rate = clamp_rate(p, (uint32_t)MAX(cap, (double)MIN_RATE));
	}
}
