/* body.c — the bodies otad sends: feedback on an action (deploymentBase and cancelAction
 * share the shape) and the target's attributes (configData), written with json-c. */
#include "ddi/ddi-internal.h"

#include <errno.h>
#include <string.h>

static const char *const execution_names[] = {
	[DDI_EXEC_PROCEEDING] = "proceeding", [DDI_EXEC_SCHEDULED] = "scheduled",
	[DDI_EXEC_RESUMED] = "resumed",	      [DDI_EXEC_DOWNLOAD] = "download",
	[DDI_EXEC_DOWNLOADED] = "downloaded", [DDI_EXEC_CLOSED] = "closed",
	[DDI_EXEC_CANCELED] = "canceled",     [DDI_EXEC_REJECTED] = "rejected",
};

const char *ddi_execution_name(enum ddi_execution e)
{
	return (size_t)e < ARRAY_SIZE(execution_names) ? execution_names[e] : "?";
}

const char *ddi_finished_name(enum ddi_finished f)
{
	return f == DDI_FINISHED_SUCCESS   ? "success"
	       : f == DDI_FINISHED_FAILURE ? "failure"
					   : "none";
}

bool ddi_execution_final(enum ddi_execution e)
{
	return e == DDI_EXEC_CLOSED || e == DDI_EXEC_CANCELED || e == DDI_EXEC_REJECTED;
}

/* Adds v (taking it) as member key of o; -ENOMEM when v is NULL or the add fails. */
static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* A string of at most max bytes, cut before a UTF-8 continuation byte. */
static struct json_object *string_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return json_object_new_string_len(s, (int)n);
}

static int add_result(struct json_object *status, const struct ddi_feedback *fb)
{
	struct json_object *result = json_object_new_object(), *progress;
	int r = add(status, "result", result);

	if (r == 0)
		r = add(result, "finished",
			json_object_new_string(ddi_finished_name(fb->finished)));
	if (r < 0 || fb->progress_of == 0)
		return r;
	progress = json_object_new_object();
	r = add(result, "progress", progress);
	if (r == 0)
		r = add(progress, "cnt", json_object_new_int64(fb->progress_cnt));
	if (r == 0)
		r = add(progress, "of", json_object_new_int64(fb->progress_of));
	return r;
}

static int add_details(struct json_object *status, const char *const *details)
{
	struct json_object *list;
	int r;

	if (!details || !details[0])
		return 0;
	list = json_object_new_array();
	r = add(status, "details", list);
	for (size_t i = 0; r == 0 && details[i]; i++) {
		struct json_object *d = string_cut(details[i], DDI_DETAIL_MAX);

		if (!d || json_object_array_add(list, d) < 0) {
			json_object_put(d);
			r = -ENOMEM;
		}
	}
	return r;
}

static int serialize(struct json_object *o, char **ret)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);

	*ret = t ? strdup(t) : NULL;
	return *ret ? 0 : -ENOMEM;
}

static bool feedback_valid(const struct ddi_feedback *fb)
{
	if (!fb->action || !ddi_id_valid(fb->action, DDI_ID_MAX, false))
		return false;
	if (fb->progress_of && fb->progress_cnt > fb->progress_of)
		return false;
	/* hawkBit closes an action only with a result (DdiResult.finished) */
	return fb->execution != DDI_EXEC_CLOSED || fb->finished != DDI_FINISHED_NONE;
}

int ddi_feedback_json(const struct ddi_feedback *fb, time_t now, char **ret)
{
	struct json_object *o, *status;
	char time_s[32];
	struct tm tm;
	int r;

	if (!feedback_valid(fb) || (size_t)fb->execution >= ARRAY_SIZE(execution_names))
		return -EINVAL;
	if (!gmtime_r(&now, &tm) || !strftime(time_s, sizeof(time_s), "%Y%m%dT%H%M%S", &tm))
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	status = json_object_new_object();
	r = add(o, "id", json_object_new_string(fb->action));
	if (r == 0)
		r = add(o, "time", json_object_new_string(time_s));
	if (r == 0)
		r = add(o, "status", status);
	else
		json_object_put(status);
	if (r == 0)
		r = add(status, "execution",
			json_object_new_string(ddi_execution_name(fb->execution)));
	if (r == 0)
		r = add_result(status, fb);
	if (r == 0)
		r = add_details(status, fb->details);
	if (r == 0)
		r = serialize(o, ret);
	json_object_put(o);
	return r;
}

static bool attrs_valid(const struct ddi_attr *attrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!attrs[i].key || !attrs[i].value || !attrs[i].key[0] ||
		    strlen(attrs[i].key) > DDI_ATTR_KEY_MAX)
			return false;
		for (size_t k = 0; k < i; k++)
			if (strcmp(attrs[k].key, attrs[i].key) == 0)
				return false;
	}
	return true;
}

int ddi_config_json(const struct ddi_attr *attrs, size_t n, char **ret)
{
	struct json_object *o, *data;
	int r;

	if (!attrs_valid(attrs, n))
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	data = json_object_new_object();
	r = add(o, "mode", json_object_new_string("merge"));
	if (r == 0)
		r = add(o, "data", data);
	else
		json_object_put(data);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add(data, attrs[i].key, string_cut(attrs[i].value, DDI_ATTR_VALUE_MAX));
	if (r == 0)
		r = serialize(o, ret);
	json_object_put(o);
	return r;
}
