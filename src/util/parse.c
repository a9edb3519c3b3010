/* parse.c — strict number, size, duration and boolean parsers. */
#include "util/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_u64_prefix(const char *s, uint64_t *ret, const char **ret_end)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	*ret_end = end;
	return 0;
}

int parse_u64(const char *s, uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r = parse_u64_prefix(s, &v, &end);

	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
	const char *end;
	uint64_t v, mul = 1;
	int r = parse_u64_prefix(s, &v, &end);

	if (r < 0)
		return r;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'M')
		mul = 1024 * 1024, end++;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*ret = v * mul;
	return 0;
}

int parse_usec(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} units[] = { { "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "min", 60000000 }, { "", 1000000 } };
	const char *end;
	uint64_t v;
	int r = parse_u64_prefix(s, &v, &end);

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return -ERANGE;
		*ret = v * units[i].mul;
		return 0;
	}
	return -EINVAL;
}

int parse_bool(const char *s, bool *ret)
{
	static const char *yes[] = { "1", "yes", "true", "on" }, *no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *ret = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}
