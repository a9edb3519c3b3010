/* fuzz-pace-memory.c — the pace memory file reader and writer (src/update/pace-memory.c): a
 * file of per-device lines "KEY good_window=3 good_rate=0 good_bps=61234 ..." that otactl (and the
 * daemon) read before an update and rewrite after it. Input: a selector byte, then the file.
 *   selector bit 0: look up the first line's key (when it is one), else "udp:192.0.2.1:1337".
 * Invariants: a load ends in 0 or -ENOENT, and what it loads is in range; whatever it reported
 * and dropped is gone from the file (a second load reports nothing); saving a pace and loading it
 * back gives that pace (bytes/s to the unit); saving one device's line leaves what every other
 * device's line loads to unchanged (unless the file holds so many lines that the save must drop
 * the least recently used). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "otad/update.h"

static char dir[64], path[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "/tmp/otad-fuzz-pace-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/pace", dir);
	FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	return 0;
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
	if (!dir[0])
		return;
	unlink(path);
	rmdir(dir);
}

static bool pace_same(const struct upd_pace_memory *a, const struct upd_pace_memory *b)
{
	if (a->has_good != b->has_good || a->has_refused != b->has_refused)
		return false;
	if (a->has_good && (a->good.window != b->good.window || a->good.rate != b->good.rate ||
			    fabs(a->good_bps - b->good_bps) > 0.5))
		return false;
	return !a->has_refused ||
	       (a->refused.window == b->refused.window && a->refused.rate == b->refused.rate &&
		fabs(a->refused_bps - b->refused_bps) <= 0.5);
}

static unsigned problems;

static void on_problem(const char *text, void *user_data)
{
	FUZZ_CHECK(text && *text);
	problems++;
}

static void check_loaded(int r, const struct upd_pace_memory *m)
{
	FUZZ_CHECK(r == 0 || r == -ENOENT);
	if (r < 0)
		return;
	FUZZ_CHECK(m->good.window <= UPD_WINDOW_MAX && m->refused.window <= UPD_WINDOW_MAX);
	FUZZ_CHECK(m->good_bps >= 0 && m->good_bps < 1e12);
	FUZZ_CHECK(m->refused_bps >= 0 && m->refused_bps < 1e12);
}

/* The first line's key, if it can be one (no blank, at most 256 bytes). */
static void first_key(const uint8_t *data, size_t size, char *key, size_t key_size)
{
	size_t n = 0;

	while (n < size && n + 1 < key_size && data[n] > ' ' && data[n] != 0x7f)
		n++;
	memcpy(key, data, n);
	key[n] = 0;
}

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	bool use_first = fz_u8(&f) & 1;
	const uint8_t *file = fz_rest(&f, &size);
	struct upd_pace_memory m = {0}, saved = {.has_good = true, .good = {.rate = 8192,
		.window = 2}, .good_bps = 7000.4}, again, other_before, other_after;
	char key[300] = "udp:192.0.2.1:1337", other[300];
	int r, r_other;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	first_key(file, size, other, 258);
	if (use_first && other[0] && strlen(other) <= 256)
		snprintf(key, sizeof(key), "%s", other);
	write_input(file, size);
	r = upd_pace_memory_load(path, key, &m, on_problem, NULL);
	check_loaded(r, &m);
	if (r == 0)
		saved = m;
	problems = 0;
	r_other = upd_pace_memory_load(path, other, &other_before, on_problem, NULL);
	FUZZ_CHECK(problems == 0);
	FUZZ_CHECK(upd_pace_memory_save(path, key, &saved, on_problem, NULL) == 0);
	FUZZ_CHECK(problems == 0);
	FUZZ_CHECK(upd_pace_memory_load(path, key, &again, NULL, NULL) == 0 &&
		   pace_same(&saved, &again));
	if (strcmp(other, key) != 0 && count_lines(file, size) < UPD_PACE_MAX_ENTRIES) {
		FUZZ_CHECK(upd_pace_memory_load(path, other, &other_after, NULL, NULL) == r_other);
		FUZZ_CHECK(r_other != 0 || pace_same(&other_before, &other_after));
	}
	return 0;
}
