/* test-bad-device.c — otactl against a scripted device that answers wrongly: malformed CBOR,
 * wrong sequence numbers, truncated packets, answers to the wrong command, a slot that does not
 * hold what was uploaded. Each gives a clear error and the documented exit code, never a crash or
 * a hang — and never an image state write. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/testlib.h"
#include "otad/image.h"
#include "otad/smp.h"

enum fault {
	F_PARAMS_TRUNCATED_CBOR,
	F_PARAMS_WRONG_SEQ,
	F_PARAMS_SHORT_PACKET,
	F_PARAMS_WRONG_COMMAND,
	F_UPLOAD_OFF_NOT_UINT,
	F_UPLOAD_OFF_BEYOND_END,
	F_VERIFY_WRONG_HASH,
};

struct device {
	int fd;
	enum fault fault;
	uint32_t expected_off, len;
	unsigned state_writes;
	uint8_t factory_hash[32], other_hash[32];
};

static size_t reply(struct device *d, const struct smp_hdr *rq, const uint8_t *body, size_t blen,
		    uint8_t *out)
{
	struct smp_hdr h = *rq;

	h.op = (uint8_t)(rq->op + 1);
	h.len = (uint16_t)blen;
	smp_hdr_encode(&h, out);
	memcpy(out + SMP_HDR_SIZE, body, blen);
	return SMP_HDR_SIZE + blen;
}

static int state_body(struct device *d, bool with_slot1, uint8_t *buf, size_t size)
{
	struct smp_image_state st = { .n_slots = with_slot1 ? 2 : 1 };

	st.slots[0] = (struct smp_slot_state){ .slot = 0, .version = "1.0.0", .hash_len = 32,
					       .bootable = true, .confirmed = true, .active = true };
	memcpy(st.slots[0].hash, d->factory_hash, 32);
	st.slots[1] = (struct smp_slot_state){ .slot = 1, .version = "2.0.0", .hash_len = 32,
					       .bootable = true };
	memcpy(st.slots[1].hash, d->other_hash, 32);
	return smp_image_state_encode(buf, size, &st);
}

/* Answers one request; returns the answer's length (0 = no answer). */
static size_t handle(struct device *d, const uint8_t *pkt, size_t len, uint8_t *out)
{
	struct smp_hdr h;
	uint8_t body[512];
	int n = -1;

	if (smp_hdr_decode(pkt, len, &h) < 0)
		return 0;
	if (h.group == SMP_GROUP_OS && h.id == SMP_OS_PARAMS) {
		static const uint8_t truncated[] = { 0xa2, 0x68, 'b', 'u', 'f' };
		static const uint8_t nothing[] = { 0x01, 0x02, 0x03 };

		switch (d->fault) {
		case F_PARAMS_TRUNCATED_CBOR:
			return reply(d, &h, truncated, sizeof(truncated), out);
		case F_PARAMS_SHORT_PACKET:
			memcpy(out, nothing, sizeof(nothing));
			return sizeof(nothing);
		case F_PARAMS_WRONG_SEQ:
			h.seq = (uint8_t)(h.seq + 77);
			break;
		case F_PARAMS_WRONG_COMMAND:
			h.id = SMP_OS_ECHO;
			break;
		default:
			break;
		}
		n = smp_params_rsp_encode(body, sizeof(body), 2475, 4);
	} else if (h.group == SMP_GROUP_IMAGE && h.id == SMP_IMG_STATE) {
		if (h.op == SMP_OP_WRITE)
			d->state_writes++;
		n = state_body(d, d->expected_off == d->len && d->len, body, sizeof(body));
	} else if (h.group == SMP_GROUP_IMAGE && h.id == SMP_IMG_UPLOAD) {
		struct smp_upload_req rq;
		struct smp_upload_rsp rs = { .has_off = true };
		static const uint8_t off_text[] = { 0xa1, 0x63, 'o', 'f', 'f', 0x61, '7' };

		assert_int_equal(smp_upload_req_decode(pkt + SMP_HDR_SIZE, len - SMP_HDR_SIZE, &rq,
						       NULL), 0);
		if (rq.has_first)
			d->len = rq.len;
		if (rq.off == d->expected_off)
			d->expected_off += (uint32_t)rq.data_len;
		rs.off = d->expected_off;
		if (d->fault == F_UPLOAD_OFF_NOT_UINT)
			return reply(d, &h, off_text, sizeof(off_text), out);
		if (d->fault == F_UPLOAD_OFF_BEYOND_END)
			rs.off = d->len + 4096;
		n = smp_upload_rsp_encode(body, sizeof(body), &rs, false);
	} else {
		struct smp_err e = { .rc = MGMT_ERR_ENOTSUP };
		n = smp_err_rsp_encode(body, sizeof(body), &e);
	}
	assert_true(n >= 0);
	return reply(d, &h, body, (size_t)n, out);
}

/* Runs otactl against the scripted device until it exits; returns its exit code. */
static int run_against(struct device *d, char **ret_out, const char *cmd, const char *arg1)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char spec[64];
	struct tl_proc p;
	char line[512];
	size_t olen = 0;
	char *out = calloc(1, 65536);
	int r;

	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(d->fd >= 0);
	assert_int_equal(bind(d->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(d->fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", ntohs(a.sin_port));
	char *argv[] = { (char *)tl_bin("otactl"), "-t", spec, "--timeout", "300ms", "-v",
			 (char *)cmd, (char *)arg1, NULL };
	assert_int_equal(tl_spawn(&p, argv), 0);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = d->fd, .events = POLLIN },
					 { .fd = p.out_fd, .events = POLLIN } };
		uint8_t in[4096], rsp[4096];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);

		assert_true(poll(pfd, 2, 30000) > 0); /* never hang */
		if (pfd[0].revents & POLLIN) {
			ssize_t n = recvfrom(d->fd, in, sizeof(in), 0, (struct sockaddr *)&from, &flen);
			size_t m = n > 0 ? handle(d, in, (size_t)n, rsp) : 0;

			if (m)
				sendto(d->fd, rsp, m, 0, (struct sockaddr *)&from, flen);
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			if (tl_proc_read_line(&p, line, sizeof(line), 1000) < 0)
				break;
			olen += (size_t)snprintf(out + olen, 65536 - olen, "%s\n", line);
		}
	}
	r = tl_proc_wait(&p, 10000);
	char *err = tl_proc_stderr(&p);
	olen += (size_t)snprintf(out + olen, 65536 - olen, "%s", err ? err : "");
	free(err);
	close(d->fd);
	*ret_out = out;
	return r;
}

static struct device new_device(enum fault f)
{
	struct device d = { .fault = f };

	memset(d.factory_hash, 0x11, 32);
	memset(d.other_hash, 0x22, 32);
	return d;
}

static void test_truncated_cbor_answer_is_a_protocol_error(void **state)
{
	struct device d = new_device(F_PARAMS_TRUNCATED_CBOR);
	char *out;

	assert_int_equal(run_against(&d, &out, "params", NULL), 7);
	assert_true(tl_contains(out, "malformed answer"));
	free(out);
}

static void test_answer_with_wrong_sequence_number_is_ignored_then_times_out(void **state)
{
	struct device d = new_device(F_PARAMS_WRONG_SEQ);
	char *out;

	assert_int_equal(run_against(&d, &out, "params", NULL), 5);
	assert_true(tl_contains(out, "no request pending under its sequence number"));
	assert_true(tl_contains(out, "no answer"));
	free(out);
}

static void test_short_packet_is_discarded_then_times_out(void **state)
{
	struct device d = new_device(F_PARAMS_SHORT_PACKET);
	char *out;

	assert_int_equal(run_against(&d, &out, "params", NULL), 5);
	assert_true(tl_contains(out, "no answer"));
	free(out);
}

static void test_answer_to_another_command_is_a_protocol_error(void **state)
{
	struct device d = new_device(F_PARAMS_WRONG_COMMAND);
	char *out;

	assert_int_equal(run_against(&d, &out, "params", NULL), 7);
	assert_true(tl_contains(out, "does not match the request"));
	free(out);
}

static const char *image(void)
{
	static char path[512];
	struct img_build_opts o = { .version = { 2, 0, 0, 0 }, .payload_size = 6000, .seed = 3 };
	uint8_t *buf;
	size_t len;
	FILE *f;

	if (path[0])
		return path;
	snprintf(path, sizeof(path), "%s", tl_path("bad-device.bin"));
	assert_int_equal(img_build(&o, &buf, &len), 0);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
	return path;
}

static void test_upload_answer_with_text_off_is_a_protocol_error(void **state)
{
	struct device d = new_device(F_UPLOAD_OFF_NOT_UINT);
	char *out;

	assert_int_equal(run_against(&d, &out, "update", image()), 7);
	assert_true(tl_contains(out, "'off'"));
	assert_int_equal(d.state_writes, 0);
	free(out);
}

static void test_upload_answer_beyond_the_image_is_a_protocol_error(void **state)
{
	struct device d = new_device(F_UPLOAD_OFF_BEYOND_END);
	char *out;

	assert_int_equal(run_against(&d, &out, "update", image()), 7);
	assert_true(tl_contains(out, "beyond the image"));
	assert_int_equal(d.state_writes, 0);
	free(out);
}

static void test_slot_with_another_hash_after_upload_is_never_tested(void **state)
{
	struct device d = new_device(F_VERIFY_WRONG_HASH);
	char *out;

	assert_int_equal(run_against(&d, &out, "update", image()), 8);
	assert_true(tl_contains(out, "slot 1 reports hash 2222"));
	assert_int_equal(d.state_writes, 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_cbor_answer_is_a_protocol_error),
		cmocka_unit_test(test_answer_with_wrong_sequence_number_is_ignored_then_times_out),
		cmocka_unit_test(test_short_packet_is_discarded_then_times_out),
		cmocka_unit_test(test_answer_to_another_command_is_a_protocol_error),
		cmocka_unit_test(test_upload_answer_with_text_off_is_a_protocol_error),
		cmocka_unit_test(test_upload_answer_beyond_the_image_is_a_protocol_error),
		cmocka_unit_test(test_slot_with_another_hash_after_upload_is_never_tested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
