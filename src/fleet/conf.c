/* conf.c — the INI parser (see conf.h). Lines are at most 4 KiB after joining continuations. */
#include "otad/conf.h"
#include "util/fileio.h"
#include "util/macro.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX_FILE (1024 * 1024)
#define CONF_MAX_LINE 4096

void conf_error_set(struct conf_error *e, const char *path, unsigned line, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(e->text, sizeof(e->text), "%s:%u: %s", path, line, what);
	else
		snprintf(e->text, sizeof(e->text), "%s: %s", path, what);
}

struct conf_file *conf_file_free(struct conf_file *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n_sections; i++) {
		struct conf_section *s = &f->sections[i];

		for (size_t k = 0; k < s->n_entries; k++) {
			free(s->entries[k].key);
			free(s->entries[k].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(f->sections);
	free(f->path);
	free(f);
	return NULL;
}
DEFINE_FREE_CLEANUP(struct conf_file, conf_file_free)

static char *strip(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = 0;
	return s;
}

static bool valid_name(const char *s, bool section)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    !(section && *s == ' '))
			return false;
	return true;
}

static int add_section(struct conf_file *f, const char *name, unsigned line)
{
	struct conf_section *n = realloc(f->sections, (f->n_sections + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	f->sections = n;
	n = &f->sections[f->n_sections];
	*n = (struct conf_section){.name = strdup(name), .line = line};
	if (!n->name)
		return -ENOMEM;
	f->n_sections++;
	return 0;
}

static int add_entry(struct conf_section *s, const char *key, const char *value, unsigned line)
{
	struct conf_entry *n = realloc(s->entries, (s->n_entries + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->entries = n;
	n = &s->entries[s->n_entries];
	*n = (struct conf_entry){.key = strdup(key), .value = strdup(value), .line = line};
	if (!n->key || !n->value) {
		free(n->key);
		free(n->value);
		return -ENOMEM;
	}
	s->n_entries++;
	return 0;
}

/* One logical line (continuations joined) at line number lineno. */
static int parse_line(struct conf_file *f, char *l, unsigned lineno, struct conf_error *err)
{
	char *eq, *key;

	l = strip(l);
	if (!*l || *l == '#' || *l == ';')
		return 0;
	if (*l == '[') {
		size_t len = strlen(l);

		if (len < 2 || l[len - 1] != ']') {
			conf_error_set(err, f->path, lineno, "section header without closing ']'");
			return -EBADMSG;
		}
		l[len - 1] = 0;
		if (!valid_name(strip(l + 1), true)) {
			conf_error_set(err, f->path, lineno, "invalid section name '%s'", l + 1);
			return -EBADMSG;
		}
		return add_section(f, strip(l + 1), lineno);
	}
	eq = strchr(l, '=');
	if (!eq) {
		conf_error_set(err, f->path, lineno, "expected Key=Value, found '%.60s'", l);
		return -EBADMSG;
	}
	*eq = 0;
	key = strip(l);
	if (!valid_name(key, false)) {
		conf_error_set(err, f->path, lineno, "invalid key name '%.60s'", key);
		return -EBADMSG;
	}
	if (f->n_sections == 0) {
		conf_error_set(err, f->path, lineno, "assignment '%s=' outside of any section",
			       key);
		return -EBADMSG;
	}
	return add_entry(&f->sections[f->n_sections - 1], key, strip(eq + 1), lineno);
}

int conf_parse(const char *path, const char *text, struct conf_file **ret, struct conf_error *err)
{
	_cleanup_(conf_file_freep) struct conf_file *f = calloc(1, sizeof(*f));
	_cleanup_free_ char *buf = malloc(CONF_MAX_LINE);
	unsigned lineno = 0, start = 0;
	size_t len = 0;

	if (!f || !buf || !(f->path = strdup(path)))
		return -ENOMEM;
	for (const char *p = text;; p++) {
		if (*p && *p != '\n') {
			if (len + 1 >= CONF_MAX_LINE) {
				conf_error_set(err, path, lineno + 1, "line too long");
				return -EBADMSG;
			}
			buf[len++] = *p;
			continue;
		}
		lineno++;
		if (!start)
			start = lineno;
		buf[len] = 0;
		/* A trailing backslash continues the line (not in a comment). */
		if (*p && len > 0 && buf[len - 1] == '\\' && strip(buf)[0] != '#' &&
		    strip(buf)[0] != ';') {
			buf[len - 1] = ' ';
			continue;
		}
		int r = parse_line(f, buf, start, err);
		if (r < 0)
			return r;
		len = 0;
		start = 0;
		if (!*p)
			break;
	}
	*ret = TAKE_PTR(f);
	return 0;
}

int conf_load(const char *path, struct conf_file **ret, struct conf_error *err)
{
	_cleanup_free_ uint8_t *text = NULL;
	size_t len;
	int r = read_full_file(path, CONF_MAX_FILE, &text, &len);

	if (r < 0) {
		conf_error_set(err, path, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	if (memchr(text, 0, len)) {
		conf_error_set(err, path, 0, "not a text file (contains NUL bytes)");
		return -EBADMSG;
	}
	return conf_parse(path, (const char *)text, ret, err);
}
