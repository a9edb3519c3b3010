/* ddi-internal.h — what the DDI layer's files share: JSON members read with errors that name
 * their path, and the client's side of a target. */
#pragma once

#include "otad/ddi.h"
#include "util/json-doc.h"
#include "util/macro.h"

/* ---- field.c ---- */

/* Control characters (a server's raw newlines) become '?': a message is one line. */
void ddi_one_line(char *text);
/* Sets why ("deployment.chunks[0]: expected an object, got a string"), one line; returns
 * -EBADMSG. */
_printf_(3, 4) int ddi_why(char *why, size_t size, const char *fmt, ...);
/* "path.key", or key at the top (path ""). */
void ddi_path(char *out, size_t size, const char *path, const char *key);
/* A JSON object at the top of a document; why names the resource and json-c's verdict. */
int ddi_doc(const char *json, size_t len, const char *resource, struct jd_doc **ret, char *why,
	    size_t size);
/* The member key of o at path, of type t: 0 with *ret (NULL when optional and absent or
 * null), -EBADMSG with why when required and absent or of another type. */
int ddi_member(const struct json_object *o, const char *path, const char *key, enum json_type t,
	       bool required, struct json_object **ret, char *why, size_t size);
/* A string member of at most max bytes: 0 with *ret (NULL when optional and absent). */
int ddi_member_str(const struct json_object *o, const char *path, const char *key, size_t max,
		   bool required, const char **ret, char *why, size_t size);

/* ---- client.c, for target.c ---- */

struct ddi_client_request;
/* An exchange of a target with the server: why never holds the token. */
typedef void (*ddi_answer_fn)(int err, const struct fetch_answer *a, const char *why,
			      void *user_data);
/* Sends METHOD BASE/CONTROLLERID[/SUFFIX] with the token and a JSON body (NULL for none). Returns
 * an id for ddi_client_cancel_request, or 0 with *ret_err. */
unsigned ddi_client_send(struct ddi_client *c, const char *method, const char *controller_id,
			 const char *suffix, const char *body, ddi_answer_fn done, void *user_data,
			 int *ret_err);
void ddi_client_cancel_request(struct ddi_client *c, unsigned id);
/* Every answer (or its absence) passes here: the link state, said on changes. */
void ddi_client_note(struct ddi_client *c, enum ddi_outcome o, const char *why);
sd_event *ddi_client_event(const struct ddi_client *c);
const struct ddi_options *ddi_client_options(const struct ddi_client *c);
/* Targets register with their client; the client frees those left at its end. */
int ddi_client_add_target(struct ddi_client *c, struct ddi_target *t, const char *controller_id);
void ddi_client_remove_target(struct ddi_client *c, struct ddi_target *t);
