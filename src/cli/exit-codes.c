/* exit-codes.c — the exit code of each failure of the update, the names of the codes, and the
 * error object that --json prints on stdout for every failure (otactl(1) EXIT STATUS). */
#include "cli/exit-codes.h"
#include "util/json.h"
#include "util/macro.h"

#include <stdio.h>
#include <string.h>

static char noted[1024];
static bool reported;

int exit_code_for(enum upd_fail f)
{
	static const int codes[_UPD_FAIL_MAX] = {
		[UPD_FAIL_NONE] = EXIT_OK,
		[UPD_FAIL_IMAGE] = EXIT_IMAGE,
		[UPD_FAIL_LINK] = EXIT_LINK,
		[UPD_FAIL_TIMEOUT] = EXIT_TIMEOUT,
		[UPD_FAIL_DEVICE] = EXIT_DEVICE,
		[UPD_FAIL_PROTOCOL] = EXIT_PROTOCOL,
		[UPD_FAIL_VERIFY] = EXIT_VERIFY,
		[UPD_FAIL_REFUSED] = EXIT_REFUSED,
		[UPD_FAIL_CANCELLED] = EXIT_CANCELLED,
		[UPD_FAIL_CONFIG] = EXIT_USAGE,
		[UPD_FAIL_SECURITY] = EXIT_SECURITY,
	};

	return (unsigned)f < _UPD_FAIL_MAX ? codes[f] : EXIT_FAILURE_GENERIC;
}

const char *exit_code_name(int code)
{
	static const char *const names[_EXIT_MAX] = {
		[EXIT_OK] = "ok",
		[EXIT_FAILURE_GENERIC] = "internal",
		[EXIT_USAGE] = "usage",
		[EXIT_IMAGE] = "image",
		[EXIT_LINK] = "link",
		[EXIT_TIMEOUT] = "timeout",
		[EXIT_DEVICE] = "device",
		[EXIT_PROTOCOL] = "protocol",
		[EXIT_VERIFY] = "verify",
		[EXIT_REFUSED] = "refused",
		[EXIT_CANCELLED] = "cancelled",
		[EXIT_CONFIG] = "config-invalid",
		[EXIT_CONFLICT] = "conflict",
		[EXIT_SECURITY] = "security",
	};

	return code >= 0 && code < _EXIT_MAX ? names[code] : "internal";
}

void exit_note_error(const char *msg)
{
	size_t n = strlen(noted);

	if (n + 3 < sizeof(noted))
		snprintf(noted + n, sizeof(noted) - n, "%s%s", n ? "; " : "", msg);
}

void exit_json_error(struct json *j, int code, const char *message)
{
	json_begin_object(j, "error");
	json_str(j, "class", exit_code_name(code));
	json_str(j, "message", message ? message : noted);
	json_u64(j, "exit_code", (uint64_t)code);
	json_end_object(j);
	reported = true;
}

void exit_report_json(int code)
{
	struct json j;

	if (code == EXIT_OK || reported)
		return;
	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	exit_json_error(&j, code, NULL);
	json_end_object(&j);
	json_end_line(&j);
}
