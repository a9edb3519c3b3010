/* plan.c — the DDI client's decisions as pure functions: what an answer means, how long to
 * wait after failures, the polling sleep a server asks for, which ids may go into a URL. */
#include "ddi/ddi-internal.h"

#include <errno.h>
#include <string.h>

enum ddi_outcome ddi_outcome_of(int transport_err, long status)
{
	if (transport_err < 0 || status == 0)
		return DDI_OUTCOME_RETRY;
	if (status >= 200 && status < 300)
		return DDI_OUTCOME_OK;
	if (status == 401 || status == 403)
		return DDI_OUTCOME_AUTH;
	if (status == 404 || status == 410)
		return DDI_OUTCOME_GONE;
	/* 408 Request Timeout, 429 Too Many Requests (hawkBit's DoS filter), 409 Conflict
	 * ("you may retry your modification request"), and the server's own failures */
	if (status == 408 || status == 409 || status == 429 || status >= 500)
		return DDI_OUTCOME_RETRY;
	return DDI_OUTCOME_REFUSED;
}

uint64_t ddi_backoff_usec(unsigned failures, uint64_t min, uint64_t max)
{
	uint64_t d = min;

	for (unsigned i = 1; i < failures && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	return MIN(d, max);
}

static int two_digits(const char *s, unsigned *ret)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -EINVAL;
	*ret = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	return 0;
}

int ddi_sleep_parse(const char *s, uint64_t *ret)
{
	size_t h = strspn(s, "0123456789");
	uint64_t hours = 0;
	unsigned m, sec;

	/* DdiPolling.sleep: "HH:MM:SS" */
	if (h == 0 || h > 6 || s[h] != ':' || strlen(s) != h + 6 || s[h + 3] != ':' ||
	    two_digits(s + h + 1, &m) < 0 || two_digits(s + h + 4, &sec) < 0 || m > 59 || sec > 59)
		return -EINVAL;
	for (size_t i = 0; i < h; i++)
		hours = hours * 10 + (uint64_t)(s[i] - '0');
	*ret = ((hours * 60 + m) * 60 + sec) * USEC_PER_SEC;
	return 0;
}

bool ddi_id_valid(const char *id, size_t max, bool controller)
{
	static const char unreserved[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789-._~";
	size_t n = strlen(id), ok = strspn(id, unreserved);

	/* RFC 3986 unreserved characters go into a path segment as they are; ':' and '@' are
	 * pchar too, and hawkBit's controllerIds use them (MAC addresses) */
	while (controller && ok < n && (id[ok] == ':' || id[ok] == '@'))
		ok += 1 + strspn(id + ok + 1, unreserved);
	return n > 0 && n <= max && ok == n && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

const char *ddi_link_name(enum ddi_link l)
{
	switch (l) {
	case DDI_LINK_OK:
		return "ok";
	case DDI_LINK_FAILING:
		return "failing";
	case DDI_LINK_UNAUTHORIZED:
		return "unauthorized";
	}
	return "?";
}
