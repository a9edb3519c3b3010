/* profile.c — the built-in device profiles and their theoretical bottleneck.
 * Flash figures: Macronix MX25R6435F datasheet (low-power and high-performance modes), Nordic
 * nRF52840 product specification (NVMC page erase 85 ms, 41 us per 32-bit word). Buffers: Zephyr's
 * smp_svr BLE sample (2475-byte net_bufs, 4 of them). Slots: nrf52840dk MCUboot partitions. */
#include "sim/profile.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "util/macro.h"

#define MS(x) ((uint64_t)((x)*1000.0))
#define KIB   1024u

/* Common to the BLE-like profiles: one-way latency of a 15 ms connection interval, 64 KiB/s. */
#define BLE_LINK	.latency_us = MS(15), .bandwidth = 64 * KIB, .mtu = 495
#define ZEPHYR_BLE_BUFS .buf_size = 2475, .buf_count = 4, .on_full = SIM_FULL_STALL
#define COMMON                                                                                     \
	.cpu_us = 300, .slot_info = true, .sector_size = 4096, .page_size = 256,                   \
	.tail_permille = 50,                                                                       \
	.slot_size = 0x76000, .boot_us = MS(300), .reset_delay_us = MS(250)

static const struct sim_profile profiles[] = {
	{
		.name = "spi-lp",
		.notes =
			"Zephyr BLE sample on an nRF52840 DK with external flash (MX25R low-power)",
		BLE_LINK,
		ZEPHYR_BLE_BUFS,
		COMMON,
		.image_check = false,
		.erase_typ_us = MS(58),
		.erase_max_us = MS(460),
		.prog_typ_us = MS(3.2),
		.prog_max_us = MS(10),
		.read_rate = 512 * KIB,
		.progressive_erase = false,
	},
	{
		.name = "spi-lp-overrun",
		.notes = "spi-lp with nRF52840 anomaly 198: SPIM data corrupted while the radio "
			 "receives above the safe rate (the motivating case)",
		BLE_LINK,
		ZEPHYR_BLE_BUFS,
		COMMON,
		.image_check = false,
		.erase_typ_us = MS(58),
		.erase_max_us = MS(460),
		.prog_typ_us = MS(3.2),
		.prog_max_us = MS(10),
		.read_rate = 512 * KIB,
		.progressive_erase = false,
		.overrun = true,
		.safe_rate = 8 * KIB,
	},
	{
		.name = "spi-hp",
		.notes = "MX25R in high-performance mode, progressive erase, image check",
		BLE_LINK,
		ZEPHYR_BLE_BUFS,
		COMMON,
		.image_check = true,
		.erase_typ_us = MS(48),
		.erase_max_us = MS(384),
		.prog_typ_us = MS(0.9),
		.prog_max_us = MS(5.4),
		.read_rate = 1024 * KIB,
		.progressive_erase = true,
	},
	{
		.name = "internal",
		.notes = "nRF52840 internal flash (NVMC), progressive erase, image check",
		BLE_LINK,
		ZEPHYR_BLE_BUFS,
		COMMON,
		.image_check = true,
		.erase_typ_us = MS(85),
		.erase_max_us = MS(85),
		.prog_typ_us = MS(1.4),
		.prog_max_us = MS(1.4),
		.read_rate = 2048 * KIB,
		.progressive_erase = true,
	},
	{
		.name = "lan",
		.notes = "Zephyr's UDP transport on a LAN with fast flash",
		.latency_us = 500,
		.bandwidth = 1024 * KIB,
		.mtu = 1472,
		.buf_size = 2048,
		.buf_count = 4,
		.on_full = SIM_FULL_DROP,
		COMMON,
		.image_check = false,
		.erase_typ_us = MS(20),
		.erase_max_us = MS(40),
		.prog_typ_us = MS(0.3),
		.prog_max_us = MS(0.6),
		.read_rate = 4096 * KIB,
		.progressive_erase = false,
	},
};

size_t sim_profile_count(void)
{
	return ARRAY_SIZE(profiles);
}

const struct sim_profile *sim_profile_get(size_t i)
{
	return i < ARRAY_SIZE(profiles) ? &profiles[i] : NULL;
}

const struct sim_profile *sim_profile_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

int sim_profile_check(const struct sim_profile *p, const char **ret_why)
{
	const char *why = NULL;

	if (p->bandwidth == 0)
		why = "bandwidth must be > 0";
	else if (p->buf_count == 0)
		why = "buf_count must be > 0";
	else if (p->buf_size < 64 || p->buf_size > 65535)
		why = "buf_size must be within 64..65535";
	else if (p->page_size == 0 || p->sector_size % p->page_size != 0)
		why = "sector size must be a multiple of the page size";
	else if (p->slot_size < 2 * p->sector_size || p->slot_size % p->sector_size != 0)
		why = "slot size must be a multiple of the sector size (at least 2 sectors)";
	else if (p->erase_max_us < p->erase_typ_us || p->prog_max_us < p->prog_typ_us)
		why = "worst-case flash timing below typical";
	else if (p->read_rate == 0)
		why = "read rate must be > 0";
	else if (p->overrun && p->safe_rate == 0)
		why = "overrun fault needs a safe rate > 0";
	if (why) {
		if (ret_why)
			*ret_why = why;
		return -EINVAL;
	}
	return 0;
}

/* Expected duration of a flash operation in the model: typical, except that tail_permille of
 * them draw uniformly between typical and worst (flash.c), so they add half the spread. */
static double mean_us(const struct sim_profile *p, uint64_t typ_us, uint64_t max_us)
{
	return (double)typ_us + (double)p->tail_permille / 1000.0 * ((double)max_us - typ_us) / 2.0;
}

/* Seconds one request of c image bytes takes when nothing else is on the air: request
 * serialisation, latency, CPU, programming its pages, response serialisation, latency. */
static double sequential_seconds(const struct sim_profile *p, double c)
{
	double bw = (double)p->bandwidth, s;

	s = (c + SIM_UPLOAD_OVERHEAD) / bw + 2.0 * (double)p->latency_us / 1e6;
	s += (double)p->cpu_us / 1e6;
	s += c / p->page_size * mean_us(p, p->prog_typ_us, p->prog_max_us) / 1e6;
	if (p->progressive_erase)
		s += c / p->sector_size * mean_us(p, p->erase_typ_us, p->erase_max_us) / 1e6;
	return s + (double)SIM_UPLOAD_RSP_SIZE / bw;
}

/* The least time the model lets any client take for the image, with every flash operation at its
 * expected duration. Three parts, as the device works (device.c, server.c):
 *  - the first request alone: over the link, then its work: CPU, the erase of the image's sectors
 *    and the trailer's (no progressive erase) or of its first sector, the image check's read-back
 *    of the slot (is the image already there?), its pages;
 *  - the stream of the other requests: the slower of the link (image bytes plus each request's
 *    framing) and the device (CPU per request, pages, progressive erases). While the first
 *    request's work runs, up to buf_count - 1 further requests can cross the link into buffers;
 *  - the last request's extra work (the image check's read-back, the trailer's progressive erase)
 *    and its answer's way back. */
void sim_profile_bottleneck(const struct sim_profile *p, size_t image_size,
			    struct sim_bottleneck *ret)
{
	double bw = (double)p->bandwidth, size = (double)image_size;
	double chunk = (double)p->buf_size - SIM_UPLOAD_OVERHEAD;
	double first = MIN(chunk, size), rest = size - first;
	double requests = chunk > 0 ? ceil(size / chunk) : 1;
	double sectors = ceil(size / p->sector_size);
	double erase = mean_us(p, p->erase_typ_us, p->erase_max_us) / 1e6;
	double page = mean_us(p, p->prog_typ_us, p->prog_max_us) / 1e6 / p->page_size; /* per byte */
	double cpu = (double)p->cpu_us / 1e6, read = p->image_check ? size / p->read_rate : 0;
	double first_s, link_s, flash_s, stream_s, overlap, last_s;

	memset(ret, 0, sizeof(*ret));
	first_s = (first + SIM_UPLOAD_OVERHEAD) / bw + cpu + first * page + read +
		  (p->progressive_erase ? erase : (sectors + 1) * erase);
	link_s = (rest + (requests - 1) * SIM_UPLOAD_OVERHEAD) / bw;
	flash_s = (requests - 1) * cpu + rest * page +
		  (p->progressive_erase ? (sectors - 1) * erase : 0);
	ret->link_rate = rest > 0 ? rest / link_s : bw;
	ret->flash_rate = rest > 0 ? rest / flash_s : bw;
	overlap = MIN(first_s, (double)(p->buf_count - 1) * (chunk + SIM_UPLOAD_OVERHEAD) / bw);
	if (link_s - overlap >= flash_s) {
		stream_s = link_s - overlap;
		ret->rate = ret->link_rate;
		ret->stage = "link";
	} else {
		stream_s = flash_s;
		ret->rate = ret->flash_rate;
		ret->stage = "flash";
	}
	if (p->overrun) {
		double safe = MIN((double)p->safe_rate, MIN(ret->link_rate, ret->flash_rate));

		ret->seq_rate = chunk > 0 ? chunk / sequential_seconds(p, chunk) : 0;
		ret->rate = MAX(ret->seq_rate, safe);
		ret->stage = ret->seq_rate >= safe ? "sequential" : "safe rate";
		stream_s = rest / ret->rate;
	}
	last_s = read + (p->progressive_erase ? erase : 0) + (double)SIM_UPLOAD_RSP_SIZE / bw;
	ret->seconds = 2.0 * (double)p->latency_us / 1e6 + first_s + stream_s + last_s;
	ret->fixed_s = ret->seconds - size / ret->rate;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void sim_profile_print(const struct sim_profile *p, bool is_default, FILE *f)
{
	struct sim_bottleneck b;

	sim_profile_bottleneck(p, 256 * KIB, &b);
	fprintf(f, "%s%s\n  %s\n", p->name, is_default ? " (default)" : "",
		p->notes ? p->notes : "");
	fprintf(f, "  link:   latency %.3f ms one way, bandwidth %.1f KiB/s, mtu %u\n",
		(double)p->latency_us / 1e3, (double)p->bandwidth / KIB, p->mtu);
	fprintf(f,
		"  device: buf_size %u, buf_count %u, full buffer: %s, cpu %.3f ms per request, "
		"image check: %s, slot info: %s\n",
		p->buf_size, p->buf_count,
		p->overrun		       ? "accept and corrupt (overrun)"
		: p->on_full == SIM_FULL_STALL ? "stall"
					       : "drop",
		(double)p->cpu_us / 1e3, yes_no(p->image_check), yes_no(p->slot_info));
	fprintf(f,
		"  flash:  sector %u, page %u, erase %.1f/%.1f ms per sector, program %.2f/%.2f ms "
		"per page, tail %u.%u%%, read %.0f KiB/s, progressive erase: %s\n",
		p->sector_size, p->page_size, (double)p->erase_typ_us / 1e3,
		(double)p->erase_max_us / 1e3, (double)p->prog_typ_us / 1e3,
		(double)p->prog_max_us / 1e3, p->tail_permille / 10, p->tail_permille % 10,
		(double)p->read_rate / KIB, yes_no(p->progressive_erase));
	fprintf(f, "  slots:  2 x %u bytes (%u KiB), max image %u\n", p->slot_size,
		p->slot_size / KIB, p->slot_size - p->sector_size);
	fprintf(f, "  boot:   %.0f ms + hashing + swap, reset delay %.0f ms\n",
		(double)p->boot_us / 1e3, (double)p->reset_delay_us / 1e3);
	if (p->overrun)
		fprintf(f, "  fault:  overrun above %.1f KiB/s\n", (double)p->safe_rate / KIB);
	else
		fprintf(f, "  fault:  none\n");
	fprintf(f, "  bottleneck (256 KiB image): %.1f KiB/s (%s; link %.1f, flash %.1f",
		b.rate / KIB, b.stage, b.link_rate / KIB, b.flash_rate / KIB);
	if (p->overrun)
		fprintf(f, ", sequential %.1f, safe rate %.1f", b.seq_rate / KIB,
			(double)p->safe_rate / KIB);
	fprintf(f, " KiB/s), %.3f s (fixed %.3f s)\n", b.seconds, b.fixed_s);
}
