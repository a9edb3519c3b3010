/* keys.c — value parsers and the key tables of otad.conf and the fleet files (otad.conf(5)). */
#include "fleet/keys.h"
#include "otad/transport.h"
#include "util/hex.h"
#include "util/macro.h"
#include "util/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int p_string(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	char **p = dst, *n;

	if (!*v) {
		*why = "must not be empty";
		return -EINVAL;
	}
	n = strdup(v);
	if (!n)
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

static int p_abs_path(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	if (v[0] != '/') {
		*why = "not an absolute path";
		return -EINVAL;
	}
	return p_string(v, dst, set, why);
}

static int p_max_jobs(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	uint32_t u;

	if (parse_u32(v, &u) < 0 || u < 1 || u > 64) {
		*why = "expected a number of jobs, 1..64";
		return -EINVAL;
	}
	*(unsigned *)dst = u;
	return 0;
}

static int p_count(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	uint32_t u;

	if (parse_u32(v, &u) < 0 || u > 10000) {
		*why = "expected a number, 0..10000";
		return -EINVAL;
	}
	*(unsigned *)dst = u;
	return 0;
}

static int p_usec(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	if (parse_usec(v, dst) < 0) {
		*why = "expected a duration like 30s, 500ms, 5min";
		return -EINVAL;
	}
	return 0;
}

/* A scan holds the one controller (otad.conf(5)): long enough to hear an advertiser, short
 * enough not to keep BLE jobs waiting. */
static int p_scan_duration(const char *v, void *dst, const struct fleet_settings *set,
			   const char **why)
{
	uint64_t u;

	if (parse_usec(v, &u) < 0 || u < 100 * USEC_PER_MSEC || u > 60 * USEC_PER_SEC) {
		*why = "expected a duration from 100ms to 60s";
		return -EINVAL;
	}
	*(uint64_t *)dst = u;
	return 0;
}

static int p_size(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	if (parse_size(v, dst) < 0) {
		*why = "expected a size like 512k or 8M";
		return -EINVAL;
	}
	return 0;
}

static int p_bool(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	if (parse_bool(v, dst) < 0) {
		*why = "expected yes or no";
		return -EINVAL;
	}
	return 0;
}

static int p_rate(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	uint64_t u;

	if (parse_size(v, &u) < 0 || u > UINT32_MAX || (u && u < UPD_RATE_MIN)) {
		*why = "expected bytes per second like 8k, at least 512 (0 = unlimited)";
		return -EINVAL;
	}
	((struct upd_pace *)dst)->rate = (uint32_t)u;
	return 0;
}

int fleet_parse_pace_window(const char *s, unsigned *ret)
{
	uint32_t u;

	if (strcmp(s, "auto") == 0) {
		*ret = UPD_WINDOW_AUTO;
		return 0;
	}
	if (parse_u32(s, &u) < 0 || u < 1 || u > UPD_WINDOW_MAX)
		return -EINVAL;
	*ret = u;
	return 0;
}

static int p_window(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	if (fleet_parse_pace_window(v, &((struct upd_pace *)dst)->window) < 0) {
		*why = "expected auto or 1..32 requests in flight";
		return -EINVAL;
	}
	return 0;
}

int fleet_parse_mode(const char *s, enum upd_mode *ret)
{
	if (strcmp(s, "test") == 0)
		*ret = UPD_MODE_TEST;
	else if (strcmp(s, "confirm") == 0)
		*ret = UPD_MODE_CONFIRM;
	else
		return -EINVAL;
	return 0;
}

static int p_mode(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	if (fleet_parse_mode(v, dst) < 0) {
		*why = "expected test or confirm";
		return -EINVAL;
	}
	return 0;
}

static int p_version(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;

	if (img_version_parse(v, &g->version) < 0 || strlen(v) >= sizeof(g->version_text)) {
		*why = "expected an image version like 1.2.3 or 1.2.3+4";
		return -EINVAL;
	}
	img_version_format(&g->version, g->version_text, sizeof(g->version_text));
	return 0;
}

static int p_sha256(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;

	if (strlen(v) != 64 || hex_decode(v, g->sha256, 32) != 32) {
		*why = "expected the SHA-256 of the image file, 64 hex digits";
		return -EINVAL;
	}
	g->has_sha256 = true;
	return 0;
}

static int p_image(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;

	g->image_is_url = strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0;
	if (strncmp(v, "http://", 7) == 0 && !set->allow_http) {
		*why = "plain http is refused unless otad.conf says AllowInsecureHTTP=yes";
		return -EINVAL;
	}
	if (!g->image_is_url && v[0] != '/') {
		*why = "expected an absolute path or an https:// URL";
		return -EINVAL;
	}
	return p_string(v, &g->image, set, why);
}

/* "H:MM" or "HH:MM" at *s, 00:00 to 24:00, as minutes; *s moves past it. */
static int parse_hhmm(const char **s, unsigned *ret)
{
	const char *p = *s;
	unsigned h = 0, m;

	for (int i = 0; i < 2 && *p >= '0' && *p <= '9'; i++)
		h = h * 10 + (unsigned)(*p++ - '0');
	if (p == *s || p[0] != ':' || p[1] < '0' || p[1] > '5' || p[2] < '0' || p[2] > '9')
		return -EINVAL;
	m = (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
	if (h > 24 || (h == 24 && m))
		return -EINVAL;
	*s = p + 3;
	*ret = h * 60 + m;
	return 0;
}

int fleet_parse_window(const char *s, struct fleet_window *ret)
{
	unsigned start, end;

	if (parse_hhmm(&s, &start) < 0 || *s++ != '-' || parse_hhmm(&s, &end) < 0 || *s ||
	    start == end)
		return -EINVAL;
	ret->start = (uint16_t)start;
	ret->end = (uint16_t)end;
	return 0;
}

/* Space-separated words, each through fn. Whether a repeated key replaces the list (the caller
 * empties it first: MaintenanceWindow=) or adds to it (MatchName=, MatchAddress=) is the
 * caller's. */
static int split_words(const char *v, int (*fn)(const char *w, void *dst), void *dst)
{
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t", &save); w && r >= 0; w = strtok_r(NULL, " \t", &save))
		r = fn(w, dst);
	return r;
}

static int add_window(const char *w, void *dst)
{
	struct fleet_group *g = dst;

	if (g->n_windows == FLEET_MAX_WINDOWS)
		return -E2BIG;
	return fleet_parse_window(w, &g->windows[g->n_windows++]);
}

static int p_windows(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;
	int r;

	g->n_windows = 0;
	r = split_words(v, add_window, g);
	if (r < 0 && r != -ENOMEM)
		*why = r == -E2BIG ? "at most 8 windows"
				   : "expected daily windows like 02:00-04:30 (local time)";
	return r;
}

struct word_list {
	char ***items;
	size_t *n;
	const char *why; /* why a word was refused */
};

static int add_word(const char *w, void *dst)
{
	struct word_list *l = dst;
	char **n = realloc(*l->items, (*l->n + 1) * sizeof(char *));

	if (!n)
		return -ENOMEM;
	*l->items = n;
	n[*l->n] = strdup(w);
	if (!n[*l->n])
		return -ENOMEM;
	(*l->n)++;
	return 0;
}

/* A bracket expression at p (just after its '['), as fnmatch(3) reads it: an optional '!' or
 * '^', a ']' first is literal, classes [:name:], collating [.x.] and [=x=] elements, ranges.
 * Returns the character after its ']', or NULL with *why. */
static const char *glob_bracket(const char *p, const char **why)
{
	static const char *const classes[] = {"alnum", "alpha", "blank", "cntrl",
					      "digit", "graph", "lower", "print",
					      "punct", "space", "upper", "xdigit"};
	unsigned char prev = 0;

	if (*p == '!' || *p == '^')
		p++;
	if (*p == ']')
		prev = (unsigned char)*p++;
	for (; *p && *p != ']'; p++) {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *end = strchr(p + 2, p[1]);
			bool known = p[1] != ':';

			if (!end || end[1] != ']')
				break;
			for (size_t i = 0; i < ARRAY_SIZE(classes) && !known; i++)
				known = strlen(classes[i]) == (size_t)(end - p - 2) &&
					strncmp(p + 2, classes[i], (size_t)(end - p - 2)) == 0;
			if (!known) {
				*why = "unknown character class in [[:...:]] (alpha, digit, "
				       "alnum, upper, lower, xdigit, space, punct, ...)";
				return NULL;
			}
			p = end + 1;
			prev = 0;
		} else if (p[0] == '-' && prev && p[1] && p[1] != ']') {
			if ((unsigned char)p[1] < prev) {
				*why = "a range in [...] goes from its lower to its higher end "
				       "(a-z, not z-a): this one matches nothing";
				return NULL;
			}
			p++;
			prev = 0;
		} else {
			if (p[0] == '\\' && p[1])
				p++;
			prev = (unsigned char)*p;
		}
	}
	if (*p != ']') {
		*why = "'[' opens a set of characters that no ']' closes (write \\[ for a "
		       "literal '[')";
		return NULL;
	}
	return p + 1;
}

/* fnmatch(3) takes any pattern: a malformed one simply matches nothing (or only itself, taken
 * literally), which in a fleet file means devices silently left out. */
static int glob_check(const char *pat, const char **why)
{
	for (const char *p = pat; *p;) {
		if (*p == '\\') {
			if (!p[1]) {
				*why = "ends in a lone '\\', which matches nothing";
				return -EINVAL;
			}
			p += 2;
		} else if (*p == '[') {
			p = glob_bracket(p + 1, why);
			if (!p)
				return -EINVAL;
		} else {
			p++;
		}
	}
	return 0;
}

static int add_glob(const char *w, void *dst)
{
	static char msg[320]; /* *why outlives the word it quotes */
	struct word_list *l = dst;
	const char *why = NULL;

	if (glob_check(w, &why) < 0) {
		snprintf(msg, sizeof(msg), "'%.64s' is not a usable glob: %s", w, why);
		l->why = msg;
		return -EINVAL;
	}
	return add_word(w, dst);
}

static int p_names(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;
	struct word_list l = {&g->match_names, &g->n_match_names};
	int r = split_words(v, add_glob, &l);

	if (r == -EINVAL)
		*why = l.why;
	return r;
}

static int p_addresses(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;
	struct word_list l = {&g->match_addresses, &g->n_match_addresses};

	return split_words(v, add_word, &l);
}

static int p_adv(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	struct fleet_group *g = dst;
	int n = hex_decode(v, g->match_adv, sizeof(g->match_adv));

	if (n <= 0) {
		*why = "expected advertising data bytes in hex, 1..31 bytes";
		return -EINVAL;
	}
	g->match_adv_len = (size_t)n;
	return 0;
}

/* Parsed as the transport will (port, baud, BLE address), so that reload names the mistake, not
 * the job that fails on it later. */
static int p_transport(const char *v, void *dst, const struct fleet_settings *set, const char **why)
{
	static char msg[256]; /* *why outlives this call */

	if (tr_spec_check(v, msg, sizeof(msg)) < 0) {
		*why = msg;
		return -EINVAL;
	}
	return p_string(v, dst, set, why);
}

#define S(f) offsetof(struct fleet_settings, f)
#define G(f) offsetof(struct fleet_group, f)
#define D(f) offsetof(struct fleet_device, f)

const struct conf_key fleet_daemon_keys[] = {
	{"MaxJobs", p_max_jobs, S(max_jobs)},
	{"PollInterval", p_usec, S(poll_interval_usec)},
	{"ScanInterval", p_usec, S(scan_interval_usec)},
	{"ScanDuration", p_scan_duration, S(scan_duration_usec)},
	{"RetryDelay", p_usec, S(retry_delay_usec)},
	{"Controller", p_string, S(controller)},
	{"History", p_count, S(history)},
	{"StateDirectory", p_abs_path, S(state_dir)},
	{"CacheDirectory", p_abs_path, S(cache_dir)},
	{"MaxImageSize", p_size, S(max_image_size)},
	{"AllowInsecureHTTP", p_bool, S(allow_http)},
	{"CAFile", p_abs_path, S(ca_file)},
	{},
};

const struct conf_key fleet_update_keys[] = {
	{"Rate", p_rate, S(pace)},
	{"Window", p_window, S(pace)},
	{"Mode", p_mode, S(mode)},
	{"Retries", p_count, S(retries)},
	{"ResponseTimeout", p_usec, S(rsp_timeout_usec)},
	{"BootTimeout", p_usec, S(boot_timeout_usec)},
	{},
};

const struct conf_key fleet_group_keys[] = {
	{"Name", p_string, G(name)},
	{"Image", p_image, 0},
	{"SHA256", p_sha256, 0},
	{"Version", p_version, 0},
	{"AllowDowngrade", p_bool, G(allow_downgrade)},
	{"Mode", p_mode, G(mode)},
	{"Retries", p_count, G(retries)},
	{"Rate", p_rate, G(pace)},
	{"Window", p_window, G(pace)},
	{"MaxParallel", p_count, G(max_parallel)},
	{"MaintenanceWindow", p_windows, 0},
	{"MatchName", p_names, 0},
	{"MatchAddress", p_addresses, 0},
	{"MatchAdvertised", p_adv, 0},
	{},
};

const struct conf_key fleet_device_keys[] = {
	{"Name", p_string, D(name)},
	{"Transport", p_transport, D(transport)},
	{"Group", p_string, D(group)},
	{},
};
