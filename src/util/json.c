/* json.c — streaming JSON writer. */
#include "util/json.h"

#include <inttypes.h>
#include <math.h>

void json_init(struct json *j, FILE *f)
{
	*j = (struct json){ .f = f };
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void prefix(struct json *j, const char *key)
{
	if (j->depth > 0 && j->depth < 16) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		j->need_comma[j->depth] = true;
	}
	if (key) {
		put_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_scope(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	j->depth++;
	if (j->depth < 16)
		j->need_comma[j->depth] = false;
}

void json_begin_object(struct json *j, const char *key)
{
	open_scope(j, key, '{');
}

void json_end_object(struct json *j)
{
	fputc('}', j->f);
	j->depth--;
}

void json_begin_array(struct json *j, const char *key)
{
	open_scope(j, key, '[');
}

void json_end_array(struct json *j)
{
	fputc(']', j->f);
	j->depth--;
}

void json_str(struct json *j, const char *key, const char *value)
{
	prefix(j, key);
	if (value)
		put_string(j->f, value);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t value)
{
	prefix(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void json_i64(struct json *j, const char *key, int64_t value)
{
	prefix(j, key);
	fprintf(j->f, "%" PRId64, value);
}

void json_double(struct json *j, const char *key, double value)
{
	prefix(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.6g", value);
	else
		fputs("null", j->f);
}

void json_bool(struct json *j, const char *key, bool value)
{
	prefix(j, key);
	fputs(value ? "true" : "false", j->f);
}

void json_end_line(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	j->depth = 0;
	j->need_comma[0] = false;
}
