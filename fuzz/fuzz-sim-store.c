/* fuzz-sim-store.c — otasim's state file reader (src/sim/store.c): the key=value text a device
 * reads back at start, whatever a crash, an editor or a full disk left in it. Input: the file's
 * bytes. The text is parsed as sim_store_parse() sees it, and also opened as a real state file
 * with its flash file beside it (sim_store_open reads it with read_full_file).
 * Invariants: a parse fails with a line number and a reason, or its result formats into a text
 * that parses back to the same state; opening fails exactly when the text does not parse or
 * names another slot size. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sim/store.h"

#define SLOT_SIZE 4096

static char dir[64], path[96];

static bool meta_same(const struct sim_store_meta *a, const struct sim_store_meta *b)
{
	for (int i = 0; i < 2; i++)
		if (a->trailer[i].magic != b->trailer[i].magic ||
		    a->trailer[i].image_ok != b->trailer[i].image_ok ||
		    a->trailer[i].copy_done != b->trailer[i].copy_done ||
		    a->trailer[i].swap_type != b->trailer[i].swap_type)
			return false;
	return !strcmp(a->profile, b->profile) && a->slot_size == b->slot_size &&
	       !memcmp(&a->counters, &b->counters, sizeof(a->counters));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char flash[128];
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/otad-fuzz-store-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(flash, sizeof(flash), "%s.flash", path);
	FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	fd = open(flash, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && ftruncate(fd, 2 * SLOT_SIZE) == 0);
	close(fd);
	return 0;
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
	char flash[128];

	if (!dir[0])
		return;
	snprintf(flash, sizeof(flash), "%s.flash", path);
	unlink(flash);
	unlink(path);
	rmdir(dir);
}

/* The same text as a state file on disk. */
static void open_file(const uint8_t *data, size_t size, int parsed, uint32_t slot_size)
{
	struct sim_store *s = NULL;
	char err[256] = "";
	bool created = true;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r;

	FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	close(fd);
	r = sim_store_open(path, "lan", SLOT_SIZE, &s, &created, err, sizeof(err));
	/* A NUL ends the text for both readers; the file reader also caps its size. */
	if (size <= 64 * 1024)
		FUZZ_CHECK((r == 0) == (parsed == 0 && slot_size == SLOT_SIZE));
	if (r == 0)
		FUZZ_CHECK(!created && s && sim_store_flash(s));
	else
		FUZZ_CHECK(err[0] && !s);
	sim_store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *again;
	struct sim_store_meta a, b;
	const char *why = NULL;
	unsigned line = 0;
	int r;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_CHECK(text);
	memcpy(text, data, size);
	text[size] = 0;
	memset(&a, 0, sizeof(a));
	r = sim_store_parse(text, &a, &line, &why);
	FUZZ_CHECK(r == 0 || (r == -EBADMSG && why));
	if (r == 0) {
		FUZZ_CHECK(strlen(a.profile) < sizeof(a.profile));
		FUZZ_CHECK(a.trailer[0].swap_type <= SIM_SWAP_REVERT &&
			   a.trailer[1].swap_type <= SIM_SWAP_REVERT);
		again = sim_store_format(&a);
		FUZZ_CHECK(again);
		FUZZ_CHECK(sim_store_parse(again, &b, &line, &why) == 0 && meta_same(&a, &b));
		free(again);
	}
	open_file(data, size, r, r == 0 ? a.slot_size : 0);
	free(text);
	return 0;
}
