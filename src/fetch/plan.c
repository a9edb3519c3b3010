/* plan.c — the download's decisions as pure functions (fetch.h): which sources are allowed,
 * what an HTTP answer's body means for the partial file, what follows a transfer. */
#include "otad/fetch.h"

#include <errno.h>
#include <string.h>

int fetch_classify(const char *source, bool allow_http, enum fetch_kind *ret)
{
	if (strncmp(source, "https://", 8) == 0 && source[8]) {
		*ret = FETCH_HTTPS;
		return 0;
	}
	if (strncmp(source, "http://", 7) == 0 && source[7]) {
		if (!allow_http)
			return -EPERM;
		*ret = FETCH_HTTP;
		return 0;
	}
	if (strstr(source, "://"))
		return -EPROTONOSUPPORT;
	if (source[0] != '/')
		return -EINVAL;
	*ret = FETCH_LOCAL;
	return 0;
}

enum fetch_body fetch_body_action(long http_code, uint64_t have)
{
	if (http_code == 206)
		return FETCH_BODY_APPEND;
	if (http_code >= 200 && http_code < 300)
		return have > 0 ? FETCH_BODY_RESTART : FETCH_BODY_APPEND;
	return FETCH_BODY_DISCARD;
}

static bool retryable_http(long code)
{
	return code == 408 || code == 429 || code >= 500;
}

enum fetch_next fetch_after_transfer(const struct fetch_outcome *o, unsigned attempt,
				     unsigned max_attempts)
{
	bool more = attempt < max_attempts;

	if (o->too_big)
		return FETCH_NEXT_FAIL;
	if (o->transfer_err == 0 && o->http_code >= 200 && o->http_code < 300)
		return FETCH_NEXT_VERIFY;
	/* 416: we asked for bytes past the end: what we have may be all of it */
	if (o->http_code == 416 && o->have > 0)
		return FETCH_NEXT_VERIFY;
	if (o->http_code >= 300 && !retryable_http(o->http_code))
		return FETCH_NEXT_FAIL;
	if (o->transfer_err == -EPERM || o->transfer_err == -EPROTONOSUPPORT ||
	    o->transfer_err == -ENOMEM || o->transfer_err == -ENOSPC)
		return FETCH_NEXT_FAIL;
	return more ? FETCH_NEXT_RESUME : FETCH_NEXT_FAIL;
}

int fetch_outcome_errno(const struct fetch_outcome *o)
{
	if (o->too_big)
		return -EFBIG;
	if (o->http_code == 404 || o->http_code == 410)
		return -ENOENT;
	if (o->http_code == 401 || o->http_code == 403)
		return -EACCES;
	if (o->http_code >= 300)
		return -EIO;
	return o->transfer_err < 0 ? o->transfer_err : -EIO;
}
