/* version.c — image versions: Zephyr img_mgmt's text form ("1.2.3", ".4" appended only when the
 * build number is non-zero: img_mgmt_util.c img_mgmt_ver_str), imgtool's input form
 * ("maj.min.rev+build", scripts/imgtool/version.py), and ordering. */
#include "otad/image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

char *img_version_format(const struct img_version *v, char *buf, size_t size)
{
	if (!buf || size == 0)
		return buf;
	if (v->build != 0)
		snprintf(buf, size, "%u.%u.%u.%" PRIu32, v->major, v->minor, v->revision, v->build);
	else
		snprintf(buf, size, "%u.%u.%u", v->major, v->minor, v->revision);
	return buf;
}

/* One decimal part: digits only, no leading zero unless it is "0". Advances *s past it. */
static int parse_part(const char **s, uint32_t max, uint32_t *ret)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v > max)
		return -ERANGE;
	*ret = (uint32_t)v;
	*s = p;
	return 0;
}

int img_version_parse(const char *s, struct img_version *ret)
{
	static const uint32_t max[4] = {UINT8_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX};
	uint32_t part[4] = {0};
	unsigned n = 0;
	int r;

	if (!s || !ret)
		return -EINVAL;
	for (;;) {
		r = parse_part(&s, max[n], &part[n]);
		if (r < 0)
			return r;
		n++;
		if (*s == 0)
			break;
		/* '.' between parts; '+' only before the build number, imgtool style. */
		if (n == 4 || (*s == '+' && n != 3) || (*s != '.' && *s != '+'))
			return -EINVAL;
		s++;
	}
	*ret = (struct img_version){
		.major = (uint8_t)part[0],
		.minor = (uint8_t)part[1],
		.revision = (uint16_t)part[2],
		.build = part[3],
	};
	return 0;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

int img_version_cmp(const struct img_version *a, const struct img_version *b)
{
	int r;

	r = cmp_u32(a->major, b->major);
	if (r == 0)
		r = cmp_u32(a->minor, b->minor);
	if (r == 0)
		r = cmp_u32(a->revision, b->revision);
	if (r == 0)
		r = cmp_u32(a->build, b->build);
	return r;
}
