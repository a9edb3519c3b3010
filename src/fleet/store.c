/* store.c — job files (jobstore.h): format, parse, atomic save, load with corrupt files moved
 * aside and leftovers of interrupted writes removed. */
#include "otad/jobstore.h"
#include "fleet/keys.h"
#include "util/fileio.h"
#include "util/macro.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job_store {
	char *dir; /* STATE_DIR/jobs */
};

static const char *const state_names[_JOB_STATE_MAX] = {
	[JOB_QUEUED] = "queued", [JOB_RUNNING] = "running",	[JOB_SUCCEEDED] = "succeeded",
	[JOB_FAILED] = "failed", [JOB_CANCELLED] = "cancelled",
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < _JOB_STATE_MAX ? state_names[s] : "?";
}

int job_state_from_name(const char *s, enum job_state *ret)
{
	for (unsigned i = 0; i < _JOB_STATE_MAX; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*ret = (enum job_state)i;
			return 0;
		}
	return -EINVAL;
}

/* One line of value: newlines would break the file, and a backslash at its end would continue
 * the value onto the next key's line (conf.h); a blank after it stops that, and the reader strips
 * it again. */
static void put(FILE *f, const char *key, const char *value)
{
	size_t n = strlen(value);

	fprintf(f, "%s=", key);
	for (const char *p = value; *p; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
	if (n && value[n - 1] == '\\')
		fputc(' ', f);
	fputc('\n', f);
}

static void put_u64(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, "%s=%" PRIu64 "\n", key, v);
}

int job_record_format(const struct job_record *r, char **ret_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char win[16];

	if (!f)
		return -ENOMEM;
	fputs("# otad job state (otad(8)); replaced atomically, do not edit while otad runs\n"
	      "[Job]\n",
	      f);
	put_u64(f, "Id", r->id);
	put(f, "Device", r->device);
	put(f, "Transport", r->transport);
	put(f, "Group", r->group);
	put(f, "Source", r->source);
	put(f, "Image", r->image);
	put(f, "SHA256", r->sha256);
	put(f, "TargetVersion", r->target_version);
	put(f, "Automatic", r->automatic ? "yes" : "no");
	put(f, "State", job_state_name(r->state));
	put(f, "Step", r->step);
	put(f, "Failure", r->failure);
	put(f, "Error", r->error);
	put_u64(f, "Created", r->created);
	put_u64(f, "Started", r->started);
	put_u64(f, "Finished", r->finished);
	put_u64(f, "Offset", r->offset);
	put_u64(f, "Total", r->total);
	put_u64(f, "BytesSent", r->bytes_sent);
	put_u64(f, "Attempts", r->attempts);
	put(f, "Mode", r->mode == UPD_MODE_CONFIRM ? "confirm" : "test");
	put_u64(f, "Retries", r->retries);
	put_u64(f, "Rate", r->pace.rate);
	snprintf(win, sizeof(win), "%u", r->pace.window);
	put(f, "Window", r->pace.window == UPD_WINDOW_AUTO ? "auto" : win);
	put(f, "Force", r->force ? "yes" : "no");
	put_u64(f, "PaceRate", r->pace_used.rate);
	put_u64(f, "PaceWindow", r->pace_used.window);
	put_u64(f, "BootDeadline", r->boot_deadline);
	put_u64(f, "BootTimeout", r->boot_timeout);
	put(f, "BootRevert", r->boot_revert ? "yes" : "no");
	put(f, "ImageHash", r->image_hash);
	put(f, "OldHash", r->old_hash);
	put(f, "OldVersion", r->old_version);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret_text = text;
	return 0;
}

/* ---- parsing: one table row per key ------------------------------------------------------ */

#define R(f) offsetof(struct job_record, f)

static int p_text(const char *v, void *dst, size_t size, const char **why)
{
	if (strlen(v) >= size) {
		*why = "too long";
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int p_u64(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	if (parse_u64(v, dst) < 0) {
		*why = "not an unsigned number";
		return -EINVAL;
	}
	return 0;
}

static int p_uint(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	uint32_t u;

	if (parse_u32(v, &u) < 0) {
		*why = "not an unsigned 32-bit number";
		return -EINVAL;
	}
	*(unsigned *)dst = u;
	return 0;
}

static int p_yesno(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	if (parse_bool(v, dst) < 0) {
		*why = "expected yes or no";
		return -EINVAL;
	}
	return 0;
}

static int p_state(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	if (job_state_from_name(v, dst) < 0) {
		*why = "not a job state";
		return -EINVAL;
	}
	return 0;
}

static int p_jmode(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	if (fleet_parse_mode(v, dst) < 0) {
		*why = "expected test or confirm";
		return -EINVAL;
	}
	return 0;
}

static int p_jwindow(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	if (fleet_parse_pace_window(v, dst) < 0) {
		*why = "expected auto or 1..32";
		return -EINVAL;
	}
	return 0;
}

static int p_u32v(const char *v, void *dst, const struct fleet_settings *s, const char **why)
{
	if (parse_u32(v, dst) < 0) {
		*why = "not an unsigned 32-bit number";
		return -EINVAL;
	}
	return 0;
}

/* String fields: the key table stores offset and size together; see text_keys. */
struct text_key {
	const char *key;
	size_t offset, size;
};

#define T(k, f)                                                                                    \
	{                                                                                          \
		k, R(f), sizeof(((struct job_record *)0)->f)                                       \
	}
static const struct text_key text_keys[] = {
	T("Device", device),
	T("Transport", transport),
	T("Group", group),
	T("Source", source),
	T("Image", image),
	T("SHA256", sha256),
	T("TargetVersion", target_version),
	T("Step", step),
	T("Failure", failure),
	T("Error", error),
	T("ImageHash", image_hash),
	T("OldHash", old_hash),
	T("OldVersion", old_version),
	{},
};

static const struct conf_key job_keys[] = {
	{"Id", p_u32v, R(id)},
	{"Automatic", p_yesno, R(automatic)},
	{"State", p_state, R(state)},
	{"Created", p_u64, R(created)},
	{"Started", p_u64, R(started)},
	{"Finished", p_u64, R(finished)},
	{"Offset", p_u64, R(offset)},
	{"Total", p_u64, R(total)},
	{"BytesSent", p_u64, R(bytes_sent)},
	{"Attempts", p_uint, R(attempts)},
	{"Mode", p_jmode, R(mode)},
	{"Retries", p_uint, R(retries)},
	{"Rate", p_u32v, R(pace.rate)},
	{"Window", p_jwindow, R(pace.window)},
	{"Force", p_yesno, R(force)},
	{"PaceRate", p_u32v, R(pace_used.rate)},
	{"PaceWindow", p_uint, R(pace_used.window)},
	{"BootDeadline", p_u64, R(boot_deadline)},
	{"BootTimeout", p_u64, R(boot_timeout)},
	{"BootRevert", p_yesno, R(boot_revert)},
	{},
};

static int parse_entry(const char *path, const struct conf_entry *e, struct job_record *r,
		       uint64_t *seen, struct conf_error *err)
{
	const char *why = NULL;
	unsigned idx = 0;
	int rr = -ENOENT;

	for (const struct text_key *t = text_keys; t->key; t++, idx++)
		if (strcmp(t->key, e->key) == 0) {
			rr = p_text(e->value, (uint8_t *)r + t->offset, t->size, &why);
			break;
		}
	if (rr == -ENOENT) {
		idx = 32;
		for (const struct conf_key *k = job_keys; k->key; k++, idx++)
			if (strcmp(k->key, e->key) == 0) {
				rr = k->parse(e->value, (uint8_t *)r + k->offset, NULL, &why);
				break;
			}
	}
	if (rr == -ENOENT) {
		conf_error_set(err, path, e->line, "unknown key '%s'", e->key);
		return -EBADMSG;
	}
	if (rr < 0 || (*seen & (UINT64_C(1) << idx))) {
		conf_error_set(err, path, e->line, "%s=%s: %s", e->key, e->value,
			       rr < 0 ? why : "given twice");
		return -EBADMSG;
	}
	*seen |= UINT64_C(1) << idx;
	return 0;
}

int job_record_parse(const char *path, const char *text, struct job_record *ret,
		     struct conf_error *err)
{
	struct conf_file *f = NULL;
	struct job_record r = {0};
	uint64_t seen = 0;
	int rr = conf_parse(path, text, &f, err);

	if (rr < 0)
		return rr;
	if (f->n_sections != 1 || strcmp(f->sections[0].name, "Job") != 0) {
		conf_error_set(err, path, f->n_sections ? f->sections[0].line : 1,
			       "expected exactly one [Job] section");
		rr = -EBADMSG;
	}
	for (size_t i = 0; rr >= 0 && i < f->sections[0].n_entries; i++)
		rr = parse_entry(path, &f->sections[0].entries[i], &r, &seen, err);
	if (rr >= 0 && (!r.id || !r.device[0] || !r.transport[0] || !r.source[0] ||
			!(seen & (UINT64_C(1) << (32 + 2))))) {
		conf_error_set(err, path, f->sections[0].line,
			       "incomplete: Id, Device, Transport, Source and State are required");
		rr = -EBADMSG;
	}
	conf_file_free(f);
	if (rr >= 0)
		*ret = r;
	return rr;
}

/* ---- the directory ----------------------------------------------------------------------- */

int job_store_open(const char *state_dir, struct job_store **ret)
{
	struct job_store *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	if (asprintf(&s->dir, "%s/jobs", state_dir) < 0) {
		free(s);
		return -ENOMEM;
	}
	r = mkdir_p(s->dir, 0750);
	if (r < 0) {
		job_store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct job_store *job_store_free(struct job_store *s)
{
	if (!s)
		return NULL;
	free(s->dir);
	free(s);
	return NULL;
}

int job_store_save(struct job_store *s, const struct job_record *r)
{
	_cleanup_free_ char *text = NULL, *path = NULL;
	int e = job_record_format(r, &text);

	if (e < 0)
		return e;
	if (asprintf(&path, "%s/%" PRIu32 ".job", s->dir, r->id) < 0)
		return -ENOMEM;
	return write_file_atomic(path, text, strlen(text), 0640);
}

int job_store_remove(struct job_store *s, uint32_t id)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%" PRIu32 ".job", s->dir, id) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* "N.job" → N; "N.job.XXXXXX" (an interrupted write) → N with *ret_temp; else 0. */
static uint32_t name_id(const char *name, bool *ret_temp, bool *ret_job)
{
	uint64_t id;
	char digits[16];
	size_t n = strspn(name, "0123456789");

	*ret_temp = *ret_job = false;
	if (n == 0 || n >= sizeof(digits) || strncmp(name + n, ".job", 4) != 0)
		return 0;
	memcpy(digits, name, n);
	digits[n] = 0;
	if (parse_u64(digits, &id) < 0 || id > UINT32_MAX)
		return 0;
	if (name[n + 4] == 0)
		*ret_job = true;
	else if (name[n + 4] == '.' && strlen(name + n + 5) == 6)
		*ret_temp = true;
	return (uint32_t)id;
}

static int remove_in(struct job_store *s, const char *name)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", s->dir, name) < 0)
		return -ENOMEM;
	return unlink(path) < 0 ? -errno : 0;
}

static int id_compare(const struct dirent **a, const struct dirent **b)
{
	uint64_t x = strtoull((*a)->d_name, NULL, 10), y = strtoull((*b)->d_name, NULL, 10);

	return x < y ? -1 : x > y;
}

static void load_one(struct job_store *s, const char *name, const struct job_store_ops *ops,
		     void *ud, int *loaded)
{
	_cleanup_free_ char *path = NULL, *aside = NULL;
	_cleanup_free_ uint8_t *text = NULL;
	struct conf_error err = {""};
	struct job_record r;
	char msg[700];
	size_t len;
	int e;

	if (asprintf(&path, "%s/%s", s->dir, name) < 0 || asprintf(&aside, "%s.corrupt", path) < 0)
		return;
	e = read_full_file(path, 64 * 1024, &text, &len);
	if (e < 0)
		conf_error_set(&err, path, 0, "cannot read: %s", strerror(-e));
	else if (memchr(text, 0, len))
		conf_error_set(&err, path, 0, "not a text file");
	else if (job_record_parse(path, (const char *)text, &r, &err) >= 0 &&
		 r.id != strtoul(name, NULL, 10))
		conf_error_set(&err, path, 0, "holds job %" PRIu32 ", not the one it names", r.id);
	else if (!err.text[0]) {
		(*loaded)++;
		ops->job(&r, ud);
		return;
	}
	if (e != -ENOMEM && rename(path, aside) == 0)
		snprintf(msg, sizeof(msg), "%s; not loaded, moved to %s", err.text, aside);
	else
		snprintf(msg, sizeof(msg), "%s; not loaded", err.text);
	if (ops->problem)
		ops->problem(msg, ud);
}

int job_store_load(struct job_store *s, const struct job_store_ops *ops, void *user_data,
		   uint32_t *ret_next_id)
{
	struct dirent **names = NULL;
	uint32_t max_id = 0;
	int n = scandir(s->dir, &names, NULL, id_compare), loaded = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		bool temp, job;
		uint32_t id = name_id(names[i]->d_name, &temp, &job);
		char msg[600];

		max_id = MAX(max_id, id);
		if (temp) {
			/* temporary file of a write that never reached its rename */
			snprintf(msg, sizeof(msg), "%s/%s: removed, left by an interrupted write",
				 s->dir, names[i]->d_name);
			if (remove_in(s, names[i]->d_name) == 0 && ops->problem)
				ops->problem(msg, user_data);
		} else if (job) {
			load_one(s, names[i]->d_name, ops, user_data, &loaded);
		}
		free(names[i]);
	}
	free(names);
	*ret_next_id = max_id + 1;
	return loaded;
}
