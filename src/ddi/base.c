/* base.c — the controller base (GET TENANT/controller/v1/CONTROLLERID), the cancelAction
 * resource and error answers, read into structs. The base names what is open as links
 * ("_links": {"deploymentBase": {"href": ".../deploymentBase/5?c=-2127183556"}, ...}): the
 * action is the path segment after the resource's name, the query changes with the action
 * (hawkBit's hash of it), so it is kept to notice a change. */
#include "ddi/ddi-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The action of the link rel (segment "/deploymentBase/" and so on); "" when absent. */
static int link_action(const struct json_object *links, const char *rel, char id[DDI_ID_MAX + 1],
		       char *tag, size_t tag_size, char *why, size_t size)
{
	struct json_object *link;
	const char *href, *at, *end;
	char path[64], segment[64];
	size_t n;
	int r;

	id[0] = 0;
	if (tag)
		tag[0] = 0;
	snprintf(path, sizeof(path), "_links.%s", rel);
	r = ddi_member(links, "_links", rel, json_type_object, false, &link, why, size);
	if (r < 0 || !link)
		return r;
	r = ddi_member_str(link, path, "href", 2048, true, &href, why, size);
	if (r < 0)
		return r;
	snprintf(segment, sizeof(segment), "/%s/", rel);
	at = strstr(href, segment);
	if (!at)
		return ddi_why(why, size, "%s.href: \"%.200s\" has no %s", path, href, segment);
	at += strlen(segment);
	end = at + strcspn(at, "?#");
	n = (size_t)(end - at);
	if (n > 0 && n <= DDI_ID_MAX)
		snprintf(id, DDI_ID_MAX + 1, "%.*s", (int)n, at);
	if (!ddi_id_valid(id, DDI_ID_MAX, false)) {
		id[0] = 0;
		return ddi_why(why, size, "%s.href: \"%.200s\" names no valid action", path, href);
	}
	if (tag && *end == '?')
		snprintf(tag, tag_size, "%.*s", (int)strcspn(end + 1, "#"), end + 1);
	return 0;
}

static int parse_config(const struct json_object *root, struct ddi_base *b, char *why, size_t size)
{
	struct json_object *config, *polling;
	const char *sleep;
	int r;

	r = ddi_member(root, "", "config", json_type_object, false, &config, why, size);
	if (r < 0 || !config)
		return r;
	r = ddi_member(config, "config", "polling", json_type_object, false, &polling, why, size);
	if (r < 0 || !polling)
		return r;
	r = ddi_member_str(polling, "config.polling", "sleep", 32, false, &sleep, why, size);
	if (r < 0 || !sleep)
		return r;
	if (ddi_sleep_parse(sleep, &b->sleep_usec) < 0)
		return ddi_why(why, size, "config.polling.sleep: \"%s\" is not HH:MM:SS", sleep);
	return 0;
}

static int parse_base(const struct json_object *root, struct ddi_base *b, char *why, size_t size)
{
	struct json_object *links, *config;
	int r = parse_config(root, b, why, size);

	if (r < 0)
		return r;
	r = ddi_member(root, "", "_links", json_type_object, false, &links, why, size);
	if (r < 0 || !links)
		return r;
	r = link_action(links, "deploymentBase", b->deployment, b->deployment_tag,
			sizeof(b->deployment_tag), why, size);
	if (r == 0)
		r = link_action(links, "cancelAction", b->cancel, NULL, 0, why, size);
	if (r == 0)
		r = link_action(links, "installedBase", b->installed, NULL, 0, why, size);
	if (r == 0)
		r = ddi_member(links, "_links", "configData", json_type_object, false, &config, why,
			       size);
	b->config_requested = r == 0 && config;
	return r;
}

int ddi_base_parse(const char *json, size_t len, struct ddi_base *ret, char *why, size_t size)
{
	_cleanup_(jd_doc_freep) struct jd_doc *doc = NULL;
	struct ddi_base b = {0};
	char inner[400];
	int r = ddi_doc(json, len, "controller base", &doc, why, size);

	if (r < 0)
		return r;
	r = parse_base(jd_root(doc), &b, inner, sizeof(inner));
	if (r < 0)
		return ddi_why(why, size, "controller base: %s", inner);
	*ret = b;
	return 0;
}

int ddi_cancel_parse(const char *json, size_t len, char ret_stop[DDI_ID_MAX + 1], char *why,
		     size_t size)
{
	_cleanup_(jd_doc_freep) struct jd_doc *doc = NULL;
	struct json_object *cancel = NULL;
	const char *stop = NULL;
	char inner[400];
	int r = ddi_doc(json, len, "cancelAction", &doc, why, size);

	if (r < 0)
		return r;
	r = ddi_member(jd_root(doc), "", "cancelAction", json_type_object, true, &cancel, inner,
		       sizeof(inner));
	if (r == 0)
		r = ddi_member_str(cancel, "cancelAction", "stopId", DDI_ID_MAX, true, &stop, inner,
				   sizeof(inner));
	if (r == 0 && !ddi_id_valid(stop, DDI_ID_MAX, false))
		r = ddi_why(inner, sizeof(inner), "cancelAction.stopId: \"%s\" is not an action id",
			    stop);
	if (r < 0)
		return ddi_why(why, size, "cancelAction: %s", inner);
	snprintf(ret_stop, DDI_ID_MAX + 1, "%s", stop);
	return 0;
}

void ddi_error_message(const char *body, size_t len, char *out, size_t size)
{
	_cleanup_(jd_doc_freep) struct jd_doc *doc = NULL;
	const size_t max = DDI_ERROR_MESSAGE_MAX;
	const char *m = NULL;

	out[0] = 0;
	if (jd_parse(body, len, &doc, NULL) < 0)
		return;
	if (ddi_member_str(jd_root(doc), "", "message", max, false, &m, NULL, 0) < 0 || !m)
		ddi_member_str(jd_root(doc), "", "errorCode", max, false, &m, NULL, 0);
	if (m)
		snprintf(out, size, "%s", m);
	ddi_one_line(out);
}
