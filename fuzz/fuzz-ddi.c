/* fuzz-ddi.c — the DDI resource readers (src/ddi/base.c, deployment.c): the controller base,
 * deploymentBase, cancelAction and error answers, and the artifact choice. Input: the body a
 * server sent (exactly sized on the heap); every reader gets it.
 * Invariants: each reader gives its struct or -EBADMSG with a one-line reason that fits; links
 * name valid action ids; a deployment's artifacts have file names without '/' and a link each,
 * an https URL (download) or an http(s) one (download-http);
 * the artifact picked belongs to the deployment, is a .zip, .bin or .hex, has a sha256 and an
 * https link (or plain http only when allowed); a refusal says why. */
#include <errno.h>
#include <strings.h>

#include "fuzz.h"
#include "otad/ddi.h"

static void check_why(int r, const char *why)
{
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r == -EBADMSG)
		FUZZ_CHECK(why[0] && !strchr(why, '\n'));
}

static void check_base(const char *text, size_t size)
{
	struct ddi_base b;
	char why[400] = "";
	int r = ddi_base_parse(text, size, &b, why, sizeof(why));

	check_why(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(!b.deployment[0] || ddi_id_valid(b.deployment, DDI_ID_MAX, false));
	FUZZ_CHECK(!b.cancel[0] || ddi_id_valid(b.cancel, DDI_ID_MAX, false));
	FUZZ_CHECK(!b.installed[0] || ddi_id_valid(b.installed, DDI_ID_MAX, false));
	FUZZ_CHECK(strlen(b.deployment_tag) <= DDI_TAG_MAX);
}

static bool in_deployment(const struct ddi_deployment *d, const struct ddi_artifact *a)
{
	for (size_t i = 0; i < d->n_chunks; i++)
		for (size_t k = 0; k < d->chunks[i].n_artifacts; k++)
			if (&d->chunks[i].artifacts[k] == a)
				return true;
	return false;
}

static void check_pick(const struct ddi_deployment *d, bool allow_http)
{
	const struct ddi_artifact *a = NULL;
	char why[400] = "";
	size_t n;
	int r = ddi_deployment_pick(d, allow_http, &a, why, sizeof(why));

	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENOTUNIQ || r == -EBADMSG || r == -EPERM);
	if (r < 0) {
		FUZZ_CHECK(why[0]);
		return;
	}
	FUZZ_CHECK(in_deployment(d, a) && a->has_sha256 && (a->href || allow_http));
	n = strlen(a->filename);
	FUZZ_CHECK(n > 4 && (strcasecmp(a->filename + n - 4, ".zip") == 0 ||
			     strcasecmp(a->filename + n - 4, ".bin") == 0 ||
			     strcasecmp(a->filename + n - 4, ".hex") == 0));
}

static void check_deployment(const char *text, size_t size)
{
	struct ddi_deployment *d = NULL;
	char why[400] = "";
	int r = ddi_deployment_parse(text, size, &d, why, sizeof(why));

	check_why(r, why);
	if (r < 0) {
		FUZZ_CHECK(!d);
		return;
	}
	FUZZ_CHECK(ddi_id_valid(d->action, DDI_ID_MAX, false));
	FUZZ_CHECK(ddi_deployment_may_install(d) ==
		   (d->update != DDI_HANDLING_SKIP && d->window != DDI_WINDOW_UNAVAILABLE));
	for (size_t i = 0; i < d->n_chunks; i++) {
		FUZZ_CHECK(d->chunks[i].part && d->chunks[i].version && d->chunks[i].name);
		for (size_t k = 0; k < d->chunks[i].n_artifacts; k++) {
			const struct ddi_artifact *a = &d->chunks[i].artifacts[k];

			FUZZ_CHECK(a->filename[0] && !strchr(a->filename, '/'));
			FUZZ_CHECK(a->href || a->href_http);
			FUZZ_CHECK(!a->href || strncmp(a->href, "https://", 8) == 0);
			FUZZ_CHECK(!a->href_http || strncmp(a->href_http, "http://", 7) == 0 ||
				   strncmp(a->href_http, "https://", 8) == 0);
		}
	}
	check_pick(d, false);
	check_pick(d, true);
	FUZZ_CHECK(ddi_deployment_same_handling(d, d));
	ddi_deployment_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = (char *)fz_dup(data, size);
	char stop[DDI_ID_MAX + 1], why[400] = "", msg[200];
	int r;

	check_base(text, size);
	check_deployment(text, size);
	r = ddi_cancel_parse(text, size, stop, why, sizeof(why));
	check_why(r, why);
	if (r == 0)
		FUZZ_CHECK(ddi_id_valid(stop, DDI_ID_MAX, false));
	ddi_error_message(text, size, msg, sizeof(msg));
	FUZZ_CHECK(strlen(msg) < sizeof(msg));
	free(text);
	return 0;
}
