/* fetch.c — image requests (fetch.h): local files, cache hits, downloads shared per pin, retries
 * that resume, the SHA-256 check before a file is handed out. */
#include "fetch/fetch-internal.h"
#include "util/hex.h"
#include "util/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sha256_file(const char *path, uint64_t max, uint8_t out[32])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	uint8_t buf[65536];
	uint64_t total = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > max) {
			r = -EFBIG;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (r == 0 && EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	return r;
}

/* 0 when path's SHA-256 is the pin; -EBADMSG with why otherwise. */
static int check_pin(struct transfer *t, const char *path)
{
	uint8_t got[32];
	char a[65], b[65];
	int r = sha256_file(path, t->f->o.max_size, got);

	if (r < 0) {
		snprintf(t->why, sizeof(t->why), "%s: %s", path, strerror(-r));
		return r;
	}
	if (memcmp(got, t->sha, 32) != 0) {
		snprintf(t->why, sizeof(t->why), "SHA-256 of %s is %s, pinned %s",
			 t->url ? t->url : path, hex_encode(got, 32, a), hex_encode(t->sha, 32, b));
		return -EBADMSG;
	}
	return 0;
}

static void unlink_transfer(struct transfer *t)
{
	for (struct transfer **p = &t->f->transfers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
}

static void transfer_free(struct transfer *t)
{
	transfer_stop_download(t);
	sd_event_source_disable_unref(t->defer);
	sd_event_source_disable_unref(t->retry);
	curl_slist_free_all(t->headers);
	free(t->url);
	free(t->part_path);
	free(t->final_path);
	free(t->result_path);
	free(t);
}

/* Reports to every waiter and frees t. */
static void transfer_complete(struct transfer *t, int err, const char *path)
{
	struct waiter *w = t->waiters;

	unlink_transfer(t);
	t->waiters = NULL;
	while (w) {
		struct waiter *next = w->next;

		w->done(err, err == 0 ? path : NULL, err == 0 ? NULL : t->why, w->user_data);
		if (w->destroy)
			w->destroy(w->user_data);
		free(w);
		w = next;
	}
	transfer_free(t);
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct transfer *t = userdata;

	transfer_complete(t, t->result, t->result_path);
	return 0;
}

/* The answer is known now; delivered from the loop. */
static int answer_later(struct transfer *t, int err, const char *path)
{
	t->result = err;
	if (path && !(t->result_path = strdup(path)))
		return -ENOMEM;
	return sd_event_add_defer(t->f->event, &t->defer, on_defer, t);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct transfer *t = userdata;
	int r;

	t->retry = sd_event_source_disable_unref(t->retry);
	r = transfer_start_download(t);
	if (r < 0) {
		snprintf(t->why, sizeof(t->why), "%s: cannot resume: %s", t->url, strerror(-r));
		transfer_complete(t, r, NULL);
	}
	return 0;
}

static void verify_download(struct transfer *t)
{
	int r = check_pin(t, t->part_path);

	if (r == -EBADMSG && !t->restarted && t->attempt > 1) {
		/* an old partial file continued with another file's tail: once more from 0 */
		t->restarted = true;
		unlink(t->part_path);
		on_retry(NULL, 0, t);
		return;
	}
	if (r == 0 && rename(t->part_path, t->final_path) < 0) {
		r = -errno;
		snprintf(t->why, sizeof(t->why), "%s: %s", t->final_path, strerror(-r));
	}
	if (r == -EBADMSG)
		unlink(t->part_path);
	transfer_complete(t, r, t->final_path);
}

int fetch_curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -ENOENT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	default:
		return -EIO;
	}
}

void transfer_attempt_done(struct curl_job *job, CURLcode code)
{
	struct transfer *t = (struct transfer *)job;
	struct fetch_outcome o = {.transfer_err = fetch_curl_errno(code), .too_big = t->too_big};
	uint64_t delay = t->f->o.retry_delay_usec << MIN(t->attempt - 1, 6u), now = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->http_code);
	o.http_code = t->http_code;
	o.have = t->have;
	o.too_big = o.too_big || code == CURLE_FILESIZE_EXCEEDED;
	transfer_stop_download(t);
	switch (fetch_after_transfer(&o, t->attempt, t->f->o.max_attempts)) {
	case FETCH_NEXT_VERIFY:
		verify_download(t);
		return;
	case FETCH_NEXT_RESTART:
		unlink(t->part_path);
		/* fall through */
	case FETCH_NEXT_RESUME:
		sd_event_now(t->f->event, CLOCK_MONOTONIC, &now);
		if (sd_event_add_time(t->f->event, &t->retry, CLOCK_MONOTONIC, now + delay, 1000,
				      on_retry, t) >= 0)
			return;
		/* fall through */
	case FETCH_NEXT_FAIL:
		break;
	}
	if (o.too_big) {
		unlink(t->part_path);
		snprintf(t->why, sizeof(t->why), "%s is larger than %llu bytes", t->url,
			 (unsigned long long)t->f->o.max_size);
	} else if (o.http_code >= 300)
		snprintf(t->why, sizeof(t->why), "%s: HTTP %ld", t->url, o.http_code);
	else
		snprintf(t->why, sizeof(t->why), "%s: %s (after %u attempts, %llu bytes kept)",
			 t->url, t->errbuf[0] ? t->errbuf : curl_easy_strerror(code), t->attempt,
			 (unsigned long long)o.have);
	transfer_complete(t, fetch_outcome_errno(&o), NULL);
}

int fetcher_new(sd_event *e, const struct fetch_options *o, struct fetcher **ret)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->event = sd_event_ref(e);
	f->o = *o;
	if (!f->o.max_size)
		f->o.max_size = 64 * 1024 * 1024;
	if (!f->o.max_attempts)
		f->o.max_attempts = 4;
	if (!f->o.retry_delay_usec)
		f->o.retry_delay_usec = 500 * USEC_PER_MSEC;
	if (!f->o.stall_timeout_usec)
		f->o.stall_timeout_usec = 60 * USEC_PER_SEC;
	if ((o->cache_dir && !(f->cache_dir = strdup(o->cache_dir))) ||
	    (o->ca_file && !(f->ca_file = strdup(o->ca_file)))) {
		fetcher_free(f);
		return -ENOMEM;
	}
	f->o.cache_dir = f->cache_dir;
	f->o.ca_file = f->ca_file;
	r = curl_glue_init(f);
	if (r < 0) {
		fetcher_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

struct fetcher *fetcher_free(struct fetcher *f)
{
	if (!f)
		return NULL;
	while (f->transfers) {
		struct transfer *t = f->transfers;

		while (t->waiters)
			fetcher_cancel(f, t->waiters->id); /* frees t with its last waiter */
	}
	requests_free(f);
	curl_glue_done(f);
	sd_event_unref(f->event);
	free(f->cache_dir);
	free(f->ca_file);
	free(f);
	return NULL;
}

static struct transfer *transfer_new(struct fetcher *f)
{
	struct transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->job.done = transfer_attempt_done;
	t->f = f;
	t->fd = -1;
	t->next = f->transfers;
	f->transfers = t;
	return t;
}

unsigned fetcher_next_id(struct fetcher *f)
{
	if (++f->next_id == 0)
		f->next_id = 1;
	return f->next_id;
}

static int add_waiter(struct transfer *t, fetch_done_fn done, void *ud, otad_destroy_fn destroy,
		      unsigned *ret_id)
{
	struct waiter *w = calloc(1, sizeof(*w)), **p = &t->waiters;

	if (!w)
		return -ENOMEM;
	*w = (struct waiter){
		.id = fetcher_next_id(t->f), .done = done, .user_data = ud, .destroy = destroy};
	while (*p)
		p = &(*p)->next;
	*p = w;
	*ret_id = w->id;
	return 0;
}

static int start_local(struct transfer *t, const char *path, const uint8_t *sha)
{
	int r = 0;

	if (sha) {
		memcpy(t->sha, sha, 32);
		r = check_pin(t, path);
	} else if (access(path, R_OK) < 0) {
		r = -errno;
		snprintf(t->why, sizeof(t->why), "%s: %s", path, strerror(errno));
	}
	return answer_later(t, r, path);
}

static int start_url(struct transfer *t, const char *url, const uint8_t *sha,
		     const char *const *headers)
{
	char hex[65];
	int r;

	if (curl_headers(headers, &t->headers) < 0)
		return -ENOMEM;
	memcpy(t->sha, sha, 32);
	hex_encode(sha, 32, hex);
	if (!(t->url = strdup(url)) ||
	    asprintf(&t->final_path, "%s/%s.img", t->f->cache_dir, hex) < 0 ||
	    asprintf(&t->part_path, "%s/%s.part", t->f->cache_dir, hex) < 0)
		return -ENOMEM;
	if (access(t->final_path, F_OK) == 0) {
		r = check_pin(t, t->final_path);
		if (r == 0)
			return answer_later(t, 0, t->final_path); /* cached */
		unlink(t->final_path);
	}
	r = transfer_start_download(t);
	if (r < 0) {
		snprintf(t->why, sizeof(t->why), "%s: %s", t->part_path, strerror(-r));
		transfer_stop_download(t);
		return answer_later(t, r, NULL);
	}
	return 0;
}

static struct transfer *find_download(struct fetcher *f, const char *url, const uint8_t *sha)
{
	for (struct transfer *t = f->transfers; t; t = t->next)
		if (t->url && !t->defer && memcmp(t->sha, sha, 32) == 0 && strcmp(t->url, url) == 0)
			return t;
	return NULL;
}

unsigned fetcher_get(struct fetcher *f, const char *source, const uint8_t *sha256,
		     fetch_done_fn done, void *user_data, otad_destroy_fn destroy, int *ret_err)
{
	return fetcher_get_with_headers(f, source, sha256, NULL, done, user_data, destroy, ret_err);
}

unsigned fetcher_get_with_headers(struct fetcher *f, const char *source, const uint8_t *sha256,
				  const char *const *headers, fetch_done_fn done, void *user_data,
				  otad_destroy_fn destroy, int *ret_err)
{
	enum fetch_kind kind;
	struct transfer *t;
	unsigned id = 0;
	int r = fetch_classify(source, f->o.allow_http, &kind);

	if (r == 0 && kind != FETCH_LOCAL && (!sha256 || !f->cache_dir))
		r = -EINVAL;
	if (r < 0) {
		*ret_err = r;
		return 0;
	}
	t = kind == FETCH_LOCAL ? NULL : find_download(f, source, sha256);
	if (t) {
		r = add_waiter(t, done, user_data, destroy, &id);
		*ret_err = r;
		return r < 0 ? 0 : id;
	}
	t = transfer_new(f);
	if (!t || add_waiter(t, done, user_data, destroy, &id) < 0) {
		if (t) {
			unlink_transfer(t);
			transfer_free(t);
		}
		*ret_err = -ENOMEM;
		return 0;
	}
	r = kind == FETCH_LOCAL ? start_local(t, source, sha256)
				: start_url(t, source, sha256, headers);
	if (r < 0) {
		free(t->waiters); /* not reported: the caller gets the error */
		t->waiters = NULL;
		unlink_transfer(t);
		transfer_free(t);
		*ret_err = r;
		return 0;
	}
	return id;
}

bool fetcher_cancel(struct fetcher *f, unsigned id)
{
	if (request_cancel(f, id))
		return true;
	for (struct transfer *t = f->transfers; t; t = t->next)
		for (struct waiter **p = &t->waiters; *p; p = &(*p)->next) {
			struct waiter *w = *p;

			if (w->id != id)
				continue;
			*p = w->next;
			if (w->destroy)
				w->destroy(w->user_data);
			free(w);
			if (!t->waiters) {
				/* nobody waits: stop, keep the partial file for a later request */
				unlink_transfer(t);
				transfer_free(t);
			}
			return true;
		}
	return false;
}
