/* conf.h — systemd-style INI files: "[Section]", "Key=Value", comments starting with '#' or ';',
 * a trailing backslash continuing a value on the next line. A small parser of our own
 * (libsystemd has no public one); errors name the file and line: "FILE:LINE: what is wrong". */
#pragma once

#include <stddef.h>

struct conf_entry {
	char *key;
	char *value;
	unsigned line;
};

struct conf_section {
	char *name;
	unsigned line;
	struct conf_entry *entries;
	size_t n_entries;
};

struct conf_file {
	char *path;
	struct conf_section *sections;
	size_t n_sections;
};

/* One line of diagnosis: "FILE:LINE: what is wrong" (or "FILE: ..." when no line applies). */
struct conf_error {
	char text[512];
};

void conf_error_set(struct conf_error *e, const char *path, unsigned line, const char *fmt, ...)
	__attribute__((__format__(printf, 4, 5)));

/* Parses text (NUL-terminated) read from path. -EBADMSG with *err filled for a syntax error,
 * -ENOMEM. */
int conf_parse(const char *path, const char *text, struct conf_file **ret, struct conf_error *err);
/* Reads path (at most 1 MiB) and parses it; I/O errors are reported in *err too. */
int conf_load(const char *path, struct conf_file **ret, struct conf_error *err);
/* Accepts NULL, returns NULL. */
struct conf_file *conf_file_free(struct conf_file *f);
