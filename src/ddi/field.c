/* field.c — JSON members of DDI resources, read with errors that name the member's path the
 * way the API reference writes it ("deployment.chunks[0].artifacts[1].hashes.sha256"). */
#include "ddi/ddi-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ddi_one_line(char *text)
{
	/* a server's strings may hold anything json-c lets through, raw newlines included */
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int ddi_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why && size) {
		vsnprintf(why, size, fmt, ap);
		ddi_one_line(why);
	}
	va_end(ap);
	return -EBADMSG;
}

void ddi_path(char *out, size_t size, const char *path, const char *key)
{
	snprintf(out, size, "%s%s%s", path, *path ? "." : "", key);
}

int ddi_doc(const char *json, size_t len, const char *resource, struct jd_doc **ret, char *why,
	    size_t size)
{
	struct jd_error e;
	int r = jd_parse(json, len, ret, &e);

	if (r == -EBADMSG)
		return ddi_why(why, size, "%s: not JSON: line %u column %u: %s", resource, e.line,
			       e.col, e.msg);
	if (r == -EFBIG)
		return ddi_why(why, size, "%s: larger than %d bytes", resource, JD_MAX_TEXT);
	if (r < 0)
		return r;
	if (!json_object_is_type(jd_root(*ret), json_type_object)) {
		r = ddi_why(why, size, "%s: expected an object, got %s", resource,
			    jd_type_name(jd_root(*ret)));
		*ret = jd_doc_free(*ret);
		return r;
	}
	return 0;
}

static const char *type_name(enum json_type t)
{
	switch (t) {
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_string:
		return "a string";
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	case json_type_null:
	default:
		return "null";
	}
}

int ddi_member(const struct json_object *o, const char *path, const char *key, enum json_type t,
	       bool required, struct json_object **ret, char *why, size_t size)
{
	char p[256];

	ddi_path(p, sizeof(p), path, key);
	if (!jd_get(o, key, ret) || !*ret) {
		*ret = NULL;
		return required ? ddi_why(why, size, "%s: missing", p) : 0;
	}
	if (!json_object_is_type(*ret, t)) {
		int r = ddi_why(why, size, "%s: expected %s, got %s", p, type_name(t),
				jd_type_name(*ret));

		*ret = NULL;
		return r;
	}
	return 0;
}

int ddi_member_str(const struct json_object *o, const char *path, const char *key, size_t max,
		   bool required, const char **ret, char *why, size_t size)
{
	struct json_object *v;
	char p[256];
	int r = ddi_member(o, path, key, json_type_string, required, &v, why, size);

	*ret = NULL;
	if (r < 0 || !v)
		return r;
	*ret = jd_str(v);
	if (strlen(*ret) > max) {
		ddi_path(p, sizeof(p), path, key);
		*ret = NULL;
		return ddi_why(why, size, "%s: longer than %zu bytes", p, max);
	}
	return 0;
}
