/* profile.h — what a simulated device is: its link, SMP buffers, flash timing, image slots and
 * faults (docs/otasim.md "Profiles"), the built-in profiles, and the theoretical bottleneck that
 * --list-profiles prints. All durations are model time in microseconds, rates in bytes/s. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sim_full_policy {
	SIM_FULL_STALL, /* BLE link-layer flow control: the request waits on the link */
	SIM_FULL_DROP,	/* net_buf pool exhausted: the request is lost */
};

struct sim_profile {
	char name[32];
	const char *notes;
	/* link */
	uint64_t latency_us; /* one way */
	uint64_t bandwidth;  /* bytes/s, each direction */
	uint32_t mtu;	     /* advertised only */
	/* device */
	uint32_t buf_size;
	uint32_t buf_count;
	enum sim_full_policy on_full;
	uint64_t cpu_us;  /* per request */
	bool image_check; /* CONFIG_IMG_ENABLE_IMAGE_CHECK: "match" in the last upload response */
	bool slot_info;	  /* CONFIG_MCUMGR_GRP_IMG_SLOT_INFO: image group command 6 answered */
	/* flash */
	uint32_t sector_size;
	uint32_t page_size;
	uint64_t erase_typ_us, erase_max_us; /* per sector */
	uint64_t prog_typ_us, prog_max_us;   /* per page */
	uint32_t tail_permille; /* share of operations drawn between typical and worst */
	uint64_t read_rate;	/* bytes/s read and hashed (empty checks, image check, MCUboot) */
	bool progressive_erase; /* CONFIG_IMG_ERASE_PROGRESSIVELY */
	uint32_t slot_size;
	/* boot */
	uint64_t boot_us; /* MCUboot start to SMP transport ready, without hashing or swapping */
	uint64_t reset_delay_us; /* CONFIG_MCUMGR_GRP_OS_RESET_MS */
	/* overrun fault (nRF52840 anomaly 198) */
	bool overrun;
	uint64_t safe_rate; /* bytes/s */
};

/* The built-in profiles, in --list-profiles order; the first is the default. */
size_t sim_profile_count(void);
const struct sim_profile *sim_profile_get(size_t i);
const struct sim_profile *sim_profile_find(const char *name);

/* -EINVAL with *ret_why when parameters make no sense together (buf_size 0, page > sector, ...). */
int sim_profile_check(const struct sim_profile *p, const char **ret_why);

/* Image bytes an upload request can carry when its whole encoding fits buf_size less framing:
 * the SMP header and the CBOR of {"off": u32, "data": bstr} take SIM_UPLOAD_OVERHEAD bytes. */
#define SIM_UPLOAD_OVERHEAD 26
/* Size of the device's upload response {"off": u32} with its SMP header. */
#define SIM_UPLOAD_RSP_SIZE 18

struct sim_bottleneck {
	double link_rate;  /* image bytes/s the link carries after the first request (framing counted) */
	double flash_rate; /* image bytes/s the device handles then (CPU, pages, progressive erase) */
	double seq_rate;   /* overrun: strictly sequential with the largest chunk */
	double rate;	   /* the bottleneck stage's rate (of the three above, or the safe rate) */
	const char *stage; /* "link", "flash", "sequential", "safe rate" */
	double fixed_s;	   /* seconds - image / rate: the first request's erase and check, the last's
			    * check and trailer erase, a round trip, less what crosses the link
			    * during the first request's work */
	double seconds;	   /* the least time for the image (see profile.c) */
};
void sim_profile_bottleneck(const struct sim_profile *p, size_t image_size,
			    struct sim_bottleneck *ret);

/* Every parameter and the bottleneck for a 256 KiB image, a few indented lines per profile. */
void sim_profile_print(const struct sim_profile *p, bool is_default, FILE *f);
