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

/* What libcurl's private pointer of an easy handle points at: a download or a request, told
 * apart by the function its end goes to. */
struct curl_job {
	void (*done)(struct curl_job *job, CURLcode code);
};

/* One download (or one immediate answer: a local file, a cache hit, an early error). */
struct transfer {
	struct curl_job job; /* first: libcurl's private pointer */
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
	struct curl_slist *headers;
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
	struct request *requests;
	unsigned next_id;
};

/* A new request id (never 0). */
unsigned fetcher_next_id(struct fetcher *f);

/* curl.c */
int curl_glue_init(struct fetcher *f);
void curl_glue_done(struct fetcher *f);
/* Starts (or resumes) t's download; -errno when it cannot. */
int transfer_start_download(struct transfer *t);
void transfer_stop_download(struct transfer *t);
/* Copies a NULL-terminated header list (NULL for none) for CURLOPT_HTTPHEADER; -ENOMEM. */
int curl_headers(const char *const *headers, struct curl_slist **ret);
/* fetch.c: a download attempt ended */
void transfer_attempt_done(struct curl_job *job, CURLcode code);
/* The errno of a transfer's libcurl code. */
int fetch_curl_errno(CURLcode c);

/* request.c */
bool request_cancel(struct fetcher *f, unsigned id);
void requests_free(struct fetcher *f);
