/* boot.c — the reset and the boot check: reset the device, wait for it (it swaps every sector of
 * the image before it answers again), read its state, and judge: our image running (confirm it),
 * the old one back (the bootloader refused ours), or still the state before the reset (ask for
 * the reset again). A job resumed after its caller's restart enters here with what is left of its
 * boot timeout. */
#include "update/job-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BOOT_POLL_USEC	  (300 * USEC_PER_MSEC)
#define BOOT_POLL_TIMEOUT (1 * USEC_PER_SEC)
#define RESET_TIMEOUT	  (2 * USEC_PER_SEC)
/* Zephyr resets 250 ms after answering (CONFIG_MCUMGR_GRP_OS_RESET_MS): a device still answering
 * as before the reset this long after it was asked did not get the request. */
#define RESET_GRACE_USEC (5 * USEC_PER_SEC)
#define RESET_RESENDS	 2
/* A job resumed after its deadline still gives the device this long to answer. */
#define RESUME_MIN_USEC (5 * USEC_PER_SEC)
/* The default boot timeout (upd_params.boot_timeout_usec): MCUboot's swap using scratch erases
 * three sectors and copies three for every 4 KiB sector of the image; an MX25R in low-power mode
 * takes about 0.37 s for that, so 1 s per sector leaves room for slower flash, plus the reset,
 * the hashing of both slots and the link coming back. */
#define BOOT_FLOOR_USEC	 (60 * USEC_PER_SEC)
#define BOOT_BASE_USEC	 (10 * USEC_PER_SEC)
#define SWAP_SECTOR_USEC (1 * USEC_PER_SEC)
#define SWAP_SECTOR	 4096

uint64_t upd_boot_timeout(size_t len, uint64_t erase_usec_per_sector)
{
	uint64_t sectors = (len + SWAP_SECTOR - 1) / SWAP_SECTOR;
	uint64_t per = MAX((uint64_t)SWAP_SECTOR_USEC, 6 * erase_usec_per_sector);

	return MAX(BOOT_FLOOR_USEC, BOOT_BASE_USEC + sectors * per);
}

static uint64_t boot_timeout(const struct upd_job *j)
{
	return j->p.boot_timeout_usec ? j->p.boot_timeout_usec
				      : upd_boot_timeout(j->img->len, j->erase_per_sector);
}

static void enter_boot(struct upd_job *j, uint64_t elapsed, uint64_t timeout)
{
	uint64_t now = job_now(j);

	j->boot_timeout = j->st.boot_timeout_usec = timeout;
	j->boot_start = now > elapsed ? now - elapsed : 0;
	j->boot_deadline = j->boot_start + timeout;
	j->boot_problem[0] = 0;
	j->boot_pre_reset = false;
	j->st.wait = UPD_WAIT_BOOT;
	j->st.wait_usec = elapsed;
	j->st.wait_limit_usec = timeout;
	job_enter(j, UPD_STEP_BOOT);
	job_wait_begin(j, UPD_WAIT_BOOT, j->boot_start, timeout);
}

static void on_reset(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	/* No answer is fine too: a device may reset before its answer leaves. */
	enter_boot(j, 0, j->boot_timeout);
	if (tr_reconnect(j->tr) < 0)
		job_note(j, 4, "cannot reopen %s yet; waiting", tr_describe(j->tr));
	job_after(j, BOOT_POLL_USEC, flow_boot_poll);
}

void flow_reset(struct upd_job *j, bool revert)
{
	uint8_t body[16];
	int n = smp_reset_req_encode(body, sizeof(body), false);

	j->boot_revert = j->st.boot_revert = revert;
	j->boot_timeout = j->st.boot_timeout_usec = boot_timeout(j);
	j->reset_resends = 0;
	job_enter(j, UPD_STEP_RESET);
	job_request(j, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, (size_t)n, RESET_TIMEOUT, 1,
		    on_reset);
}

void flow_resume_boot(struct upd_job *j)
{
	const struct upd_boot_resume *r = &j->resume_info;
	uint64_t timeout = r->timeout_usec ? r->timeout_usec : boot_timeout(j);
	uint64_t left = MAX(r->remaining_usec, (uint64_t)RESUME_MIN_USEC);

	if (memcmp(r->hash, j->img->info.hash, 32) != 0) {
		job_fail(j, -ESTALE, UPD_FAIL_CONFIG,
			 "%s is not the image this job was updating the device to: cannot judge "
			 "its boot",
			 j->image_path);
		return;
	}
	j->boot_revert = j->st.boot_revert = r->revert;
	j->has_old = j->st.has_old = r->has_old;
	memcpy(j->old_hash, r->old_hash, sizeof(j->old_hash));
	memcpy(j->st.old_hash, r->old_hash, sizeof(j->old_hash));
	snprintf(j->old_version, sizeof(j->old_version), "%s", r->old_version);
	memcpy(j->st.old_version, j->old_version, sizeof(j->old_version));
	job_note(j, 5, "resuming at the boot step: waiting up to %.0f s more for the device",
		 (double)left / USEC_PER_SEC);
	enter_boot(j, left < timeout ? timeout - left : 0, MAX(timeout, left));
	job_after(j, BOOT_POLL_USEC, flow_boot_poll);
}

static void boot_retry_later(struct upd_job *j)
{
	if (job_now(j) >= j->boot_deadline) {
		job_wait_end(j);
		job_fail(j, -ETIMEDOUT, UPD_FAIL_TIMEOUT,
			 "device did not come back within %.0f s after reset%s%s%s",
			 (double)j->boot_timeout / USEC_PER_SEC, j->boot_problem[0] ? ": " : "",
			 j->boot_problem,
			 j->p.mode == UPD_MODE_TEST && !j->boot_revert
				 ? " (the new image is not confirmed: MCUboot goes back to the old "
				   "one "
				   "at the next reset)"
				 : "");
		return;
	}
	job_after(j, BOOT_POLL_USEC, flow_boot_poll);
}

static void on_reset_resent(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	boot_retry_later(j);
}

/* The device answers as it did before the reset: wait, and after a while ask again (a lost
 * request, or a job resumed after its caller died before the reset was sent). Zephyr
 * reschedules a pending reset when asked twice, so a second request never resets twice. */
static void before_reset(struct upd_job *j)
{
	uint8_t body[16];
	int n = smp_reset_req_encode(body, sizeof(body), false);

	j->boot_pre_reset = true;
	snprintf(j->boot_problem, sizeof(j->boot_problem),
		 "it still answers as before the reset (asked %u time%s)", j->reset_resends + 1,
		 j->reset_resends ? "s" : "");
	if (job_now(j) < j->boot_start + (j->reset_resends + 1) * RESET_GRACE_USEC ||
	    j->reset_resends >= RESET_RESENDS) {
		boot_retry_later(j);
		return;
	}
	j->reset_resends++;
	job_note(j, 4, "device has not reset %.0f s after it was asked to; asking again",
		 (double)(job_now(j) - j->boot_start) / USEC_PER_SEC);
	job_request(j, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, (size_t)n, RESET_TIMEOUT, 1,
		    on_reset_resent);
}

static void judge(struct upd_job *j, const struct smp_image_state *st)
{
	const struct smp_slot_state *s0 = smp_image_state_find(st, j->p.image, 0);
	const struct smp_slot_state *s1 = smp_image_state_find(st, j->p.image, 1);
	char h[17];

	job_wait_end(j);
	flow_record_running(j, s0);
	if (flow_is_ours(j, s0) && s0->active) {
		j->boot_verified = true;
		flow_learn(j, true);
		if (j->p.mode == UPD_MODE_CONFIRM && s0->confirmed) {
			job_succeed(j, "device runs %s (hash %s...), confirmed", s0->version,
				    flow_short_hash(s0->hash, s0->hash_len, h));
			return;
		}
		flow_confirm(j);
		return;
	}
	if (s0 && j->has_old && s0->hash_len == 32 && memcmp(s0->hash, j->old_hash, 32) == 0) {
		flow_retry_or_fail(j, UPD_FAIL_REFUSED,
				   "bootloader refused the image: the device came back running its "
				   "old image %s (%s...)%s",
				   s0->version, flow_short_hash(s0->hash, s0->hash_len, h),
				   s1 ? "" : "; slot 1 was erased");
		return;
	}
	job_fail(j, -EIO, UPD_FAIL_PROTOCOL, "after reset the device runs an unexpected image %s",
		 s0 ? s0->version : "(none listed)");
}

static void on_boot_state(struct upd_job *j, int err, const struct smp_rsp *rsp)
{
	struct smp_image_state st;
	const struct smp_slot_state *s1;
	const char *why = NULL;

	if (err < 0 || smp_image_state_decode(rsp->body, rsp->body_len, &st, &why) < 0 ||
	    !smp_err_ok(&st.err)) {
		if (why)
			snprintf(j->boot_problem, sizeof(j->boot_problem), "malformed answer: %s",
				 why);
		boot_retry_later(j);
		return;
	}
	if (j->boot_revert) {
		if (!query_reverted(j, &st))
			before_reset(j);
		return;
	}
	s1 = smp_image_state_find(&st, j->p.image, 1);
	if (flow_is_ours(j, s1) && s1->pending) {
		before_reset(j);
		return;
	}
	judge(j, &st);
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
