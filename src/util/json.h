/* json.h — a small streaming JSON writer for --json output (writing only; nothing here parses). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	unsigned depth;
	bool need_comma[16];
};

void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j, const char *key); /* key NULL at top level / in arrays */
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_str(struct json *j, const char *key, const char *value); /* value NULL -> null */
void json_u64(struct json *j, const char *key, uint64_t value);
void json_i64(struct json *j, const char *key, int64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
/* Ends a top-level value with a newline and flushes (JSON lines). */
void json_end_line(struct json *j);
