/* client.c — the DDI client (ddi.h): the server, tenant and token, the fetcher every request and
 * artifact download of its targets goes through, and the link state said on each change. */
#include "ddi/ddi-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct target_node {
	struct ddi_target *t;
	const char *controller_id; /* the target's own copy */
	struct target_node *next;
};

struct ddi_client {
	sd_event *event;
	struct ddi_options o;
	char *server, *tenant, *token, *ca_file, *cache_dir;
	char *auth; /* "Authorization: GatewayToken TOKEN" */
	struct fetcher *fetcher;
	struct target_node *targets;
	enum ddi_link link;
	ddi_link_fn link_fn;
	void *link_data;
	otad_destroy_fn link_destroy;
};

/* One exchange in flight: the target's callback, behind the client's why and link note. */
struct send {
	struct ddi_client *c;
	ddi_answer_fn done;
	void *user_data;
};

static int check_options(const struct ddi_options *o, char *why, size_t size)
{
	const char *s = o->server;

	if (!s ||
	    !(strncmp(s, "https://", 8) == 0 || (o->allow_http && strncmp(s, "http://", 7) == 0)))
		return ddi_why(why, size, "Server=%s: expected an https:// URL", s ? s : "");
	if (strpbrk(s, "?# \t\r\n") || strlen(s) > 512)
		return ddi_why(why, size, "Server=%s: no query, fragment or blank allowed", s);
	if (!o->tenant || !ddi_id_valid(o->tenant, DDI_CID_MAX, true))
		return ddi_why(why, size, "Tenant=%s: letters, digits and -._~:@ only",
			       o->tenant ? o->tenant : "");
	/* the token goes into a header line: nothing that could end it */
	if (!o->token || !*o->token || strlen(o->token) > 1024)
		return ddi_why(why, size, "no gateway token (GatewayToken= or a token file)");
	for (const char *p = o->token; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f)
			return ddi_why(why, size,
				       "the gateway token holds a blank or a control "
				       "character");
	if (!o->cache_dir || o->cache_dir[0] != '/')
		return ddi_why(why, size, "no cache directory for the artifacts");
	return 0;
}

static int copy_options(struct ddi_client *c, const struct ddi_options *o)
{
	c->o = *o;
	if (!(c->server = strdup(o->server)) || !(c->tenant = strdup(o->tenant)) ||
	    !(c->token = strdup(o->token)) || !(c->cache_dir = strdup(o->cache_dir)) ||
	    (o->ca_file && !(c->ca_file = strdup(o->ca_file))) ||
	    asprintf(&c->auth, "Authorization: GatewayToken %s", o->token) < 0) {
		c->auth = NULL;
		return -ENOMEM;
	}
	for (size_t n = strlen(c->server); n > 0 && c->server[n - 1] == '/'; n--)
		c->server[n - 1] = 0;
	c->o.server = c->server;
	c->o.tenant = c->tenant;
	c->o.token = c->token;
	c->o.ca_file = c->ca_file;
	c->o.cache_dir = c->cache_dir;
	c->o.poll_usec = o->poll_usec ? o->poll_usec : 5 * 60 * USEC_PER_SEC;
	c->o.min_poll_usec = o->min_poll_usec ? o->min_poll_usec : USEC_PER_SEC;
	c->o.request_timeout_usec = o->request_timeout_usec ?: 30 * USEC_PER_SEC;
	c->o.backoff_min_usec = o->backoff_min_usec ? o->backoff_min_usec : 5 * USEC_PER_SEC;
	c->o.backoff_max_usec = o->backoff_max_usec ? o->backoff_max_usec : 10 * 60 * USEC_PER_SEC;
	c->o.backoff_max_usec = MAX(c->o.backoff_max_usec, c->o.backoff_min_usec);
	c->o.max_artifact = o->max_artifact ? o->max_artifact : 64 * 1024 * 1024;
	return 0;
}

int ddi_client_new(sd_event *e, const struct ddi_options *o, struct ddi_client **ret, char *why,
		   size_t size)
{
	struct ddi_client *c;
	struct fetch_options fo;
	int r = check_options(o, why, size);

	if (r < 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(e);
	r = copy_options(c, o);
	fo = (struct fetch_options){.cache_dir = c->cache_dir,
				    .max_size = c->o.max_artifact,
				    .allow_http = o->allow_http,
				    .ca_file = c->ca_file};
	if (r == 0)
		r = fetcher_new(e, &fo, &c->fetcher);
	if (r < 0) {
		ddi_why(why, size, "cannot set up the client: %s", strerror(-r));
		ddi_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct ddi_client *ddi_client_free(struct ddi_client *c)
{
	if (!c)
		return NULL;
	while (c->targets)
		ddi_target_free(c->targets->t); /* removes itself */
	fetcher_free(c->fetcher);
	if (c->link_destroy)
		c->link_destroy(c->link_data);
	sd_event_unref(c->event);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	if (c->auth)
		explicit_bzero(c->auth, strlen(c->auth));
	free(c->server);
	free(c->tenant);
	free(c->token);
	free(c->auth);
	free(c->ca_file);
	free(c->cache_dir);
	free(c);
	return NULL;
}

void ddi_client_set_link_handler(struct ddi_client *c, ddi_link_fn fn, void *user_data,
				 otad_destroy_fn destroy)
{
	if (c->link_destroy)
		c->link_destroy(c->link_data);
	c->link_fn = fn;
	c->link_data = user_data;
	c->link_destroy = destroy;
}

enum ddi_link ddi_client_link(const struct ddi_client *c)
{
	return c->link;
}

void ddi_client_note(struct ddi_client *c, enum ddi_outcome o, const char *why)
{
	enum ddi_link link = o == DDI_OUTCOME_RETRY  ? DDI_LINK_FAILING
			     : o == DDI_OUTCOME_AUTH ? DDI_LINK_UNAUTHORIZED
						     : DDI_LINK_OK;

	if (link == c->link)
		return;
	c->link = link;
	if (c->link_fn)
		c->link_fn(c, link, link == DDI_LINK_OK ? "the server answers again" : why,
			   c->link_data);
}

/* text with each occurrence of the token replaced by "(token)" (malloc'd), or NULL. */
static char *redacted(const struct ddi_client *c, const char *text)
{
	static const char mark[] = "(token)";
	size_t n = strlen(c->token), count = 0;
	const char *p, *hit;
	char *out, *o;

	for (p = text; (hit = strstr(p, c->token)); p = hit + n)
		count++;
	out = malloc(strlen(text) + count * (sizeof(mark) - 1) + 1);
	if (!out)
		return NULL;
	/* from left to right, never into what was put in: a token inside "(token)" is no loop */
	for (p = text, o = out; (hit = strstr(p, c->token)); p = hit + n) {
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, mark, sizeof(mark) - 1);
		o += sizeof(mark) - 1;
	}
	memcpy(o, p, strlen(p) + 1);
	return out;
}

sd_event *ddi_client_event(const struct ddi_client *c)
{
	return c->event;
}

const struct ddi_options *ddi_client_options(const struct ddi_client *c)
{
	return &c->o;
}

/* why (the fetch layer's) with the server's error message, the token taken out of both. A
 * server may echo what it got: the text is redacted whole, before anything cuts it, or a cut
 * through the token would leave a part of it. */
static char *answer_why(const struct ddi_client *c, const char *why, const struct fetch_answer *a)
{
	char msg[DDI_ERROR_MESSAGE_MAX + 1] = "";
	_cleanup_free_ char *text = NULL;

	if (a)
		ddi_error_message(a->body, a->body_len, msg, sizeof(msg));
	if (asprintf(&text, "%s%s%s", why ? why : "", msg[0] ? ": " : "", msg) < 0) {
		text = NULL;
		return NULL;
	}
	return redacted(c, text);
}

static void on_answer(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct send *s = user_data;
	enum ddi_outcome o = ddi_outcome_of(err, a ? a->status : 0);
	_cleanup_free_ char *text = answer_why(s->c, why, o == DDI_OUTCOME_OK ? NULL : a);
	const char *t = text ? text : "out of memory for the message";

	ddi_client_note(s->c, o, t);
	s->done(err, a, t, s->user_data);
}

unsigned ddi_client_send(struct ddi_client *c, const char *method, const char *controller_id,
			 const char *suffix, const char *body, ddi_answer_fn done, void *user_data,
			 int *ret_err)
{
	const char *headers[] = {c->auth, "Accept: application/json",
				 body ? "Content-Type: application/json" : NULL, NULL};
	_cleanup_free_ char *url = NULL;
	struct fetch_request q = {.method = method,
				  .headers = headers,
				  .body = body,
				  .body_len = body ? strlen(body) : 0,
				  .max_answer = JD_MAX_TEXT,
				  .timeout_usec = c->o.request_timeout_usec};
	struct send *s;
	unsigned id;

	if (asprintf(&url, "%s/%s/controller/v1/%s%s%s", c->server, c->tenant, controller_id,
		     suffix ? "/" : "", suffix ? suffix : "") < 0) {
		url = NULL;
		*ret_err = -ENOMEM;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		*ret_err = -ENOMEM;
		return 0;
	}
	*s = (struct send){.c = c, .done = done, .user_data = user_data};
	q.url = url;
	id = fetcher_request(c->fetcher, &q, on_answer, s, free, ret_err);
	if (!id)
		free(s);
	return id;
}

void ddi_client_cancel_request(struct ddi_client *c, unsigned id)
{
	if (id)
		fetcher_cancel(c->fetcher, id);
}

/* A download's end, its message without the token (a link may carry it in its query). */
struct download {
	struct ddi_client *c;
	fetch_done_fn done;
	void *user_data;
	otad_destroy_fn destroy;
};

static void on_download(int err, const char *path, const char *why, void *user_data)
{
	struct download *d = user_data;
	_cleanup_free_ char *text = why ? redacted(d->c, why) : NULL;

	d->done(err, path, why ? (text ? text : "out of memory for the message") : NULL,
		d->user_data);
}

static void download_free(void *user_data)
{
	struct download *d = user_data;

	if (d->destroy)
		d->destroy(d->user_data);
	free(d);
}

unsigned ddi_client_download(struct ddi_client *c, const struct ddi_artifact *a, fetch_done_fn done,
			     void *user_data, otad_destroy_fn destroy, int *ret_err)
{
	const char *headers[] = {c->auth, NULL};
	const char *url = a->href ? a->href : c->o.allow_http ? a->href_http : NULL;
	struct download *d;
	unsigned id;

	*ret_err = 0;
	if (!a->has_sha256)
		*ret_err = -EINVAL;
	else if (!url)
		*ret_err = -EPERM;
	else if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		*ret_err = -EPROTONOSUPPORT; /* a bare path would be a local file to the fetcher */
	else if (a->size > c->o.max_artifact)
		*ret_err = -EFBIG;
	if (*ret_err < 0)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d) {
		*ret_err = -ENOMEM;
		return 0;
	}
	*d = (struct download){.c = c, .done = done, .user_data = user_data, .destroy = destroy};
	id = fetcher_get_with_headers(c->fetcher, url, a->sha256, headers, on_download, d,
				      download_free, ret_err);
	if (!id)
		free(d); /* the caller keeps user_data, as with fetcher_get */
	return id;
}

bool ddi_client_cancel_download(struct ddi_client *c, unsigned id)
{
	return fetcher_cancel(c->fetcher, id);
}

int ddi_client_add_target(struct ddi_client *c, struct ddi_target *t, const char *controller_id)
{
	struct target_node *n, **p = &c->targets;

	for (; *p; p = &(*p)->next)
		if (strcmp((*p)->controller_id, controller_id) == 0)
			return -EEXIST;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct target_node){.t = t, .controller_id = controller_id};
	*p = n;
	return 0;
}

void ddi_client_remove_target(struct ddi_client *c, struct ddi_target *t)
{
	for (struct target_node **p = &c->targets; *p; p = &(*p)->next)
		if ((*p)->t == t) {
			struct target_node *n = *p;

			*p = n->next;
			free(n);
			return;
		}
}
