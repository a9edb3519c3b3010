/* store.c — state file: key=value metadata (atomic replace) beside a memory-mapped flash file. */
#include "sim/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

#define STORE_FORMAT   1
#define STORE_MAX_SIZE (64 * 1024)

enum key_type { KEY_FORMAT, KEY_NAME, KEY_U32, KEY_U64, KEY_BOOL, KEY_SWAP };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	bool required;
};

#define T(slot, f) offsetof(struct sim_store_meta, trailer[slot].f)
static const struct key keys[] = {
	{"format", KEY_FORMAT, 0, true},
	{"profile", KEY_NAME, offsetof(struct sim_store_meta, profile), false},
	{"slot_size", KEY_U32, offsetof(struct sim_store_meta, slot_size), true},
	{"slot0.magic", KEY_BOOL, T(0, magic), true},
	{"slot0.image_ok", KEY_BOOL, T(0, image_ok), true},
	{"slot0.copy_done", KEY_BOOL, T(0, copy_done), true},
	{"slot0.swap_type", KEY_SWAP, T(0, swap_type), true},
	{"slot1.magic", KEY_BOOL, T(1, magic), true},
	{"slot1.image_ok", KEY_BOOL, T(1, image_ok), true},
	{"slot1.copy_done", KEY_BOOL, T(1, copy_done), true},
	{"slot1.swap_type", KEY_SWAP, T(1, swap_type), true},
	{"boots", KEY_U64, offsetof(struct sim_store_meta, counters.boots), false},
	{"swaps", KEY_U64, offsetof(struct sim_store_meta, counters.swaps), false},
	{"refusals", KEY_U64, offsetof(struct sim_store_meta, counters.refusals), false},
	{"reverts", KEY_U64, offsetof(struct sim_store_meta, counters.reverts), false},
	{"swapping", KEY_SWAP, offsetof(struct sim_store_meta, swapping), false},
};
#undef T

static const char *const swap_names[] = {"unset", "none", "test", "perm", "revert"};

static const char *parse_value(const struct key *k, const char *v, struct sim_store_meta *m)
{
	uint8_t *field = (uint8_t *)m + k->offset;
	uint64_t u;

	switch (k->type) {
	case KEY_FORMAT:
		if (parse_u64(v, &u) < 0 || u != STORE_FORMAT)
			return "unsupported format (expected 1)";
		return NULL;
	case KEY_NAME:
		if (strlen(v) >= sizeof(m->profile) ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(v))
			return "profile name is not [a-z0-9-]{0,31}";
		memcpy(field, v, strlen(v) + 1);
		return NULL;
	case KEY_U32:
		if (parse_u32(v, (uint32_t *)(void *)field) < 0)
			return "not an unsigned 32-bit number";
		return NULL;
	case KEY_U64:
		if (parse_u64(v, (uint64_t *)(void *)field) < 0)
			return "not an unsigned number";
		return NULL;
	case KEY_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return "flag is not 0 or 1";
		*(bool *)field = v[0] == '1';
		return NULL;
	case KEY_SWAP:
		for (size_t i = 0; i < ARRAY_SIZE(swap_names); i++)
			if (strcmp(v, swap_names[i]) == 0) {
				*field = (uint8_t)i;
				return NULL;
			}
		return "swap_type is not unset, none, test, perm or revert";
	}
	return "internal error";
}

/* One "key=value" line (already stripped of its newline). */
static const char *parse_line(char *line, struct sim_store_meta *m, bool seen[])
{
	char *eq = strchr(line, '=');

	if (!eq)
		return "expected key=value";
	*eq = 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(line, keys[i].name) != 0)
			continue;
		if (seen[i])
			return "key given twice";
		seen[i] = true;
		return parse_value(&keys[i], eq + 1, m);
	}
	return "unknown key";
}

int sim_store_parse(const char *text, struct sim_store_meta *ret, unsigned *ret_line,
		    const char **ret_why)
{
	_cleanup_free_ char *copy = strdup(text);
	bool seen[ARRAY_SIZE(keys)] = {false};
	struct sim_store_meta m = {0};
	unsigned lineno = 0;
	char *save = NULL, *p;

	if (!copy)
		return -ENOMEM;
	*ret_line = 0;
	for (p = copy; p; p = save) {
		const char *why;

		save = strchr(p, '\n');
		if (save)
			*save++ = 0;
		lineno++;
		if (!save && !*p)
			break; /* end of the last line */
		if (*p == 0 || *p == '#')
			continue;
		why = parse_line(p, &m, seen);
		if (why) {
			*ret_line = lineno;
			*ret_why = why;
			return -EBADMSG;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].required && !seen[i]) {
			*ret_why = "a required key is missing (format, slot_size, slotN.*)";
			return -EBADMSG;
		}
	*ret = m;
	return 0;
}

char *sim_store_format(const struct sim_store_meta *m)
{
	char *s = NULL;
	const struct sim_trailer *t = m->trailer;
	int r;

	r = asprintf(
		&s,
		"# otasim device state (docs/otasim.md); slot bytes are in the .flash file\n"
		"format=%d\nprofile=%s\nslot_size=%u\n"
		"slot0.magic=%d\nslot0.image_ok=%d\nslot0.copy_done=%d\nslot0.swap_type=%s\n"
		"slot1.magic=%d\nslot1.image_ok=%d\nslot1.copy_done=%d\nslot1.swap_type=%s\n"
		"boots=%llu\nswaps=%llu\nrefusals=%llu\nreverts=%llu\nswapping=%s\n",
		STORE_FORMAT, m->profile, m->slot_size, t[0].magic, t[0].image_ok, t[0].copy_done,
		swap_names[t[0].swap_type % ARRAY_SIZE(swap_names)], t[1].magic, t[1].image_ok,
		t[1].copy_done, swap_names[t[1].swap_type % ARRAY_SIZE(swap_names)],
		(unsigned long long)m->counters.boots, (unsigned long long)m->counters.swaps,
		(unsigned long long)m->counters.refusals, (unsigned long long)m->counters.reverts,
		swap_names[m->swapping % ARRAY_SIZE(swap_names)]);
	return r < 0 ? NULL : s;
}

struct sim_store {
	char *path; /* NULL: in memory */
	uint8_t *flash;
	size_t flash_size;
	bool mapped;
	struct sim_store_meta meta;
};

static void set_err(char *err, size_t size, const char *fmt, ...) _printf_(3, 4);
static void set_err(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!err || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* Maps path.flash; creates it erased when create is true. */
static int map_flash(struct sim_store *s, bool create, char *err, size_t err_size)
{
	_cleanup_free_ char *fpath = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	void *p;

	if (asprintf(&fpath, "%s.flash", s->path) < 0)
		return -ENOMEM;
	fd = open(fpath, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644);
	if (fd < 0) {
		int r = -errno;

		set_err(err, err_size, "%s: %s", fpath, strerror(-r));
		return r;
	}
	if (create && ftruncate(fd, (off_t)s->flash_size) < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != s->flash_size) {
		set_err(err, err_size, "%s: %llu bytes, expected %zu (2 slots of %u)", fpath,
			(unsigned long long)st.st_size, s->flash_size, s->meta.slot_size);
		return -EINVAL;
	}
	p = mmap(NULL, s->flash_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	s->flash = p;
	s->mapped = true;
	if (create)
		memset(s->flash, 0xff, s->flash_size);
	return 0;
}

static int load_meta(struct sim_store *s, uint32_t slot_size, char *err, size_t err_size)
{
	_cleanup_free_ uint8_t *text = NULL;
	const char *why = NULL;
	unsigned line;
	int r;

	r = read_full_file(s->path, STORE_MAX_SIZE, &text, NULL);
	if (r < 0) {
		set_err(err, err_size, "%s: %s", s->path, strerror(-r));
		return r;
	}
	r = sim_store_parse((const char *)text, &s->meta, &line, &why);
	if (r == -EBADMSG) {
		if (line)
			set_err(err, err_size, "%s:%u: %s", s->path, line, why);
		else
			set_err(err, err_size, "%s: %s", s->path, why);
		return r;
	}
	if (r < 0)
		return r;
	if (s->meta.slot_size != slot_size) {
		set_err(err, err_size, "%s: slot_size %u does not match the profile's %u", s->path,
			s->meta.slot_size, slot_size);
		return -EINVAL;
	}
	return 0;
}

int sim_store_open(const char *path, const char *profile, uint32_t slot_size,
		   struct sim_store **ret, bool *ret_created, char *err, size_t err_size)
{
	struct sim_store *s;
	bool create = true;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->flash_size = (size_t)slot_size * 2;
	s->meta.slot_size = slot_size;
	snprintf(s->meta.profile, sizeof(s->meta.profile), "%s", profile ? profile : "");
	if (path) {
		s->path = strdup(path);
		if (!s->path) {
			sim_store_free(s);
			return -ENOMEM;
		}
		create = access(path, F_OK) < 0 && errno == ENOENT;
		r = create ? 0 : load_meta(s, slot_size, err, err_size);
		/* the file records the profile the device last ran with */
		snprintf(s->meta.profile, sizeof(s->meta.profile), "%s", profile ? profile : "");
		if (r >= 0)
			r = map_flash(s, create, err, err_size);
		if (r < 0) {
			if (err && !*err)
				set_err(err, err_size, "%s: %s", path, strerror(-r));
			sim_store_free(s);
			return r;
		}
	} else {
		s->flash = malloc(s->flash_size);
		if (!s->flash) {
			sim_store_free(s);
			return -ENOMEM;
		}
		memset(s->flash, 0xff, s->flash_size);
	}
	if (ret_created)
		*ret_created = create;
	*ret = s;
	return 0;
}

struct sim_store *sim_store_free(struct sim_store *s)
{
	if (!s)
		return NULL;
	if (s->mapped)
		munmap(s->flash, s->flash_size);
	else
		free(s->flash);
	free(s->path);
	free(s);
	return NULL;
}

uint8_t *sim_store_flash(struct sim_store *s)
{
	return s->flash;
}

struct sim_store_meta *sim_store_meta(struct sim_store *s)
{
	return &s->meta;
}

int sim_store_save(struct sim_store *s)
{
	_cleanup_free_ char *text = NULL;

	if (!s->path)
		return 0;
	text = sim_store_format(&s->meta);
	if (!text)
		return -ENOMEM;
	return write_file_atomic(s->path, text, strlen(text), 0644);
}

int sim_store_sync(struct sim_store *s)
{
	if (s->mapped && msync(s->flash, s->flash_size, MS_SYNC) < 0)
		return -errno;
	return sim_store_save(s);
}
