/* pace-memory.c — the pace memory file: what worked (and what a bootloader refused) per device.
 *
 * One line per key, the key first, then key=value fields, the time of its last save last:
 *   udp:192.0.2.10:1337 good_window=3 good_rate=0 good_bps=61234 refused_window=4 refused_rate=0
 *   refused_bps=45120 used=1767225600
 * Replaced atomically on save, so a crash leaves the old or the new file, never a mix. Keys of
 * endpoints never seen again (a test's random port) must not pile up: entries expire, their
 * number is bounded, and what does not parse is reported and dropped, never kept. */
#include "otad/update.h"
#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FILE (1024 * 1024)
#define MAX_KEY	 256

struct entry {
	const char *key; /* into pace_file.buf */
	struct upd_pace_memory m;
	uint64_t used; /* seconds since the epoch of its last save */
	unsigned line;
	bool dropped;
};

struct pace_file {
	const char *path;
	upd_pace_problem_fn problem;
	void *user_data;
	uint64_t now;
	uint8_t *buf;
	struct entry *e;
	size_t n, cap;
	bool dirty; /* something was dropped: the file needs rewriting */
};

static bool valid_key(const char *key)
{
	if (!key || !*key || strlen(key) > MAX_KEY)
		return false;
	/* Blanks and control characters only: a BLE name may be UTF-8 (bytes >= 0x80, negative
	 * as a signed char). */
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

static void report(struct pace_file *f, unsigned line, const char *fmt, ...) _printf_(3, 4);
static void report(struct pace_file *f, unsigned line, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	f->dirty = true;
	if (!f->problem)
		return;
	n = line ? snprintf(text, sizeof(text), "%s:%u: ", f->path, line)
		 : snprintf(text, sizeof(text), "%s: ", f->path);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	f->problem(text, f->user_data);
}

/* At most 40 bytes of s for a message, anything unprintable as '?'. */
static const char *printable(const char *s, char buf[48])
{
	size_t i = 0;

	for (; s[i] && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = '?';
		if (c >= ' ' && c < 0x7f)
			buf[i] = s[i];
	}
	snprintf(buf + i, 48 - i, "%s", s[i] ? "..." : "");
	return buf;
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

static int parse_field(struct entry *e, const char *name, const char *v)
{
	struct upd_pace_memory *m = &e->m;
	bool good = strncmp(name, "good_", 5) == 0, refused = strncmp(name, "refused_", 8) == 0;
	struct upd_pace *pace = good ? &m->good : &m->refused;
	const char *f = good ? name + 5 : name + 8;
	uint32_t u;

	if (strcmp(name, "used") == 0)
		return parse_u64(v, &e->used);
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

static int add_entry(struct pace_file *f, const struct entry *e)
{
	if (f->n == f->cap) {
		size_t cap = MAX(f->cap * 2, (size_t)64);
		struct entry *p = realloc(f->e, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		f->e = p;
		f->cap = cap;
	}
	f->e[f->n++] = *e;
	return 0;
}

/* One non-empty line, NUL-terminated in place: an entry, or a report. */
static int parse_line(struct pace_file *f, char *line, unsigned no)
{
	struct entry e = {.key = line, .line = no, .used = f->now};
	char *rest = line + strcspn(line, " \t"), *save = NULL, q[48];

	if (*rest)
		*rest++ = 0;
	if (!valid_key(line)) {
		report(f, no,
		       "not a device key (1 to %d bytes, no blanks or control characters); "
		       "dropped",
		       MAX_KEY);
		return 0;
	}
	for (char *tok = strtok_r(rest, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');

		printable(tok, q);
		if (eq)
			*eq = 0;
		if (!eq || parse_field(&e, tok, eq + 1) < 0) {
			report(f, no,
			       "%s: '%s' is not one of good_/refused_window (0 to %u), _rate, "
			       "_bps or used=SECONDS; dropped",
			       printable(line, (char[48]){0}), q, UPD_WINDOW_MAX);
			return 0;
		}
	}
	e.used = MIN(e.used, f->now); /* a clock set back: not from the future */
	if (e.used + UPD_PACE_MAX_AGE_SEC < f->now) {
		f->dirty = true; /* expired: dropped without a word */
		return 0;
	}
	return add_entry(f, &e);
}

static int by_line(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* Same key together, the most recent of them first. */
static int by_key_recent_first(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->used != y->used)
		return x->used < y->used ? 1 : -1;
	return -by_line(a, b);
}

/* Least recently used first. */
static int by_use(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->used != y->used)
		return x->used < y->used ? -1 : 1;
	return by_line(a, b);
}

static void drop_duplicates(struct pace_file *f)
{
	size_t kept = 0;

	if (f->n < 2)
		return;
	qsort(f->e, f->n, sizeof(*f->e), by_key_recent_first);
	for (size_t i = 1; i < f->n; i++) {
		if (strcmp(f->e[i].key, f->e[kept].key) != 0) {
			kept = i;
			continue;
		}
		f->e[i].dropped = true;
		report(f, f->e[i].line, "another entry for %s (line %u) is more recent; dropped",
		       printable(f->e[i].key, (char[48]){0}), f->e[kept].line);
	}
	qsort(f->e, f->n, sizeof(*f->e), by_line);
}

/* At most max entries stay, the least recently used go. */
static void bound_entries(struct pace_file *f, size_t max)
{
	size_t live = 0;

	for (size_t i = 0; i < f->n; i++)
		live += !f->e[i].dropped;
	if (live <= max)
		return;
	f->dirty = true;
	qsort(f->e, f->n, sizeof(*f->e), by_use);
	for (size_t i = 0; i < f->n && live > max; i++)
		if (!f->e[i].dropped) {
			f->e[i].dropped = true;
			live--;
		}
	qsort(f->e, f->n, sizeof(*f->e), by_line);
}

static void pace_file_done(struct pace_file *f)
{
	free(f->buf);
	free(f->e);
}

static int pace_file_read(struct pace_file *f, const char *path, upd_pace_problem_fn problem,
			  void *user_data)
{
	size_t len = 0;
	char *p, *end;
	unsigned no = 0;
	int r;

	*f = (struct pace_file){.path = path,
				.problem = problem,
				.user_data = user_data,
				.now = (uint64_t)time(NULL)};
	r = read_full_file(path, MAX_FILE, &f->buf, &len);
	if (r == -EFBIG)
		report(f, 0, "larger than %d bytes, not a pace memory; starting afresh", MAX_FILE);
	if (r == -ENOENT || r == -EFBIG)
		return 0;
	if (r < 0)
		return r;
	for (p = (char *)f->buf, end = p + len; p < end; p++) {
		char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end; /* read_full_file() NUL-terminates */
		*eol = 0;
		no++;
		if (memchr(p, 0, (size_t)(eol - p)))
			report(f, no, "a NUL byte; dropped");
		else if (*p && (r = parse_line(f, p, no)) < 0)
			return r;
		p = eol;
	}
	drop_duplicates(f);
	bound_entries(f, UPD_PACE_MAX_ENTRIES);
	return 0;
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

static void format_line(const char *key, const struct upd_pace_memory *m, uint64_t used, char *buf,
			size_t size)
{
	int n = snprintf(buf, size, "%s", key);

	if (m->has_good)
		n += snprintf(buf + n, size - (size_t)n,
			      " good_window=%u good_rate=%u good_bps=%.0f", m->good.window,
			      m->good.rate, m->good_bps);
	if (m->has_refused)
		n += snprintf(buf + n, size - (size_t)n,
			      " refused_window=%u refused_rate=%u refused_bps=%.0f",
			      m->refused.window, m->refused.rate, m->refused_bps);
	snprintf(buf + n, size - (size_t)n, " used=%llu\n", (unsigned long long)used);
}

/* Every entry still there, in file order, then key's (when given). */
static int pace_file_write(struct pace_file *f, const char *key, const struct upd_pace_memory *m)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0, cap = 0;
	char line[MAX_KEY + 256];

	if (append(&out, &len, &cap, "") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		if (f->e[i].dropped)
			continue;
		format_line(f->e[i].key, &f->e[i].m, f->e[i].used, line, sizeof(line));
		if (append(&out, &len, &cap, line) < 0)
			return -ENOMEM;
	}
	if (key) {
		format_line(key, m, f->now, line, sizeof(line));
		if (append(&out, &len, &cap, line) < 0)
			return -ENOMEM;
	}
	return write_file_atomic(f->path, out, len, 0644);
}

static struct entry *find(struct pace_file *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->e[i].dropped && strcmp(f->e[i].key, key) == 0)
			return &f->e[i];
	return NULL;
}

int upd_pace_memory_load(const char *path, const char *key, struct upd_pace_memory *ret,
			 upd_pace_problem_fn problem, void *user_data)
{
	struct pace_file f;
	struct entry *e;
	int r;

	if (!valid_key(key))
		return -EINVAL;
	r = pace_file_read(&f, path, problem, user_data);
	if (r < 0) {
		pace_file_done(&f);
		return r;
	}
	e = find(&f, key);
	if (e)
		*ret = e->m;
	/* what was dropped stays dropped: never left for the next reader */
	if (f.dirty && (r = pace_file_write(&f, NULL, NULL)) < 0)
		report(&f, 0, "cannot rewrite it without what was dropped: %s", strerror(-r));
	pace_file_done(&f);
	return e ? 0 : -ENOENT;
}

int upd_pace_memory_save(const char *path, const char *key, const struct upd_pace_memory *m,
			 upd_pace_problem_fn problem, void *user_data)
{
	struct pace_file f;
	struct entry *e;
	int r;

	if (!valid_key(key))
		return -EINVAL;
	r = pace_file_read(&f, path, problem, user_data);
	if (r >= 0) {
		e = find(&f, key);
		if (e)
			e->dropped = true;
		bound_entries(&f, UPD_PACE_MAX_ENTRIES - 1); /* room for key's */
		r = pace_file_write(&f, key, m);
	}
	pace_file_done(&f);
	return r;
}
