/* deployment.c — the deploymentBase resource (GET .../deploymentBase/ACTION) read into a
 * struct ddi_deployment, and the choice of the artifact otad installs from it.
 *   {"id": "8", "deployment": {"download": "forced", "update": "forced",
 *    "maintenanceWindow": "available", "chunks": [{"part": "os", "version": "1.0.79",
 *    "name": "one Firmware", "artifacts": [{"filename": "app.bin", "hashes": {"sha1": ...,
 *    "md5": ..., "sha256": ...}, "size": 13, "_links": {"download": {"href": ...},
 *    "download-http": {"href": ...}}}]}]}, "actionHistory": {...}}
 * Members otad does not use (actionHistory, metadata, other hashes) are not checked. */
#include "ddi/ddi-internal.h"
#include "util/hex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 255
#define HREF_MAX_LEN 2048

static int handling(const struct json_object *dep, const char *key, enum ddi_handling *ret,
		    char *why, size_t size)
{
	const char *s;
	int r = ddi_member_str(dep, "deployment", key, 32, false, &s, why, size);

	*ret = DDI_HANDLING_ATTEMPT;
	if (r < 0 || !s || strcmp(s, "attempt") == 0)
		return r;
	if (strcmp(s, "skip") == 0)
		*ret = DDI_HANDLING_SKIP;
	else if (strcmp(s, "forced") == 0)
		*ret = DDI_HANDLING_FORCED;
	else
		return ddi_why(why, size, "deployment.%s: \"%s\" is not skip, attempt or forced",
			       key, s);
	return 0;
}

static int window(const struct json_object *dep, enum ddi_window *ret, char *why, size_t size)
{
	const char *s;
	int r = ddi_member_str(dep, "deployment", "maintenanceWindow", 32, false, &s, why, size);

	*ret = DDI_WINDOW_NONE;
	if (r < 0 || !s)
		return r;
	if (strcmp(s, "available") == 0)
		*ret = DDI_WINDOW_AVAILABLE;
	else if (strcmp(s, "unavailable") == 0)
		*ret = DDI_WINDOW_UNAVAILABLE;
	else
		return ddi_why(
			why, size,
			"deployment.maintenanceWindow: \"%s\" is not available or unavailable", s);
	return 0;
}

/* An optional string member, copied ("" when absent). */
static int copy_str(const struct json_object *o, const char *path, const char *key, size_t max,
		    bool required, char **ret, char *why, size_t size)
{
	const char *s;
	int r = ddi_member_str(o, path, key, max, required, &s, why, size);

	if (r < 0)
		return r;
	*ret = strdup(s ? s : "");
	return *ret ? 0 : -ENOMEM;
}

/* A download link: an https URL (rel "download"), or an http(s) one ("download-http"). Nothing
 * else: the fetch layer would take a bare path for a local file. */
static int link_href(const struct json_object *links, const char *path, const char *rel, bool https,
		     char **ret, char *why, size_t size)
{
	struct json_object *link;
	char p[256];
	int r = ddi_member(links, path, rel, json_type_object, false, &link, why, size);

	if (r < 0 || !link)
		return r;
	ddi_path(p, sizeof(p), path, rel);
	r = copy_str(link, p, "href", HREF_MAX_LEN, true, ret, why, size);
	if (r < 0)
		return r;
	if (strncmp(*ret, "https://", 8) != 0 && (https || strncmp(*ret, "http://", 7) != 0)) {
		r = ddi_why(why, size, "%s.href: \"%.200s\" is not an %s URL", p, *ret,
			    https ? "https" : "http(s)");
		free(*ret);
		*ret = NULL;
	}
	return r;
}

static int parse_hashes(const struct json_object *art, const char *path, struct ddi_artifact *a,
			char *why, size_t size)
{
	struct json_object *hashes;
	const char *sha;
	char p[256];
	int r = ddi_member(art, path, "hashes", json_type_object, false, &hashes, why, size);

	if (r < 0 || !hashes)
		return r;
	ddi_path(p, sizeof(p), path, "hashes");
	r = ddi_member_str(hashes, p, "sha256", 128, false, &sha, why, size);
	if (r < 0 || !sha)
		return r;
	if (strlen(sha) != 64 || hex_decode(sha, a->sha256, 32) != 32)
		return ddi_why(why, size, "%s.sha256: expected 64 hex digits, got \"%.70s\"", p,
			       sha);
	a->has_sha256 = true;
	return 0;
}

static int parse_artifact(const struct json_object *art, const char *path, struct ddi_artifact *a,
			  char *why, size_t size)
{
	struct json_object *v = NULL, *links = NULL;
	char p[256];
	int r;

	if (!json_object_is_type(art, json_type_object))
		return ddi_why(why, size, "%s: expected an object, got %s", path,
			       jd_type_name(art));
	r = copy_str(art, path, "filename", NAME_MAX_LEN, true, &a->filename, why, size);
	if (r == 0 && (!a->filename[0] || strchr(a->filename, '/')))
		r = ddi_why(why, size, "%s.filename: \"%s\" is not a file name", path, a->filename);
	if (r == 0)
		r = parse_hashes(art, path, a, why, size);
	if (r == 0 && jd_get(art, "size", &v) && v && jd_u64(v, &a->size) < 0)
		r = ddi_why(why, size, "%s.size: expected a non-negative integer, got %s", path,
			    jd_type_name(v));
	if (r == 0)
		r = ddi_member(art, path, "_links", json_type_object, true, &links, why, size);
	if (r < 0)
		return r;
	ddi_path(p, sizeof(p), path, "_links");
	r = link_href(links, p, "download", true, &a->href, why, size);
	if (r == 0)
		r = link_href(links, p, "download-http", false, &a->href_http, why, size);
	if (r == 0 && !a->href && !a->href_http)
		r = ddi_why(why, size, "%s: neither download nor download-http", p);
	return r;
}

static int parse_chunk(const struct json_object *ch, const char *path, struct ddi_chunk *c,
		       char *why, size_t size)
{
	struct json_object *arts;
	char p[256];
	int r;

	if (!json_object_is_type(ch, json_type_object))
		return ddi_why(why, size, "%s: expected an object, got %s", path, jd_type_name(ch));
	r = copy_str(ch, path, "part", NAME_MAX_LEN, false, &c->part, why, size);
	if (r == 0)
		r = copy_str(ch, path, "version", NAME_MAX_LEN, false, &c->version, why, size);
	if (r == 0)
		r = copy_str(ch, path, "name", NAME_MAX_LEN, false, &c->name, why, size);
	if (r == 0)
		r = ddi_member(ch, path, "artifacts", json_type_array, false, &arts, why, size);
	if (r < 0 || !arts)
		return r;
	c->n_artifacts = json_object_array_length(arts);
	c->artifacts = calloc(c->n_artifacts ? c->n_artifacts : 1, sizeof(*c->artifacts));
	if (!c->artifacts)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_artifacts && r == 0; i++) {
		snprintf(p, sizeof(p), "%s.artifacts[%zu]", path, i);
		r = parse_artifact(json_object_array_get_idx(arts, i), p, &c->artifacts[i], why,
				   size);
	}
	return r;
}

static int parse_id(const struct json_object *root, char id[DDI_ID_MAX + 1], char *why, size_t size)
{
	struct json_object *v;
	uint64_t u;

	if (!jd_get(root, "id", &v) || !v)
		return ddi_why(why, size, "id: missing");
	if (jd_u64(v, &u) == 0) /* a number from servers that send the Long as one */
		snprintf(id, DDI_ID_MAX + 1, "%llu", (unsigned long long)u);
	else if (jd_str(v) && strlen(jd_str(v)) <= DDI_ID_MAX)
		snprintf(id, DDI_ID_MAX + 1, "%s", jd_str(v));
	else
		return ddi_why(why, size, "id: expected an action id, got %s", jd_type_name(v));
	if (!ddi_id_valid(id, DDI_ID_MAX, false))
		return ddi_why(why, size, "id: \"%s\" is not an action id", id);
	return 0;
}

static int parse_deployment(const struct json_object *root, struct ddi_deployment *d, char *why,
			    size_t size)
{
	struct json_object *dep = NULL, *chunks = NULL;
	char p[64];
	int r = parse_id(root, d->action, why, size);

	if (r == 0)
		r = ddi_member(root, "", "deployment", json_type_object, true, &dep, why, size);
	if (r == 0)
		r = handling(dep, "download", &d->download, why, size);
	if (r == 0)
		r = handling(dep, "update", &d->update, why, size);
	if (r == 0)
		r = window(dep, &d->window, why, size);
	if (r == 0)
		r = ddi_member(dep, "deployment", "chunks", json_type_array, true, &chunks, why,
			       size);
	if (r < 0)
		return r;
	d->n_chunks = json_object_array_length(chunks);
	d->chunks = calloc(d->n_chunks ? d->n_chunks : 1, sizeof(*d->chunks));
	if (!d->chunks)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_chunks && r == 0; i++) {
		snprintf(p, sizeof(p), "deployment.chunks[%zu]", i);
		r = parse_chunk(json_object_array_get_idx(chunks, i), p, &d->chunks[i], why, size);
	}
	return r;
}

int ddi_deployment_parse(const char *json, size_t len, struct ddi_deployment **ret, char *why,
			 size_t size)
{
	_cleanup_(jd_doc_freep) struct jd_doc *doc = NULL;
	struct ddi_deployment *d;
	char inner[400];
	int r = ddi_doc(json, len, "deploymentBase", &doc, why, size);

	if (r < 0)
		return r;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	r = parse_deployment(jd_root(doc), d, inner, sizeof(inner));
	if (r < 0) {
		ddi_deployment_free(d);
		return r == -EBADMSG ? ddi_why(why, size, "deploymentBase: %s", inner) : r;
	}
	*ret = d;
	return 0;
}

struct ddi_deployment *ddi_deployment_free(struct ddi_deployment *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; d->chunks && i < d->n_chunks; i++) {
		struct ddi_chunk *c = &d->chunks[i];

		for (size_t k = 0; c->artifacts && k < c->n_artifacts; k++) {
			free(c->artifacts[k].filename);
			free(c->artifacts[k].href);
			free(c->artifacts[k].href_http);
		}
		free(c->artifacts);
		free(c->part);
		free(c->version);
		free(c->name);
	}
	free(d->chunks);
	free(d);
	return NULL;
}

bool ddi_deployment_same_handling(const struct ddi_deployment *a, const struct ddi_deployment *b)
{
	return strcmp(a->action, b->action) == 0 && a->download == b->download &&
	       a->update == b->update && a->window == b->window;
}

bool ddi_deployment_may_download(const struct ddi_deployment *d)
{
	return d->download != DDI_HANDLING_SKIP;
}

bool ddi_deployment_may_install(const struct ddi_deployment *d)
{
	return d->update != DDI_HANDLING_SKIP && d->window != DDI_WINDOW_UNAVAILABLE;
}

/* 3 a dfu_application.zip, 2 an MCUboot image, 1 Intel HEX, 0 nothing otad installs. */
static int kind(const char *filename)
{
	static const char *const suffix[] = {".hex", ".bin", ".zip"};
	size_t n = strlen(filename);

	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++)
		if (n > 4 && strcasecmp(filename + n - 4, suffix[i]) == 0)
			return (int)i + 1;
	return 0;
}

static void list_files(const struct ddi_deployment *d, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < d->n_chunks; i++)
		for (size_t k = 0; k < d->chunks[i].n_artifacts && len < size; k++)
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
						d->chunks[i].artifacts[k].filename);
}

int ddi_deployment_pick(const struct ddi_deployment *d, bool allow_http,
			const struct ddi_artifact **ret, char *why, size_t size)
{
	const struct ddi_artifact *best = NULL, *other = NULL;
	char files[300];

	for (size_t i = 0; i < d->n_chunks; i++)
		for (size_t k = 0; k < d->chunks[i].n_artifacts; k++) {
			const struct ddi_artifact *a = &d->chunks[i].artifacts[k];
			int n = kind(a->filename), b = best ? kind(best->filename) : 0;

			if (n > b) {
				best = a;
				other = NULL;
			} else if (n && n == b) {
				other = a;
			}
		}
	list_files(d, files, sizeof(files));
	if (!best) {
		ddi_why(why, size, "action %s: no .zip, .bin or .hex among its artifacts (%s)",
			d->action, files[0] ? files : "none");
		return -ENOENT;
	}
	if (other) {
		ddi_why(why, size, "action %s: %s and %s are both candidates", d->action,
			best->filename, other->filename);
		return -ENOTUNIQ;
	}
	if (!best->has_sha256)
		return ddi_why(why, size, "action %s: %s has no sha256 to pin it", d->action,
			       best->filename);
	if (!best->href && !allow_http) {
		ddi_why(why, size, "action %s: %s has only a plain http link", d->action,
			best->filename);
		return -EPERM;
	}
	*ret = best;
	return 0;
}
