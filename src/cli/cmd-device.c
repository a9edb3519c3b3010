/* cmd-device.c — otactl's one-shot commands: echo, reset, params, image list/test/confirm/erase. */
#include "cli/commands.h"
#include "cli/conn.h"
#include "cli/exit-codes.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int device_error(const struct smp_err *e, const char *what)
{
	char buf[128];

	log_error("%s: device answered %s", what, smp_err_format(e, buf, sizeof(buf)));
	return EXIT_DEVICE;
}

static int malformed(const char *what, const char *why)
{
	log_error("%s: malformed answer: %s", what, why);
	return EXIT_PROTOCOL;
}

/* --json: {"key": value} on a line (value a string, or a boolean true when NULL). */
static void print_json(const char *key, const char *value)
{
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	if (value)
		json_str(&j, key, value);
	else
		json_bool(&j, key, true);
	json_end_object(&j);
	json_end_line(&j);
}

static int open_conn(struct conn *c)
{
	return conn_open(c, arg.transport, &arg.params.tr, arg.timeout_usec);
}

int cmd_echo(int argc, char **argv)
{
	struct conn c;
	struct smp_echo_rsp rsp;
	const char *why = NULL;
	uint8_t body[600];
	int n, r;

	if (argc != 2 || strlen(argv[1]) > 500) {
		log_error("usage: otactl echo TEXT (at most 500 bytes)");
		return EXIT_USAGE;
	}
	n = smp_echo_req_encode(body, sizeof(body), argv[1]);
	r = open_conn(&c);
	if (r == 0)
		r = conn_call(&c, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, "echo");
	if (r == 0 && smp_echo_rsp_decode(c.body, c.body_len, &rsp, &why) < 0)
		r = malformed("echo", why);
	else if (r == 0 && !smp_err_ok(&rsp.err))
		r = device_error(&rsp.err, "echo");
	else if (r == 0 && arg.json)
		print_json("echo", rsp.text);
	else if (r == 0)
		printf("%s\n", rsp.text);
	conn_close(&c);
	return r;
}

int cmd_reset(int argc, char **argv)
{
	struct conn c;
	struct smp_err e;
	const char *why = NULL;
	uint8_t body[16];
	int n = smp_reset_req_encode(body, sizeof(body), false), r;

	r = open_conn(&c);
	if (r == 0)
		r = conn_call(&c, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, (size_t)n, "reset");
	if (r == 0 && smp_err_decode(c.body, c.body_len, &e, &why) < 0)
		r = malformed("reset", why);
	else if (r == 0 && !smp_err_ok(&e))
		r = device_error(&e, "reset");
	else if (r == 0 && arg.json)
		print_json("reset", NULL);
	else if (r == 0)
		printf("reset\n");
	conn_close(&c);
	return r;
}

int cmd_params(int argc, char **argv)
{
	struct conn c;
	struct smp_params_rsp p;
	const char *why = NULL;
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body)), r;
	struct json j;

	r = open_conn(&c);
	if (r == 0)
		r = conn_call(&c, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, body, (size_t)n, "params");
	if (r == 0 && smp_params_rsp_decode(c.body, c.body_len, &p, &why) < 0)
		r = malformed("params", why);
	else if (r == 0 && !smp_err_ok(&p.err))
		r = device_error(&p.err, "params");
	else if (r == 0 && arg.json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_u64(&j, "buf_size", p.buf_size);
		json_u64(&j, "buf_count", p.buf_count);
		json_end_object(&j);
		json_end_line(&j);
	} else if (r == 0)
		printf("buf_size: %u\nbuf_count: %u\n", p.buf_size, p.buf_count);
	conn_close(&c);
	return r;
}

/* Reads the image state into *st. */
static int read_state(struct conn *c, struct smp_image_state *st)
{
	const char *why = NULL;
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body));
	int r = conn_call(c, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
			  "image state");

	if (r)
		return r;
	if (smp_image_state_decode(c->body, c->body_len, st, &why) < 0)
		return malformed("image state", why);
	if (!smp_err_ok(&st->err))
		return device_error(&st->err, "image state");
	return 0;
}

static void print_state(const struct smp_image_state *st)
{
	char hash[65];
	struct json j;

	if (arg.json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_begin_array(&j, "images");
		for (unsigned i = 0; i < st->n_slots; i++) {
			const struct smp_slot_state *s = &st->slots[i];

			json_begin_object(&j, NULL);
			json_u64(&j, "image", s->image);
			json_u64(&j, "slot", s->slot);
			json_str(&j, "version", s->version);
			json_str(&j, "hash", hex_encode(s->hash, s->hash_len, hash));
			json_bool(&j, "bootable", s->bootable);
			json_bool(&j, "pending", s->pending);
			json_bool(&j, "confirmed", s->confirmed);
			json_bool(&j, "active", s->active);
			json_bool(&j, "permanent", s->permanent);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_end_line(&j);
		return;
	}
	if (!st->n_slots)
		printf("no images\n");
	for (unsigned i = 0; i < st->n_slots; i++) {
		const struct smp_slot_state *s = &st->slots[i];

		printf("image %u slot %u\n    version: %s\n    hash: %s\n    flags:%s%s%s%s%s\n",
		       s->image, s->slot, s->version, hex_encode(s->hash, s->hash_len, hash),
		       s->bootable ? " bootable" : "", s->pending ? " pending" : "",
		       s->confirmed ? " confirmed" : "", s->active ? " active" : "",
		       s->permanent ? " permanent" : "");
	}
}

static int image_list(struct conn *c)
{
	struct smp_image_state st;
	int r = read_state(c, &st);

	if (r == 0)
		print_state(&st);
	return r;
}

/* Writes image state {hash, confirm} after checking the device lists hash in the slot this
 * operation is meant for: slot 1 for test, the running slot 0 for confirm. */
static int image_write(struct conn *c, const char *hex, bool confirm)
{
	struct smp_image_state st;
	const struct smp_slot_state *s;
	uint8_t hash[32], body[64];
	int n, r;

	if (hex && hex_decode(hex, hash, sizeof(hash)) != 32) {
		log_error("not a SHA-256 hash (64 hex digits): %s", hex);
		return EXIT_USAGE;
	}
	r = read_state(c, &st);
	if (r)
		return r;
	s = smp_image_state_find(&st, arg.params.image, confirm ? 0 : 1);
	if (!hex && s) {
		memcpy(hash, s->hash, 32);
	} else if (!s || s->hash_len != 32 || memcmp(s->hash, hash, 32) != 0) {
		log_error("slot %u does not hold the image %s: refusing to %s it", confirm ? 0 : 1,
			  hex ? hex : "(none)", confirm ? "confirm" : "test");
		return EXIT_VERIFY;
	}
	n = smp_state_write_req_encode(body, sizeof(body), hash, 32, confirm);
	r = conn_call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
		      confirm ? "image confirm" : "image test");
	if (r)
		return r;
	const char *why = NULL;
	if (smp_image_state_decode(c->body, c->body_len, &st, &why) < 0)
		return malformed("image state write", why);
	if (!smp_err_ok(&st.err))
		return device_error(&st.err, confirm ? "image confirm" : "image test");
	print_state(&st);
	return 0;
}

/* img_mgmt_erase() keeps a slot in use (IMG_MGMT_ERR_NO_FREE_SLOT, v1 MGMT_ERR_EBADSTATE): say
 * what it holds and what the device's next reset does with it. */
static void explain_erase_refusal(struct conn *c)
{
	struct smp_image_state st;
	const struct smp_slot_state *s0, *s1;

	if (read_state(c, &st) != 0)
		return;
	s0 = smp_image_state_find(&st, arg.params.image, 0);
	s1 = smp_image_state_find(&st, arg.params.image, 1);
	if (s1 && s1->pending)
		log_error("slot 1 holds %s, marked for %s: MCUboot swaps it in at the next reset "
			  "(this device does not erase a pending slot)",
			  s1->version, s1->permanent ? "a permanent swap" : "a test boot");
	else if (s1 && s0 && !s0->confirmed)
		log_error("slot 1 holds %s, the image MCUboot goes back to at the next reset: slot "
			  "0 runs %s unconfirmed (otactl reset goes back, otactl image confirm keeps "
			  "it)",
			  s1->version, s0->version);
}

static int image_erase(struct conn *c)
{
	struct smp_err e;
	const char *why = NULL;
	uint8_t body[16];
	int n = smp_erase_req_encode(body, sizeof(body), 1);
	int r = conn_call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_ERASE, body, (size_t)n,
			  "image erase");

	if (r)
		return r;
	if (smp_err_decode(c->body, c->body_len, &e, &why) < 0)
		return malformed("image erase", why);
	if (!smp_err_ok(&e)) {
		r = device_error(&e, "image erase");
		if ((e.v2 && e.group == SMP_GROUP_IMAGE && e.rc == IMG_MGMT_ERR_NO_FREE_SLOT) ||
		    (!e.v2 && e.rc == MGMT_ERR_EBADSTATE))
			explain_erase_refusal(c);
		return r;
	}
	if (arg.json)
		print_json("erased", NULL);
	else
		printf("slot 1 erased\n");
	return 0;
}

int cmd_image(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct conn c;
	int r;

	if (sub && strcmp(sub, "upload") == 0) {
		if (argc != 3) {
			log_error("usage: otactl image upload FILE");
			return EXIT_USAGE;
		}
		return run_update(argv[2], UPD_STEP_VERIFY);
	}
	if (!sub || (!(strcmp(sub, "list") == 0 && argc == 2) &&
		     !(strcmp(sub, "test") == 0 && argc == 3) &&
		     !(strcmp(sub, "confirm") == 0 && argc <= 3) &&
		     !(strcmp(sub, "erase") == 0 && argc == 2))) {
		log_error("usage: otactl image list | upload FILE | test HASH | confirm [HASH] | erase");
		return EXIT_USAGE;
	}
	r = open_conn(&c);
	if (r == 0) {
		if (strcmp(sub, "list") == 0)
			r = image_list(&c);
		else if (strcmp(sub, "test") == 0)
			r = image_write(&c, argv[2], false);
		else if (strcmp(sub, "confirm") == 0)
			r = image_write(&c, argc == 3 ? argv[2] : NULL, true);
		else
			r = image_erase(&c);
	}
	conn_close(&c);
	return r;
}
