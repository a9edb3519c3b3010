/* fuzz-sim-mgmt.c — otasim's SMP request handling (src/sim/mgmt.c on the device model of
 * device.c and mcuboot.c): a device model that crashes or answers garbage on a bad request is
 * a bug too. Input: a mode byte, then records of {flags byte, BE16 length, SMP packet}.
 *   mode bit 0: MCUboot checks signatures (with tests/data/keys/ed25519.pub.pem);
 *   bit 1: the device runs with image checking ("match" on the last chunk).
 *   flags bit 0: the request's buffer was overrun (its upload data is corrupted);
 *   bits 1-3: the size of the device's response buffer.
 * Each packet runs through sim_mgmt_begin() and sim_mgmt_finish() as the server runs it; a reset
 * request boots the device (MCUboot validates and swaps whatever was uploaded).
 * Invariants: a packet without an SMP header gets no answer; any other answer fits the buffer,
 * mirrors the request's header (op + 1, group, id, seq), has a body of its header's length,
 * and that body is one CBOR map the client's decoder for that command accepts; after a boot the
 * image state still encodes and decodes. */
#include <errno.h>

#include "fuzz.h"
#include "otad/image.h"
#include "otad/smp.h"
#include "sim/device.h"
#include "sim/mgmt.h"
#include "sim/store.h"

#define SLOT_SIZE (16 * 1024)

/* tests/data/keys/ed25519.pem and its public half: throwaway test keys (Ed25519 signs
 * deterministically, so the generated seeds do not change from run to run). */
static const char key_priv[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MC4CAQAwBQYDK2VwBCIEIKOLOemVa5rF+7dON8H3W4ecBtgKRP3jZqDiuhPucH6m\n"
			       "-----END PRIVATE KEY-----\n";
static const char key_pub[] = "-----BEGIN PUBLIC KEY-----\n"
			      "MCowBQYDK2VwAyEAyHdj7SIXfZDScNDERWFjX1PhW5oKfYn2xtg9GElDOdo=\n"
			      "-----END PUBLIC KEY-----\n";

/* Slot 0's image: unsigned, and signed for a device that checks signatures. */
static uint8_t *factory[2];
static size_t factory_len[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct img_build_opts o = {.version = {.major = 1}, .payload_size = 2048, .seed = 1};

	FUZZ_CHECK(img_build(&o, &factory[0], &factory_len[0]) == 0);
	o.key_pem = key_priv;
	o.key_pem_len = strlen(key_priv);
	FUZZ_CHECK(img_build(&o, &factory[1], &factory_len[1]) == 0);
	return 0;
}

/* The body a client would decode for this command: the same decoder otactl uses. */
static void check_body(const struct smp_hdr *h, const uint8_t *b, size_t n)
{
	union {
		struct smp_err err;
		struct smp_echo_rsp echo;
		struct smp_params_rsp params;
		struct smp_image_state state;
		struct smp_upload_rsp upload;
		struct smp_slot_info_rsp slots;
	} u;
	int r;

	FUZZ_CHECK(smp_err_decode(b, n, &u.err, NULL) == 0);
	if (h->group == SMP_GROUP_OS && h->id == SMP_OS_ECHO)
		r = smp_echo_rsp_decode(b, n, &u.echo, NULL);
	else if (h->group == SMP_GROUP_OS && h->id == SMP_OS_PARAMS)
		r = smp_params_rsp_decode(b, n, &u.params, NULL);
	else if (h->group == SMP_GROUP_IMAGE && h->id == SMP_IMG_STATE)
		r = smp_image_state_decode(b, n, &u.state, NULL);
	else if (h->group == SMP_GROUP_IMAGE && h->id == SMP_IMG_UPLOAD)
		r = smp_upload_rsp_decode(b, n, &u.upload, NULL);
	else if (h->group == SMP_GROUP_IMAGE && h->id == SMP_IMG_SLOT_INFO)
		r = smp_slot_info_rsp_decode(b, n, &u.slots, NULL);
	else
		r = 0;
	FUZZ_CHECK(r == 0);
}

static void check_rsp(const uint8_t *pkt, size_t len, const struct sim_mgmt *m, size_t rsp_size)
{
	struct smp_hdr req, rsp;

	if (smp_hdr_decode(pkt, len, &req) < 0) {
		FUZZ_CHECK(!m->has_hdr && m->rsp_len == 0);
		return;
	}
	FUZZ_CHECK(m->has_hdr && m->rsp_len <= rsp_size);
	if (m->rsp_len == 0)
		return;
	FUZZ_CHECK(smp_hdr_decode(m->rsp, m->rsp_len, &rsp) == 0);
	FUZZ_CHECK(rsp.len == m->rsp_len - SMP_HDR_SIZE);
	FUZZ_CHECK(rsp.op == (req.op == SMP_OP_READ ? SMP_OP_READ_RSP : SMP_OP_WRITE_RSP));
	FUZZ_CHECK(rsp.group == req.group && rsp.id == req.id && rsp.seq == req.seq);
	FUZZ_CHECK(rsp.ver <= SMP_VER_2);
	check_body(&rsp, m->rsp + SMP_HDR_SIZE, rsp.len);
}

static void boot(struct sim_device *d)
{
	struct sim_boot b;
	struct smp_image_state st, again;
	uint8_t out[2048];
	int len;

	sim_device_boot(d, &b);
	FUZZ_CHECK(b.result <= SIM_BOOT_HALT && sim_boot_result_name(b.result));
	if (getenv("OTAD_FUZZ_DEBUG"))
		fprintf(stderr, "boot: %s\n", sim_boot_result_name(b.result));
	sim_device_state_read(d, &st);
	FUZZ_CHECK(st.n_slots <= SMP_MAX_SLOTS);
	len = smp_image_state_encode(out, sizeof(out), &st);
	FUZZ_CHECK(len > 0 && smp_image_state_decode(out, (size_t)len, &again, NULL) == 0);
}

static void run(struct sim_device *d, struct fz *f, uint8_t *rsp)
{
	struct sim_work w = {0};
	struct sim_mgmt m;

	while (f->n) {
		uint8_t flags = fz_u8(f);
		size_t rsp_size = (size_t)16 << ((flags >> 1) & 7), len;
		const uint8_t *raw = fz_record(f, &len);
		uint8_t *pkt = fz_dup(raw, len);

		sim_work_reset(&w);
		sim_mgmt_begin(d, pkt, len, flags & 1, &w, rsp, rsp_size, &m);
		sim_mgmt_finish(d, &w, &m);
		check_rsp(pkt, len, &m, rsp_size);
		if (getenv("OTAD_FUZZ_DEBUG"))
			fprintf(stderr, "request %zu bytes: rc %d, answer %zu bytes\n", len,
				m.rc, m.rsp_len);
		if (m.reset)
			boot(d);
		free(pkt);
	}
	sim_work_done(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t mode = fz_u8(&f), rsp[16 << 7];
	struct sim_profile p;
	struct sim_prng prng;
	struct sim_store *store;
	struct sim_device *d;

	if (!factory[0])
		LLVMFuzzerInitialize(NULL, NULL);
	p = *sim_profile_find("lan");
	p.slot_size = SLOT_SIZE;
	p.image_check = mode & 2;
	sim_prng_seed(&prng, 1);
	FUZZ_CHECK(sim_store_open(NULL, "lan", SLOT_SIZE, &store, NULL, NULL, 0) == 0);
	FUZZ_CHECK(sim_device_new(&p, store, &prng, mode & 1 ? key_pub : NULL,
				  mode & 1 ? strlen(key_pub) : 0, NULL, NULL, &d) == 0);
	FUZZ_CHECK(sim_device_flash_factory(d, factory[mode & 1], factory_len[mode & 1]) == 0);
	run(d, &f, rsp);
	sim_device_free(d);
	sim_store_free(store);
	return 0;
}
