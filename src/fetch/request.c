/* request.c — one HTTP request with its answer in memory (fetch.h, fetcher_request): method,
 * headers and body out, status, bounded body, content type and Retry-After back, on the
 * fetcher's libcurl multi handle. */
#include "fetch/fetch-internal.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct request {
	struct curl_job job; /* first: libcurl's private pointer */
	struct fetcher *f;
	struct request *next;
	unsigned id;
	fetch_answer_fn done;
	void *user_data;
	otad_destroy_fn destroy;
	CURL *easy;
	struct curl_slist *headers;
	char *method, *url;
	char *body;
	size_t body_len;
	char *answer;
	size_t answer_len, answer_cap, max_answer;
	bool too_big;
	uint64_t timeout_usec;
	char errbuf[CURL_ERROR_SIZE];
};

static void unlink_request(struct request *q)
{
	for (struct request **p = &q->f->requests; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
}

/* Unlinks and frees q; destroy(user_data) runs when asked. */
static void request_free(struct request *q, bool destroy)
{
	unlink_request(q);
	if (q->easy) {
		curl_multi_remove_handle(q->f->multi, q->easy);
		curl_easy_cleanup(q->easy);
	}
	curl_slist_free_all(q->headers);
	if (destroy && q->destroy)
		q->destroy(q->user_data);
	free(q->method);
	free(q->url);
	free(q->body);
	free(q->answer);
	free(q);
}

static size_t on_write(char *data, size_t size, size_t n, void *userdata)
{
	struct request *q = userdata;
	size_t len = size * n;

	if (q->answer_len + len > q->max_answer) {
		q->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (q->answer_len + len + 1 > q->answer_cap) {
		size_t cap = MAX(q->answer_cap * 2, q->answer_len + len + 1);
		char *p = realloc(q->answer, cap);

		if (!p)
			return 0;
		q->answer = p;
		q->answer_cap = cap;
	}
	memcpy(q->answer + q->answer_len, data, len);
	q->answer_len += len;
	q->answer[q->answer_len] = 0;
	return len;
}

static void report(struct request *q, CURLcode code)
{
	struct fetch_answer a = {.body = q->answer ? q->answer : "", .body_len = q->answer_len};
	curl_off_t retry = 0;
	char why[CURL_ERROR_SIZE + 600];
	int err = fetch_curl_errno(code);

	if (q->too_big) {
		err = -EFBIG;
		snprintf(why, sizeof(why), "%s %s: the answer is larger than %zu bytes", q->method,
			 q->url, q->max_answer);
	} else if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s %s: %s", q->method, q->url,
			 q->errbuf[0] ? q->errbuf : curl_easy_strerror(code));
	} else {
		curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &a.status);
		curl_easy_getinfo(q->easy, CURLINFO_CONTENT_TYPE, (char **)&a.content_type);
		if (curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK &&
		    retry > 0)
			a.retry_after_usec = (uint64_t)retry * USEC_PER_SEC;
		snprintf(why, sizeof(why), "%s %s: HTTP %ld", q->method, q->url, a.status);
	}
	q->done(err, err == 0 ? &a : NULL, why, q->user_data);
}

static void on_done(struct curl_job *job, CURLcode code)
{
	struct request *q = (struct request *)job;

	unlink_request(q);
	q->next = NULL;
	report(q, code);
	request_free(q, true);
}

static void set_method(struct request *q)
{
	if (strcmp(q->method, "GET") == 0) {
		curl_easy_setopt(q->easy, CURLOPT_HTTPGET, 1L);
		/* only a GET follows redirects: libcurl would turn a POST into a GET */
		curl_easy_setopt(q->easy, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(q->easy, CURLOPT_MAXREDIRS, 5L);
		return;
	}
	if (q->body || strcmp(q->method, "DELETE") != 0) {
		curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
	}
	if (strcmp(q->method, "POST") != 0)
		curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, q->method);
}

static int start(struct request *q)
{
	const struct fetch_options *o = &q->f->o;
	const char *protocols = o->allow_http ? "http,https" : "https";
	long ms = (long)MAX(q->timeout_usec / USEC_PER_MSEC, (uint64_t)1);

	q->easy = curl_easy_init();
	if (!q->easy)
		return -ENOMEM;
	curl_easy_setopt(q->easy, CURLOPT_URL, q->url);
	curl_easy_setopt(q->easy, CURLOPT_PRIVATE, &q->job);
	curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->easy, CURLOPT_ERRORBUFFER, q->errbuf);
	curl_easy_setopt(q->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->easy, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(q->easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(q->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(q->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (q->f->ca_file)
		curl_easy_setopt(q->easy, CURLOPT_CAINFO, q->f->ca_file);
	curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(q->easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(q->easy, CURLOPT_USERAGENT, "otad/" OTAD_VERSION);
	curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->headers);
	set_method(q);
	if (curl_multi_add_handle(q->f->multi, q->easy) != CURLM_OK)
		return -EIO;
	return 0;
}

/* A method is an HTTP token (RFC 9110 section 9.1): upper-case letters here. */
static bool method_ok(const char *m)
{
	return *m && strlen(m) < 16 && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(m);
}

static int copy_request(struct request *q, const struct fetch_request *r)
{
	/* "Expect:" off: libcurl would wait for a 100 Continue before a larger body */
	static const char *const expect[] = {"Expect:", NULL};
	struct curl_slist *tail;

	if (!(q->method = strdup(r->method ? r->method : "GET")) || !(q->url = strdup(r->url)))
		return -ENOMEM;
	if (!method_ok(q->method))
		return -EINVAL;
	if (r->body_len && !(q->body = malloc(r->body_len)))
		return -ENOMEM;
	if (r->body_len)
		memcpy(q->body, r->body, r->body_len);
	q->body_len = r->body_len;
	if (curl_headers(r->headers, &q->headers) < 0 || curl_headers(expect, &tail) < 0)
		return -ENOMEM;
	if (!q->headers)
		q->headers = tail;
	else {
		struct curl_slist *l = q->headers;

		while (l->next)
			l = l->next;
		l->next = tail;
	}
	q->max_answer = r->max_answer ? r->max_answer : 1024 * 1024;
	q->timeout_usec = r->timeout_usec ? r->timeout_usec : 30 * USEC_PER_SEC;
	return 0;
}

unsigned fetcher_request(struct fetcher *f, const struct fetch_request *r, fetch_answer_fn done,
			 void *user_data, otad_destroy_fn destroy, int *ret_err)
{
	struct request *q;
	enum fetch_kind kind;
	int err = fetch_classify(r->url, f->o.allow_http, &kind);

	if (err == 0 && kind == FETCH_LOCAL)
		err = -EPROTONOSUPPORT;
	if (err < 0) {
		*ret_err = err == -EINVAL ? -EPROTONOSUPPORT : err;
		return 0;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		*ret_err = -ENOMEM;
		return 0;
	}
	*q = (struct request){.job.done = on_done, .f = f, .next = f->requests};
	f->requests = q;
	err = copy_request(q, r);
	if (err == 0)
		err = start(q);
	if (err < 0) {
		request_free(q, false); /* not reported: the caller gets the error */
		*ret_err = err;
		return 0;
	}
	q->id = fetcher_next_id(f);
	q->done = done;
	q->user_data = user_data;
	q->destroy = destroy;
	return q->id;
}

bool request_cancel(struct fetcher *f, unsigned id)
{
	for (struct request *q = f->requests; q; q = q->next)
		if (q->id == id) {
			request_free(q, true);
			return true;
		}
	return false;
}

void requests_free(struct fetcher *f)
{
	while (f->requests)
		request_free(f->requests, true);
}
