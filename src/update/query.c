/* query.c — the query step: the device's buffers (mcumgr params), what its slots hold, what that
 * means for this update (otactl(1) "DEVICE STATES"), and whether the image fits slot 1 (slot
 * info) before the first upload request.
 *
 * A device between two updates can be in a state that takes no upload: slot 0 running an image
 * that was tested and never confirmed (MCUboot goes back to slot 1's at the next reset, and
 * img_mgmt keeps slot 1 for that: IMG_MGMT_ERR_NO_FREE_SLOT), or slot 1 holding another image
 * marked for the next boot. The job says what the device runs, what its next reset does and
 * what to do, instead of running into the device's refusal. */
#include "update/job-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_BUF_SIZE  384 /* Zephyr's CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE default */
#define DEFAULT_BUF_COUNT 4

static void on_query_state(struct upd_job *j, int err, const struct smp_rsp *rsp);
static void check_fit(struct upd_job *j);

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
	flow_read_state(j, on_query_state);
}

void flow_query(struct upd_job *j)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	job_enter(j, UPD_STEP_QUERY);
	if (j->buf_size) { /* a retry: buffers are known */
		flow_read_state(j, on_query_state);
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
	j->st.has_old = true;
	memcpy(j->st.old_hash, j->old_hash, sizeof(j->old_hash));
	memcpy(j->st.old_version, j->old_version, sizeof(j->old_version));
}

/* "1.2.0 (0123456789abcdef...)" */
static const char *describe(const struct smp_slot_state *s, char *buf, size_t size)
{
	char h[17];

	snprintf(buf, size, "%s (%s...)", s->version, flow_short_hash(s->hash, s->hash_len, h));
	return buf;
}

/* Slot 0 runs the image of this job. Returns false when the job goes on to the upload
 * (image upload --force over a confirmed image: slot 1 is free for it). */
static bool ours_running(struct upd_job *j, const struct smp_slot_state *s0)
{
	char run[80];

	describe(s0, run, sizeof(run));
	if (s0->confirmed && j->p.force && j->p.stop_after != UPD_STEP_DONE)
		return false;
	j->res.already_running = s0->confirmed || j->p.stop_after != UPD_STEP_DONE;
	if (s0->confirmed) {
		/* An image cannot be tested against itself: img_mgmt finds the hash in slot 0
		 * and answers IMG_MGMT_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED. */
		job_succeed(j, "device already runs %s, confirmed: nothing to do%s", run,
			    j->p.force ? " (--force does not install the image that runs again: "
					 "a device cannot test the image it runs)"
				       : "");
		return true;
	}
	if (j->p.stop_after != UPD_STEP_DONE) {
		job_succeed(j,
			    "device already runs %s, not confirmed: MCUboot goes back to the "
			    "image in slot 1 at its next reset unless it is confirmed",
			    run);
		return true;
	}
	/* Tested and booted by an earlier run, never confirmed: the bootloader validated it,
	 * and it runs; what test mode does after its boot check is left to do. */
	job_note(j, 5,
		 "device runs %s unconfirmed (tested earlier, never confirmed); confirming it",
		 run);
	j->boot_verified = true;
	j->confirm_earlier = true;
	flow_confirm(j);
	return true;
}

/* Slot 0 runs another image, tested and never confirmed: a revert is due at the next reset,
 * and slot 1 holds the image it goes back to. --force resets the device to get there: the
 * image MCUboot goes back to is the one confirmed the last time. */
static void other_unconfirmed(struct upd_job *j, const struct smp_slot_state *s0,
			      const struct smp_slot_state *s1)
{
	char run[80], to[80], back[128] = "the image it ran before";

	describe(s0, run, sizeof(run));
	if (s1)
		snprintf(back, sizeof(back), "%s%s", describe(s1, to, sizeof(to)),
			 flow_is_ours(j, s1) ? ", the image asked for" : "");
	if (j->p.force) {
		job_note(j, 5,
			 "device runs %s unconfirmed: resetting it to go back to %s (--force)", run,
			 back);
		flow_reset(j, true);
		return;
	}
	job_fail(j, -EBUSY, UPD_FAIL_DEVICE,
		 "device runs %s unconfirmed: at its next reset MCUboot goes back to %s, and until "
		 "then slot 1 takes no upload. Reset it to go back (otactl reset) or confirm %s to "
		 "keep it (otactl image confirm), then update again; update --force does the reset "
		 "first",
		 run, back, s0->version);
}

/* Slot 1 holds another image marked for the next boot. Zephyr refuses uploads into it and, unless
 * built with CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING, erasing it: someone meant it to boot, and
 * nothing here is safe to do about it but to say so. */
static void other_pending(struct upd_job *j, const struct smp_slot_state *s1)
{
	char pend[80];

	describe(s1, pend, sizeof(pend));
	job_fail(j, -EBUSY, UPD_FAIL_DEVICE,
		 "slot 1 holds %s, marked for %s: at its next reset MCUboot swaps it in%s, and "
		 "until then slot 1 takes no upload. otactl image erase drops it where the device "
		 "allows erasing a pending slot; otherwise otactl reset lets MCUboot boot it%s. "
		 "--force does not touch an image marked for boot",
		 pend, s1->permanent ? "a permanent swap" : "a test boot",
		 s1->permanent ? " for good" : "",
		 s1->permanent
			 ? ""
			 : " (a tested image goes back at the reset after, unless confirmed)");
}

static void ours_in_slot1(struct upd_job *j, const struct smp_slot_state *s1)
{
	j->res.upload_skipped = true;
	if (!s1->pending) {
		job_note(j, 5, "slot 1 already holds this image; skipping the upload");
	} else {
		/* img_mgmt takes no upload into a pending slot, and refuses to mark it again
		 * otherwise (IMG_MGMT_ERR_IMAGE_ALREADY_PENDING): the reset is what is left. */
		job_note(j, 5,
			 "slot 1 already holds this image, marked for %s; skipping the upload "
			 "and the marking%s",
			 s1->permanent ? "a permanent swap" : "a test boot",
			 s1->permanent && j->p.mode == UPD_MODE_TEST
				 ? " (it stays permanent: MCUboot will not go back from it)"
				 : "");
	}
	flow_verify(j);
}

static void on_query_state(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s0, *s1;
	char other[80];

	if (!flow_decode_state(j, err, rsp, "image state", &st))
		return;
	s0 = smp_image_state_find(&st, j->p.image, 0);
	s1 = smp_image_state_find(&st, j->p.image, 1);
	remember_old(j, s0);
	flow_record_running(j, s0);
	if (flow_is_ours(j, s0) && ours_running(j, s0))
		return;
	if (s0 && !s0->confirmed && !flow_is_ours(j, s0)) {
		other_unconfirmed(j, s0, s1);
		return;
	}
	if (s1 && s1->pending && !flow_is_ours(j, s1)) {
		other_pending(j, s1);
		return;
	}
	if (s1 && flow_is_ours(j, s1) && (s1->pending || (!j->p.force && !j->force_upload))) {
		ours_in_slot1(j, s1);
		return;
	}
	if (s1 && !flow_is_ours(j, s1))
		job_note(j, 6, "slot 1 holds %s, not marked for boot: the upload replaces it",
			 describe(s1, other, sizeof(other)));
	check_fit(j);
}

bool query_reverted(struct upd_job *j, const struct smp_image_state *st)
{
	const struct smp_slot_state *s0 = smp_image_state_find(st, j->p.image, 0);
	char back[80];

	if (s0 && !s0->confirmed && j->has_old && s0->hash_len == 32 &&
	    memcmp(s0->hash, j->old_hash, 32) == 0)
		return false;
	job_wait_end(j);
	j->boot_revert = j->st.boot_revert = false;
	if (s0)
		job_note(j, 5, "device went back to %s", describe(s0, back, sizeof(back)));
	j->has_old = j->st.has_old = false; /* what runs now is what this update replaces */
	flow_query(j);
	return true;
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
		job_note(j, 5,
			 "device does not report its slots (slot info not supported): "
			 "uploading without checking that the image fits");
	} else if (!smp_err_ok(&si.err)) {
		job_note(j, 4,
			 "slot info: device answered %s: uploading without checking that the "
			 "image fits",
			 smp_err_format(&si.err, buf, sizeof(buf)));
	} else if ((r = smp_slot_info_upload_max(&si, j->p.image, &max, &slot_size)) < 0) {
		job_note(j, 4, "slot info: %s image %u: uploading without checking that it fits",
			 r == -EIO ? "the device cannot read the slot of" : "no slot listed for",
			 j->p.image);
	} else if (j->img->len > max) {
		job_fail(j, -EFBIG, UPD_FAIL_IMAGE,
			 "%s does not fit the device: the image is %zu bytes, slot 1 takes at most "
			 "%u (%s); nothing uploaded",
			 j->image_path, j->img->len, max,
			 slot_size ? "the size of the slot" : "the device's max_image_size");
		return;
	}
	flow_start_upload(j);
}

/* An image larger than the slot is refused by img_mgmt (IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE)
 * or, on a device that checks only the slot's size, by MCUboot after the reset: ask first. */
static void check_fit(struct upd_job *j)
{
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));

	if (j->fit_checked) {
		flow_start_upload(j);
		return;
	}
	job_request(j, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, body, (size_t)n,
		    j->p.rsp_timeout_usec, QUERY_TRIES, on_slot_info);
}
