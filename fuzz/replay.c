/* replay.c — main() of a fuzz target built without libFuzzer: runs LLVMFuzzerTestOneInput once
 * per file named on the command line, or per file of a named directory (sorted). ctest runs every
 * target this way over its seed corpus and its saved crashes, so both are replayed in every build:
 * plain, ASan + UBSan, and valgrind. A directory that does not exist is skipped. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Optional in a target. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* Exactly sized, as libFuzzer does: a read past the input is a heap overflow. */
	buf = malloc(size ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return 0;
}

static int filter_files(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int run_dir(const char *dir, unsigned *n)
{
	struct dirent **list;
	int k = scandir(dir, &list, filter_files, alphasort);
	int r = 0;

	if (k < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < k; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		if (r == 0 && run_file(path) < 0)
			r = -1;
		(*n)++;
		free(list[i]);
	}
	free(list);
	return r;
}

int main(int argc, char **argv)
{
	unsigned n = 0;
	int failed = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			if (errno == ENOENT)
				continue;
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			failed |= run_dir(argv[i], &n) < 0;
		} else {
			failed |= run_file(argv[i]) < 0;
			n++;
		}
	}
	fprintf(stderr, "%s: %u inputs replayed%s\n", argv[0], n, failed ? ", some unreadable" : "");
	return failed;
}
