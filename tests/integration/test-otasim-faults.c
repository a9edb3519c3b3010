/* test-otasim-faults.c — the real otasim failing as the hardware does: the overrun fault
 * corrupting a pipelined upload that MCUboot then refuses (and sparing a sequential one), full
 * buffers dropping or stalling, the fault flags, USB-style re-enumeration of the pty, and
 * flash timing reproducible by seed. Every wait is bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/simctl.h"
#include "lib/testlib.h"
#include "otad/smp.h"
#include "util/hex.h"

#define TIMEOUT	 3000 /* ms for an answer that must come */
#define SILENCE	 400  /* ms that prove an answer does not come */
#define BUF_SIZE 2475 /* spi-lp */
#define BODY_MAX (BUF_SIZE - SMP_HDR_SIZE)
#define IMG_SIZE (20 * 1024)

static void start(struct tl_sim *sim, const char *name, const char *kind, const char *const *more)
{
	const char *extra[32] = {"--speed", "20"};
	unsigned n = 2;

	for (unsigned i = 0; more && more[i] && n < 31; i++)
		extra[n++] = more[i];
	extra[n] = NULL;
	assert_int_equal(tl_sim_start(sim, name, kind, extra), 0);
}

static void stop(struct tl_sim *sim)
{
	assert_int_equal(tl_sim_stop(sim), 0); /* SIGTERM: clean exit, even muted */
}

static int upload_call(struct tl_client *c, const struct tl_image *img, uint32_t off,
		       struct smp_upload_rsp *u, int timeout)
{
	uint8_t body[BUF_SIZE], rsp[256];
	size_t n = tl_upload_encode(img, off, BODY_MAX, body, sizeof(body));
	int r;

	assert_true(n > 0);
	r = tl_client_call(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, n,
			   rsp, sizeof(rsp), timeout);
	if (r >= 0)
		assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)r, u, NULL), 0);
	return r;
}

/* window requests in flight, sent as fast as the socket takes them. */
static void upload_pipelined(struct tl_client *c, const struct tl_image *img, unsigned window)
{
	uint32_t off = 0, acked = 0;
	unsigned inflight = 0;

	while (acked < img->len) {
		uint8_t body[BUF_SIZE], pkt[512];
		struct smp_upload_rsp u;
		struct smp_hdr h;
		int r;

		if (off < img->len && inflight < window) {
			size_t n = tl_upload_encode(img, off, BODY_MAX, body, sizeof(body));

			assert_int_equal(tl_client_send(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE,
							SMP_IMG_UPLOAD, body, n, NULL),
					 0);
			off += (uint32_t)tl_upload_chunk_len(img, off, BODY_MAX);
			inflight++;
			continue;
		}
		r = tl_client_recv(c, pkt, sizeof(pkt), TIMEOUT);
		assert_true(r > 0);
		assert_int_equal(smp_hdr_decode(pkt, (size_t)r, &h), 0);
		assert_int_equal(smp_upload_rsp_decode(pkt + SMP_HDR_SIZE, h.len, &u, NULL), 0);
		assert_true(smp_err_ok(&u.err));
		acked = u.off;
		inflight--;
	}
}

static void test_overrun_pipelined_upload_is_refused_by_bootloader(void **state)
{
	const char *const more[] = {"--profile", "spi-lp-overrun", NULL};
	const struct smp_slot_state *s;
	struct smp_image_state st;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	uint8_t factory[32];
	char *err;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 43), 0);
	start(&sim, "overrun", "udp", more);
	c = tl_client_udp(sim.spec);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	memcpy(factory, smp_image_state_find(&st, 0, 0)->hash, 32);
	upload_pipelined(c, &img, 4);
	assert_true(tl_sim_count_events(&sim, "upload", "result", "corrupt") > 0);
	/* the upload reported success and the reported hash is the TLV's: all looks fine */
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	s = smp_image_state_find(&st, 0, 1);
	assert_non_null(s);
	assert_memory_equal(s->hash, img.hash, 32);
	assert_int_equal(tl_smp_state_write(c, img.hash, false, TIMEOUT), 0);
	assert_int_equal(tl_smp_reset(c, TIMEOUT), 0);
	assert_int_equal(tl_sim_wait_event(&sim, "boot", "result", "refused", 10000), 0);
	assert_int_equal(tl_smp_wait_up(c, 10000), 0);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_int_equal(st.n_slots, 1); /* slot 1 erased */
	s = smp_image_state_find(&st, 0, 0);
	assert_memory_equal(s->hash, factory, 32);
	assert_true(s->active && s->confirmed);
	tl_client_free(c);
	stop(&sim);
	err = tl_proc_stderr(&sim.proc);
	assert_true(tl_contains(err, "E: Image in the secondary slot is not valid!"));
	free(err);
	tl_image_done(&img);
}

static void test_overrun_sequential_upload_is_safe(void **state)
{
	const char *const more[] = {"--profile", "spi-lp-overrun", NULL};
	struct smp_upload_rsp last;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 43), 0);
	start(&sim, "overrun-seq", "udp", more);
	c = tl_client_udp(sim.spec);
	assert_true(tl_upload_sequential(c, &img, BODY_MAX, &last, TIMEOUT) > 0);
	assert_int_equal(tl_smp_state_write(c, img.hash, false, TIMEOUT), 0);
	assert_int_equal(tl_smp_reset(c, TIMEOUT), 0);
	assert_int_equal(tl_sim_wait_event(&sim, "boot", "result", "swap-test", 10000), 0);
	assert_int_equal(tl_sim_count_events(&sim, "upload", "result", "corrupt"), 0);
	tl_client_free(c);
	stop(&sim);
	tl_image_done(&img);
}

/* An upload's first chunk keeps the worker busy (the emptiness scan of the slot) while echo
 * requests pile up: a drop profile loses what finds no buffer, a stall profile makes it wait. */
static unsigned answered_during_busy_worker(const char *name, const char *profile,
					    size_t *ret_dropped)
{
	/* real time: the echos must arrive while the scan runs (115 ms on lan), also when the
	 * machine is loaded and otasim runs under valgrind (29 ms at --speed 4 was not enough) */
	const char *const more[] = {"--profile", profile, "--speed", "1", NULL};
	uint8_t body[BUF_SIZE], echo[64], pkt[4096];
	unsigned answered = 0;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	size_t n;
	int e;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 50), 0);
	start(&sim, name, "udp", more);
	c = tl_client_udp(sim.spec);
	n = tl_upload_encode(&img, 0, 2048 - SMP_HDR_SIZE, body, sizeof(body));
	assert_int_equal(tl_client_send(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD,
					body, n, NULL),
			 0);
	e = smp_echo_req_encode(echo, sizeof(echo), "x");
	for (int i = 0; i < 7; i++)
		assert_int_equal(tl_client_send(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_OS,
						SMP_OS_ECHO, echo, (size_t)e, NULL),
				 0);
	while (tl_client_recv(c, pkt, sizeof(pkt), answered ? SILENCE : TIMEOUT) > 0)
		answered++;
	*ret_dropped = tl_sim_count_events(&sim, "drop", "reason", "no-buffer");
	tl_client_free(c);
	stop(&sim);
	tl_image_done(&img);
	return answered;
}

static void test_full_buffers_drop_or_stall(void **state)
{
	size_t dropped;

	/* lan: 4 buffers, a full pool drops: the chunk holds one, 3 echos fit, 4 are lost */
	assert_int_equal(answered_during_busy_worker("bufs-drop", "lan", &dropped), 4);
	assert_int_equal(dropped, 4);
	/* spi-lp: link-layer flow control, everything is answered eventually */
	assert_int_equal(answered_during_busy_worker("bufs-stall", "spi-lp", &dropped), 8);
	assert_int_equal(dropped, 0);
}

static void test_drop_response_fault(void **state)
{
	const char *const more[] = {"--drop-response", "2,4", NULL};
	struct tl_client *c;
	struct tl_sim sim;

	start(&sim, "drop", "udp", more);
	c = tl_client_udp(sim.spec);
	assert_int_equal(tl_smp_echo(c, "one", TIMEOUT), 0);
	assert_int_equal(tl_smp_echo(c, "two", SILENCE), -ETIMEDOUT);
	assert_int_equal(tl_smp_echo(c, "three", TIMEOUT), 0);
	assert_int_equal(tl_smp_echo(c, "four", SILENCE), -ETIMEDOUT);
	assert_int_equal(tl_smp_echo(c, "five", TIMEOUT), 0);
	assert_int_equal(tl_sim_count_events(&sim, "drop", "reason", "fault"), 2);
	tl_client_free(c);
	stop(&sim);
}

static void test_reboot_at_fault_loses_upload(void **state)
{
	const char *const more[] = {"--reboot-at", "3000", NULL};
	struct smp_upload_rsp u;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	uint32_t off = 0;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 45), 0);
	start(&sim, "reboot-at", "udp", more);
	c = tl_client_udp(sim.spec);
	for (;;) { /* answered chunks until the one covering 3000, which is not answered */
		size_t len = tl_upload_chunk_len(&img, off, BODY_MAX);

		if (off <= 3000 && 3000 < off + len) {
			assert_int_equal(upload_call(c, &img, off, &u, SILENCE), -ETIMEDOUT);
			break;
		}
		assert_true(upload_call(c, &img, off, &u, TIMEOUT) >= 0);
		off = u.off;
	}
	assert_int_equal(tl_sim_count_events(&sim, "upload", "result", "reboot"), 1);
	assert_int_equal(tl_sim_wait_event(&sim, "reset", "cause", "fault", TIMEOUT), 0);
	assert_int_equal(tl_smp_wait_up(c, 10000), 0);
	assert_int_equal(tl_sim_count_events(&sim, "boot", NULL, NULL), 2);
	/* the upload state is gone: the next chunk is answered with off 0 */
	off += (uint32_t)tl_upload_chunk_len(&img, off, BODY_MAX);
	assert_true(upload_call(c, &img, off, &u, TIMEOUT) >= 0);
	assert_int_equal(u.off, 0);
	tl_client_free(c);
	stop(&sim);
	tl_image_done(&img);
}

static void test_dup_response_fault_delivers_twice(void **state)
{
	const char *const more[] = {"--dup-response", "2", NULL};
	uint8_t pkt[256], seq;
	struct tl_client *c;
	struct tl_sim sim;
	struct smp_hdr h;

	start(&sim, "dup", "udp", more);
	c = tl_client_udp(sim.spec);
	assert_int_equal(tl_smp_echo(c, "one", TIMEOUT), 0);
	assert_int_equal(tl_client_send(c, SMP_VER_2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_ECHO,
					(const uint8_t *)"\xa1\x61\x64\x63two", 7, &seq),
			 0);
	for (int i = 0; i < 2; i++) {
		assert_true(tl_client_recv(c, pkt, sizeof(pkt), TIMEOUT) >= SMP_HDR_SIZE);
		assert_int_equal(smp_hdr_decode(pkt, SMP_HDR_SIZE, &h), 0);
		assert_int_equal(h.seq, seq);
	}
	assert_int_equal(tl_client_recv(c, pkt, sizeof(pkt), SILENCE), -ETIMEDOUT);
	assert_int_equal(tl_smp_echo(c, "three", TIMEOUT), 0);
	assert_int_equal(tl_sim_count_events(&sim, "rsp", "dup", "1"), 1);
	tl_client_free(c);
	stop(&sim);
}

/* The link carries nothing for a while; the device keeps the upload open, and the trace names
 * the bytes slot 1 holds when the image is complete. */
static void test_link_loss_keeps_upload_and_trace_names_written_bytes(void **state)
{
	const char *const more[] = {"--link-loss-at", "3000", "--link-loss-time", "40000", NULL};
	struct smp_upload_rsp u;
	struct tl_event *ev;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	uint32_t off = 0, lost_at = 0;
	unsigned completed = 0;
	char hex[65];
	size_t n;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 47), 0);
	start(&sim, "link-loss", "udp", more);
	c = tl_client_udp(sim.spec);
	while (off < img.len) {
		size_t len = tl_upload_chunk_len(&img, off, BODY_MAX);

		if (off <= 3000 && 3000 < off + len) {
			assert_int_equal(upload_call(c, &img, off, &u, SILENCE), -ETIMEDOUT);
			assert_int_equal(tl_smp_wait_up(c, 10000), 0);
			lost_at = off;
			/* written before the loss: resent, the device answers where it is */
			assert_true(upload_call(c, &img, off, &u, TIMEOUT) >= 0);
			assert_int_equal(u.off, off + len);
		} else {
			assert_true(upload_call(c, &img, off, &u, TIMEOUT) >= 0);
		}
		assert_true(u.off > off);
		off = u.off;
	}
	assert_true(lost_at > 0);
	assert_int_equal(tl_sim_count_events(&sim, "link-loss", "off", "3000"), 1);
	assert_true(tl_sim_count_events(&sim, "drop", "reason", "link-loss") >= 2);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev[i].name, "upload") == 0 && tl_ev_get(&ev[i], "written")) {
			assert_string_equal(tl_ev_get(&ev[i], "written"),
					    hex_encode(img.sha, 32, hex));
			completed++;
		}
	free(ev);
	assert_int_equal(completed, 1);
	tl_client_free(c);
	stop(&sim);
	tl_image_done(&img);
}

static void test_mute_at_and_mute_after(void **state)
{
	const char *const at[] = {"--mute-at", "100", NULL};
	const char *const after[] = {"--mute-after", "2", NULL};
	struct smp_upload_rsp u;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 46), 0);
	start(&sim, "mute-at", "udp", at);
	c = tl_client_udp(sim.spec);
	assert_int_equal(tl_smp_echo(c, "before", TIMEOUT), 0);
	assert_int_equal(upload_call(c, &img, 0, &u, SILENCE), -ETIMEDOUT);
	assert_int_equal(tl_smp_echo(c, "after", SILENCE), -ETIMEDOUT);
	assert_true(tl_sim_count_events(&sim, "drop", "reason", "mute") >= 2);
	tl_client_free(c);
	stop(&sim);

	start(&sim, "mute-after", "udp", after);
	c = tl_client_udp(sim.spec);
	assert_int_equal(tl_smp_echo(c, "1", TIMEOUT), 0);
	assert_int_equal(tl_smp_echo(c, "2", TIMEOUT), 0);
	assert_int_equal(tl_smp_echo(c, "3", SILENCE), -ETIMEDOUT);
	tl_client_free(c);
	stop(&sim);
	tl_image_done(&img);
}

static void test_reenumerate_moves_symlink(void **state)
{
	const char *link = tl_path("ttyACM-otasim");
	/* At --speed 20 the reset delay is 12.5 ms of real time: on a loaded machine the reset
	 * response was still unread when the tty hung up (and a hangup discards it). Real time
	 * gives the client Zephyr's 250 ms. */
	const char *const more[] = {"--serial-link", link, "--reenumerate", "--speed", "1", NULL};
	char before[256] = "", after[256] = "", line[256];
	struct tl_client *c, *c2;
	struct tl_sim sim;
	uint8_t pkt[512];

	start(&sim, "reenum", "serial", more);
	assert_true(readlink(link, before, sizeof(before) - 1) > 0);
	assert_string_equal(before, sim.spec + 7);
	c = tl_client_serial(link);
	assert_non_null(c);
	assert_int_equal(tl_smp_echo(c, "first tty", TIMEOUT), 0);
	assert_int_equal(tl_smp_reset(c, TIMEOUT), 0);
	/* the old tty hangs up */
	assert_int_equal(tl_client_recv(c, pkt, sizeof(pkt), TIMEOUT), -EIO);
	/* the device comes back on another one, announced on stdout and by the link */
	assert_int_equal(tl_proc_read_line(&sim.proc, line, sizeof(line), 10000), 0);
	assert_true(strncmp(line, "pty: /dev/pts/", 14) == 0);
	assert_true(readlink(link, after, sizeof(after) - 1) > 0);
	assert_string_equal(after, line + 5);
	assert_string_not_equal(after, before);
	c2 = tl_client_serial(link);
	assert_non_null(c2);
	assert_int_equal(tl_smp_echo(c2, "second tty", TIMEOUT), 0);
	tl_client_free(c);
	tl_client_free(c2);
	stop(&sim);
	assert_int_equal(access(link, F_OK), -1); /* unplugged for good */
}

/* The model times of one sequential upload's requests, from the trace. */
static void upload_work_times(const char *name, const char *seed, char *out, size_t size)
{
	const char *const more[] = {"--seed", seed, NULL};
	struct smp_upload_rsp last;
	struct tl_event *ev = NULL;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	size_t n = 0, used = 0;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 51), 0);
	start(&sim, name, "udp", more);
	c = tl_client_udp(sim.spec);
	assert_true(tl_upload_sequential(c, &img, BODY_MAX, &last, TIMEOUT) > 0);
	tl_client_free(c);
	stop(&sim);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	out[0] = 0;
	for (size_t i = 0; i < n && used + 32 < size; i++)
		if (strcmp(ev[i].name, "upload") == 0)
			used += (size_t)snprintf(out + used, size - used, "%s ",
						 tl_ev_get(&ev[i], "work_ms"));
	free(ev);
	tl_image_done(&img);
}

static void test_same_seed_same_flash_timing(void **state)
{
	char a[1024], b[1024], c[1024];

	upload_work_times("seed-a", "7", a, sizeof(a));
	upload_work_times("seed-b", "7", b, sizeof(b));
	upload_work_times("seed-c", "8", c, sizeof(c));
	assert_true(strlen(a) > 20);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overrun_pipelined_upload_is_refused_by_bootloader),
		cmocka_unit_test(test_overrun_sequential_upload_is_safe),
		cmocka_unit_test(test_full_buffers_drop_or_stall),
		cmocka_unit_test(test_drop_response_fault),
		cmocka_unit_test(test_dup_response_fault_delivers_twice),
		cmocka_unit_test(test_link_loss_keeps_upload_and_trace_names_written_bytes),
		cmocka_unit_test(test_reboot_at_fault_loses_upload),
		cmocka_unit_test(test_mute_at_and_mute_after),
		cmocka_unit_test(test_reenumerate_moves_symlink),
		cmocka_unit_test(test_same_seed_same_flash_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
