/* uploader.h — the image upload engine: paced, pipelined chunks whose progress is driven by the
 * device's "off" answers (rewind on mismatch, retransmit on timeout, restart after the device
 * lost its upload state, resume after a link loss). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/image.h"
#include "otad/smp-client.h"
#include "otad/update.h"
#include "update/pacer.h"

struct uploader;

struct uploader_config {
	struct pacer_config pacer;   /* window (capped by the device's buffers) and rate */
	size_t chunk_max;            /* image bytes per request cap, 0 = none */
	uint32_t image;
	bool upgrade_only;
	uint64_t rsp_timeout_usec;
	uint64_t erase_timeout_usec; /* allowance for the first chunk */
	unsigned max_timeouts;
	size_t body_max;             /* largest CBOR body the device and the link take */
};

struct uploader_stats {
	size_t acked_off;
	size_t total;
	uint64_t bytes_sent;
	unsigned in_flight;
	unsigned rewinds, timeouts, restarts;
	bool has_match, match;
	size_t chunk;      /* largest data bytes per request */
	unsigned window;   /* current */
	unsigned peak_window;
	uint32_t rate_limit; /* current cap, 0 = none */
	unsigned backoffs;
	uint64_t start_usec, end_usec;
	double rate;       /* recent confirmed bytes/s */
	bool opened;       /* the first chunk's answer took the upload */
	uint64_t first_rtt_usec; /* of that answer: the device's erase of the image, without
				  * progressive erase */
};

struct uploader_ops {
	void (*progress)(void *user_data);
	void (*note)(int level, const char *text, void *user_data);
	/* err 0: the device confirmed every byte (see stats for match). Otherwise fail/text say why. */
	void (*done)(int err, enum upd_fail fail, const char *text, void *user_data);
};

int uploader_new(sd_event *e, struct smp_client *c, const struct img *img,
		 const struct uploader_config *cfg, const struct uploader_ops *ops, void *user_data,
		 struct uploader **ret);
int uploader_start(struct uploader *u);
/* Link state from the job: down pauses (in-flight requests already failed with -ENOTCONN), up
 * resumes by re-sending the first chunk, which the device answers with its current offset. */
void uploader_link_down(struct uploader *u);
void uploader_link_up(struct uploader *u);
void uploader_writable(struct uploader *u);
void uploader_cancel(struct uploader *u);
const struct uploader_stats *uploader_stats(const struct uploader *u);
struct uploader *uploader_free(struct uploader *u);
