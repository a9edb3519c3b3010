/* fetch-internal.h — the fetcher's objects, shared by fetch.c (requests, results, cache) and
 * curl.c (libcurl's multi interface on sd-event). */
#pragma once

#include <curl/curl.h>

#include "otad/fetch.h"

struct waiter {
	unsigned id;
	fetch_done_fn done;
	void *user_data;
	otad_destroy_fn destroy;
	struct waiter *next;
};

/* One download (or one immediate answer: a local file, a cache hit, an early error). */
struct transfer {
	struct fetcher *f;
	struct transfer *next;
	struct waiter *waiters;
	char *url;
	uint8_t sha[32];
	char *part_path, *final_path;
	/* immediate answer, delivered from a defer source */
	sd_event_source *defer;
	int result;
	char *result_path;
	char why[300];
	/* download */
	CURL *easy;
	int fd;
	uint64_t have; /* bytes in the partial file */
	long http_code;
	bool body_checked, discard, too_big, restarted;
	unsigned attempt;
	sd_event_source *retry;
	char errbuf[CURL_ERROR_SIZE];
};

struct fetcher {
	sd_event *event;
	struct fetch_options o;
	char *cache_dir, *ca_file;
	CURLM *multi;
	sd_event_source *timer;
	struct transfer *transfers;
	unsigned next_id;
};

/* curl.c */
int curl_glue_init(struct fetcher *f);
void curl_glue_done(struct fetcher *f);
/* Starts (or resumes) t's download; -errno when it cannot. */
int transfer_start_download(struct transfer *t);
void transfer_stop_download(struct transfer *t);
/* fetch.c: a download attempt ended */
void transfer_attempt_done(struct transfer *t, CURLcode code);
