/* test-otasim.c — the real otasim over UDP and over its pty, spoken to in raw SMP with the smp
 * and console codecs: commands and their error forms, a whole update with swap and confirm on
 * both transports, the console framing counted against the buffer, state across restarts, the
 * trace's keys, the image check, refusals at start, --list-profiles and mkimage. Faults are in
 * test-otasim-faults.c. Every wait is bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/simctl.h"
#include "lib/testlib.h"
#include "otad/console.h"
#include "otad/image.h"
#include "otad/smp.h"

#define TIMEOUT	 3000 /* ms for an answer that must come */
#define SILENCE	 400  /* ms that prove an answer does not come */
#define BUF_SIZE 2475 /* spi-lp */
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
	assert_int_equal(tl_sim_stop(sim), 0); /* SIGTERM: clean exit */
}

static const struct smp_slot_state *slot(const struct smp_image_state *st, uint32_t s)
{
	return smp_image_state_find(st, 0, s);
}

static int call(struct tl_client *c, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body,
		size_t len, uint8_t *rsp, size_t rsp_size)
{
	return tl_client_call(c, SMP_VER_2, op, group, id, body, len, rsp, rsp_size, TIMEOUT);
}

static void test_udp_echo_params_state_slot_info(void **state)
{
	uint8_t body[64], rsp[1024], hash[32] = {9};
	struct smp_image_state st;
	struct smp_params_rsp p;
	struct smp_slot_info_rsp si;
	struct smp_err e;
	struct tl_client *c;
	struct tl_sim sim;
	int n;

	start(&sim, "cmds", "udp", NULL);
	c = tl_client_udp(sim.spec);
	assert_non_null(c);
	assert_int_equal(tl_smp_echo(c, "hello", TIMEOUT), 0);
	n = smp_empty_req_encode(body, sizeof(body));
	n = call(c, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, body, (size_t)n, rsp, sizeof(rsp));
	assert_int_equal(smp_params_rsp_decode(rsp, (size_t)n, &p, NULL), 0);
	assert_int_equal(p.buf_size, BUF_SIZE);
	assert_int_equal(p.buf_count, 4);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_int_equal(st.n_slots, 1);
	assert_string_equal(slot(&st, 0)->version, "1.0.0");
	assert_true(slot(&st, 0)->active && slot(&st, 0)->confirmed && slot(&st, 0)->bootable);
	assert_false(slot(&st, 0)->pending);
	assert_int_equal(slot(&st, 0)->hash_len, 32);
	n = smp_empty_req_encode(body, sizeof(body));
	n = call(c, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, body, (size_t)n, rsp,
		 sizeof(rsp));
	assert_int_equal(smp_slot_info_rsp_decode(rsp, (size_t)n, &si, NULL), 0);
	assert_int_equal(si.n, 2);
	assert_int_equal(si.slots[1].size, 0x76000);
	/* not built in: os info answers "not supported" as {"rc": 8}, even to v2 */
	n = smp_empty_req_encode(body, sizeof(body));
	n = call(c, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, (size_t)n, rsp, sizeof(rsp));
	assert_int_equal(smp_err_decode(rsp, (size_t)n, &e, NULL), 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, MGMT_ERR_ENOTSUP);
	/* an SMP v1 request gets a v1 answer (tl_client_call checks the header's version) */
	n = smp_echo_req_encode(body, sizeof(body), "old");
	assert_true(tl_client_call(c, SMP_VER_1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body,
				   (size_t)n, rsp, sizeof(rsp), TIMEOUT) > 0);
	/* a v2 image error comes as {"err": {"group": 1, "rc": 8}} */
	n = smp_state_write_req_encode(body, sizeof(body), hash, 32, false);
	n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n, rsp,
		 sizeof(rsp));
	assert_int_equal(smp_err_decode(rsp, (size_t)n, &e, NULL), 0);
	assert_true(e.v2);
	assert_int_equal(e.group, SMP_GROUP_IMAGE);
	assert_int_equal(e.rc, IMG_MGMT_ERR_HASH_NOT_FOUND);
	tl_client_free(c);
	stop(&sim);
}

/* A complete update: upload, check the state, test, reset, swap, confirm. Returns the number
 * of upload requests. */
static int update_and_swap(struct tl_sim *sim, struct tl_client *c, size_t overhead)
{
	struct smp_image_state st;
	struct smp_upload_rsp last;
	struct tl_image img;
	uint8_t factory[32];
	int requests;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 42), 0);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	memcpy(factory, slot(&st, 0)->hash, 32);
	requests =
		tl_upload_sequential(c, &img, BUF_SIZE - overhead - SMP_HDR_SIZE, &last, TIMEOUT);
	assert_true(requests > 0);
	assert_int_equal(last.off, img.len);
	assert_false(last.has_match); /* spi-lp is built without image check */
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_non_null(slot(&st, 1));
	assert_memory_equal(slot(&st, 1)->hash, img.hash, 32);
	assert_string_equal(slot(&st, 1)->version, "2.0.0");
	assert_int_equal(tl_smp_state_write(c, img.hash, false, TIMEOUT), 0);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_true(slot(&st, 1)->pending);
	assert_int_equal(tl_smp_reset(c, TIMEOUT), 0);
	assert_int_equal(tl_sim_wait_event(sim, "boot", "result", "swap-test", 10000), 0);
	assert_int_equal(tl_smp_wait_up(c, 10000), 0);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_memory_equal(slot(&st, 0)->hash, img.hash, 32);
	assert_true(slot(&st, 0)->active && !slot(&st, 0)->confirmed);
	assert_memory_equal(slot(&st, 1)->hash, factory, 32);
	assert_true(slot(&st, 1)->confirmed);
	assert_int_equal(tl_smp_state_write(c, NULL, true, TIMEOUT), 0);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_true(slot(&st, 0)->confirmed);
	tl_image_done(&img);
	return requests;
}

static void check_trace_keys(const struct tl_event *e, size_t *uploads)
{
	static const char *const upload_keys[] = {"seq",      "off",	  "len",
						  "inflight", "expected", "result"};
	static const char *const rsp_keys[] = {"seq", "group", "id", "len"};
	static const char *const sw_keys[] = {"seq", "hash", "confirm", "rc", "result"};

	assert_non_null(tl_ev_get(e, "t"));
	if (strcmp(e->name, "upload") == 0) {
		for (size_t k = 0; k < 6; k++)
			assert_non_null(tl_ev_get(e, upload_keys[k]));
		assert_string_equal(tl_ev_get(e, "result"), "ok");
		assert_int_equal(tl_ev_u64(e, "inflight"), 1); /* window 1 */
		assert_int_equal(tl_ev_u64(e, "off"), tl_ev_u64(e, "expected"));
		(*uploads)++;
	} else if (strcmp(e->name, "rsp") == 0) {
		for (size_t k = 0; k < 4; k++)
			assert_non_null(tl_ev_get(e, rsp_keys[k]));
	} else if (strcmp(e->name, "state-write") == 0) {
		for (size_t k = 0; k < 5; k++)
			assert_non_null(tl_ev_get(e, sw_keys[k]));
	} else if (strcmp(e->name, "boot") == 0) {
		assert_non_null(tl_ev_get(e, "result"));
		assert_non_null(tl_ev_get(e, "version"));
		assert_int_equal(strlen(tl_ev_get(e, "hash")), 64);
	}
}

static void test_udp_update_swaps_and_traces(void **state)
{
	struct tl_event *ev = NULL;
	struct tl_client *c;
	struct tl_sim sim;
	size_t n = 0, uploads = 0;
	int requests;

	start(&sim, "update", "udp", NULL);
	c = tl_client_udp(sim.spec);
	assert_non_null(c);
	requests = update_and_swap(&sim, c, 0);
	tl_client_free(c);
	stop(&sim);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++)
		check_trace_keys(&ev[i], &uploads);
	free(ev);
	assert_int_equal(uploads, (size_t)requests);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "test"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "confirm"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "reset", "cause", "command"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "none"), 1); /* power-on */
}

static void test_pty_commands_and_update(void **state)
{
	struct smp_image_state st;
	struct tl_client *c;
	struct tl_sim sim;

	start(&sim, "serial", "serial", NULL);
	assert_true(strncmp(sim.spec, "serial:/dev/pts/", 16) == 0);
	c = tl_client_serial(sim.spec + 7);
	assert_non_null(c);
	assert_int_equal(tl_smp_echo(c, "over the console", TIMEOUT), 0);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_true(slot(&st, 0)->active);
	/* requests sized for a 2475-byte buffer less the console's 4 bytes of framing */
	update_and_swap(&sim, c, CONSOLE_OVERHEAD);
	tl_client_free(c);
	stop(&sim);
}

static void test_pty_request_filling_buffer_without_framing_room_is_dropped(void **state)
{
	char text[BUF_SIZE];
	struct tl_client *c;
	struct tl_sim sim;

	start(&sim, "serial-big", "serial", NULL);
	c = tl_client_serial(sim.spec + 7);
	assert_non_null(c);
	/* header + {"d": text} = exactly buf_size: fits over UDP, not with the console's 4 bytes */
	memset(text, 'x', sizeof(text));
	text[BUF_SIZE - SMP_HDR_SIZE - 6] = 0;
	assert_int_equal(tl_smp_echo(c, text, SILENCE), -ETIMEDOUT);
	assert_int_equal(tl_sim_wait_event(&sim, "drop", "reason", "too-big", TIMEOUT), 0);
	text[BUF_SIZE - SMP_HDR_SIZE - 6 - CONSOLE_OVERHEAD] = 0;
	assert_int_equal(tl_smp_echo(c, text, TIMEOUT), 0);
	tl_client_free(c);
	stop(&sim);
}

static void test_restart_with_same_state_keeps_slots_not_upload(void **state)
{
	uint8_t body[BUF_SIZE], rsp[256];
	struct smp_image_state st;
	struct smp_upload_rsp last, u;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	int n;

	assert_int_equal(tl_image_make(&img, "3.1.4", IMG_SIZE, 44), 0);
	start(&sim, "restart", "udp", NULL);
	c = tl_client_udp(sim.spec);
	assert_true(tl_upload_sequential(c, &img, BUF_SIZE - SMP_HDR_SIZE, &last, TIMEOUT) > 0);
	tl_client_free(c);
	stop(&sim);

	start(&sim, "restart", "udp", NULL);
	c = tl_client_udp(sim.spec);
	assert_int_equal(tl_smp_image_state(c, &st, TIMEOUT), 0);
	assert_int_equal(st.n_slots, 2);
	assert_memory_equal(slot(&st, 1)->hash, img.hash, 32);
	assert_string_equal(slot(&st, 1)->version, "3.1.4");
	/* an upload in progress does not survive: a middle chunk is answered with off 0 */
	n = (int)tl_upload_encode(&img, 4096, BUF_SIZE - SMP_HDR_SIZE, body, sizeof(body));
	n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, (size_t)n, rsp,
		 sizeof(rsp));
	assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)n, &u, NULL), 0);
	assert_int_equal(u.off, 0);
	tl_client_free(c);
	stop(&sim);
	tl_image_done(&img);
}

static void test_image_check_answers_match_after_reading_slot(void **state)
{
	const char *const more[] = {"--profile", "spi-hp", NULL};
	const struct tl_event *final = NULL;
	struct smp_upload_rsp last;
	struct tl_event *ev = NULL;
	struct tl_image img;
	struct tl_client *c;
	struct tl_sim sim;
	size_t n = 0;

	assert_int_equal(tl_image_make(&img, "2.0.0", IMG_SIZE, 52), 0);
	start(&sim, "match", "udp", more);
	c = tl_client_udp(sim.spec);
	assert_true(tl_upload_sequential(c, &img, BUF_SIZE - SMP_HDR_SIZE, &last, TIMEOUT) > 0);
	assert_true(last.has_match);
	assert_true(last.match);
	tl_client_free(c);
	stop(&sim);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev[i].name, "upload") == 0)
			final = &ev[i];
	assert_non_null(final);
	/* the last chunk's work includes hashing the image at 1 MiB/s (20 ms for 21 KB) */
	assert_true(tl_ev_double(final, "work_ms") > 1000.0 * (double)img.len / (1024 * 1024));
	free(ev);
	tl_image_done(&img);
}

static void test_malformed_state_file_is_refused_with_line(void **state)
{
	const char *path = tl_path("broken.state");
	char *argv[] = {
		(char *)tl_bin("otasim"), "--udp", "127.0.0.1:0", "--state", (char *)path, NULL};
	char *out = NULL, *err = NULL, *after;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("format=1\nslot_size=twelve\n", f);
	fclose(f);
	assert_int_equal(tl_run(argv, 20000, &out, &err), 1);
	assert_true(tl_contains(err, "broken.state:2:"));
	assert_string_equal(out, "");
	after = tl_read_file(path);
	assert_string_equal(after, "format=1\nslot_size=twelve\n"); /* never overwritten */
	free(after);
	free(out);
	free(err);
}

static void test_key_refuses_unsigned_factory_image(void **state)
{
	const char *img = tl_path("unsigned.bin");
	char key[1024];
	char *mk[] = {(char *)tl_bin("otasim"),
		      "mkimage",
		      "--version",
		      "1.0.0",
		      "--size",
		      "4k",
		      (char *)img,
		      NULL};
	char *argv[] = {(char *)tl_bin("otasim"), "--udp",     "127.0.0.1:0", "--key", key,
			"--initial-image",	  (char *)img, NULL};
	char *out = NULL, *err = NULL;

	snprintf(key, sizeof(key), "%s/tests/data/keys/ec-p256.pub.pem", OTAD_SOURCE_DIR);
	assert_int_equal(tl_run(mk, 20000, NULL, NULL), 0);
	assert_int_equal(tl_run(argv, 20000, &out, &err), 1);
	assert_true(tl_contains(err, "does not pass MCUboot's validation"));
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static void test_list_profiles_and_mkimage(void **state)
{
	const char *out_path = tl_path("mk.bin");
	char *list[] = {(char *)tl_bin("otasim"), "--list-profiles", NULL};
	char *mk[] = {(char *)tl_bin("otasim"),
		      "mkimage",
		      "--version",
		      "1.2.3+4",
		      "--size",
		      "10k",
		      "--seed",
		      "5",
		      (char *)out_path,
		      NULL};
	static const char *const names[] = {"spi-lp (default)", "spi-lp-overrun", "spi-hp",
					    "internal", "lan"};
	struct img *img = NULL;
	struct img_diag diag;
	char *out = NULL;

	assert_int_equal(tl_run(list, 20000, &out, NULL), 0);
	for (size_t i = 0; i < 5; i++)
		assert_true(tl_contains(out, names[i]));
	assert_true(tl_contains(out, "bottleneck (256 KiB image)"));
	free(out);
	assert_int_equal(tl_run(mk, 20000, NULL, NULL), 0);
	assert_int_equal(img_load(out_path, NULL, 0, &img, &diag), 0);
	assert_int_equal(img->info.img_size, 10240);
	assert_int_equal(img->info.version.revision, 3);
	assert_int_equal(img->info.version.build, 4);
	img_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_echo_params_state_slot_info),
		cmocka_unit_test(test_udp_update_swaps_and_traces),
		cmocka_unit_test(test_pty_commands_and_update),
		cmocka_unit_test(test_pty_request_filling_buffer_without_framing_room_is_dropped),
		cmocka_unit_test(test_restart_with_same_state_keeps_slots_not_upload),
		cmocka_unit_test(test_image_check_answers_match_after_reading_slot),
		cmocka_unit_test(test_malformed_state_file_is_refused_with_line),
		cmocka_unit_test(test_key_refuses_unsigned_factory_image),
		cmocka_unit_test(test_list_profiles_and_mkimage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
