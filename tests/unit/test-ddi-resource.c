/* test-ddi-resource.c — the DDI resources read into structs (src/ddi/base.c, deployment.c):
 * a controller base with every link, a deployment of two chunks, a cancelAction, error
 * answers, the artifact otad picks, and one malformed document per rule with the member the
 * error names. Fixtures are shaped like hawkBit's DDI API reference, with our own values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/ddi.h"

#define SHA_A "0b1ee2a7d3e8b2e3e0f4ac1c4cd5bcd8d1b11a6b0c07cd7c0e0a38a3f8b0b9a1"
#define SHA_B "5c86d7e4a7d1f3c1a0e0b4c3d2e1f00112233445566778899aabbccddeeff001"

static const char base_all[] =
	"{\n  \"config\" : {\n    \"polling\" : {\n      \"sleep\" : \"00:05:30\"\n    }\n  },\n"
	"  \"_links\" : {\n"
	"    \"deploymentBase\" : {\n      \"href\" : \"https://ddi.example/DEFAULT/controller/v1/"
	"sensor-1/deploymentBase/42?c=-2127183556\"\n    },\n"
	"    \"installedBase\" : {\n      \"href\" : \"https://ddi.example/DEFAULT/controller/v1/"
	"sensor-1/installedBase/41\"\n    },\n"
	"    \"configData\" : {\n      \"href\" : \"https://ddi.example/DEFAULT/controller/v1/"
	"sensor-1/configData\"\n    }\n  }\n}";

static void base_bad(const char *json, const char *want)
{
	struct ddi_base b;
	char why[400] = "";
	int r = ddi_base_parse(json, strlen(json), &b, why, sizeof(why));

	if (r != -EBADMSG || !strstr(why, want))
		fail_msg("%s: got %d \"%s\", want \"%s\"", json, r, why, want);
}

static void test_base_with_every_link(void **state)
{
	struct ddi_base b;
	char why[200];

	assert_int_equal(ddi_base_parse(base_all, strlen(base_all), &b, why, sizeof(why)), 0);
	assert_true(b.sleep_usec == (5 * 60 + 30) * 1000000ULL);
	assert_string_equal(b.deployment, "42");
	assert_string_equal(b.deployment_tag, "c=-2127183556");
	assert_string_equal(b.installed, "41");
	assert_string_equal(b.cancel, "");
	assert_true(b.config_requested);
}

static void test_base_empty_and_cancel(void **state)
{
	static const char empty[] = "{}";
	static const char cancel[] =
		"{\"config\":{\"polling\":{\"sleep\":\"12:00:00\"}},\"_links\":{\"cancelAction\":{"
		"\"href\":\"https://h/T/controller/v1/c/cancelAction/7\"}}}";
	struct ddi_base b;
	char why[200];

	assert_int_equal(ddi_base_parse(empty, 2, &b, why, sizeof(why)), 0);
	assert_true(b.sleep_usec == 0 && !b.deployment[0] && !b.cancel[0] && !b.config_requested);
	assert_int_equal(ddi_base_parse(cancel, strlen(cancel), &b, why, sizeof(why)), 0);
	assert_string_equal(b.cancel, "7");
	assert_true(b.sleep_usec == 12 * 3600 * 1000000ULL);
	assert_string_equal(b.deployment, "");
}

static void test_base_malformed_names_the_member(void **state)
{
	base_bad("", "controller base: not JSON: line 1 column 1: empty document");
	base_bad("<html>502 Bad Gateway</html>", "controller base: not JSON: line 1 column 1");
	base_bad("{\"config\": {\"polling\": {\"sleep\": \"5:00\"}}}",
		 "controller base: config.polling.sleep: \"5:00\" is not HH:MM:SS");
	base_bad("{\"config\": {\"polling\": {\"sleep\": 300}}}",
		 "config.polling.sleep: expected a string, got a number");
	base_bad("{\"config\": []}", "config: expected an object, got an array");
	base_bad("[]", "controller base: expected an object, got an array");
	base_bad("{\"_links\": {\"deploymentBase\": {}}}", "_links.deploymentBase.href: missing");
	base_bad("{\"_links\": {\"deploymentBase\": {\"href\": \"https://h/x/42\"}}}",
		 "_links.deploymentBase.href: \"https://h/x/42\" has no /deploymentBase/");
	base_bad("{\"_links\": {\"deploymentBase\": {\"href\": "
		 "\"https://h/deploymentBase/4%202\"}}}",
		 "names no valid action");
	base_bad(
		"{\"_links\": {\"deploymentBase\": {\"href\": \"https://h/deploymentBase/?c=1\"}}}",
		"names no valid action");
	base_bad("{\"_links\": {\"cancelAction\": {\"href\": \"https://h/cancelAction/../x\"}}}",
		 "_links.cancelAction.href");
	base_bad("{\"_links\": {\"configData\": \"yes\"}}",
		 "_links.configData: expected an object, got a string");
	base_bad("{\"a\": 1, \"a\": 2}", "duplicate member \"a\"");
	/* json-c takes raw control characters in strings: the message stays one line */
	base_bad("{\"_links\": {\"cancelAction\": {\"href\": \"https://h/\n\n/x\"}}}",
		 "_links.cancelAction.href: \"https://h/?\?/x\" has no /cancelAction/");
}

static const char deployment_two_chunks[] =
	"{\n  \"id\" : \"42\",\n  \"deployment\" : {\n    \"download\" : \"forced\",\n"
	"    \"update\" : \"attempt\",\n    \"maintenanceWindow\" : \"unavailable\",\n"
	"    \"chunks\" : [ {\n      \"part\" : \"os\",\n      \"version\" : \"2.1.0\",\n"
	"      \"name\" : \"sensor firmware\",\n      \"artifacts\" : [ {\n"
	"        \"filename\" : \"sensor-2.1.0.signed.bin\",\n"
	"        \"hashes\" : {\n          \"sha1\" : "
	"\"da39a3ee5e6b4b0d3255bfef95601890afd80709\",\n"
	"          \"md5\" : \"d41d8cd98f00b204e9800998ecf8427e\",\n"
	"          \"sha256\" : \"" SHA_A "\"\n        },\n        \"size\" : 65536,\n"
	"        \"_links\" : {\n          \"download\" : {\n            \"href\" : "
	"\"https://ddi.example/DEFAULT/controller/v1/sensor-1/softwaremodules/9/artifacts/"
	"sensor-2.1.0.signed.bin\"\n          },\n          \"download-http\" : {\n"
	"            \"href\" : \"http://ddi.example/DEFAULT/controller/v1/sensor-1/"
	"softwaremodules/9/artifacts/sensor-2.1.0.signed.bin\"\n          }\n        }\n"
	"      }, {\n        \"filename\" : \"notes.txt\",\n        \"hashes\" : {},\n"
	"        \"_links\" : {\n          \"download-http\" : {\n"
	"            \"href\" : \"http://ddi.example/n\"\n          }\n        }\n      } ]\n"
	"    }, {\n      \"part\" : \"bApp\",\n      \"version\" : \"1.0\",\n"
	"      \"name\" : \"extra\",\n      \"metadata\" : [ {\"key\": \"k\", \"value\": \"v\"} ]\n"
	"    } ]\n  },\n  \"actionHistory\" : {\n    \"status\" : \"RUNNING\",\n"
	"    \"messages\" : [ \"Assignment initiated\" ]\n  }\n}";

static struct ddi_deployment *deployment_ok(const char *json)
{
	struct ddi_deployment *d = NULL;
	char why[400];
	int r = ddi_deployment_parse(json, strlen(json), &d, why, sizeof(why));

	if (r < 0)
		fail_msg("rejected (%d): %s", r, why);
	return d;
}

static void deployment_bad(const char *json, const char *want)
{
	struct ddi_deployment *d = NULL;
	char why[400] = "";
	int r = ddi_deployment_parse(json, strlen(json), &d, why, sizeof(why));

	assert_null(d);
	if (r != -EBADMSG || !strstr(why, want))
		fail_msg("%s: got %d \"%s\", want \"%s\"", json, r, why, want);
}

static void test_deployment_with_two_chunks(void **state)
{
	struct ddi_deployment *d = deployment_ok(deployment_two_chunks);
	const struct ddi_artifact *a, *pick = NULL;
	uint8_t sha[32] = {0x0b, 0x1e, 0xe2, 0xa7};
	char why[300];

	assert_string_equal(d->action, "42");
	assert_int_equal(d->download, DDI_HANDLING_FORCED);
	assert_int_equal(d->update, DDI_HANDLING_ATTEMPT);
	assert_int_equal(d->window, DDI_WINDOW_UNAVAILABLE);
	assert_true(ddi_deployment_may_download(d));
	assert_false(ddi_deployment_may_install(d)); /* outside its maintenance window */
	assert_int_equal(d->n_chunks, 2);
	assert_string_equal(d->chunks[0].part, "os");
	assert_string_equal(d->chunks[0].version, "2.1.0");
	assert_string_equal(d->chunks[0].name, "sensor firmware");
	assert_int_equal(d->chunks[0].n_artifacts, 2);
	assert_int_equal(d->chunks[1].n_artifacts, 0);
	a = &d->chunks[0].artifacts[0];
	assert_string_equal(a->filename, "sensor-2.1.0.signed.bin");
	assert_true(a->has_sha256);
	assert_memory_equal(a->sha256, sha, 4);
	assert_int_equal(a->sha256[31], 0xa1);
	assert_int_equal(a->size, 65536);
	assert_non_null(strstr(a->href, "https://ddi.example/"));
	assert_non_null(strstr(a->href_http, "http://ddi.example/"));
	a = &d->chunks[0].artifacts[1];
	assert_false(a->has_sha256);
	assert_null(a->href);
	assert_string_equal(a->href_http, "http://ddi.example/n");
	assert_int_equal(ddi_deployment_pick(d, false, &pick, why, sizeof(why)), 0);
	assert_ptr_equal(pick, &d->chunks[0].artifacts[0]);
	ddi_deployment_free(d);
	assert_null(ddi_deployment_free(NULL));
}

static void test_deployment_defaults_and_numeric_id(void **state)
{
	struct ddi_deployment *d = deployment_ok("{\"id\": 7, \"deployment\": {\"chunks\": []}}");
	struct ddi_deployment *e =
		deployment_ok("{\"id\": \"7\", \"deployment\": {\"chunks\": [], \"update\": "
			      "\"skip\", \"maintenanceWindow\": \"available\"}}");

	assert_string_equal(d->action, "7");
	assert_int_equal(d->download, DDI_HANDLING_ATTEMPT);
	assert_int_equal(d->update, DDI_HANDLING_ATTEMPT);
	assert_int_equal(d->window, DDI_WINDOW_NONE);
	assert_true(ddi_deployment_may_install(d));
	assert_false(ddi_deployment_may_install(e)); /* download only */
	assert_true(ddi_deployment_may_download(e));
	assert_false(ddi_deployment_same_handling(d, e));
	e->update = DDI_HANDLING_ATTEMPT;
	e->window = DDI_WINDOW_NONE;
	assert_true(ddi_deployment_same_handling(d, e));
	ddi_deployment_free(d);
	ddi_deployment_free(e);
}

static void test_deployment_malformed_names_the_member(void **state)
{
	static const char art[] =
		"{\"id\": \"1\", \"deployment\": {\"chunks\": [{\"artifacts\": [%s]}]}}";
	char json[600];

	deployment_bad("{}", "deploymentBase: id: missing");
	deployment_bad("{\"id\": \"a/b\", \"deployment\": {}}", "id: \"a/b\" is not an action id");
	deployment_bad("{\"id\": [1]}", "id: expected an action id, got an array");
	deployment_bad("{\"id\": \"1\"}", "deploymentBase: deployment: missing");
	deployment_bad("{\"id\": \"1\", \"deployment\": {}}", "deployment.chunks: missing");
	deployment_bad("{\"id\": \"1\", \"deployment\": {\"chunks\": {}}}",
		       "deployment.chunks: expected an array, got an object");
	deployment_bad("{\"id\": \"1\", \"deployment\": {\"download\": \"now\", \"chunks\": []}}",
		       "deployment.download: \"now\" is not skip, attempt or forced");
	deployment_bad(
		"{\"id\": \"1\", \"deployment\": {\"maintenanceWindow\": 1, \"chunks\": []}}",
		"deployment.maintenanceWindow: expected a string, got a number");
	deployment_bad("{\"id\": \"1\", \"deployment\": {\"maintenanceWindow\": \"soon\", "
		       "\"chunks\": []}}",
		       "\"soon\" is not available or unavailable");
	deployment_bad("{\"id\": \"1\", \"deployment\": {\"chunks\": [3]}}",
		       "deployment.chunks[0]: expected an object, got a number");
	deployment_bad("{\"id\": \"1\", \"deployment\": {\"chunks\": [{\"version\": false}]}}",
		       "deployment.chunks[0].version: expected a string, got a boolean");
	snprintf(json, sizeof(json), art, "{}");
	deployment_bad(json, "deployment.chunks[0].artifacts[0].filename: missing");
	snprintf(json, sizeof(json), art, "{\"filename\": \"../x.bin\"}");
	deployment_bad(json, "artifacts[0].filename: \"../x.bin\" is not a file name");
	snprintf(json, sizeof(json), art, "{\"filename\": \"a.bin\", \"hashes\": {\"sha256\": 1}}");
	deployment_bad(json, "artifacts[0].hashes.sha256: expected a string, got a number");
	snprintf(json, sizeof(json), art,
		 "{\"filename\": \"a.bin\", \"hashes\": {\"sha256\": \"ab\"}}");
	deployment_bad(json, "artifacts[0].hashes.sha256: expected 64 hex digits, got \"ab\"");
	snprintf(json, sizeof(json), art, "{\"filename\": \"a.bin\", \"size\": -4}");
	deployment_bad(json, "artifacts[0].size: expected a non-negative integer, got a number");
	snprintf(json, sizeof(json), art, "{\"filename\": \"a.bin\"}");
	deployment_bad(json, "artifacts[0]._links: missing");
	snprintf(json, sizeof(json), art, "{\"filename\": \"a.bin\", \"_links\": {}}");
	deployment_bad(json, "artifacts[0]._links: neither download nor download-http");
	snprintf(json, sizeof(json), art,
		 "{\"filename\": \"a.bin\", \"_links\": {\"download\": {\"href\": 5}}}");
	deployment_bad(json, "artifacts[0]._links.download.href: expected a string, got a number");
	/* a link is a URL: the fetch layer would read a bare path as a local file */
	snprintf(json, sizeof(json), art,
		 "{\"filename\": \"a.bin\", \"_links\": {\"download\": {\"href\": "
		 "\"/etc/shadow\"}}}");
	deployment_bad(json, "_links.download.href: \"/etc/shadow\" is not an https URL");
	snprintf(json, sizeof(json), art,
		 "{\"filename\": \"a.bin\", \"_links\": {\"download\": {\"href\": "
		 "\"http://h/a\"}}}");
	deployment_bad(json, "_links.download.href: \"http://h/a\" is not an https URL");
	snprintf(json, sizeof(json), art,
		 "{\"filename\": \"a.bin\", \"_links\": {\"download-http\": {\"href\": "
		 "\"file:///etc/shadow\"}}}");
	deployment_bad(json, "download-http.href: \"file:///etc/shadow\" is not an http(s) URL");
	deployment_bad("{\"id\": \"1\", \"deployment\": {\"chunks\": [], \"chunks\": []}}",
		       "duplicate member \"chunks\"");
}

/* A deployment with the given artifacts (name, sha256 or NULL, https link or not). */
static struct ddi_deployment *with_files(const char *const *names, bool https)
{
	char json[4000], *p = json;

	p += sprintf(p, "{\"id\": \"5\", \"deployment\": {\"chunks\": [{\"artifacts\": [");
	for (size_t i = 0; names[i]; i++)
		p += sprintf(p,
			     "%s{\"filename\": \"%s\", \"hashes\": {\"sha256\": \"%s\"}, "
			     "\"_links\": {\"%s\": {\"href\": \"http%s://h/%s\"}}}",
			     i ? ", " : "", names[i], SHA_B, https ? "download" : "download-http",
			     https ? "s" : "", names[i]);
	sprintf(p, "]}]}}");
	return deployment_ok(json);
}

static void pick(const char *const *names, bool https, bool allow_http, int want_err,
		 const char *want)
{
	struct ddi_deployment *d = with_files(names, https);
	const struct ddi_artifact *a = NULL;
	char why[300] = "";
	int r = ddi_deployment_pick(d, allow_http, &a, why, sizeof(why));

	if (r != want_err || (r == 0 && strcmp(a->filename, want) != 0) ||
	    (r < 0 && !strstr(why, want)))
		fail_msg("%s...: got %d %s \"%s\", want %d \"%s\"", names[0], r,
			 a ? a->filename : "-", why, want_err, want);
	ddi_deployment_free(d);
}

static void test_pick_prefers_zip_then_bin_then_hex(void **state)
{
	pick((const char *const[]){"app.hex", "dfu_application.zip", "app.signed.bin", NULL}, true,
	     false, 0, "dfu_application.zip");
	pick((const char *const[]){"app.sig", "APP.BIN", "app.hex", NULL}, true, false, 0,
	     "APP.BIN");
	pick((const char *const[]){"readme.txt", "app.hex", NULL}, true, false, 0, "app.hex");
	pick((const char *const[]){"readme.txt", "x.sig", NULL}, true, false, -ENOENT,
	     "no .zip, .bin or .hex among its artifacts (readme.txt, x.sig)");
	pick((const char *const[]){"a.bin", "b.bin", "c.hex", NULL}, true, false, -ENOTUNIQ,
	     "a.bin and b.bin are both candidates");
	pick((const char *const[]){"a.bin", NULL}, false, false, -EPERM,
	     "a.bin has only a plain http link");
	pick((const char *const[]){"a.bin", NULL}, false, true, 0, "a.bin");
}

static void test_pick_needs_a_sha256(void **state)
{
	struct ddi_deployment *d = deployment_ok(
		"{\"id\": \"5\", \"deployment\": {\"chunks\": [{\"artifacts\": [{\"filename\": "
		"\"a.zip\", \"_links\": {\"download\": {\"href\": \"https://h/a.zip\"}}}]}]}}");
	const struct ddi_artifact *a = NULL;
	char why[300];

	assert_int_equal(ddi_deployment_pick(d, false, &a, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "action 5: a.zip has no sha256 to pin it"));
	ddi_deployment_free(d);
}

static void test_cancel_and_error_answers(void **state)
{
	static const char ok[] = "{\"id\": \"11\", \"cancelAction\": {\"stopId\": \"10\"}}";
	static const char err[] =
		"{\"exceptionClass\": \"x.EntityNotFoundException\", "
		"\"errorCode\": \"hawkbit.server.error.repo.entitiyNotFound\", "
		"\"message\": \"Action with given identifier {10} does not exist.\"}";
	static const char raw_newline[] = "{\"message\": \"a\nb\"}";
	static const char empty_stop[] = "{\"cancelAction\": {\"stopId\": \"\"}}";
	char stop[DDI_ID_MAX + 1], why[300], msg[200];

	assert_int_equal(ddi_cancel_parse(ok, strlen(ok), stop, why, sizeof(why)), 0);
	assert_string_equal(stop, "10");
	assert_int_equal(ddi_cancel_parse("{}", 2, stop, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "cancelAction: cancelAction: missing");
	assert_int_equal(ddi_cancel_parse(empty_stop, strlen(empty_stop), stop, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "cancelAction.stopId: \"\" is not an action id"));
	ddi_error_message(err, strlen(err), msg, sizeof(msg));
	assert_string_equal(msg, "Action with given identifier {10} does not exist.");
	ddi_error_message("{\"errorCode\": \"E1\"}", 19, msg, sizeof(msg));
	assert_string_equal(msg, "E1");
	ddi_error_message(raw_newline, strlen(raw_newline), msg, sizeof(msg));
	assert_string_equal(msg, "a?b");
	ddi_error_message("<html>", 6, msg, sizeof(msg));
	assert_string_equal(msg, "");
}

/* Every prefix of a valid deployment is refused cleanly (no crash, no leak, no read past). */
static void test_every_truncation_is_refused(void **state)
{
	size_t len = strlen(deployment_two_chunks);

	for (size_t i = 0; i < len; i++) {
		struct ddi_deployment *d = NULL;
		char *copy = malloc(i ? i : 1), why[400];

		assert_non_null(copy);
		memcpy(copy, deployment_two_chunks, i);
		assert_int_equal(ddi_deployment_parse(copy, i, &d, why, sizeof(why)), -EBADMSG);
		assert_null(d);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_with_every_link),
		cmocka_unit_test(test_base_empty_and_cancel),
		cmocka_unit_test(test_base_malformed_names_the_member),
		cmocka_unit_test(test_deployment_with_two_chunks),
		cmocka_unit_test(test_deployment_defaults_and_numeric_id),
		cmocka_unit_test(test_deployment_malformed_names_the_member),
		cmocka_unit_test(test_pick_prefers_zip_then_bin_then_hex),
		cmocka_unit_test(test_pick_needs_a_sha256),
		cmocka_unit_test(test_cancel_and_error_answers),
		cmocka_unit_test(test_every_truncation_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
