/* flow.c — the steps of the verified update (DESIGN.md "The update flow") after the query
 * (query.c) and around the boot check (boot.c): upload → verify → test → (reset, boot check) →
 * confirm, with a retry at a safer pace when the device's own check (match) or its bootloader
 * rejects what landed.
 *
 * Invariant: send_state_write() is the only place that sends an image state write, and it refuses
 * unless this attempt verified the slot (or saw the device run the image). */
#include "update/job-internal.h"
#include "util/hex.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char *flow_short_hash(const uint8_t *h, size_t len, char buf[17])
{
	return hex_encode(h, MIN(len, (size_t)8), buf);
}

bool flow_is_ours(const struct upd_job *j, const struct smp_slot_state *s)
{
	return s && s->hash_len == 32 && memcmp(s->hash, j->img->info.hash, 32) == 0;
}

/* Common checks of a response: transport error, malformed body. Returns false after failing. */
bool flow_decode_state(struct upd_job *j, int err, const struct smp_rsp *rsp, const char *what,
		       struct smp_image_state *st)
{
	const char *why = NULL;
	char buf[128];

	if (err == -ETIMEDOUT || err == -ENOTCONN) {
		job_fail(j, err, UPD_FAIL_TIMEOUT, "%s: device at %s does not answer%s%s", what,
			 tr_describe(j->tr), j->last_stray[0] ? "; ignored from the device: " : "",
			 j->last_stray);
		return false;
	}
	if (err < 0) {
		job_fail(j, err, UPD_FAIL_PROTOCOL, "%s: answer does not match the request", what);
		return false;
	}
	if (smp_image_state_decode(rsp->body, rsp->body_len, st, &why) < 0) {
		job_fail(j, -EBADMSG, UPD_FAIL_PROTOCOL, "%s: malformed answer: %s", what, why);
		return false;
	}
	if (!smp_err_ok(&st->err)) {
		job_fail(j, -EIO, UPD_FAIL_DEVICE, "%s: device answered %s", what,
			 smp_err_format(&st->err, buf, sizeof(buf)));
		return false;
	}
	return true;
}

void flow_read_state(struct upd_job *j, job_rsp_fn handler)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	job_request(j, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
		    j->p.rsp_timeout_usec, QUERY_TRIES, handler);
}

void flow_record_running(struct upd_job *j, const struct smp_slot_state *s0)
{
	if (!s0)
		return;
	snprintf(j->res.version, sizeof(j->res.version), "%s", s0->version);
	memcpy(j->res.hash, s0->hash, MIN(s0->hash_len, sizeof(j->res.hash)));
	j->res.has_hash = s0->hash_len == 32;
}

/* ---- upload ----------------------------------------------------------------------------- */

static void on_upload_progress(void *user_data)
{
	struct upd_job *j = user_data;
	const struct uploader_stats *s = uploader_stats(j->up);
	uint64_t now = job_now(j);

	j->st.off = s->acked_off;
	j->st.bytes_sent = s->bytes_sent;
	j->st.in_flight = s->in_flight;
	j->st.rewinds = s->rewinds;
	j->st.timeouts = s->timeouts;
	j->st.restarts = s->restarts;
	j->st.chunk = s->chunk;
	j->st.window = s->window;
	j->st.rate_limit = s->rate_limit;
	j->st.rate = s->rate;
	j->st.elapsed_usec = now - s->start_usec;
	if (j->st.wait == UPD_WAIT_ERASE && (s->acked_off > 0 || s->opened)) {
		/* the first chunk's answer: what the erase of the image's sectors took */
		if (s->first_rtt_usec && !j->erase_per_sector)
			j->erase_per_sector = s->first_rtt_usec / ((j->img->len + 4095) / 4096);
		job_wait_end(j);
	}
	if (j->cb.progress && (now - j->last_progress >= 100 * USEC_PER_MSEC ||
			       s->acked_off == s->total || s->acked_off == 0)) {
		j->last_progress = now;
		j->cb.progress(j, &j->st, j->user_data);
	}
}

static void on_upload_note(int level, const char *text, void *user_data)
{
	job_note(user_data, level, "%s", text);
}

static void on_upload_done(int err, enum upd_fail fail, const char *text, void *user_data)
{
	flow_upload_done(user_data, err, fail, text);
}

static const struct uploader_ops uploader_ops = {
	.progress = on_upload_progress,
	.note = on_upload_note,
	.done = on_upload_done,
};

static uint64_t erase_allowance(const struct upd_job *j)
{
	/* Without progressive erase the device erases the whole image at the first chunk:
	 * MX25R worst case 384 ms per 4 KiB sector, and then some. */
	if (j->p.erase_timeout_usec)
		return j->p.erase_timeout_usec;
	return 5 * USEC_PER_SEC + (j->img->len + 4095) / 4096 * 500 * USEC_PER_MSEC;
}

/* The pacer's start and ceilings: the remembered pace of this device, and any refusal (remembered
 * or seen in this job). A refusal pins the adaptive window to one request at a time — nothing is on
 * the air while the device programs its flash — and keeps the rate under 90 % of the refused one. */
static void pace_config(const struct upd_job *j, struct pacer_config *pc)
{
	const struct upd_pace_memory *m = &j->p.memory;
	double refused_bps = j->refused_here ? j->refused_bps : m->has_refused ? m->refused_bps : 0;
	bool refused = j->refused_here || m->has_refused;

	*pc = (struct pacer_config){ .pace = j->pace, .max_window = j->buf_count };
	if (j->pace.window == UPD_WINDOW_AUTO) {
		/* Unknown device: two requests, so the second is on the air while the device
		 * handles the first; still half of Zephyr's four buffers. */
		pc->start_window = m->has_good ? m->good.window : 2;
		if (refused)
			pc->ceiling_window = 1;
	}
	if (!j->pace.auto_rate)
		return;
	if (refused_bps > 0) {
		pc->ceiling_rate = (uint32_t)(0.9 * refused_bps);
		pc->start_rate = (uint32_t)(refused_bps / 2);
		if (m->has_good && m->good_bps > 0 && m->good_bps < 0.9 * refused_bps)
			pc->start_rate = (uint32_t)m->good_bps;
	} else if (m->has_good) {
		pc->start_rate = m->good.rate;
	}
}

/* What this job learned about the device's pace, for the caller to remember. */
void flow_learn(struct upd_job *j, bool booted)
{
	struct upd_pace_memory *m = &j->res.memory;

	*m = j->p.memory;
	if (j->refused_here) {
		m->has_refused = true;
		m->refused = j->refused_pace;
		m->refused_bps = j->refused_bps;
	}
	if (booted && j->res.upload_usec) {
		m->has_good = true;
		m->good = j->res.pace;
		m->good_bps = j->res.avg_rate;
	}
}

void flow_start_upload(struct upd_job *j)
{
	size_t link_max = tr_max_packet(j->tr), over = tr_frame_overhead(j->tr);
	struct uploader_config cfg = {
		.chunk_max = j->p.chunk_max,
		.image = j->p.image,
		.upgrade_only = j->p.upgrade_only,
		.rsp_timeout_usec = j->p.rsp_timeout_usec,
		.erase_timeout_usec = erase_allowance(j),
		.max_timeouts = j->p.max_timeouts,
	};
	int r;

	pace_config(j, &cfg.pacer);
	/* The whole encoded request must fit the device's buffer, not only its data. */
	cfg.body_max = MIN(link_max, (size_t)j->buf_size - MIN(over, (size_t)j->buf_size));
	cfg.body_max = cfg.body_max > SMP_HDR_SIZE ? cfg.body_max - SMP_HDR_SIZE : 0;
	j->slot1_verified = false;
	j->up = uploader_free(j->up);
	job_enter(j, UPD_STEP_UPLOAD);
	r = uploader_new(j->event, j->smp, j->img, &cfg, &uploader_ops, j, &j->up);
	if (r < 0) {
		job_fail(j, r, UPD_FAIL_CONFIG,
			 "cannot upload: device buffer of %u bytes is too small for SMP requests",
			 j->buf_size);
		return;
	}
	/* Without progressive erase the device erases the image's sectors before it answers the
	 * first chunk: seconds of silence, shown as a wait with its limit. */
	job_wait_begin(j, UPD_WAIT_ERASE, job_now(j), cfg.rsp_timeout_usec + cfg.erase_timeout_usec);
	uploader_start(j->up);
}


void flow_upload_done(struct upd_job *j, int err, enum upd_fail fail, const char *text)
{
	const struct uploader_stats *s = uploader_stats(j->up);

	if (j->finished)
		return;
	job_wait_end(j);
	on_upload_progress(j);
	j->res.upload_usec = s->end_usec - s->start_usec;
	j->res.upload_usec_total += j->res.upload_usec;
	j->res.avg_rate = j->res.upload_usec ? (double)s->total * USEC_PER_SEC / j->res.upload_usec
					     : 0;
	/* The pace that was in force: the largest window used, the rate cap at the end. */
	j->res.pace = (struct upd_pace){ .rate = s->rate_limit, .window = s->peak_window };
	if (err < 0) {
		job_fail(j, err, fail, "upload: %s%s%s", text,
			 fail == UPD_FAIL_TIMEOUT && j->last_stray[0] ? "; ignored from the device: "
								      : "",
			 fail == UPD_FAIL_TIMEOUT ? j->last_stray : "");
		return;
	}
	if (s->has_match && !s->match) {
		flow_retry_or_fail(j, UPD_FAIL_VERIFY,
			      "the device's SHA-256 over slot 1 does not match the image "
			      "(match=false): the data was corrupted on its way to flash");
		return;
	}
	flow_verify(j);
}

/* ---- verify ----------------------------------------------------------------------------- */

static void on_verify_state(struct upd_job *j, int err, const struct smp_rsp *rsp);
static void do_test(struct upd_job *j);

void flow_verify(struct upd_job *j)
{
	job_enter(j, UPD_STEP_VERIFY);
	flow_read_state(j, on_verify_state);
}

static void on_verify_state(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s1;
	char h[65], want[65];

	if (!flow_decode_state(j, err, rsp, "verify", &st))
		return;
	s1 = smp_image_state_find(&st, j->p.image, 1);
	hex_encode(j->img->info.hash, 32, want);
	if (!s1) {
		flow_retry_or_fail(j, UPD_FAIL_VERIFY, "after the upload slot 1 shows no image "
						  "(expected hash %s)", want);
		return;
	}
	if (!flow_is_ours(j, s1)) {
		flow_retry_or_fail(j, UPD_FAIL_VERIFY, "after the upload slot 1 reports hash %s, "
						  "expected %s",
			      hex_encode(s1->hash, MIN(s1->hash_len, (size_t)32), h), want);
		return;
	}
	j->slot1_verified = true;
	j->slot1_pending = s1->pending;
	if (j->p.stop_after == UPD_STEP_VERIFY) {
		job_succeed(j, "uploaded and verified: slot 1 holds %s (hash %.16s...)", s1->version,
			    want);
		return;
	}
	do_test(j);
}

/* ---- test / confirm: the only image state writes ----------------------------------------- */

/* Sends {hash, confirm}. Refuses — and fails the job — unless this attempt proved the image:
 * slot 1 read back with our hash (test / permanent), or slot 0 running it (confirm). */
static int send_state_write(struct upd_job *j, bool confirm, job_rsp_fn handler)
{
	uint8_t body[64];
	bool allowed = j->step == UPD_STEP_CONFIRM ? j->boot_verified : j->slot1_verified;
	int n;

	if (!allowed) {
		job_fail(j, -EPERM, UPD_FAIL_VERIFY,
			 "refusing to %s an image that was not verified on the device",
			 confirm ? "confirm" : "test");
		return -EPERM;
	}
	n = smp_state_write_req_encode(body, sizeof(body), j->img->info.hash, 32, confirm);
	if (n < 0) {
		job_fail(j, n, UPD_FAIL_CONFIG, "cannot encode the image state write");
		return n;
	}
	return job_request(j, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
			   j->p.rsp_timeout_usec, QUERY_TRIES, handler);
}


static void on_test(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s1;
	const char *what = j->p.mode == UPD_MODE_CONFIRM ? "mark permanent" : "mark for test";

	if (!flow_decode_state(j, err, rsp, what, &st))
		return;
	if (j->cancelled) {
		job_fail(j, -ECANCELED, UPD_FAIL_CANCELLED,
			 "cancelled after slot 1 was marked for the next boot (it will be tested "
			 "at the next reset and reverted unless confirmed)");
		return;
	}
	s1 = smp_image_state_find(&st, j->p.image, 1);
	if (st.n_slots && (!flow_is_ours(j, s1) || !s1->pending)) {
		job_fail(j, -EIO, UPD_FAIL_DEVICE, "%s: the device does not show slot 1 pending",
			 what);
		return;
	}
	flow_reset(j, false);
}

static void do_test(struct upd_job *j)
{
	job_enter(j, UPD_STEP_TEST);
	if (j->slot1_pending) {
		/* marked already (an earlier run, or another tool): img_mgmt would answer
		 * IMG_MGMT_ERR_IMAGE_ALREADY_PENDING to marking it again */
		flow_reset(j, false);
		return;
	}
	send_state_write(j, j->p.mode == UPD_MODE_CONFIRM, on_test);
}

static void on_confirm(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s0;
	char h[65];

	if (!flow_decode_state(j, err, rsp, "confirm", &st))
		return;
	s0 = smp_image_state_find(&st, j->p.image, 0);
	if (st.n_slots && (!flow_is_ours(j, s0) || !s0->confirmed)) {
		job_fail(j, -EIO, UPD_FAIL_DEVICE, "confirm: the device does not show slot 0 "
						   "confirmed");
		return;
	}
	flow_record_running(j, s0);
	job_succeed(j, "device runs %s (hash %s), confirmed%s", j->res.version,
		    hex_encode(j->img->info.hash, 32, h),
		    j->confirm_earlier ? " (it ran unconfirmed, tested by an earlier update)" : "");
}

void flow_confirm(struct upd_job *j)
{
	job_enter(j, UPD_STEP_CONFIRM);
	send_state_write(j, true, on_confirm);
}

/* ---- retry at a safer pace ----------------------------------------------------------------- */

void flow_retry_or_fail(struct upd_job *j, enum upd_fail fail, const char *fmt, ...)
{
	char text[384], pace[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (j->res.upload_usec) {
		/* The pace that produced the rejected image: later attempts stay below it. */
		j->refused_here = true;
		j->refused_pace = j->res.pace;
		j->refused_bps = j->res.avg_rate;
	}
	flow_learn(j, false);
	if (j->refused_here && j->cb.learned)
		j->cb.learned(j, &j->res.memory, j->user_data);
	if (j->st.attempt > j->p.retries) {
		job_fail(j, fail == UPD_FAIL_REFUSED ? -EBADMSG : -EIO, fail, "%s", text);
		return;
	}
	/* Fixed pacing: half the rate (of what the failed attempt reached, when unlimited), one
	 * request at a time. Adaptive pacing: pace_config() keeps the next attempts sequential and
	 * under the refused rate. */
	if (j->pace.window != UPD_WINDOW_AUTO)
		j->pace.window = 1;
	if (!j->pace.auto_rate) {
		uint32_t rate = j->pace.rate ? j->pace.rate / 2 : (uint32_t)(j->res.avg_rate / 2);

		j->pace.rate = rate ? MAX(rate, (uint32_t)UPD_RATE_MIN) : 0;
	}
	if (j->pace.rate)
		snprintf(pace, sizeof(pace), "%u B/s", j->pace.rate);
	else if (j->refused_here && j->pace.auto_rate)
		snprintf(pace, sizeof(pace), "at most %u B/s", (uint32_t)(0.9 * j->refused_bps));
	else
		snprintf(pace, sizeof(pace), "unlimited rate");
	j->st.attempt++;
	j->force_upload = true;
	j->slot1_verified = false;
	job_note(j, 4, "%s; attempt %u of %u, one request at a time, %s", text, j->st.attempt,
		 j->p.retries + 1, pace);
	flow_query(j);
}
