/* flow.c — the steps of the verified update (DESIGN.md "The update flow"):
 * query → upload → verify → test → reset → boot check → confirm, with a retry at a safer pace
 * when the device's own check (match) or its bootloader rejects what landed.
 *
 * Invariant: send_state_write() is the only place that sends an image state write, and it refuses
 * unless this attempt verified the slot (or saw the device run the image). */
#include "update/job-internal.h"
#include "util/hex.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define QUERY_TRIES        3
#define BOOT_POLL_USEC     (300 * USEC_PER_MSEC)
#define BOOT_POLL_TIMEOUT  (1 * USEC_PER_SEC)
#define RESET_TIMEOUT      (2 * USEC_PER_SEC)
#define DEFAULT_BUF_SIZE   384 /* Zephyr's CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE default */
#define DEFAULT_BUF_COUNT  4

static void start_upload(struct upd_job *j);
static void check_fit(struct upd_job *j);
static void read_state(struct upd_job *j, job_rsp_fn handler);
static void on_query_state(struct upd_job *j, int err, const struct smp_rsp *rsp);

static char *short_hash(const uint8_t *h, size_t len, char *buf)
{
	return hex_encode(h, MIN(len, (size_t)8), buf);
}

static bool is_ours(const struct upd_job *j, const struct smp_slot_state *s)
{
	return s && s->hash_len == 32 && memcmp(s->hash, j->img->info.hash, 32) == 0;
}

/* Common checks of a response: transport error, malformed body. Returns false after failing. */
static bool decode_state(struct upd_job *j, int err, const struct smp_rsp *rsp, const char *what,
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

static void read_state(struct upd_job *j, job_rsp_fn handler)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	job_request(j, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
		    j->p.rsp_timeout_usec, QUERY_TRIES, handler);
}

/* ---- query ------------------------------------------------------------------------------ */

static void on_params(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_params_rsp pr;
	const char *why = NULL;

	if (err == -ETIMEDOUT || err == -ENOTCONN) {
		job_fail(j, err, UPD_FAIL_TIMEOUT, "device at %s does not answer%s%s",
			 tr_describe(j->tr), j->last_stray[0] ? "; ignored from the device: " : "",
			 j->last_stray);
		return;
	}
	if (err < 0 || smp_params_rsp_decode(rsp->body, rsp->body_len, &pr, &why) < 0) {
		job_fail(j, -EBADMSG, UPD_FAIL_PROTOCOL, "mcumgr parameters: malformed answer: %s",
			 why ? why : "wrong op/group/id");
		return;
	}
	if (!pr.err.v2 && pr.err.rc == MGMT_ERR_UNSUPPORTED_TOO_NEW && j->ver == SMP_VER_2) {
		job_note(j, 6, "device speaks only the original SMP version; switching");
		j->ver = SMP_VER_1;
		smp_client_set_version(j->smp, SMP_VER_1);
		flow_query(j);
		return;
	}
	if (smp_err_ok(&pr.err) && pr.buf_size >= 64 && pr.buf_count > 0) {
		j->buf_size = pr.buf_size;
		j->buf_count = pr.buf_count;
	} else {
		/* Older devices answer "not supported": assume Zephyr's defaults. */
		j->buf_size = DEFAULT_BUF_SIZE;
		j->buf_count = DEFAULT_BUF_COUNT;
		job_note(j, 5, "device does not report its buffers; assuming %u x %u bytes",
			 j->buf_count, j->buf_size);
	}
	j->st.buf_size = j->buf_size;
	j->st.buf_count = j->buf_count;
	read_state(j, on_query_state);
}

void flow_query(struct upd_job *j)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	job_enter(j, UPD_STEP_QUERY);
	if (j->buf_size) { /* a retry: buffers are known */
		read_state(j, on_query_state);
		return;
	}
	job_request(j, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, body, (size_t)n,
		    j->p.rsp_timeout_usec, QUERY_TRIES, on_params);
}

static void remember_old(struct upd_job *j, const struct smp_slot_state *s0)
{
	if (!s0 || j->has_old)
		return;
	j->has_old = true;
	memcpy(j->old_hash, s0->hash, MIN(s0->hash_len, sizeof(j->old_hash)));
	snprintf(j->old_version, sizeof(j->old_version), "%s", s0->version);
}

static void record_running(struct upd_job *j, const struct smp_slot_state *s0)
{
	if (!s0)
		return;
	snprintf(j->res.version, sizeof(j->res.version), "%s", s0->version);
	memcpy(j->res.hash, s0->hash, MIN(s0->hash_len, sizeof(j->res.hash)));
	j->res.has_hash = s0->hash_len == 32;
}

static void do_confirm(struct upd_job *j);
static void do_verify(struct upd_job *j);

static void on_query_state(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s0, *s1;
	char h[17];

	if (!decode_state(j, err, rsp, "image state", &st))
		return;
	s0 = smp_image_state_find(&st, j->p.image, 0);
	s1 = smp_image_state_find(&st, j->p.image, 1);
	remember_old(j, s0);
	record_running(j, s0);
	if (is_ours(j, s0) && !j->p.force) {
		if (s0->confirmed || j->p.stop_after != UPD_STEP_DONE) {
			j->res.already_running = true;
			job_succeed(j, "device already runs %s (%s...): nothing to do", s0->version,
				    short_hash(s0->hash, s0->hash_len, h));
			return;
		}
		/* Tested and booted by an earlier run, never confirmed: the bootloader validated
		 * it; finish the job by confirming it. */
		job_note(j, 5, "device runs this image unconfirmed (tested earlier); confirming");
		j->boot_verified = true;
		do_confirm(j);
		return;
	}
	if (s1 && s1->pending && !is_ours(j, s1)) {
		job_fail(j, -EBUSY, UPD_FAIL_DEVICE,
			 "slot 1 holds another image (%s, %s...) marked for the next boot; "
			 "not touching it",
			 s1->version, short_hash(s1->hash, s1->hash_len, h));
		return;
	}
	if (is_ours(j, s1) && !j->p.force && !j->force_upload) {
		j->res.upload_skipped = true;
		job_note(j, 5, "slot 1 already holds this image; skipping the upload");
		do_verify(j);
		return;
	}
	check_fit(j);
}

/* ---- does the image fit: slot info (group 1 id 6) before any upload request --------------- */

static void on_slot_info(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_slot_info_rsp si;
	const char *why = NULL;
	uint32_t max = 0;
	bool slot_size = false;
	char buf[128];
	int r;

	if (err == -ETIMEDOUT || err == -ENOTCONN) {
		job_fail(j, err, UPD_FAIL_TIMEOUT, "slot info: device at %s does not answer%s%s",
			 tr_describe(j->tr), j->last_stray[0] ? "; ignored from the device: " : "",
			 j->last_stray);
		return;
	}
	if (err < 0 || smp_slot_info_rsp_decode(rsp->body, rsp->body_len, &si, &why) < 0) {
		job_fail(j, -EBADMSG, UPD_FAIL_PROTOCOL, "slot info: malformed answer: %s",
			 why ? why : "wrong op/group/id");
		return;
	}
	j->fit_checked = true;
	if (!si.err.v2 && si.err.rc == MGMT_ERR_ENOTSUP) {
		/* Zephyr without CONFIG_MCUMGR_GRP_IMG_SLOT_INFO, or older than the command */
		job_note(j, 5, "device does not report its slots (slot info not supported): "
			       "uploading without checking that the image fits");
	} else if (!smp_err_ok(&si.err)) {
		job_note(j, 4, "slot info: device answered %s: uploading without checking that the "
			       "image fits", smp_err_format(&si.err, buf, sizeof(buf)));
	} else if ((r = smp_slot_info_upload_max(&si, j->p.image, &max, &slot_size)) < 0) {
		job_note(j, 4, "slot info: %s image %u: uploading without checking that it fits",
			 r == -EIO ? "the device cannot read the slot of" : "no slot listed for",
			 j->p.image);
	} else if (j->img->len > max) {
		job_fail(j, -EFBIG, UPD_FAIL_IMAGE,
			 "%s does not fit the device: the image is %zu bytes, slot 1 takes at most "
			 "%u (%s); nothing uploaded", j->image_path, j->img->len, max,
			 slot_size ? "the size of the slot" : "the device's max_image_size");
		return;
	}
	start_upload(j);
}

/* An image larger than the slot is refused by img_mgmt (IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE)
 * or, on a device that checks only the slot's size, by MCUboot after the reset: ask first. */
static void check_fit(struct upd_job *j)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	if (j->fit_checked) {
		start_upload(j);
		return;
	}
	job_request(j, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, body, (size_t)n,
		    j->p.rsp_timeout_usec, QUERY_TRIES, on_slot_info);
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
static void learn(struct upd_job *j, bool booted)
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

static void start_upload(struct upd_job *j)
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
	uploader_start(j->up);
}

static void retry_or_fail(struct upd_job *j, enum upd_fail fail, const char *fmt, ...)
	_printf_(3, 4);

void flow_upload_done(struct upd_job *j, int err, enum upd_fail fail, const char *text)
{
	const struct uploader_stats *s = uploader_stats(j->up);

	if (j->finished)
		return;
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
		retry_or_fail(j, UPD_FAIL_VERIFY,
			      "the device's SHA-256 over slot 1 does not match the image "
			      "(match=false): the data was corrupted on its way to flash");
		return;
	}
	do_verify(j);
}

/* ---- verify ----------------------------------------------------------------------------- */

static void on_verify_state(struct upd_job *j, int err, const struct smp_rsp *rsp);
static void do_test(struct upd_job *j);

static void do_verify(struct upd_job *j)
{
	job_enter(j, UPD_STEP_VERIFY);
	read_state(j, on_verify_state);
}

static void on_verify_state(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s1;
	char h[65], want[65];

	if (!decode_state(j, err, rsp, "verify", &st))
		return;
	s1 = smp_image_state_find(&st, j->p.image, 1);
	hex_encode(j->img->info.hash, 32, want);
	if (!s1) {
		retry_or_fail(j, UPD_FAIL_VERIFY, "after the upload slot 1 shows no image "
						  "(expected hash %s)", want);
		return;
	}
	if (!is_ours(j, s1)) {
		retry_or_fail(j, UPD_FAIL_VERIFY, "after the upload slot 1 reports hash %s, "
						  "expected %s",
			      hex_encode(s1->hash, MIN(s1->hash_len, (size_t)32), h), want);
		return;
	}
	j->slot1_verified = true;
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

static void do_reset(struct upd_job *j);

static void on_test(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s1;
	const char *what = j->p.mode == UPD_MODE_CONFIRM ? "mark permanent" : "mark for test";

	if (!decode_state(j, err, rsp, what, &st))
		return;
	if (j->cancelled) {
		job_fail(j, -ECANCELED, UPD_FAIL_CANCELLED,
			 "cancelled after slot 1 was marked for the next boot (it will be tested "
			 "at the next reset and reverted unless confirmed)");
		return;
	}
	s1 = smp_image_state_find(&st, j->p.image, 1);
	if (st.n_slots && (!is_ours(j, s1) || !s1->pending)) {
		job_fail(j, -EIO, UPD_FAIL_DEVICE, "%s: the device does not show slot 1 pending",
			 what);
		return;
	}
	do_reset(j);
}

static void do_test(struct upd_job *j)
{
	job_enter(j, UPD_STEP_TEST);
	send_state_write(j, j->p.mode == UPD_MODE_CONFIRM, on_test);
}

static void on_confirm(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s0;
	char h[65];

	if (!decode_state(j, err, rsp, "confirm", &st))
		return;
	s0 = smp_image_state_find(&st, j->p.image, 0);
	if (st.n_slots && (!is_ours(j, s0) || !s0->confirmed)) {
		job_fail(j, -EIO, UPD_FAIL_DEVICE, "confirm: the device does not show slot 0 "
						   "confirmed");
		return;
	}
	record_running(j, s0);
	job_succeed(j, "device runs %s (hash %s), confirmed", j->res.version,
		    hex_encode(j->img->info.hash, 32, h));
}

static void do_confirm(struct upd_job *j)
{
	job_enter(j, UPD_STEP_CONFIRM);
	send_state_write(j, true, on_confirm);
}

/* ---- reset and the boot check ------------------------------------------------------------ */

static void on_reset(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	/* No answer is fine too: a device may reset before its answer leaves. */
	job_enter(j, UPD_STEP_BOOT);
	j->boot_deadline = job_now(j) + j->p.boot_timeout_usec;
	j->boot_problem[0] = 0;
	if (tr_reconnect(j->tr) < 0)
		job_note(j, 4, "cannot reopen %s yet; waiting", tr_describe(j->tr));
	job_after(j, BOOT_POLL_USEC, flow_boot_poll);
}

static void do_reset(struct upd_job *j)
{
	uint8_t body[16];
	int n = smp_reset_req_encode(body, sizeof(body), false);

	job_enter(j, UPD_STEP_RESET);
	job_request(j, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, (size_t)n, RESET_TIMEOUT, 1,
		    on_reset);
}

static void boot_retry_later(struct upd_job *j)
{
	if (job_now(j) >= j->boot_deadline) {
		job_fail(j, -ETIMEDOUT, UPD_FAIL_TIMEOUT,
			 "device did not come back within %.0f s after reset%s%s%s",
			 (double)j->p.boot_timeout_usec / USEC_PER_SEC, j->boot_problem[0] ? ": " : "",
			 j->boot_problem,
			 j->p.mode == UPD_MODE_TEST
				 ? " (the new image is not confirmed: MCUboot goes back to the old one "
				   "at the next reset)"
				 : "");
		return;
	}
	job_after(j, BOOT_POLL_USEC, flow_boot_poll);
}

static void on_boot_state(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s0, *s1;
	const char *why = NULL;
	char h[17];

	if (err < 0 || smp_image_state_decode(rsp->body, rsp->body_len, &st, &why) < 0 ||
	    !smp_err_ok(&st.err)) {
		if (why)
			snprintf(j->boot_problem, sizeof(j->boot_problem), "malformed answer: %s", why);
		boot_retry_later(j);
		return;
	}
	s0 = smp_image_state_find(&st, j->p.image, 0);
	s1 = smp_image_state_find(&st, j->p.image, 1);
	if (is_ours(j, s1) && s1->pending) {
		boot_retry_later(j); /* still the old boot: the reset has not happened yet */
		return;
	}
	record_running(j, s0);
	if (is_ours(j, s0) && s0->active) {
		j->boot_verified = true;
		learn(j, true);
		if (j->p.mode == UPD_MODE_CONFIRM && s0->confirmed) {
			job_succeed(j, "device runs %s (hash %s...), confirmed", s0->version,
				    short_hash(s0->hash, s0->hash_len, h));
			return;
		}
		do_confirm(j);
		return;
	}
	if (s0 && j->has_old && s0->hash_len == 32 && memcmp(s0->hash, j->old_hash, 32) == 0) {
		retry_or_fail(j, UPD_FAIL_REFUSED,
			      "bootloader refused the image: the device came back running its old "
			      "image %s (%s...)%s",
			      s0->version, short_hash(s0->hash, s0->hash_len, h),
			      s1 ? "" : "; slot 1 was erased");
		return;
	}
	job_fail(j, -EIO, UPD_FAIL_PROTOCOL, "after reset the device runs an unexpected image %s",
		 s0 ? s0->version : "(none listed)");
}

void flow_boot_poll(struct upd_job *j)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	if (!j->link_up) {
		boot_retry_later(j);
		return;
	}
	job_request(j, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
		    BOOT_POLL_TIMEOUT, 1, on_boot_state);
}

void flow_link_up(struct upd_job *j)
{
	/* Boot polling keeps its own rhythm; nothing else waits for the link here. */
	(void)j;
}

/* ---- retry at a safer pace ----------------------------------------------------------------- */

static void retry_or_fail(struct upd_job *j, enum upd_fail fail, const char *fmt, ...)
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
	learn(j, false);
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
