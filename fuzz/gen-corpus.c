/* gen-corpus.c — writes the seed corpora of fuzz/corpus/ from the same vectors the unit tests use
 * (the codecs' own encoders, the imgtool fixtures, the simulator's image builder), so every seed
 * is a valid input a fuzz target can mutate from. Run by `cmake --build BUILD --target
 * fuzz-corpus`; the output is committed. Deterministic: the same tree gives the same files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen-corpus.h"
#include "image/image-internal.h"
#include "otad/console.h"
#include "otad/image.h"
#include "otad/smp.h"
#include "sim/store.h"

static const char *outdir;
static const char *srcdir;

void seed_u8(struct seed *s, uint8_t v)
{
	if (s->n >= sizeof(s->d)) {
		fprintf(stderr, "seed too long\n");
		exit(1);
	}
	s->d[s->n++] = v;
}

void seed_be16(struct seed *s, uint16_t v)
{
	seed_u8(s, (uint8_t)(v >> 8));
	seed_u8(s, (uint8_t)v);
}

void seed_le16(struct seed *s, uint16_t v)
{
	seed_u8(s, (uint8_t)v);
	seed_u8(s, (uint8_t)(v >> 8));
}

void seed_bytes(struct seed *s, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seed_u8(s, ((const uint8_t *)p)[i]);
}

void seed_record(struct seed *s, const void *p, size_t n)
{
	seed_be16(s, (uint16_t)n);
	seed_bytes(s, p, n);
}

void seed_smp(struct seed *s, uint8_t op, uint16_t group, uint8_t id, uint8_t seq,
	      const uint8_t *body, size_t n)
{
	struct smp_hdr h = {.op = op, .ver = SMP_VER_2, .len = (uint16_t)n, .group = group,
			    .seq = seq, .id = id};
	uint8_t hdr[SMP_HDR_SIZE];

	smp_hdr_encode(&h, hdr);
	seed_bytes(s, hdr, sizeof(hdr));
	seed_bytes(s, body, n);
}

void seed_put_raw(const char *target, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

void seed_put(const char *target, const char *name, const struct seed *s)
{
	seed_put_raw(target, name, s->d, s->n);
}

/* ---- SMP bodies, the responses and requests the unit tests check ---- */

static const uint8_t h32[32] = {0,  1,	2,  3,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13, 14, 15,
				16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* tests/unit/test-smp-img.c: a single-image Zephyr device (zcbor, indefinite maps). */
static const uint8_t zephyr_state[] = {
	0xbf, 0x66, 'i', 'm', 'a', 'g', 'e', 's', 0x9f, 0xbf, 0x64, 's', 'l', 'o', 't', 0x00,
	0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x65, '1', '.', '2', '.', '3', 0x64, 'h', 'a',
	's', 'h', 0x58, 0x20, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
	19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0x68, 'b', 'o', 'o', 't', 'a', 'b',
	'l', 'e', 0xf5, 0x67, 'p', 'e', 'n', 'd', 'i', 'n', 'g', 0xf4, 0xff, 0xff, 0x6b, 's',
	'p', 'l', 'i', 't', 'S', 't', 'a', 't', 'u', 's', 0x00, 0xff};

struct body {
	const char *name;
	uint8_t group, id;
	uint8_t b[1500];
	int n;
};

static void rsp_bodies(struct body *v, unsigned *count)
{
	struct smp_image_state st = {.n_slots = 2};
	struct smp_slot_info_rsp si = {.n = 3};
	struct smp_upload_rsp up = {.has_off = true, .off = 4096};
	struct smp_err e1 = {.rc = MGMT_ERR_ENOTSUP}, e2 = {.v2 = true, .group = 1, .rc = 8};
	unsigned n = 0;

	st.slots[0] = (struct smp_slot_state){.slot = 0, .version = "1.2.3", .hash_len = 32,
					      .bootable = true, .confirmed = true, .active = true};
	memcpy(st.slots[0].hash, h32, 32);
	st.slots[1] = st.slots[0];
	st.slots[1].slot = 1;
	st.slots[1].confirmed = st.slots[1].active = false;
	st.slots[1].pending = true;
	si.slots[0].slot = 0;
	si.slots[0].size = 0x60000;
	si.slots[1].slot = 1;
	si.slots[1].size = 0x60000;
	si.slots[1].has_max_image_size = si.slots[0].has_max_image_size = true;
	si.slots[1].max_image_size = si.slots[0].max_image_size = 0x5f000;
	si.slots[1].has_upload_image_id = true;
	si.slots[2].image = 1;
	si.slots[2].size = 0x10000;

#define ADD(nm, g, i, expr)                                                                        \
	do {                                                                                       \
		v[n] = (struct body){.name = nm, .group = g, .id = i};                             \
		v[n].n = (expr);                                                                   \
		n++;                                                                               \
	} while (0)
	ADD("echo", 0, 0, smp_echo_rsp_encode(v[n].b, sizeof(v[n].b), "hello"));
	ADD("params", 0, 6, smp_params_rsp_encode(v[n].b, sizeof(v[n].b), 2475, 4));
	ADD("state", 1, 0, smp_image_state_encode(v[n].b, sizeof(v[n].b), &st));
	ADD("upload-off", 1, 1, smp_upload_rsp_encode(v[n].b, sizeof(v[n].b), &up, false));
	up.has_match = up.match = true;
	ADD("upload-match-v1", 1, 1, smp_upload_rsp_encode(v[n].b, sizeof(v[n].b), &up, true));
	ADD("slot-info", 1, 6, smp_slot_info_rsp_encode(v[n].b, sizeof(v[n].b), &si));
	ADD("err-v1", 1, 5, smp_err_rsp_encode(v[n].b, sizeof(v[n].b), &e1));
	ADD("err-v2", 1, 0, smp_err_rsp_encode(v[n].b, sizeof(v[n].b), &e2));
	ADD("ok-v1", 0, 5, smp_ok_rsp_encode(v[n].b, sizeof(v[n].b), true));
	ADD("state-zephyr", 1, 0, (memcpy(v[n].b, zephyr_state, sizeof(zephyr_state)),
				   (int)sizeof(zephyr_state)));
#undef ADD
	for (unsigned i = 0; i < n; i++)
		if (v[i].n < 0) {
			fprintf(stderr, "encoding %s failed\n", v[i].name);
			exit(1);
		}
	*count = n;
}

static void req_bodies(struct body *v, unsigned *count)
{
	static const uint8_t data[64] = {1, 2, 3};
	struct smp_upload_req first = {.off = 0, .data = data, .data_len = sizeof(data),
				       .has_first = true, .len = 70000, .sha_len = 32};
	struct smp_upload_req later = {.off = 4096, .data = data, .data_len = 16,
				       .has_upgrade = true};
	unsigned n = 0;

	memcpy(first.sha, h32, 32);
#define ADD(nm, g, i, expr)                                                                        \
	do {                                                                                       \
		v[n] = (struct body){.name = nm, .group = g, .id = i};                             \
		v[n].n = (expr);                                                                   \
		n++;                                                                               \
	} while (0)
	ADD("upload-first", 1, 1, smp_upload_req_encode(v[n].b, sizeof(v[n].b), &first));
	ADD("upload-later", 1, 1, smp_upload_req_encode(v[n].b, sizeof(v[n].b), &later));
	ADD("state-test", 1, 0, smp_state_write_req_encode(v[n].b, sizeof(v[n].b), h32, 32, false));
	ADD("state-confirm", 1, 0, smp_state_write_req_encode(v[n].b, sizeof(v[n].b), NULL, 0, true));
	ADD("echo", 0, 0, smp_echo_req_encode(v[n].b, sizeof(v[n].b), "hi there"));
	ADD("reset-force", 0, 5, smp_reset_req_encode(v[n].b, sizeof(v[n].b), true));
	ADD("erase-slot1", 1, 5, smp_erase_req_encode(v[n].b, sizeof(v[n].b), 1));
	ADD("empty", 0, 6, smp_empty_req_encode(v[n].b, sizeof(v[n].b)));
#undef ADD
	*count = n;
}

static void gen_smp(void)
{
	static struct body v[16];
	unsigned n;

	rsp_bodies(v, &n);
	for (unsigned i = 0; i < n; i++) {
		struct seed s = {0};

		seed_smp(&s, i % 2 ? SMP_OP_WRITE_RSP : SMP_OP_READ_RSP, v[i].group, v[i].id, 7,
			 v[i].b, (size_t)v[i].n);
		seed_put("smp-rsp", v[i].name, &s);
	}
	req_bodies(v, &n);
	for (unsigned i = 0; i < n; i++) {
		struct seed s = {0};

		seed_u8(&s, 255);    /* echo text buffer size - 1 */
		seed_be16(&s, 2475); /* body_max for the size arithmetic */
		seed_bytes(&s, v[i].b, (size_t)v[i].n);
		seed_put("smp-req", v[i].name, &s);
	}
}

/* ---- the SMP client: send, answer, cancel, link events ---- */

static void client_send(struct seed *s, bool write, uint8_t group, uint8_t id)
{
	seed_u8(s, 0);
	seed_u8(s, write);
	seed_u8(s, group);
	seed_u8(s, id);
	seed_u8(s, 0); /* empty body */
	seed_u8(s, 0); /* the send succeeds */
}

static void client_answer(struct seed *s, uint8_t k, const struct body *b)
{
	seed_u8(s, 2);
	seed_u8(s, 0); /* header as the request's */
	seed_u8(s, k);
	seed_u8(s, 1); /* SMP v2 */
	seed_be16(s, (uint16_t)b->n);
	seed_bytes(s, b->b, (size_t)b->n);
}

static void gen_client(void)
{
	static struct body v[16];
	struct seed s = {0};
	unsigned n;

	rsp_bodies(v, &n);
	seed_u8(&s, 0); /* SMP v2 client */
	for (unsigned i = 0; i < n; i++)
		client_send(&s, i % 2, v[i].group, v[i].id);
	for (unsigned i = 0; i < n; i++)
		client_answer(&s, (uint8_t)i, &v[i]);
	seed_put("smp-client", "answers", &s);

	s.n = 0;
	seed_u8(&s, 1); /* SMP v1 client */
	client_send(&s, false, 1, 0);
	client_send(&s, true, 1, 1);
	client_send(&s, false, 0, 6);
	seed_bytes(&s, (uint8_t[]){3, 1}, 2); /* cancel the second */
	client_answer(&s, 1, &v[3]);	      /* its late answer: a stray */
	seed_bytes(&s, (uint8_t[]){4, 6, 5, 6}, 4); /* link down, run, up, run */
	client_answer(&s, 0, &v[2]);
	seed_put("smp-client", "cancel-and-link-down", &s);
}

/* ---- console framing ---- */

static void gen_console(void)
{
	static const char log[] = "I: Starting bootloader\r\n*** Booting Zephyr OS ***\n";
	static struct body v[16];
	uint8_t pkt[2100], enc[4096];
	struct seed s = {0};
	unsigned n;
	ssize_t k;

	rsp_bodies(v, &n);
	seed_u8(&s, 16); /* chunk size - 1 */
	seed_bytes(&s, log, sizeof(log) - 1);
	for (unsigned i = 0; i < 3; i++) {
		struct seed p = {0};

		seed_smp(&p, SMP_OP_READ_RSP, v[i].group, v[i].id, (uint8_t)i, v[i].b,
			 (size_t)v[i].n);
		k = console_encode(p.d, p.n, enc, sizeof(enc));
		seed_bytes(&s, enc, (size_t)k);
	}
	seed_put("console", "log-and-packets", &s);

	/* A packet of several lines (continuation frames) with a corrupted one after it. */
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7);
	k = console_encode(pkt, 300, enc, sizeof(enc));
	s.n = 0;
	seed_u8(&s, 63);
	seed_bytes(&s, enc, (size_t)k);
	enc[40] ^= 1;
	seed_bytes(&s, enc, (size_t)k);
	seed_put("console", "multiline-and-bad-crc", &s);
}

/* ---- images ---- */

size_t seed_read_file(const char *rel, uint8_t *buf, size_t size)
{
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static void gen_image(void)
{
	static const char *files[] = {"unsigned", "ed25519", "ed25519-seccnt", "ed25519-pubkey",
				      "ecdsa-p256", "ecdsa-p256-padsig"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		struct seed s = {0};

		snprintf(rel, sizeof(rel), "tests/data/image/imgtool-%s.bin", files[i]);
		/* mode: repair the hash; key: Ed25519 for the Ed25519 images */
		seed_u8(&s, (uint8_t)(1 | (strstr(files[i], "ed25519") ? 2 : 0)));
		s.n += seed_read_file(rel, s.d + s.n, sizeof(s.d) - s.n);
		seed_put("image", files[i], &s);
	}
}

/* ---- otasim's state file ---- */

static void gen_store(void)
{
	static const char minimal[] =
		"format=1\nslot_size=4096\nslot0.magic=0\nslot0.image_ok=0\nslot0.copy_done=0\n"
		"slot0.swap_type=unset\nslot1.magic=0\nslot1.image_ok=0\nslot1.copy_done=0\n"
		"slot1.swap_type=unset\n";
	struct sim_store_meta m = {.profile = "spi-lp", .slot_size = 4096};
	char *text;

	m.trailer[0] = (struct sim_trailer){.magic = true, .image_ok = true, .copy_done = true,
					    .swap_type = SIM_SWAP_NONE};
	m.trailer[1] = (struct sim_trailer){.magic = true, .swap_type = SIM_SWAP_TEST};
	m.counters = (struct sim_counters){.boots = 3, .swaps = 1, .refusals = 1};
	text = sim_store_format(&m);
	seed_put_raw("sim-store", "after-test-swap", text, strlen(text));
	free(text);
	seed_put_raw("sim-store", "minimal", minimal, strlen(minimal));

}

/* ---- the pace memory file ---- */

static void gen_pace(void)
{
	static const char two[] =
		"udp:192.0.2.10:1337 good_window=3 good_rate=0 good_bps=61234 refused_window=4 "
		"refused_rate=0 refused_bps=45120\n"
		"serial:/dev/ttyACM0@115200 good_window=1 good_rate=4096 good_bps=3900\n";
	struct seed s = {0};

	seed_u8(&s, 1); /* look up the first line's key */
	seed_bytes(&s, two, strlen(two));
	seed_put("pace-memory", "two-devices", &s);
	s.d[0] = 0;
	seed_put("pace-memory", "other-device", &s);
}

/* ---- BLE reassembly: packets sliced as mcumgr does, and raw slices ---- */

static void gen_reasm(void)
{
	static struct body v[16];
	struct seed s = {0}, p = {0};
	unsigned n;

	rsp_bodies(v, &n);
	for (int strict = 0; strict < 2; strict++) {
		s.n = 0;
		seed_u8(&s, (uint8_t)(15 << 3 | 2 | strict)); /* 248-byte slices */
		for (unsigned i = 0; i < n; i++) {
			seed_be16(&s, (uint16_t)v[i].n);
			seed_u8(&s, SMP_OP_READ_RSP | SMP_VER_2 << 3);
			seed_u8(&s, 0);
			seed_bytes(&s, v[i].b, (size_t)v[i].n);
		}
		seed_put("reasm", strict ? "sliced-strict" : "sliced", &s);
	}
	/* an image state response in ATT_MTU 23 notifications (20-byte values) */
	seed_smp(&p, SMP_OP_READ_RSP, 1, 0, 3, v[2].b, (size_t)v[2].n);
	s.n = 0;
	seed_u8(&s, 0);
	for (size_t off = 0; off < p.n; off += 20)
		seed_record(&s, p.d + off, p.n - off < 20 ? p.n - off : 20);
	seed_put("reasm", "slices-mtu23", &s);
}

/* ---- the upload engine: a device answering in order, rebooting, a link lost ---- */

static void gen_upload(void)
{
	struct seed s = {0};

	seed_u8(&s, 0x01); /* window 2 */
	seed_u8(&s, 100);  /* body_max 464 */
	for (int i = 0; i < 40; i++)
		seed_bytes(&s, (uint8_t[]){0, 0}, 2); /* answer the oldest: next offset */
	seed_put("upload", "in-order", &s);

	s.n = 0;
	seed_u8(&s, 0x13); /* window 4, 100-byte chunks */
	seed_u8(&s, 40);
	for (int i = 0; i < 6; i++)
		seed_bytes(&s, (uint8_t[]){0, 0}, 2);
	seed_bytes(&s, (uint8_t[]){0, 1}, 2);	 /* off 0: the device rebooted */
	seed_bytes(&s, (uint8_t[]){2, 1, 2}, 3); /* out of order: this chunk again */
	seed_bytes(&s, (uint8_t[]){3, 0}, 2);	 /* a duplicate */
	seed_bytes(&s, (uint8_t[]){4, 5}, 2);	 /* link down, up */
	seed_bytes(&s, (uint8_t[]){0, 4, 10}, 3); /* busy */
	for (int i = 0; i < 60; i++)
		seed_bytes(&s, (uint8_t[]){0, 0}, 2);
	seed_put("upload", "reboot-rewind-link", &s);
}

/* ---- otasim's SMP handling: a whole update, and the odd requests ---- */

static void mgmt_req(struct seed *s, uint8_t flags, uint8_t op, uint16_t group, uint8_t id,
		     const uint8_t *body, int n)
{
	struct seed p = {0};

	seed_smp(&p, op, group, id, (uint8_t)s->n, body, (size_t)n);
	seed_u8(s, flags);
	seed_record(s, p.d, p.n);
}

static void mgmt_update(struct seed *s, const uint8_t *img, size_t len, const uint8_t hash[32])
{
	struct smp_upload_req r = {.has_first = true, .len = (uint32_t)len, .sha_len = 32};
	uint8_t b[1200];

	img_sha256(img, len, r.sha);
	for (size_t off = 0; off < len; off += r.data_len) {
		r.off = (uint32_t)off;
		r.data = img + off;
		r.data_len = len - off < 1000 ? len - off : 1000;
		mgmt_req(s, 0x0e, SMP_OP_WRITE, 1, 1, b, smp_upload_req_encode(b, sizeof(b), &r));
		r.has_first = false;
		r.sha_len = 0;
	}
	mgmt_req(s, 0x0e, SMP_OP_WRITE, 1, 0, b, smp_state_write_req_encode(b, 64, hash, 32, 0));
	mgmt_req(s, 0x0e, SMP_OP_WRITE, 0, 5, b, smp_reset_req_encode(b, sizeof(b), false));
	mgmt_req(s, 0x0e, SMP_OP_WRITE, 1, 0, b, smp_state_write_req_encode(b, 64, NULL, 0, 1));
	mgmt_req(s, 0x0e, SMP_OP_READ, 1, 0, b, smp_empty_req_encode(b, sizeof(b)));
}

static void gen_mgmt_update(const char *name, uint8_t mode, const char *key)
{
	uint8_t pem[512] = {0};
	struct img_build_opts o = {.version = {.major = 2}, .payload_size = 1500, .seed = 2};
	struct img_info info;
	struct seed s = {0};
	uint8_t *img;
	size_t len;

	if (key) {
		o.key_pem_len = seed_read_file(key, pem, sizeof(pem));
		o.key_pem = (const char *)pem;
	}
	if (img_build(&o, &img, &len) < 0 || img_parse(img, len, &info, NULL) < 0) {
		fprintf(stderr, "img_build failed\n");
		exit(1);
	}
	seed_u8(&s, mode);
	mgmt_update(&s, img, len, info.hash);
	seed_put("sim-mgmt", name, &s);
	free(img);
}

static void gen_mgmt(void)
{
	struct seed s = {0};
	uint8_t b[256];

	gen_mgmt_update("update-unsigned", 2, NULL);
	gen_mgmt_update("update-signed", 3, "tests/data/keys/ed25519.pem");
	seed_u8(&s, 0);
	mgmt_req(&s, 0x0e, SMP_OP_WRITE, 0, 0, b, smp_echo_req_encode(b, sizeof(b), "hello"));
	mgmt_req(&s, 0x0e, SMP_OP_READ, 0, 6, b, smp_empty_req_encode(b, sizeof(b)));
	mgmt_req(&s, 0x0e, SMP_OP_READ, 1, 6, b, smp_empty_req_encode(b, sizeof(b)));
	mgmt_req(&s, 0x00, SMP_OP_READ, 1, 0, b, smp_empty_req_encode(b, sizeof(b)));
	mgmt_req(&s, 0x0e, SMP_OP_WRITE, 1, 5, b, smp_erase_req_encode(b, sizeof(b), 1));
	mgmt_req(&s, 0x0e, SMP_OP_WRITE, 9, 0, b, smp_empty_req_encode(b, sizeof(b)));
	mgmt_req(&s, 0x0e, SMP_OP_READ_RSP, 0, 0, b, smp_empty_req_encode(b, sizeof(b)));
	seed_put("sim-mgmt", "misc", &s);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOURCE_DIR OUTPUT_DIR\n", argv[0]);
		return 2;
	}
	srcdir = argv[1];
	outdir = argv[2];
	gen_smp();
	gen_client();
	gen_console();
	gen_image();
	gen_store();
	gen_pace();
	gen_upload();
	gen_reasm();
	gen_mgmt();
	gen_bt();
	gen_bt_sm();
	gen_files();
	return 0;
}
