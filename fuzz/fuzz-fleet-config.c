/* fuzz-fleet-config.c — the config and fleet file parser (src/fleet/conf.c, config.c, keys.c):
 * otad.conf and fleet.d/NAME.conf, INI text an administrator (or a configuration tool) writes.
 * Input: the files' texts separated by NUL bytes (a NUL never occurs in a config text: the reader
 * refuses it): otad.conf, then fleet.d/a.conf, b.conf, c.conf (up to three; absent ones are not
 * written). Each text is also parsed alone with conf_parse().
 * Invariants: conf_parse gives sections and entries in line order, within the text's line count,
 * with valid names, or an error "x.conf:LINE: ..." naming a line of the text; fleet_config_load
 * ends in success or an error "PATH:LINE: ..." whose PATH is one of the files written and LINE
 * one of its lines; a loaded config has every value in its documented range, every required key,
 * unique group and device names, only groups that exist named by devices, and a group for every
 * device that names one; the policy decides on every group without reading out of range. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "otad/fleet.h"

#define MAX_FILES 4

static char dir[64];
static const char *const names[MAX_FILES] = {"otad.conf", "fleet.d/a.conf", "fleet.d/b.conf",
					     "fleet.d/c.conf"};

static void path_of(unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dir, names[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char sub[96];

	snprintf(dir, sizeof(dir), "/tmp/otad-fuzz-fleet-%d", (int)getpid());
	snprintf(sub, sizeof(sub), "%s/fleet.d", dir);
	FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	FUZZ_CHECK(mkdir(sub, 0700) == 0 || errno == EEXIST);
	return 0;
}

static void remove_files(void)
{
	char p[128];

	for (unsigned i = 0; i < MAX_FILES; i++) {
		path_of(i, p, sizeof(p));
		unlink(p);
	}
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
	char sub[96];

	if (!dir[0])
		return;
	remove_files();
	snprintf(sub, sizeof(sub), "%s/fleet.d", dir);
	rmdir(sub);
	rmdir(dir);
}

/* conf_parse() numbers lines from 1; a text of k newlines has k + 1 of them. */
static unsigned line_count(const char *text)
{
	unsigned n = 1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* "PREFIX:LINE: " at the start of text, 1 <= LINE <= lines. */
static bool names_line(const char *text, const char *prefix, unsigned lines)
{
	size_t n = strlen(prefix);
	char *end;
	unsigned long line;

	if (strncmp(text, prefix, n) != 0 || text[n] != ':' || text[n + 1] < '1' ||
	    text[n + 1] > '9')
		return false;
	line = strtoul(text + n + 1, &end, 10);
	return line >= 1 && line <= lines && end[0] == ':' && end[1] == ' ' && end[2];
}

static bool valid_name(const char *s, bool section)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' && !(section && *s == ' '))
			return false;
	return true;
}

static void check_conf_parse(const char *text)
{
	struct conf_file *f = NULL;
	struct conf_error err = {""};
	unsigned lines = line_count(text), last = 0;
	int r = conf_parse("x.conf", text, &f, &err);

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r == -EBADMSG)
		FUZZ_CHECK(names_line(err.text, "x.conf", lines));
	if (r < 0)
		return;
	FUZZ_CHECK(strcmp(f->path, "x.conf") == 0);
	for (size_t i = 0; i < f->n_sections; i++) {
		const struct conf_section *s = &f->sections[i];

		FUZZ_CHECK(valid_name(s->name, true) && s->line > last && s->line <= lines);
		last = s->line;
		for (size_t k = 0; k < s->n_entries; k++) {
			const struct conf_entry *e = &s->entries[k];

			FUZZ_CHECK(valid_name(e->key, false) && e->line > last && e->line <= lines);
			FUZZ_CHECK(!strchr(e->value, '\n'));
			last = e->line;
		}
	}
	conf_file_free(f);
}

static bool in_window(const struct fleet_window *w)
{
	return w->start <= 24 * 60 && w->end <= 24 * 60 && w->start != w->end;
}

static bool pace_ok(const struct upd_pace *p)
{
	return p->window <= UPD_WINDOW_MAX;
}

static void check_group(const struct fleet_config *c, const struct fleet_group *g)
{
	struct img_version v;
	struct fleet_decision d;

	FUZZ_CHECK(g->name && g->name[0] && g->image && g->image[0] && g->file && g->line >= 1);
	FUZZ_CHECK(fleet_config_group(c, g->name) == g); /* the first of that name: unique */
	FUZZ_CHECK(g->image_is_url || g->image[0] == '/');
	FUZZ_CHECK(!g->image_is_url || g->has_sha256);
	FUZZ_CHECK(c->s.allow_http || strncmp(g->image, "http://", 7) != 0);
	FUZZ_CHECK(g->version_text[0] && img_version_parse(g->version_text, &v) == 0 &&
		   img_version_cmp(&v, &g->version) == 0);
	FUZZ_CHECK(g->mode == UPD_MODE_TEST || g->mode == UPD_MODE_CONFIRM);
	FUZZ_CHECK(g->retries <= 10000 && g->max_parallel <= 10000 && pace_ok(&g->pace));
	FUZZ_CHECK(g->n_windows <= FLEET_MAX_WINDOWS);
	for (unsigned i = 0; i < g->n_windows; i++)
		FUZZ_CHECK(in_window(&g->windows[i]));
	FUZZ_CHECK(g->match_adv_len <= sizeof(g->match_adv));
	for (size_t i = 0; i < g->n_match_names; i++)
		FUZZ_CHECK(g->match_names[i][0] && !strpbrk(g->match_names[i], " \t"));
	for (size_t i = 0; i < g->n_match_addresses; i++)
		FUZZ_CHECK(g->match_addresses[i][0] && !strpbrk(g->match_addresses[i], " \t"));
	for (unsigned m = 0; m < 24 * 60; m += 397) {
		fleet_decide(g, g->version_text, m, &d);
		FUZZ_CHECK(d.verdict == FLEET_CURRENT && d.reason[0]);
		fleet_decide(g, "0.0.0", m, &d);
		FUZZ_CHECK(d.verdict < _FLEET_VERDICT_MAX && d.reason[0]);
		FUZZ_CHECK(fleet_verdict_name(d.verdict));
	}
}

static void check_device(const struct fleet_config *c, const struct fleet_device *d)
{
	const char *t = d->transport;

	FUZZ_CHECK(d->name && d->name[0] && t && d->file && d->line >= 1);
	FUZZ_CHECK(fleet_config_device(c, d->name) == d);
	FUZZ_CHECK((strncmp(t, "udp:", 4) == 0 && t[4]) || (strncmp(t, "serial:", 7) == 0 && t[7]) ||
		   (strncmp(t, "ble:", 4) == 0 && t[4]));
	if (d->group) {
		FUZZ_CHECK(d->group_line >= 1);
		FUZZ_CHECK(fleet_config_group_for(c, d->name, t, NULL, 0) ==
			   fleet_config_group(c, d->group));
		FUZZ_CHECK(fleet_config_group(c, d->group));
	}
}

static void check_config(const struct fleet_config *c)
{
	const struct fleet_settings *s = &c->s;

	FUZZ_CHECK(s->max_jobs >= 1 && s->max_jobs <= 64 && s->history <= 10000);
	FUZZ_CHECK(s->retries <= 10000 && pace_ok(&s->pace));
	FUZZ_CHECK(s->mode == UPD_MODE_TEST || s->mode == UPD_MODE_CONFIRM);
	FUZZ_CHECK(!s->state_dir || s->state_dir[0] == '/');
	FUZZ_CHECK(!s->cache_dir || s->cache_dir[0] == '/');
	FUZZ_CHECK(!s->ca_file || s->ca_file[0] == '/');
	FUZZ_CHECK(!s->controller || s->controller[0]);
	for (size_t i = 0; i < c->n_groups; i++)
		check_group(c, &c->groups[i]);
	for (size_t i = 0; i < c->n_devices; i++)
		check_device(c, &c->devices[i]);
}

static void write_text(unsigned i, const char *text)
{
	char p[128];
	size_t n = strlen(text);
	int fd;

	path_of(i, p, sizeof(p));
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write(fd, text, n) == (ssize_t)n);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *texts[MAX_FILES] = {NULL}, *copy = malloc(size + 1), *p;
	struct fleet_config *c = NULL;
	struct conf_error err = {""};
	unsigned n = 0;
	bool named = false;
	int r;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_CHECK(copy);
	memcpy(copy, data, size);
	copy[size] = 0;
	/* NUL-separated texts; a fifth and later are ignored */
	for (p = copy; n < MAX_FILES; p += strlen(p) + 1) {
		texts[n++] = p;
		if (p + strlen(p) == copy + size)
			break;
	}
	remove_files();
	for (unsigned i = 0; i < n; i++) {
		check_conf_parse(texts[i]);
		write_text(i, texts[i]);
	}
	r = fleet_config_load(dir, &c, &err);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r == -EBADMSG) {
		for (unsigned i = 0; i < n; i++) {
			char path[128];

			path_of(i, path, sizeof(path));
			named = named || names_line(err.text, path, line_count(texts[i]));
		}
		if (!named)
			fprintf(stderr, "error without FILE:LINE: %s\n", err.text);
		FUZZ_CHECK(named);
	} else if (r == 0) {
		check_config(c);
	}
	fleet_config_free(c);
	free(copy);
	return 0;
}
