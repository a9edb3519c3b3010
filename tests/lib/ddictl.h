/* ddictl.h — the test DDI server (tests/lib/ddi-server.py: a hawkBit DDI v1 server written from
 * the API reference, HTTPS with a CA made at its start) as a test fixture. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/testlib.h"

struct tl_ddi {
	struct tl_proc proc;
	unsigned port;
	char dir[512];
	char url[64];	   /* https://127.0.0.1:PORT */
	char ca[600];	   /* the CA that signed its certificate */
	char log[600];	   /* one JSON line per request */
	char control[108]; /* its command socket (sun_path's size) */
};

/* Starts the server for tenant with token in a fresh directory and waits until it serves.
 * 0 or -errno. */
int tl_ddi_start(struct tl_ddi *s, const char *tenant, const char *token);
void tl_ddi_stop(struct tl_ddi *s);
/* One command (ddi-server.py's docstring lists them); its one-line answer, malloc'd, or NULL
 * when the server cannot be reached. */
char *tl_ddi_cmd(struct tl_ddi *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* How many requests of kind (base, deployment, feedback, cancel, cancel-feedback, config,
 * download) the server had from cid (NULL: from all); -1 on error. */
long tl_ddi_count(struct tl_ddi *s, const char *kind, const char *cid);
/* Asserts the server found nothing wrong in any request (prints what it found otherwise). */
void tl_ddi_assert_no_violations(struct tl_ddi *s);
