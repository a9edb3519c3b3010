/* config.c — otad.conf and the fleet files into a struct fleet_config; every key is described by
 * one table row (key, parser, field), every error names its file and line. */
#include "otad/fleet.h"
#include "fleet/keys.h"
#include "util/macro.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void group_done(struct fleet_group *g)
{
	free(g->name);
	free(g->file);
	free(g->image);
	for (size_t i = 0; i < g->n_match_names; i++)
		free(g->match_names[i]);
	free(g->match_names);
	for (size_t i = 0; i < g->n_match_addresses; i++)
		free(g->match_addresses[i]);
	free(g->match_addresses);
}

static void device_done(struct fleet_device *d)
{
	free(d->name);
	free(d->transport);
	free(d->group);
	free(d->file);
}

struct fleet_config *fleet_config_free(struct fleet_config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_groups; i++)
		group_done(&c->groups[i]);
	free(c->groups);
	for (size_t i = 0; i < c->n_devices; i++)
		device_done(&c->devices[i]);
	free(c->devices);
	for (size_t i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->s.controller);
	free(c->s.state_dir);
	free(c->s.cache_dir);
	free(c->s.ca_file);
	free(c);
	return NULL;
}
DEFINE_FREE_CLEANUP(struct fleet_config, fleet_config_free)
DEFINE_FREE_CLEANUP(struct conf_file, conf_file_free)

static void settings_init(struct fleet_settings *s)
{
	*s = (struct fleet_settings){
		.max_jobs = 2,
		.poll_interval_usec = 300 * USEC_PER_SEC,
		.scan_interval_usec = 60 * USEC_PER_SEC,
		.scan_duration_usec = 5 * USEC_PER_SEC,
		.retry_delay_usec = 3600 * USEC_PER_SEC,
		.history = 50,
		.max_image_size = 8 * 1024 * 1024,
		.pace = {.window = UPD_WINDOW_AUTO},
		.mode = UPD_MODE_TEST,
		.retries = 2,
		.rsp_timeout_usec = 5 * USEC_PER_SEC,
		.boot_timeout_usec = 0, /* from the image and the device (upd_boot_timeout) */
	};
}

/* Applies one section's entries through its key table; an error names what the section is
 * (what: "" or "device 'NAME': "). */
static int apply_section(const struct conf_file *f, const struct conf_section *s,
			 const struct conf_key *keys, void *obj, const struct fleet_settings *set,
			 const char *what, struct conf_error *err)
{
	for (size_t i = 0; i < s->n_entries; i++) {
		const struct conf_entry *e = &s->entries[i];
		const struct conf_key *k = keys;
		const char *why = NULL;
		int r;

		while (k->key && strcmp(k->key, e->key) != 0)
			k++;
		if (!k->key) {
			conf_error_set(err, f->path, e->line, "unknown key '%s' in section [%s]",
				       e->key, s->name);
			return -EBADMSG;
		}
		r = k->parse(e->value, (uint8_t *)obj + k->offset, set, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			conf_error_set(err, f->path, e->line, "%s%s=%s: %s", what, e->key, e->value,
				       why ? why : "invalid value");
			return -EBADMSG;
		}
	}
	return 0;
}

static int load_main(const char *path, struct fleet_config *c, struct conf_error *err)
{
	_cleanup_(conf_file_freep) struct conf_file *f = NULL;
	int r = conf_load(path, &f, err);

	if (r == -ENOENT)
		return 0; /* no otad.conf: defaults */
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	for (size_t i = 0; i < f->n_sections; i++) {
		const struct conf_section *s = &f->sections[i];

		if (strcmp(s->name, "Daemon") == 0)
			r = apply_section(f, s, fleet_daemon_keys, &c->s, &c->s, "", err);
		else if (strcmp(s->name, "Update") == 0)
			r = apply_section(f, s, fleet_update_keys, &c->s, &c->s, "", err);
		else {
			conf_error_set(err, f->path, s->line,
				       "unknown section [%s] (expected [Daemon] or [Update])",
				       s->name);
			r = -EBADMSG;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int group_check(const struct fleet_config *c, const struct fleet_group *g, const char *path,
		       unsigned line, struct conf_error *err)
{
	if (!g->name) {
		conf_error_set(err, path, line, "[Group] without Name=");
		return -EBADMSG;
	}
	if (!g->image) {
		conf_error_set(err, path, line, "group '%s' has no Image=", g->name);
		return -EBADMSG;
	}
	if (!g->version_text[0]) {
		conf_error_set(err, path, line, "group '%s' has no Version=", g->name);
		return -EBADMSG;
	}
	if (g->image_is_url && !g->has_sha256) {
		conf_error_set(
			err, path, line,
			"group '%s': an image URL needs SHA256= (the pin checked before use)",
			g->name);
		return -EBADMSG;
	}
	if (fleet_config_group(c, g->name)) {
		conf_error_set(err, path, line, "group '%s' is already defined", g->name);
		return -EBADMSG;
	}
	return 0;
}

static int device_check(const struct fleet_config *c, const struct fleet_device *d,
			const char *path, unsigned line, struct conf_error *err)
{
	if (!d->name) {
		conf_error_set(err, path, line, "[Device] without Name=");
		return -EBADMSG;
	}
	if (!d->transport) {
		conf_error_set(err, path, line, "device '%s' has no Transport=", d->name);
		return -EBADMSG;
	}
	if (fleet_config_device(c, d->name)) {
		conf_error_set(err, path, line, "device '%s' is already defined", d->name);
		return -EBADMSG;
	}
	return 0;
}

static int add_warning(struct fleet_config *c, const char *fmt, ...) _printf_(2, 3);
static int add_warning(struct fleet_config *c, const char *fmt, ...)
{
	char **n = realloc(c->warnings, (c->n_warnings + 1) * sizeof(*n));
	va_list ap;
	int r;

	if (!n)
		return -ENOMEM;
	c->warnings = n;
	va_start(ap, fmt);
	r = vasprintf(&n[c->n_warnings], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	c->n_warnings++;
	return 0;
}

/* A local image is read when a job starts, long after the reload that named it: one that is not
 * there now is said now. Not an error: the file may be put in place after the fleet file, and
 * the other groups must not wait for it. */
static int check_image_file(struct fleet_config *c, struct fleet_group *g,
			    const struct conf_file *f, const struct conf_section *s)
{
	unsigned line = s->line;
	struct stat st;

	if (g->image_is_url)
		return 0;
	if (stat(g->image, &st) < 0 || access(g->image, R_OK) < 0)
		g->image_errno = errno;
	else if (!S_ISREG(st.st_mode))
		g->image_errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	if (!g->image_errno)
		return 0;
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, "Image") == 0)
			line = s->entries[i].line;
	return add_warning(c,
			   "%s:%u: group '%s': Image=%s cannot be read (%s); its devices are "
			   "not updated until it can and otad reloads",
			   f->path, line, g->name, g->image,
			   g->image_errno == EINVAL ? "not a regular file"
						    : strerror(g->image_errno));
}

static int add_group(struct fleet_config *c, const struct conf_file *f,
		     const struct conf_section *s, struct conf_error *err)
{
	struct fleet_group g = {.mode = c->s.mode, .retries = c->s.retries, .pace = c->s.pace};
	struct fleet_group *n;
	int r = apply_section(f, s, fleet_group_keys, &g, &c->s, "", err);

	if (r >= 0)
		r = group_check(c, &g, f->path, s->line, err);
	if (r >= 0)
		r = check_image_file(c, &g, f, s);
	if (r >= 0 && (!(g.file = strdup(f->path)) ||
		       !(n = realloc(c->groups, (c->n_groups + 1) * sizeof(*n)))))
		r = -ENOMEM;
	if (r < 0) {
		group_done(&g);
		return r;
	}
	g.line = s->line;
	c->groups = n;
	c->groups[c->n_groups++] = g;
	return 0;
}

static int add_device(struct fleet_config *c, const struct conf_file *f,
		      const struct conf_section *s, struct conf_error *err)
{
	struct fleet_device d = {0};
	struct fleet_device *n;
	char what[96] = "";
	int r;

	/* a device's Transport= is checked where it is written, maybe before its Name= */
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, "Name") == 0)
			snprintf(what, sizeof(what), "device '%.64s': ", s->entries[i].value);
	r = apply_section(f, s, fleet_device_keys, &d, &c->s, what, err);
	for (size_t i = 0; i < s->n_entries; i++)
		if (strcmp(s->entries[i].key, "Group") == 0)
			d.group_line = s->entries[i].line;
	if (r >= 0)
		r = device_check(c, &d, f->path, s->line, err);
	if (r >= 0 && (!(d.file = strdup(f->path)) ||
		       !(n = realloc(c->devices, (c->n_devices + 1) * sizeof(*n)))))
		r = -ENOMEM;
	if (r < 0) {
		device_done(&d);
		return r;
	}
	d.line = s->line;
	c->devices = n;
	c->devices[c->n_devices++] = d;
	return 0;
}

static int load_fleet_file(const char *path, struct fleet_config *c, struct conf_error *err)
{
	_cleanup_(conf_file_freep) struct conf_file *f = NULL;
	int r = conf_load(path, &f, err);

	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	for (size_t i = 0; i < f->n_sections; i++) {
		const struct conf_section *s = &f->sections[i];

		if (strcmp(s->name, "Group") == 0)
			r = add_group(c, f, s, err);
		else if (strcmp(s->name, "Device") == 0)
			r = add_device(c, f, s, err);
		else {
			conf_error_set(err, f->path, s->line,
				       "unknown section [%s] (expected [Group] or [Device])",
				       s->name);
			r = -EBADMSG;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int conf_name_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int load_fleet_dir(const char *dir, struct fleet_config *c, struct conf_error *err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, conf_name_filter, alphasort), r = 0;

	if (n < 0)
		return errno == ENOENT ? 0
				       : (conf_error_set(err, dir, 0, "cannot list: %m"), -EBADMSG);
	for (int i = 0; i < n; i++) {
		char *path = NULL;

		if (r >= 0 && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			r = -ENOMEM;
		if (r >= 0)
			r = load_fleet_file(path, c, err);
		free(path);
		free(names[i]);
	}
	free(names);
	return r;
}

static int check_device_groups(const struct fleet_config *c, struct conf_error *err)
{
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct fleet_device *d = &c->devices[i];

		if (d->group && !fleet_config_group(c, d->group)) {
			conf_error_set(err, d->file, d->group_line,
				       "device '%s' names unknown group '%s'", d->name, d->group);
			return -EBADMSG;
		}
	}
	return 0;
}

int fleet_config_load(const char *config_dir, struct fleet_config **ret, struct conf_error *err)
{
	_cleanup_(fleet_config_freep) struct fleet_config *c = calloc(1, sizeof(*c));
	_cleanup_free_ char *main_path = NULL, *fleet_dir = NULL;
	int r;

	if (!c)
		return -ENOMEM;
	settings_init(&c->s);
	if (asprintf(&main_path, "%s/otad.conf", config_dir) < 0 ||
	    asprintf(&fleet_dir, "%s/fleet.d", config_dir) < 0)
		return -ENOMEM;
	r = load_main(main_path, c, err);
	if (r >= 0)
		r = load_fleet_dir(fleet_dir, c, err);
	if (r >= 0)
		r = check_device_groups(c, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

const struct fleet_group *fleet_config_group(const struct fleet_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_groups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

const struct fleet_device *fleet_config_device(const struct fleet_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_devices; i++)
		if (strcmp(c->devices[i].name, name) == 0)
			return &c->devices[i];
	return NULL;
}

static bool contains_bytes(const uint8_t *hay, size_t hay_len, const uint8_t *n, size_t n_len)
{
	if (n_len == 0)
		return true;
	for (size_t i = 0; hay && i + n_len <= hay_len; i++)
		if (memcmp(hay + i, n, n_len) == 0)
			return true;
	return false;
}

static bool group_matches(const struct fleet_group *g, const char *name, const char *address,
			  const uint8_t *adv, size_t adv_len)
{
	bool any = false;

	if (g->n_match_names) {
		bool m = false;

		for (size_t i = 0; name && i < g->n_match_names; i++)
			m = m || fnmatch(g->match_names[i], name, 0) == 0;
		if (!m)
			return false;
		any = true;
	}
	if (g->n_match_addresses) {
		bool m = false;

		for (size_t i = 0; address && i < g->n_match_addresses; i++)
			m = m || strcasecmp(g->match_addresses[i], address) == 0;
		if (!m)
			return false;
		any = true;
	}
	if (g->match_adv_len) {
		if (!contains_bytes(adv, adv_len, g->match_adv, g->match_adv_len))
			return false;
		any = true;
	}
	return any; /* a group without rules only takes devices that name it */
}

const struct fleet_group *fleet_config_group_for(const struct fleet_config *c, const char *name,
						 const char *address, const uint8_t *adv,
						 size_t adv_len)
{
	const struct fleet_device *d = fleet_config_device(c, name);

	if (d && d->group)
		return fleet_config_group(c, d->group);
	for (size_t i = 0; c && i < c->n_groups; i++)
		if (group_matches(&c->groups[i], name, address, adv, adv_len))
			return &c->groups[i];
	return NULL;
}
