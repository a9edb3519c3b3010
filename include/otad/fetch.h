/* fetch.h — image sources for otad: a local path, or an http(s) URL downloaded with libcurl into
 * the cache directory; and single HTTP requests with their answer in memory (a REST API's).
 * Downloads are resumable (CACHE/SHA.part grows across attempts and daemon restarts; a Range
 * request continues it), bounded in size, TLS-verified, and never handed out before their SHA-256
 * matched the pin: CACHE/SHA.img exists only for a verified file.
 *
 * libcurl's multi interface runs on the caller's sd-event loop (its sockets and timer become
 * event sources): nothing blocks but reading local files to hash them. Requests for the same pin
 * share one download. The library never logs: results come through the done callback, with a
 * one-line reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/common.h"

struct fetcher;

struct fetch_options {
	const char *cache_dir;	     /* required for URLs */
	uint64_t max_size;	     /* bytes; 0 = 64 MiB */
	bool allow_http;	     /* plain http:// (tests, closed networks) */
	const char *ca_file;	     /* NULL = the system's CA store */
	unsigned max_attempts;	     /* transfers per request (resuming each time); 0 = 4 */
	uint64_t retry_delay_usec;   /* before the second attempt, doubling; 0 = 500 ms */
	uint64_t stall_timeout_usec; /* no byte for this long fails the attempt; 0 = 60 s */
};

/* err 0: path is the verified local file (valid during the call; for a URL it lives in the cache
 * directory). Otherwise a negative errno and why: -EBADMSG the SHA-256 differs from the pin,
 * -EFBIG larger than max_size, -EPERM plain http refused, -EPROTONOSUPPORT another scheme,
 * -ENOENT no such file or HTTP 404, -EACCES HTTP 401/403, -EIO other HTTP or transfer errors,
 * -ETIMEDOUT stalled. */
typedef void (*fetch_done_fn)(int err, const char *path, const char *why, void *user_data);

int fetcher_new(sd_event *e, const struct fetch_options *o, struct fetcher **ret);
/* Drops every request (as fetcher_cancel). Accepts NULL, returns NULL. */
struct fetcher *fetcher_free(struct fetcher *f);

/* Gets source (an absolute path, or an http(s) URL); sha256 is the pin (required for URLs,
 * checked for paths when given). done runs once, always from the loop, never from inside this
 * call; destroy(user_data) after it. Returns a request id > 0, or 0 with *ret_err set. */
unsigned fetcher_get(struct fetcher *f, const char *source, const uint8_t *sha256,
		     fetch_done_fn done, void *user_data, otad_destroy_fn destroy, int *ret_err);
/* As fetcher_get, with request headers ("Name: value", NULL-terminated; copied) sent with every
 * attempt of a download this request starts (one it joins keeps its own): an Authorization a
 * server asks for on its links. libcurl does not send it on to another host a redirect names. */
unsigned fetcher_get_with_headers(struct fetcher *f, const char *source, const uint8_t *sha256,
				  const char *const *headers, fetch_done_fn done, void *user_data,
				  otad_destroy_fn destroy, int *ret_err);
/* Drops the request (a download or an HTTP request): done will not run, destroy(user_data) runs
 * now. A download nobody else waits for stops; its partial file stays for a later request. */
bool fetcher_cancel(struct fetcher *f, unsigned id);

/* ---- One HTTP request, its answer in memory ------------------------------------------------
 * Over the same libcurl multi handle, with the fetcher's TLS settings (ca_file; allow_http).
 * Never retried here: what a failure means is the caller's protocol's business. */
struct fetch_request {
	const char *method;	    /* "GET" (also for NULL), "PUT", "POST", "DELETE" */
	const char *url;	    /* http(s) only */
	const char *const *headers; /* "Name: value", NULL-terminated; NULL for none; copied */
	const void *body;	    /* sent as is; its Content-Type goes among the headers */
	size_t body_len;
	size_t max_answer;     /* bytes of the answer's body; 0 = 1 MiB */
	uint64_t timeout_usec; /* the whole exchange, connecting included; 0 = 30 s */
};

struct fetch_answer {
	long status;	  /* the HTTP status */
	const char *body; /* NUL-terminated (a NUL inside is the server's) */
	size_t body_len;
	const char *content_type;  /* NULL when the server named none */
	uint64_t retry_after_usec; /* the server's Retry-After, 0 when none */
};

/* err 0: an answer came, whatever its status (a valid during the call). Otherwise none did, and
 * why says what happened: -ETIMEDOUT, -ECONNREFUSED, -ENOENT the host is unknown, -EFBIG the
 * answer is larger than max_answer, -EIO others (TLS, a connection cut). The text never holds a
 * header or body of the request. */
typedef void (*fetch_answer_fn)(int err, const struct fetch_answer *a, const char *why,
				void *user_data);

/* Sends r (everything is copied). done runs once, always from the loop; destroy(user_data) after
 * it, or at fetcher_cancel. Returns a request id > 0, or 0 with *ret_err: -EINVAL a bad method,
 * -EPERM plain http refused, -EPROTONOSUPPORT another scheme, -ENOMEM. */
unsigned fetcher_request(struct fetcher *f, const struct fetch_request *r, fetch_answer_fn done,
			 void *user_data, otad_destroy_fn destroy, int *ret_err);

/* An image handed over as an open file (a regular file, at most max_size bytes; 0 = 64 MiB): read
 * whole, copied to CACHE/SHA.img (atomically, unless already there: *ret_created says which,
 * ret_created may be NULL), its path and SHA-256 returned; the caller pins it with that SHA-256.
 * Blocking file I/O on a local file. -EBADF not open for reading (checked before anything else
 * about the file is looked at), -EINVAL not a regular file, -EFBIG too large. */
int fetch_import_fd(const char *cache_dir, int fd, uint64_t max_size, char **ret_path,
		    uint8_t ret_sha[32], bool *ret_created);

/* ---- The pure decisions, exposed for tests ------------------------------------------------ */

enum fetch_kind {
	FETCH_LOCAL,
	FETCH_HTTPS,
	FETCH_HTTP,
};
/* -EPERM http while not allowed, -EPROTONOSUPPORT other schemes, -EINVAL relative paths. */
int fetch_classify(const char *source, bool allow_http, enum fetch_kind *ret);

/* What the body of an HTTP answer means for the partial file of `have` bytes we asked to
 * continue. */
enum fetch_body {
	FETCH_BODY_APPEND,  /* 206 (or 200 to a request from 0): write after what we have */
	FETCH_BODY_RESTART, /* 200 to a Range request: the server sends it all; truncate first */
	FETCH_BODY_DISCARD, /* an error page (>= 300): never written into the file */
};
enum fetch_body fetch_body_action(long http_code, uint64_t have);

/* How one transfer ended, and what follows. */
struct fetch_outcome {
	int transfer_err; /* 0, or negative errno from the transfer (connection, stall, cut) */
	long http_code;	  /* 0 when no answer came */
	uint64_t have;	  /* bytes in the partial file now */
	bool too_big;	  /* the size limit was hit */
};
enum fetch_next {
	FETCH_NEXT_VERIFY,  /* whole file is there: check the pin */
	FETCH_NEXT_RESUME,  /* try again from `have` (after a delay) */
	FETCH_NEXT_RESTART, /* the partial file is useless: delete it, try again from 0 */
	FETCH_NEXT_FAIL,    /* give up; errno from fetch_outcome_errno() */
};
enum fetch_next fetch_after_transfer(const struct fetch_outcome *o, unsigned attempt,
				     unsigned max_attempts);
/* The errno of a failed outcome (as listed for fetch_done_fn). */
int fetch_outcome_errno(const struct fetch_outcome *o);
