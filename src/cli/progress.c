/* progress.c — progress bar, step lines and JSON lines for otactl. */
#include "cli/progress.h"
#include "cli/exit-codes.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void progress_init(struct progress *p, FILE *f, bool json, int verbosity)
{
	const char *term = getenv("TERM");

	*p = (struct progress){ .f = f, .verbosity = verbosity };
	if (json)
		p->style = PROGRESS_JSON;
	else if (isatty(fileno(f)) && term && strcmp(term, "dumb") != 0)
		p->style = PROGRESS_BAR;
	else
		p->style = PROGRESS_LINES;
}

static void clear_bar(struct progress *p)
{
	if (p->bar_drawn) {
		fputs("\r\033[K", p->f);
		p->bar_drawn = false;
	}
}

static void format_rate(double bps, char *buf, size_t size)
{
	if (bps >= 1024 * 1024)
		snprintf(buf, size, "%.1f MiB/s", bps / (1024 * 1024));
	else
		snprintf(buf, size, "%.1f KiB/s", bps / 1024);
}

static const char *wait_name(enum upd_wait w)
{
	return w == UPD_WAIT_ERASE ? "erase" : w == UPD_WAIT_BOOT ? "boot" : NULL;
}

static void json_status(struct json *j, const struct upd_status *st)
{
	json_str(j, "step", upd_step_name(st->step));
	json_u64(j, "attempt", st->attempt);
	json_u64(j, "off", st->off);
	json_u64(j, "total", st->total);
	json_u64(j, "bytes_sent", st->bytes_sent);
	json_double(j, "rate", st->rate);
	json_u64(j, "window", st->window);
	json_u64(j, "rate_limit", st->rate_limit);
	json_u64(j, "chunk", st->chunk);
	if (st->wait != UPD_WAIT_NONE) {
		json_str(j, "wait", wait_name(st->wait));
		json_double(j, "wait_seconds", (double)st->wait_usec / 1e6);
		json_double(j, "wait_limit_seconds", (double)st->wait_limit_usec / 1e6);
	}
}

void progress_step(struct progress *p, enum upd_step step, const struct upd_status *st)
{
	struct json j;

	if (p->style == PROGRESS_JSON) {
		json_init(&j, p->f);
		json_begin_object(&j, NULL);
		json_str(&j, "event", "step");
		json_status(&j, st);
		json_end_object(&j);
		json_end_line(&j);
		return;
	}
	if (step == UPD_STEP_DONE)
		return;
	clear_bar(p);
	if (step == UPD_STEP_UPLOAD && st->buf_size)
		fprintf(p->f, "%s: %zu bytes (device buffers %u x %u)\n", upd_step_name(step),
			st->total, st->buf_count, st->buf_size);
	else
		fprintf(p->f, "%s\n", upd_step_name(step));
	p->last_percent = 0;
	fflush(p->f);
}

static void draw_bar(struct progress *p, const struct upd_status *st)
{
	unsigned pct = st->total ? (unsigned)(st->off * 100 / st->total) : 0;
	char rate[32], eta[32] = "--:--", bar[31];
	unsigned fill = pct * 30 / 100;

	format_rate(st->rate, rate, sizeof(rate));
	if (st->rate > 0 && st->off < st->total) {
		unsigned s = (unsigned)((double)(st->total - st->off) / st->rate);
		snprintf(eta, sizeof(eta), "%u:%02u", s / 60, s % 60);
	}
	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = 0;
	fprintf(p->f, "\r\033[K[%s] %3u%% %zu/%zu %s ETA %s w%u", bar, pct, st->off, st->total,
		rate, eta, st->window);
	p->bar_drawn = true;
	fflush(p->f);
}

/* A wait with nothing else to show: the first chunk's answer behind the device's erase of slot 1,
 * the device coming back after the reset. Terminal: redrawn once a second; lines: after 5 s, then
 * every 15 s. */
static void show_wait(struct progress *p, const struct upd_status *st)
{
	unsigned s = (unsigned)(st->wait_usec / USEC_PER_SEC);
	unsigned limit = (unsigned)((st->wait_limit_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
	const char *what = st->wait == UPD_WAIT_ERASE ? "upload: the device erases slot 1 before it "
							"answers"
						      : "boot: waiting for the device to come back";

	if (p->style == PROGRESS_BAR) {
		fprintf(p->f, "\r\033[K%s: %u:%02u (allowed %u:%02u)", what, s / 60, s % 60,
			limit / 60, limit % 60);
		p->bar_drawn = true;
		fflush(p->f);
		return;
	}
	if (p->wait_shown != st->wait) {
		p->wait_shown = st->wait;
		p->wait_next = 5;
	}
	if (s < p->wait_next)
		return;
	p->wait_next = s + 15;
	fprintf(p->f, "%s: %u s (allowed %u s)\n", what, s, limit);
	fflush(p->f);
}

void progress_update(struct progress *p, const struct upd_status *st)
{
	unsigned pct = st->total ? (unsigned)(st->off * 100 / st->total) : 0;
	char rate[32];
	struct json j;

	if (st->wait != UPD_WAIT_NONE && p->style != PROGRESS_JSON &&
	    (st->wait == UPD_WAIT_BOOT || st->wait_usec >= USEC_PER_SEC)) {
		show_wait(p, st);
		return;
	}
	switch (p->style) {
	case PROGRESS_BAR:
		draw_bar(p, st);
		break;
	case PROGRESS_JSON:
		json_init(&j, p->f);
		json_begin_object(&j, NULL);
		json_str(&j, "event", "progress");
		json_status(&j, st);
		json_end_object(&j);
		json_end_line(&j);
		break;
	case PROGRESS_LINES:
		if (pct / 10 <= p->last_percent / 10 && pct != 100)
			break;
		if (pct == 100 && p->last_percent == 100)
			break;
		p->last_percent = pct;
		format_rate(st->rate, rate, sizeof(rate));
		fprintf(p->f, "upload: %3u%% %zu/%zu bytes, %s\n", pct, st->off, st->total, rate);
		fflush(p->f);
		break;
	}
}

void progress_note(struct progress *p, int level, const char *text)
{
	struct json j;

	if (level > p->verbosity)
		return;
	if (p->style == PROGRESS_JSON) {
		json_init(&j, p->f);
		json_begin_object(&j, NULL);
		json_str(&j, "event", "note");
		json_u64(&j, "level", (uint64_t)level);
		json_str(&j, "text", text);
		json_end_object(&j);
		json_end_line(&j);
		return;
	}
	clear_bar(p);
	fprintf(p->f, "  %s\n", text);
	fflush(p->f);
}

void progress_result(struct progress *p, const struct upd_result *r)
{
	char rate[32], hash[65];
	struct json j;

	if (p->style == PROGRESS_JSON) {
		json_init(&j, p->f);
		json_begin_object(&j, NULL);
		json_str(&j, "event", "result");
		json_bool(&j, "ok", r->fail == UPD_FAIL_NONE);
		json_str(&j, "fail", upd_fail_name(r->fail));
		json_str(&j, "step", upd_step_name(r->step));
		json_str(&j, "message", r->message);
		json_u64(&j, "attempts", r->attempts);
		json_bool(&j, "already_running", r->already_running);
		json_bool(&j, "upload_skipped", r->upload_skipped);
		json_double(&j, "avg_rate", r->avg_rate);
		json_double(&j, "upload_seconds", (double)r->upload_usec / 1e6);
		json_double(&j, "upload_seconds_total", (double)r->upload_usec_total / 1e6);
		json_u64(&j, "pace_rate", r->pace.rate);
		json_u64(&j, "pace_window", r->pace.window);
		json_str(&j, "version", r->version[0] ? r->version : NULL);
		json_str(&j, "hash", r->has_hash ? hex_encode(r->hash, 32, hash) : NULL);
		if (r->fail != UPD_FAIL_NONE)
			exit_json_error(&j, exit_code_for(r->fail), r->message);
		json_end_object(&j);
		json_end_line(&j);
		return;
	}
	clear_bar(p);
	if (r->fail == UPD_FAIL_NONE) {
		fprintf(p->f, "done: %s\n", r->message);
		if (r->upload_usec) {
			format_rate(r->avg_rate, rate, sizeof(rate));
			char limit[32] = "unlimited";

			if (r->pace.rate)
				format_rate(r->pace.rate, limit, sizeof(limit));
			fprintf(p->f, "upload: %.1f s at %s, %u attempt%s, pace: window %u, rate %s\n",
				(double)r->upload_usec / 1e6, rate, r->attempts,
				r->attempts == 1 ? "" : "s", r->pace.window, limit);
		}
	} else {
		fprintf(p->f, "failed (%s, during %s): %s\n", upd_fail_name(r->fail),
			upd_step_name(r->step), r->message);
	}
	fflush(p->f);
}
