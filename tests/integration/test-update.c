/* test-update.c — `otactl update` end to end against the real otasim, over UDP and a pty:
 * verified boot, pacing seen from the device's trace, the motivating overrun failure and its
 * retry, a device reboot mid-upload, a device whose port is closed while it reboots, lost answers,
 * a device that stops answering, bad images. */
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
#include "otad/image.h"
#include "otad/smp.h"
#include "util/fileio.h"
#include "util/macro.h"
#include "lib/testlib.h"

#define SPEED "20" /* model runs 20x real time: spi-lp timings in a test-sized budget */

static void test_update_over_udp_ends_in_verified_confirmed_boot(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, NULL };
	const char *img = tl_mkimage("v2.bin", "2.0.0", "24k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "udp-ok", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "done: device runs 2.0.0"));
	assert_true(tl_contains(out, "confirmed"));
	free(out);
	/* The device swapped at reset and now runs 2.0.0 confirmed. */
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", NULL), 0);
	assert_true(tl_contains(out, "version: 2.0.0"));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	/* A second run finds the image running and does nothing. */
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "already runs 2.0.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "reset", NULL, NULL), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_update_over_serial_pty_ends_in_verified_boot(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "spi-hp", NULL };
	const char *img = tl_mkimage("v3.bin", "3.1.0", "16k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "serial-ok", "serial", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "done: device runs 3.1.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Zephyr's shell transport: the first answer after each boot follows the shell's prompt on its
 * line, log messages come before and between an answer's frames, a reset prints MCUboot's lines
 * and the prompt again. */
static void test_update_over_the_shell_console(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "spi-hp", "--shell", NULL };
	const char *img = tl_mkimage("v3-shell.bin", "3.2.0", "16k");
	char *bad[] = { (char *)tl_bin("otasim"), "--udp", "127.0.0.1:0", "--shell", NULL };
	char *out = NULL, *err = NULL;

	assert_int_equal(tl_run(bad, 20000, NULL, &err), 2);
	assert_true(tl_contains(err, "--shell need --serial"));
	free(err);
	assert_int_equal(tl_sim_start(&sim, "shell", "serial", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "--timeout", "2s", "echo", "after boot", NULL),
			 0);
	assert_string_equal(out, "after boot\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "done: device runs 3.2.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_otactl(&out, sim.spec, "reset", NULL), 0);
	free(out);
	for (int ms = 0; tl_sim_count_events(&sim, "boot", NULL, NULL) < 3; ms += 10) {
		assert_true(ms < tl_timeout(10000));
		usleep(10000);
	}
	assert_int_equal(tl_otactl(&out, sim.spec, "--timeout", "2s", "echo", "after reset", NULL),
			 0);
	assert_string_equal(out, "after reset\n");
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Largest "inflight" the device saw: the client's window, measured from outside. */
static unsigned max_inflight(const char *trace, unsigned *ret_uploads)
{
	struct tl_event *ev;
	size_t n;
	unsigned m = 0, uploads = 0;

	assert_int_equal(tl_trace_load(trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].name, "upload") != 0)
			continue;
		m = MAX(m, (unsigned)tl_ev_u64(&ev[i], "inflight"));
		uploads++;
	}
	free(ev);
	*ret_uploads = uploads;
	return m;
}

static void test_trace_shows_window_filled_and_never_exceeded(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, NULL }; /* spi-lp: the link is the bottleneck */
	const char *img = tl_mkimage("window.bin", "2.0.2", "40k");
	unsigned uploads, m;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "window", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, "--window", "3", NULL), 0);
	free(out);
	m = max_inflight(sim.trace, &uploads);
	assert_true(uploads > 10);
	assert_int_equal(m, 3); /* used, never more */
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_trace_shows_rate_respected(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", NULL };
	const char *img = tl_mkimage("paced.bin", "2.0.1", "40k");
	struct tl_event *ev;
	size_t n, bytes = 0;
	double first = -1, last = 0;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "paced", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, "--window", "2", "--rate",
				"16k", NULL),
			 0);
	free(out);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].name, "upload") != 0)
			continue;
		if (first < 0)
			first = tl_ev_double(&ev[i], "t");
		else
			bytes += tl_ev_u64(&ev[i], "len"); /* bytes sent after the first request */
		last = tl_ev_double(&ev[i], "t");
	}
	free(ev);
	assert_true(bytes > 30000);
	/* Bytes after the first request over the time they took: never above 16 KiB/s, and the
	 * limit is what held the upload back (the lan link takes 1 MiB/s). */
	assert_true(bytes / (last - first) <= 16384.0);
	assert_true(bytes / (last - first) > 16384.0 * 0.8);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_overrun_at_full_speed_is_reported_as_bootloader_refusal(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "spi-lp-overrun", NULL };
	const char *img = tl_mkimage("overrun.bin", "4.0.0", "32k");
	char *out = NULL, *log;

	assert_int_equal(tl_sim_start(&sim, "overrun", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--window", "4", "--retries", "0",
				NULL),
			 9);
	assert_true(tl_contains(out, "bootloader refused the image"));
	assert_true(tl_contains(out, "1.0.0")); /* still the factory image */
	free(out);
	assert_true(tl_sim_count_events(&sim, "upload", "result", "corrupt") > 0);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "refused"), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
	log = tl_proc_stderr(&sim.proc);
	assert_true(tl_contains(log, "Image in the secondary slot is not valid!"));
	free(log);
}

static void test_overrun_with_retries_ends_in_verified_boot(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "spi-lp-overrun", NULL };
	const char *img = tl_mkimage("overrun2.bin", "4.0.1", "32k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "overrun-retry", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--window", "4", "--retries", "2",
				NULL),
			 0);
	assert_true(tl_contains(out, "done: device runs 4.0.1"));
	assert_true(tl_contains(out, "2 attempts"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "refused"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_device_reboot_mid_upload_restarts_and_completes(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--reboot-at", "12000", NULL };
	const char *img = tl_mkimage("reboot.bin", "5.0.0", "32k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "reboot", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "-v", NULL), 0);
	assert_true(tl_contains(out, "lost the upload"));
	assert_true(tl_contains(out, "done: device runs 5.0.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "upload", "result", "reboot"), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* The update's reset, and the device's port closed for a second (its process restarted on the
 * same port): the refusals (ICMP port unreachable) come from a device heard before, so they are
 * waited for, not taken for "nothing listens". */
static void test_refusals_while_the_device_reboots_are_waited_for(void **state)
{
	const char *img = tl_mkimage("icmp.bin", "6.1.0", "8k");
	/* in real time: the swap lasts long enough to be cut short by the stop */
	const char *extra[] = { "--speed", "1", "--profile", "lan", NULL };
	char port[64], line[512], *out = NULL;
	const char *again[] = { "--speed", "1", "--profile", "lan", "--udp", port, NULL };
	struct tl_sim sim;
	struct tl_proc ctl;
	int r;

	assert_int_equal(tl_sim_start(&sim, "icmp", "udp", extra), 0);
	snprintf(port, sizeof(port), "%.63s", sim.spec + strlen("udp:"));
	{
		char *argv[] = { (char *)tl_bin("otactl"), "-t", sim.spec, "update", (char *)img,
				 "-vv", NULL };

		assert_int_equal(tl_spawn(&ctl, argv), 0);
	}
	tl_track(ctl.pid);
	assert_int_equal(tl_sim_wait_event(&sim, "reset", "cause", "command", 30000), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
	/* back once otactl (-vv: every ignored packet is a note) has been refused */
	while ((r = tl_proc_read_line(&ctl, line, sizeof(line), tl_timeout(20000))) >= 0 &&
	       !strstr(line, "refused a datagram (ICMP port unreachable"))
		;
	assert_true(r >= 0);
	assert_int_equal(tl_sim_start(&sim, "icmp", "udp", again), 0);
	while ((r = tl_proc_read_line(&ctl, line, sizeof(line), tl_timeout(60000))) >= 0 &&
	       !strstr(line, "done: device runs 6.1.0"))
		;
	assert_true(r >= 0);
	assert_int_equal(tl_proc_wait(&ctl, tl_timeout(20000)), 0);
	/* stopped mid-swap, the device finished it at its next start: no refusal, no second upload */
	assert_int_equal(tl_sim_count_events(&sim, "boot", "resumed", "1"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", NULL), 0);
	assert_true(tl_contains(out, "version: 6.1.0\n    hash: "));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_lost_answers_are_retransmitted(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--drop-response", "4,9,10",
				NULL };
	const char *img = tl_mkimage("drop.bin", "5.1.0", "24k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "drop", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--timeout", "1", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 5.1.0"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Requests `otactl image upload img` sends before its first upload request, counted on a device
 * of its own: every earlier request is answered before the next goes out. */
static unsigned requests_before_upload(const char *img)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", NULL };
	struct tl_event *ev;
	struct tl_sim sim;
	unsigned n = 0;
	char *out = NULL;
	size_t count;

	assert_int_equal(tl_sim_start(&sim, "count", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, NULL), 0);
	free(out);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &count), 0);
	for (size_t i = 0; i < count && strcmp(ev[i].name, "upload") != 0; i++)
		n += strcmp(ev[i].name, "rsp") == 0;
	free(ev);
	assert_int_equal(tl_sim_stop(&sim), 0);
	return n;
}

/* The device holds another upload, open at an offset none of our chunks starts at, and our first
 * chunk is lost on the air. The chunks sent behind it are answered with the other upload's offset:
 * taken as ours, that answer would rewind us into the other upload and splice our image into it. */
static void test_answers_before_the_first_chunk_is_taken_never_steer_the_upload(void **state)
{
	const char *img = tl_mkimage("spec.bin", "7.0.0", "8k");
	unsigned before = requests_before_upload(img);
	uint8_t body[512], rsp[256];
	char drop[16];
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--drop-request", drop, NULL };
	struct smp_upload_rsp u;
	struct tl_image other;
	struct tl_client *c;
	struct tl_event *ev;
	struct tl_sim sim;
	size_t n, count, i;
	uint64_t lost_seq, ignored = 0;
	char *out = NULL;
	int r;

	/* Request 1 opens the other upload; otactl's first upload request is before + 2. */
	snprintf(drop, sizeof(drop), "%u", before + 2);
	assert_int_equal(tl_image_make(&other, "6.9.0", 16 * 1024, 77), 0);
	assert_int_equal(tl_sim_start(&sim, "spec", "udp", extra), 0);
	c = tl_client_udp(sim.spec);
	n = tl_upload_encode(&other, 0, 300, body, sizeof(body));
	assert_true(n > 0);
	r = tl_client_call(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, n, rsp,
			   sizeof(rsp), 5000);
	assert_true(r > 0);
	assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)r, &u, NULL), 0);
	assert_true(u.has_off && u.off > 0 && u.off < 300);
	tl_client_free(c);

	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, "--window", "4",
				   "--timeout", "1", NULL),
			 0);
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "drop", "reason", "fault"), 1);
	/* Between the other upload's chunk and our first chunk's resend, the device wrote nothing:
	 * the chunks behind our lost first one (sequence numbers following its) were ignored. */
	assert_int_equal(tl_trace_load(sim.trace, &ev, &count), 0);
	for (i = 0; i < count && strcmp(ev[i].name, "drop") != 0; i++)
		;
	assert_true(i < count);
	lost_seq = tl_ev_u64(&ev[i], "seq");
	for (i = 0; i < count && strcmp(ev[i].name, "upload") != 0; i++)
		;
	assert_true(i < count);
	assert_int_equal(tl_ev_u64(&ev[i], "off"), 0); /* the other upload's first chunk */
	for (i++; i < count && !(strcmp(ev[i].name, "upload") == 0 && tl_ev_u64(&ev[i], "off") == 0);
	     i++)
		if (strcmp(ev[i].name, "upload") == 0) {
			assert_string_equal(tl_ev_get(&ev[i], "result"), "ignored");
			assert_int_equal(tl_ev_u64(&ev[i], "seq"), (lost_seq + 1 + ignored) % 256);
			ignored++;
		}
	assert_true(ignored >= 1);
	assert_true(i < count); /* our first chunk, resent */
	free(ev);
	assert_int_equal(tl_sim_stop(&sim), 0);
	tl_image_done(&other);
}

/* The whole first window is lost, then five resends of the first chunk: six timeouts of the first
 * chunk, within the eight allowed. The chunks sent behind it in the first window time out too, but
 * only the first chunk's own timeouts count while the upload is not open. */
static void test_a_lost_first_window_counts_as_one_timeout(void **state)
{
	const char *img = tl_mkimage("window.bin", "7.1.0", "8k");
	unsigned first = requests_before_upload(img) + 1;
	char drop[64];
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--drop-request", drop, NULL };
	struct tl_sim sim;
	char *out = NULL;

	/* 8 KiB in lan's 2 KiB buffers: five chunks, four in the first window. */
	snprintf(drop, sizeof(drop), "%u,%u,%u,%u,%u,%u,%u,%u,%u", first, first + 1, first + 2,
		 first + 3, first + 4, first + 5, first + 6, first + 7, first + 8);
	assert_int_equal(tl_sim_start(&sim, "window", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, "--window", "4",
				   "--timeout", "300ms", NULL),
			 0);
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "drop", "reason", "fault"), 9);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_device_that_stops_answering_times_out_with_exit_5(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--mute-at", "8000", NULL };
	const char *img = tl_mkimage("mute.bin", "6.0.0", "24k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "mute", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--timeout", "300ms", NULL), 5);
	assert_true(tl_contains(out, "stopped answering"));
	free(out);
	/* Never told to test: no state write reached the device. */
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_broken_image_is_refused_before_anything_is_sent(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, NULL };
	const char *img = tl_mkimage("broken.bin", "7.0.0", "8k");
	char *text, *out = NULL;
	FILE *f;

	/* Flip one payload byte: the SHA-256 TLV no longer matches. */
	f = fopen(img, "r+b");
	assert_non_null(f);
	fseek(f, 0x300, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	assert_int_equal(tl_sim_start(&sim, "broken", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 3);
	assert_true(tl_contains(out, "SHA-256"));
	free(out);
	text = tl_read_file(sim.trace);
	assert_false(tl_contains(text, "upload "));
	free(text);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* A signed image (ECDSA P-256, Ed25519) whose signature was tampered with: its SHA-256 TLV
 * still holds, only the signature check with the configured key catches it, and it must do so
 * before the first upload request (test-image-sign.c: the untampered image verifies). */
static void signed_image_tampered_is_refused_before_upload(const char *alg, const char *priv,
							    const char *pub)
{
	char name[64], key[600], pubkey[600], *out = NULL, *argv[12];
	const char *extra[] = {"--speed", SPEED, NULL};
	_cleanup_free_ uint8_t *data = NULL;
	struct img_diag diag;
	struct img_info info;
	struct tl_sim sim;
	const char *img;
	size_t len;
	FILE *f;

	snprintf(key, sizeof(key), "%s/tests/data/keys/%s", OTAD_SOURCE_DIR, priv);
	snprintf(pubkey, sizeof(pubkey), "%s/tests/data/keys/%s", OTAD_SOURCE_DIR, pub);
	snprintf(name, sizeof(name), "signed-%s.bin", alg);
	img = tl_path(name);
	argv[0] = (char *)tl_bin("otasim");
	argv[1] = "mkimage";
	argv[2] = "--version";
	argv[3] = "7.1.0";
	argv[4] = "--size";
	argv[5] = "8k";
	argv[6] = "--key";
	argv[7] = key;
	argv[8] = (char *)img;
	argv[9] = NULL;
	assert_int_equal(tl_run(argv, 20000, NULL, NULL), 0);
	assert_int_equal(read_full_file(img, 1024 * 1024, &data, &len), 0);
	assert_int_equal(img_parse(data, len, &info, &diag), 0);
	assert_true(info.sig_type != IMG_SIG_NONE && info.sig_len > 8);
	f = fopen(img, "r+b");
	assert_non_null(f);
	fseek(f, (long)(info.sig_off + info.sig_len / 2), SEEK_SET);
	fputc(data[info.sig_off + info.sig_len / 2] ^ 0x01, f);
	fclose(f);
	assert_int_equal(tl_sim_start(&sim, name, "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", "--key", pubkey, img, NULL), 3);
	assert_true(tl_contains(out, "signature"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_tampered_ecdsa_p256_image_is_refused_before_upload(void **state)
{
	signed_image_tampered_is_refused_before_upload("p256", "ec-p256.pem", "ec-p256.pub.pem");
}

static void test_tampered_ed25519_image_is_refused_before_upload(void **state)
{
	signed_image_tampered_is_refused_before_upload("ed25519", "ed25519.pem",
						       "ed25519.pub.pem");
}

static void test_image_test_refuses_a_hash_the_device_does_not_hold(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, NULL };
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "unknown-hash", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "test",
				"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
				NULL),
			 8);
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "test", "xyz", NULL), 2);
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_over_udp_ends_in_verified_confirmed_boot),
		cmocka_unit_test(test_update_over_serial_pty_ends_in_verified_boot),
		cmocka_unit_test(test_update_over_the_shell_console),
		cmocka_unit_test(test_trace_shows_window_filled_and_never_exceeded),
		cmocka_unit_test(test_trace_shows_rate_respected),
		cmocka_unit_test(test_overrun_at_full_speed_is_reported_as_bootloader_refusal),
		cmocka_unit_test(test_overrun_with_retries_ends_in_verified_boot),
		cmocka_unit_test(test_device_reboot_mid_upload_restarts_and_completes),
		cmocka_unit_test(test_refusals_while_the_device_reboots_are_waited_for),
		cmocka_unit_test(test_lost_answers_are_retransmitted),
		cmocka_unit_test(test_answers_before_the_first_chunk_is_taken_never_steer_the_upload),
		cmocka_unit_test(test_a_lost_first_window_counts_as_one_timeout),
		cmocka_unit_test(test_device_that_stops_answering_times_out_with_exit_5),
		cmocka_unit_test(test_broken_image_is_refused_before_anything_is_sent),
		cmocka_unit_test(test_image_test_refuses_a_hash_the_device_does_not_hold),
		cmocka_unit_test(test_tampered_ecdsa_p256_image_is_refused_before_upload),
		cmocka_unit_test(test_tampered_ed25519_image_is_refused_before_upload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
