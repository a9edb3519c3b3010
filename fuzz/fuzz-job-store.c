/* fuzz-job-store.c — the daemon's persisted job-state reader (src/fleet/store.c): the INI text
 * of STATE_DIR/jobs/ID.job that otad reads back at start, whatever a crash, an editor or a full
 * disk left in it. Input: a selector byte, then the file's text.
 *   selector bit 0: name the file by the id the text parses to (when it does), else "7.job".
 * The text is parsed with job_record_parse() and also loaded from a state directory with
 * job_store_load(), which reads it, reports it or hands out its record.
 * Invariants: a parse gives a record with the required fields, or -EBADMSG with "PATH:LINE: why"
 * naming a line of the text; read → write → read gives the same record, up to what the writer
 * does on purpose (a text field stays on one line: a CR inside it becomes a blank), and writing
 * that gives the same text again; the store hands out exactly the parsed record when the text
 * parses and names its own file, else reports one problem naming the file with a reason and
 * moves it aside; a record saved with job_store_save() loads back as written. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "otad/jobstore.h"

static char dir[64], jobs[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "/tmp/otad-fuzz-jobs-%d", (int)getpid());
	snprintf(jobs, sizeof(jobs), "%s/jobs", dir);
	FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	return 0;
}

/* Empties the jobs directory. */
static void clear_jobs(void)
{
	DIR *d = opendir(jobs);
	struct dirent *e;
	char p[400];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", jobs, e->d_name);
			unlink(p);
		}
	closedir(d);
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
	if (!dir[0])
		return;
	clear_jobs();
	rmdir(jobs);
	rmdir(dir);
}

static unsigned line_count(const char *text)
{
	unsigned n = 1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* "PATH:LINE: why" with 1 <= LINE <= lines. */
static bool names_line(const char *text, const char *path, unsigned lines)
{
	size_t n = strlen(path);
	unsigned long line;
	char *end;

	if (strncmp(text, path, n) != 0 || text[n] != ':' || text[n + 1] < '1' || text[n + 1] > '9')
		return false;
	line = strtoul(text + n + 1, &end, 10);
	return line >= 1 && line <= lines && end[0] == ':' && end[1] == ' ' && end[2];
}

static bool record_same(const struct job_record *a, const struct job_record *b)
{
	return a->id == b->id && !strcmp(a->device, b->device) &&
	       !strcmp(a->transport, b->transport) && !strcmp(a->group, b->group) &&
	       !strcmp(a->source, b->source) && !strcmp(a->image, b->image) &&
	       !strcmp(a->sha256, b->sha256) && !strcmp(a->target_version, b->target_version) &&
	       a->automatic == b->automatic && a->state == b->state && !strcmp(a->step, b->step) &&
	       !strcmp(a->failure, b->failure) && !strcmp(a->error, b->error) &&
	       a->created == b->created && a->started == b->started &&
	       a->finished == b->finished && a->offset == b->offset && a->total == b->total &&
	       a->bytes_sent == b->bytes_sent && a->attempts == b->attempts &&
	       a->pace.rate == b->pace.rate && a->pace.window == b->pace.window &&
	       a->mode == b->mode && a->retries == b->retries && a->force == b->force &&
	       a->pace_used.rate == b->pace_used.rate &&
	       a->pace_used.window == b->pace_used.window && a->boot_deadline == b->boot_deadline &&
	       a->boot_timeout == b->boot_timeout && a->boot_revert == b->boot_revert &&
	       !strcmp(a->image_hash, b->image_hash) && !strcmp(a->old_hash, b->old_hash) &&
	       !strcmp(a->old_version, b->old_version);
}

static void check_record(const struct job_record *r)
{
	FUZZ_CHECK(r->id && r->device[0] && r->transport[0] && r->source[0]);
	FUZZ_CHECK((unsigned)r->state < _JOB_STATE_MAX);
	FUZZ_CHECK(r->mode == UPD_MODE_TEST || r->mode == UPD_MODE_CONFIRM);
	FUZZ_CHECK(r->pace.window <= UPD_WINDOW_MAX);
}

/* What the writer does to a text field: one line (CR and LF become blanks), and the reader strips
 * the blanks around it. */
static void one_line(char *s)
{
	size_t n, k = 0;

	for (char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	while (s[k] == ' ' || s[k] == '\t')
		k++;
	memmove(s, s + k, strlen(s + k) + 1);
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
}

static struct job_record written(const struct job_record *read)
{
	struct job_record r = *read;

	one_line(r.device);
	one_line(r.transport);
	one_line(r.group);
	one_line(r.source);
	one_line(r.image);
	one_line(r.sha256);
	one_line(r.target_version);
	one_line(r.step);
	one_line(r.failure);
	one_line(r.error);
	one_line(r.image_hash);
	one_line(r.old_hash);
	one_line(r.old_version);
	return r;
}

/* read → write → read */
static void round_trip(const struct job_record *read)
{
	struct job_record back, norm = written(read), *r = &norm;
	struct conf_error err = {""};
	char *text = NULL, *again = NULL;
	int e;

	FUZZ_CHECK(job_record_format(r, &text) == 0);
	e = job_record_parse("again.job", text, &back, &err);
	if (e < 0)
		fprintf(stderr, "the written text does not parse: %s\n%s", err.text, text);
	FUZZ_CHECK(e == 0);
	FUZZ_CHECK(record_same(r, &back));
	FUZZ_CHECK(job_record_format(&back, &again) == 0 && strcmp(text, again) == 0);
	free(text);
	free(again);
}

struct seen {
	unsigned jobs, problems;
	struct job_record r;
	char problem[800];
};

static void on_job(const struct job_record *r, void *ud)
{
	struct seen *s = ud;

	s->jobs++;
	s->r = *r;
}

static void on_problem(const char *text, void *ud)
{
	struct seen *s = ud;

	s->problems++;
	snprintf(s->problem, sizeof(s->problem), "%s", text);
}

static const struct job_store_ops ops = {.job = on_job, .problem = on_problem};

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* The same bytes as a job file in the store. */
static void load_store(const uint8_t *text, size_t size, int parsed, const struct job_record *r,
		       uint32_t file_id)
{
	struct job_store *s = NULL;
	struct seen seen = {0};
	uint32_t next = 0;
	char path[160];
	int n;

	FUZZ_CHECK(job_store_open(dir, &s) == 0);
	clear_jobs();
	snprintf(path, sizeof(path), "%s/%" PRIu32 ".job", jobs, file_id);
	write_file(path, text, size);
	n = job_store_load(s, &ops, &seen, &next);
	FUZZ_CHECK(n == (int)seen.jobs && seen.jobs + seen.problems == 1);
	FUZZ_CHECK(next == file_id + 1 || (file_id == UINT32_MAX && next == 0));
	/* A NUL ends the text for the parser; the file reader refuses it, and caps the size. */
	if (!memchr(text, 0, size) && size <= 64 * 1024)
		FUZZ_CHECK((seen.jobs == 1) == (parsed == 0 && r->id == file_id));
	if (seen.jobs) {
		FUZZ_CHECK(record_same(&seen.r, r));
	} else {
		FUZZ_CHECK(strncmp(seen.problem, path, strlen(path)) == 0);
		FUZZ_CHECK(strstr(seen.problem, "; not loaded"));
		FUZZ_CHECK(access(path, F_OK) < 0); /* moved aside */
	}

	/* A record written by the store loads back unchanged. */
	if (parsed == 0) {
		struct job_record w = written(r);

		clear_jobs();
		memset(&seen, 0, sizeof(seen));
		FUZZ_CHECK(job_store_save(s, r) == 0);
		FUZZ_CHECK(job_store_load(s, &ops, &seen, &next) == 1 && seen.problems == 0);
		FUZZ_CHECK(record_same(&seen.r, &w));
	}
	job_store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	bool by_id = fz_u8(&f) & 1;
	size_t len;
	const uint8_t *raw = fz_rest(&f, &len);
	char *text = malloc(len + 1);
	struct job_record r;
	struct conf_error err = {""};
	int e;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_CHECK(text);
	memcpy(text, raw, len);
	text[len] = 0;
	memset(&r, 0, sizeof(r));
	e = job_record_parse("x.job", text, &r, &err);
	FUZZ_CHECK(e == 0 || e == -EBADMSG || e == -ENOMEM);
	if (e == -EBADMSG) {
		if (!names_line(err.text, "x.job", line_count(text)))
			fprintf(stderr, "error without FILE:LINE: %s\n", err.text);
		FUZZ_CHECK(names_line(err.text, "x.job", line_count(text)));
	}
	if (e == 0) {
		check_record(&r);
		round_trip(&r);
	}
	load_store(raw, len, e, &r, by_id && e == 0 ? r.id : 7);
	free(text);
	return 0;
}
