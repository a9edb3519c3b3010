/* test-fleet-store.c — job files: round trip, atomic replacement, corrupt files reported and moved
 * aside, leftovers of interrupted writes removed, ids never reused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/testlib.h"
#include "otad/jobstore.h"

static struct job_record sample(uint32_t id)
{
	struct job_record r = {.id = id,
			       .state = JOB_RUNNING,
			       .offset = 4096,
			       .total = 50000,
			       .bytes_sent = 6000,
			       .attempts = 1,
			       .mode = UPD_MODE_CONFIRM,
			       .retries = 2,
			       .pace = {.rate = 8192, .window = 2},
			       .pace_used = {.rate = 4096, .window = 1},
			       .automatic = true,
			       .created = 1700000000000000ull};

	snprintf(r.device, sizeof(r.device), "sensor-%u", id);
	snprintf(r.transport, sizeof(r.transport), "udp:127.0.0.1:%u", 4000 + id);
	snprintf(r.source, sizeof(r.source), "https://fw.example.com/a.bin");
	snprintf(r.image, sizeof(r.image), "/var/cache/otad/x.img");
	snprintf(r.step, sizeof(r.step), "upload");
	snprintf(r.error, sizeof(r.error), "two\nlines");
	snprintf(r.target_version, sizeof(r.target_version), "2.0.0");
	return r;
}

static void test_record_round_trips(void **state)
{
	struct job_record r = sample(7), back;
	struct conf_error err = {""};
	char *text = NULL;

	assert_int_equal(job_record_format(&r, &text), 0);
	assert_int_equal(job_record_parse("7.job", text, &back, &err), 0);
	assert_int_equal(back.id, 7);
	assert_string_equal(back.device, "sensor-7");
	assert_string_equal(back.error, "two lines"); /* one line in the file */
	assert_int_equal(back.state, JOB_RUNNING);
	assert_int_equal(back.offset, 4096);
	assert_int_equal(back.pace.rate, 8192);
	assert_int_equal(back.pace.window, 2);
	assert_int_equal(back.pace_used.window, 1);
	assert_int_equal(back.mode, UPD_MODE_CONFIRM);
	assert_true(back.automatic);
	assert_int_equal(back.created, 1700000000000000ull);
	free(text);
}

/* What a job at its boot step needs to be resumed there: the deadline, the timeout, the hashes. */
static void test_record_keeps_the_boot_step(void **state)
{
	struct job_record r = sample(9), back;
	struct conf_error err = {""};
	char *text = NULL;

	snprintf(r.step, sizeof(r.step), "boot");
	r.boot_deadline = 1700000123456789ull;
	r.boot_timeout = 127000000;
	r.boot_revert = true;
	memset(r.image_hash, 'a', 64);
	memset(r.old_hash, 'b', 64);
	snprintf(r.old_version, sizeof(r.old_version), "1.2.3+4");
	assert_int_equal(job_record_format(&r, &text), 0);
	assert_true(strstr(text, "BootDeadline=1700000123456789\n") != NULL);
	assert_int_equal(job_record_parse("9.job", text, &back, &err), 0);
	assert_int_equal(back.boot_deadline, r.boot_deadline);
	assert_int_equal(back.boot_timeout, 127000000);
	assert_true(back.boot_revert);
	assert_string_equal(back.image_hash, r.image_hash);
	assert_string_equal(back.old_hash, r.old_hash);
	assert_string_equal(back.old_version, "1.2.3+4");
	free(text);
	/* a file written before these keys existed: not at a boot step */
	assert_int_equal(job_record_parse("9.job",
					  "[Job]\nId=9\nDevice=d\nTransport=udp:h\nSource=/x.bin\n"
					  "State=running\nStep=boot\n",
					  &back, &err),
			 0);
	assert_int_equal(back.boot_deadline, 0);
	assert_string_equal(back.image_hash, "");
	/* a bad value is named */
	assert_int_equal(job_record_parse("9.job",
					  "[Job]\nId=9\nDevice=d\nTransport=udp:h\nSource=/x.bin\n"
					  "State=running\nBootDeadline=soon\n",
					  &back, &err),
			 -EBADMSG);
	assert_true(strstr(err.text, "9.job:7: BootDeadline=soon: not an unsigned number") != NULL);
}

/* A value ending in a backslash (a Windows-style path in an error) must not swallow the next key:
 * the reader joins a line ending in one with the next. */
static void test_record_round_trips_values_ending_in_backslash(void **state)
{
	struct job_record r = sample(3), back;
	struct conf_error err = {""};
	char *text = NULL;

	snprintf(r.device, sizeof(r.device), "dev\\");
	snprintf(r.error, sizeof(r.error), "cannot open C:\\fw\\");
	assert_int_equal(job_record_format(&r, &text), 0);
	assert_int_equal(job_record_parse("3.job", text, &back, &err), 0);
	assert_string_equal(back.device, "dev\\");
	assert_string_equal(back.transport, r.transport);
	assert_string_equal(back.error, "cannot open C:\\fw\\");
	assert_int_equal(back.created, r.created);
	free(text);
}

static void expect_corrupt(const char *text, const char *msg)
{
	struct job_record r;
	struct conf_error err = {""};

	assert_int_equal(job_record_parse("j.job", text, &r, &err), -EBADMSG);
	if (!strstr(err.text, msg))
		fail_msg("expected '%s' in '%s'", msg, err.text);
}

static void test_corrupt_records_are_refused_with_line(void **state)
{
	const char *base = "[Job]\nId=1\nDevice=d\nTransport=udp:h\nSource=/x\n";
	char buf[512];

	expect_corrupt("", "j.job:1: expected exactly one [Job] section");
	snprintf(buf, sizeof(buf), "%sState=running\nOffset=12x\n", base);
	expect_corrupt(buf, "j.job:7: Offset=12x");
	snprintf(buf, sizeof(buf), "%sState=exploded\n", base);
	expect_corrupt(buf, "j.job:6: State=exploded");
	snprintf(buf, sizeof(buf), "%sState=running\nState=queued\n", base);
	expect_corrupt(buf, "j.job:7: State=queued: given twice");
	snprintf(buf, sizeof(buf), "%s", base);
	expect_corrupt(buf, "j.job:1: incomplete");
	snprintf(buf, sizeof(buf), "%sState=running\nWhat=1\n", base);
	expect_corrupt(buf, "j.job:7: unknown key 'What'");
	/* cut in the middle of a write (what temp+rename prevents) */
	snprintf(buf, sizeof(buf), "[Job]\nId=1\nDevice=d\nTransp");
	expect_corrupt(buf, "j.job:4: expected Key=Value");
}

struct loaded {
	uint32_t ids[16];
	unsigned n;
	char problems[4][700];
	unsigned n_problems;
};

static void on_job(const struct job_record *r, void *ud)
{
	struct loaded *l = ud;

	l->ids[l->n++] = r->id;
}

static void on_problem(const char *text, void *ud)
{
	struct loaded *l = ud;

	snprintf(l->problems[l->n_problems++ % 4], sizeof(l->problems[0]), "%s", text);
}

static const struct job_store_ops ops = {.job = on_job, .problem = on_problem};

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/jobs/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_store_saves_loads_and_sets_corrupt_files_aside(void **state)
{
	const char *dir = tl_path("state");
	struct job_store *s = NULL;
	struct job_record r2 = sample(2), r10 = sample(10);
	struct loaded l = {0};
	uint32_t next = 0;
	char path[700];
	struct stat st1, st2;

	assert_int_equal(job_store_open(dir, &s), 0);
	assert_int_equal(job_store_save(s, &r10), 0);
	assert_int_equal(job_store_save(s, &r2), 0);
	snprintf(path, sizeof(path), "%s/jobs/2.job", dir);
	assert_int_equal(stat(path, &st1), 0);
	r2.offset = 8192;
	assert_int_equal(job_store_save(s, &r2), 0); /* replaced by rename: a new inode */
	assert_int_equal(stat(path, &st2), 0);
	assert_int_not_equal(st1.st_ino, st2.st_ino);
	put_file(dir, "12.job", "[Job]\nId=12\nDevice=d\nTrans"); /* torn by a crash */
	put_file(dir, "3.job.Ab12Cd", "[Job]\nId=3\n");		  /* a temp file never renamed */
	put_file(dir, "4.job", "[Job]\nId=5\nDevice=d\nTransport=udp:h\nSource=/x\nState=queued\n");
	assert_int_equal(job_store_load(s, &ops, &l, &next), 2);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], 2); /* id order */
	assert_int_equal(l.ids[1], 10);
	assert_int_equal(next, 13); /* above the corrupt one too */
	assert_int_equal(l.n_problems, 3);
	assert_non_null(strstr(l.problems[0], "3.job.Ab12Cd: removed"));
	assert_non_null(strstr(l.problems[1], "4.job: holds job 5"));
	assert_non_null(strstr(l.problems[2], "12.job:4: expected Key=Value"));
	assert_non_null(strstr(l.problems[2], "moved to"));
	snprintf(path, sizeof(path), "%s/jobs/12.job.corrupt", dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/jobs/3.job.Ab12Cd", dir);
	assert_int_equal(access(path, F_OK), -1);
	/* a second load finds only the good ones, and still never reuses 12 */
	memset(&l, 0, sizeof(l));
	assert_int_equal(job_store_load(s, &ops, &l, &next), 2);
	assert_int_equal(l.n_problems, 0);
	assert_int_equal(next, 13);
	assert_int_equal(job_store_remove(s, 10), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(job_store_load(s, &ops, &l, &next), 1);
	job_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trips),
		cmocka_unit_test(test_record_keeps_the_boot_step),
		cmocka_unit_test(test_record_round_trips_values_ending_in_backslash),
		cmocka_unit_test(test_corrupt_records_are_refused_with_line),
		cmocka_unit_test(test_store_saves_loads_and_sets_corrupt_files_aside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
