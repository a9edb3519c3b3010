/* pace-memory.c — the pace memory file: what worked (and what a bootloader refused) per device.
 *
 * One line per key, the key first, then key=value fields:
 *   udp:192.0.2.10:1337 good_window=3 good_rate=0 good_bps=61234 refused_window=4 refused_rate=0
 *   refused_bps=45120
 * Replaced atomically on save, so a crash leaves the old or the new file, never a mix. */
#include "otad/update.h"
#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1024 * 1024)

static bool valid_key(const char *key)
{
	if (!key || !*key || strlen(key) > 256)
		return false;
	/* Blanks and control characters only: a BLE name may be UTF-8 (bytes >= 0x80, negative
	 * as a signed char). */
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

static int parse_bps(const char *v, double *ret)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || !(d >= 0 && d < 1e12))
		return -EINVAL;
	*ret = d;
	return 0;
}

static int parse_field(struct upd_pace_memory *m, const char *name, const char *v)
{
	bool good = strncmp(name, "good_", 5) == 0, refused = strncmp(name, "refused_", 8) == 0;
	struct upd_pace *pace = good ? &m->good : &m->refused;
	const char *f = good ? name + 5 : name + 8;
	uint32_t u;

	if (!good && !refused)
		return -EINVAL;
	if (good)
		m->has_good = true;
	else
		m->has_refused = true;
	if (strcmp(f, "bps") == 0)
		return parse_bps(v, good ? &m->good_bps : &m->refused_bps);
	if (parse_u32(v, &u) < 0)
		return -EINVAL;
	if (strcmp(f, "window") == 0 && u <= UPD_WINDOW_MAX)
		pace->window = u;
	else if (strcmp(f, "rate") == 0)
		pace->rate = u;
	else
		return -EINVAL;
	return 0;
}

/* Parses the fields of one line (after its key). */
static int parse_line(char *fields, struct upd_pace_memory *m)
{
	char *save = NULL;

	*m = (struct upd_pace_memory){ 0 };
	for (char *tok = strtok_r(fields, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return -EBADMSG;
		*eq = 0;
		if (parse_field(m, tok, eq + 1) < 0)
			return -EBADMSG;
	}
	return 0;
}

/* The next line: its key, NUL-terminated in place; *ret_rest points at its fields. */
static char *next_line(char **cursor, char **ret_rest)
{
	char *line = *cursor, *nl, *sp;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	*cursor = nl ? nl + 1 : NULL;
	if (nl)
		*nl = 0;
	sp = strpbrk(line, " \t");
	if (sp)
		*sp = 0;
	*ret_rest = sp ? sp + 1 : line + strlen(line);
	return line;
}

int upd_pace_memory_load(const char *path, const char *key, struct upd_pace_memory *ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	char *cursor, *rest, *k;
	int r;

	if (!valid_key(key))
		return -EINVAL;
	r = read_full_file(path, MAX_FILE, &buf, NULL);
	if (r < 0)
		return r;
	cursor = (char *)buf;
	while ((k = next_line(&cursor, &rest)))
		if (strcmp(k, key) == 0)
			return parse_line(rest, ret);
	return -ENOENT;
}

static int append(char **out, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (!*out || *len + n + 1 > *cap) {
		size_t c = MAX(*cap * 2, *len + n + 1024);
		char *p = realloc(*out, c);

		if (!p)
			return -ENOMEM;
		*out = p;
		*cap = c;
	}
	memcpy(*out + *len, s, n + 1);
	*len += n;
	return 0;
}

static void format_line(const char *key, const struct upd_pace_memory *m, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s", key);

	if (m->has_good)
		n += snprintf(buf + n, size - (size_t)n, " good_window=%u good_rate=%u good_bps=%.0f",
			      m->good.window, m->good.rate, m->good_bps);
	if (m->has_refused)
		n += snprintf(buf + n, size - (size_t)n,
			      " refused_window=%u refused_rate=%u refused_bps=%.0f", m->refused.window,
			      m->refused.rate, m->refused_bps);
	snprintf(buf + n, size - (size_t)n, "\n");
}

int upd_pace_memory_save(const char *path, const char *key, const struct upd_pace_memory *m)
{
	_cleanup_free_ uint8_t *old = NULL;
	_cleanup_free_ char *out = NULL;
	size_t len = 0, cap = 0;
	char line[512], *cursor, *rest, *k;
	int r;

	if (!valid_key(key))
		return -EINVAL;
	r = read_full_file(path, MAX_FILE, &old, NULL);
	if (r < 0 && r != -ENOENT)
		return r;
	/* Every other device's line as it was (well-formed or not: not ours to judge). */
	cursor = (char *)old;
	while ((k = next_line(&cursor, &rest))) {
		if (strcmp(k, key) == 0 || !*k)
			continue;
		if (append(&out, &len, &cap, k) < 0 || (*rest && (append(&out, &len, &cap, " ") < 0 ||
								 append(&out, &len, &cap, rest) < 0)) ||
		    append(&out, &len, &cap, "\n") < 0)
			return -ENOMEM;
	}
	format_line(key, m, line, sizeof(line));
	if (append(&out, &len, &cap, line) < 0)
		return -ENOMEM;
	return write_file_atomic(path, out, len, 0644);
}
