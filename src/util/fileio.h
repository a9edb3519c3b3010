/* fileio.h — whole-file reads and crash-safe atomic writes (temporary file, fsync, rename). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Reads all of path (at most max_size bytes; -EFBIG beyond). *ret is NUL-terminated for text use. */
int read_full_file(const char *path, size_t max_size, uint8_t **ret, size_t *ret_len);

/* Replaces path atomically: write "path.XXXXXX" in the same directory, fsync it, rename it over
 * path, fsync the directory. A crash leaves either the old or the new content, never a mix. */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);

/* mkdir -p with the given mode for missing components. */
int mkdir_p(const char *path, unsigned mode);
