/* main.c — otasim: a simulated nRF52840 running Zephyr's mcumgr behind MCUboot, served over UDP,
 * a pty and/or BLE (docs/otasim.md, man/otasim.1). Parses options, builds the device, the server
 * and the front ends, prints their ready lines, runs the loop until SIGTERM/SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "otad/image.h"
#include "sim/ble.h"
#include "sim/device.h"
#include "sim/main.h"
#include "sim/profile.h"
#include "sim/prng.h"
#include "sim/pty.h"
#include "sim/server.h"
#include "sim/store.h"
#include "sim/trace.h"
#include "sim/udp.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

#define FACTORY_PAYLOAD (48 * 1024)
#define MAX_DROPS	64

static struct sim_profile arg_profile;
static const char *arg_udp, *arg_serial_link, *arg_state, *arg_trace, *arg_log, *arg_key;
static const char *arg_initial_image;
static const char *arg_hci, *arg_name;
static uint64_t arg_att_mtu;
static int arg_security = -1, arg_io_caps = -1; /* -1: not given */
static int64_t arg_passkey = -1;
static bool arg_serial, arg_reenumerate, arg_shell, arg_ble, arg_forget_bonds;
static uint64_t arg_seed = 1;
static double arg_speed = 1.0;
static struct img_version arg_initial_version = {.major = 1};
static uint32_t arg_drops[MAX_DROPS], arg_dups[MAX_DROPS], arg_lost[MAX_DROPS];
static struct sim_faults arg_faults = {
	.drop_request = arg_lost,
	.drop_response = arg_drops,
	.dup_response = arg_dups,
	.link_loss_us = 1000 * 1000,
};

static FILE *log_file;

struct context {
	sd_event *event;
	struct sim_server *server;
	struct sim_udp *udp;
	struct sim_pty *pty;
	struct sim_ble *ble;
	char ble_address[32]; /* set when the controller is ready */
	bool device_up;
	bool ready; /* ready lines printed */
};

static void help(void)
{
	printf("otasim [--profile NAME] [--udp ADDR:PORT] [--serial [--serial-link PATH] "
	       "[--reenumerate] [--shell]]\n"
	       "       [--ble --hci SPEC [--name NAME] [--att-mtu N] [--security encrypt|"
	       "authenticated]\n"
	       "              [--passkey N] [--io-caps display|keyboard|yesno|none|"
	       "keyboard-display]\n"
	       "              [--forget-bonds]]\n"
	       "       [--state FILE] [--trace FILE] [--log FILE] [--key PEM] [--seed N] "
	       "[--speed X]\n"
	       "       [--initial-version V] [--initial-image FILE] [--image-check | "
	       "--no-image-check]\n"
	       "       [--no-slot-info]\n"
	       "       [--progressive-erase | --no-progressive-erase] [--buf-size N] "
	       "[--buf-count N]\n"
	       "       [--safe-rate R] [--latency MS] [--bandwidth R]\n"
	       "       [--drop-request N[,N...]] [--drop-response N[,N...]] "
	       "[--dup-response N[,N...]]\n"
	       "       [--reboot-at OFF[,OFF...]]\n"
	       "       [--mute-at OFF] [--mute-after N] [--disconnect-at OFF[,OFF...]]\n"
	       "       [--link-loss-at OFF[,OFF...]] [--link-loss-time MS]\n"
	       "otasim --list-profiles\n"
	       "otasim mkimage --version V --size N [--key PEM] [--seed S] [--header-size H] "
	       "OUT\n\n"
	       "A simulated nRF52840 with Zephyr mcumgr (SMP) behind MCUboot; see otasim(1).\n");
}

static void list_profiles(void)
{
	for (size_t i = 0; i < sim_profile_count(); i++) {
		if (i)
			putchar('\n');
		sim_profile_print(sim_profile_get(i), i == 0, stdout);
	}
}

/* "[  12.345678] I: text" in model time, to stderr or --log. */
static void log_line(char level, uint64_t model_us, const char *text, void *user_data)
{
	FILE *f = log_file ? log_file : stderr;

	fprintf(f, "[%11.6f] %c: %s\n", (double)model_us / 1e6, level, text);
	fflush(f);
}

static int parse_ms(const char *s, uint64_t *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || v > 1e9)
		return -EINVAL;
	if (strcmp(end, "us") == 0)
		v /= 1000.0;
	else if (strcmp(end, "s") == 0)
		v *= 1000.0;
	else if (*end && strcmp(end, "ms") != 0)
		return -EINVAL;
	*ret = (uint64_t)llround(v * 1000.0);
	return 0;
}

/* "N[,N...]" of response numbers (1-based) into list, adding to *n. */
static int parse_responses(const char *s, uint32_t *list, size_t *n)
{
	_cleanup_free_ char *copy = strdup(s);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t v;

		if (parse_u32(tok, &v) < 0 || v == 0 || *n >= MAX_DROPS)
			return -EINVAL;
		list[(*n)++] = v;
	}
	return *n > 0 ? 0 : -EINVAL;
}

enum {
	ARG_PROFILE = 0x100,
	ARG_UDP,
	ARG_SERIAL,
	ARG_SERIAL_LINK,
	ARG_REENUMERATE,
	ARG_SHELL,
	ARG_STATE,
	ARG_TRACE,
	ARG_LOG,
	ARG_KEY,
	ARG_SEED,
	ARG_SPEED,
	ARG_INITIAL_VERSION,
	ARG_INITIAL_IMAGE,
	ARG_IMAGE_CHECK,
	ARG_NO_IMAGE_CHECK,
	ARG_NO_SLOT_INFO,
	ARG_PROGRESSIVE,
	ARG_NO_PROGRESSIVE,
	ARG_BUF_SIZE,
	ARG_BUF_COUNT,
	ARG_SAFE_RATE,
	ARG_LATENCY,
	ARG_BANDWIDTH,
	ARG_DROP_RESPONSE,
	ARG_REBOOT_AT,
	ARG_MUTE_AT,
	ARG_MUTE_AFTER,
	ARG_DISCONNECT_AT,
	ARG_DUP_RESPONSE,
	ARG_DROP_REQUEST,
	ARG_LINK_LOSS_AT,
	ARG_LINK_LOSS_TIME,
	ARG_BLE,
	ARG_HCI,
	ARG_NAME,
	ARG_ATT_MTU,
	ARG_SECURITY,
	ARG_PASSKEY,
	ARG_IO_CAPS,
	ARG_FORGET_BONDS,
	ARG_LIST_PROFILES,
	ARG_VERSION,
};

static const struct option options[] = {
	{"profile", required_argument, NULL, ARG_PROFILE},
	{"udp", required_argument, NULL, ARG_UDP},
	{"serial", no_argument, NULL, ARG_SERIAL},
	{"serial-link", required_argument, NULL, ARG_SERIAL_LINK},
	{"reenumerate", no_argument, NULL, ARG_REENUMERATE},
	{"shell", no_argument, NULL, ARG_SHELL},
	{"state", required_argument, NULL, ARG_STATE},
	{"trace", required_argument, NULL, ARG_TRACE},
	{"log", required_argument, NULL, ARG_LOG},
	{"key", required_argument, NULL, ARG_KEY},
	{"seed", required_argument, NULL, ARG_SEED},
	{"speed", required_argument, NULL, ARG_SPEED},
	{"initial-version", required_argument, NULL, ARG_INITIAL_VERSION},
	{"initial-image", required_argument, NULL, ARG_INITIAL_IMAGE},
	{"image-check", no_argument, NULL, ARG_IMAGE_CHECK},
	{"no-image-check", no_argument, NULL, ARG_NO_IMAGE_CHECK},
	{"no-slot-info", no_argument, NULL, ARG_NO_SLOT_INFO},
	{"progressive-erase", no_argument, NULL, ARG_PROGRESSIVE},
	{"no-progressive-erase", no_argument, NULL, ARG_NO_PROGRESSIVE},
	{"buf-size", required_argument, NULL, ARG_BUF_SIZE},
	{"buf-count", required_argument, NULL, ARG_BUF_COUNT},
	{"safe-rate", required_argument, NULL, ARG_SAFE_RATE},
	{"latency", required_argument, NULL, ARG_LATENCY},
	{"bandwidth", required_argument, NULL, ARG_BANDWIDTH},
	{"drop-response", required_argument, NULL, ARG_DROP_RESPONSE},
	{"reboot-at", required_argument, NULL, ARG_REBOOT_AT},
	{"mute-at", required_argument, NULL, ARG_MUTE_AT},
	{"mute-after", required_argument, NULL, ARG_MUTE_AFTER},
	{"disconnect-at", required_argument, NULL, ARG_DISCONNECT_AT},
	{"dup-response", required_argument, NULL, ARG_DUP_RESPONSE},
	{"drop-request", required_argument, NULL, ARG_DROP_REQUEST},
	{"link-loss-at", required_argument, NULL, ARG_LINK_LOSS_AT},
	{"link-loss-time", required_argument, NULL, ARG_LINK_LOSS_TIME},
	{"ble", no_argument, NULL, ARG_BLE},
	{"hci", required_argument, NULL, ARG_HCI},
	{"name", required_argument, NULL, ARG_NAME},
	{"att-mtu", required_argument, NULL, ARG_ATT_MTU},
	{"security", required_argument, NULL, ARG_SECURITY},
	{"passkey", required_argument, NULL, ARG_PASSKEY},
	{"io-caps", required_argument, NULL, ARG_IO_CAPS},
	{"forget-bonds", no_argument, NULL, ARG_FORGET_BONDS},
	{"list-profiles", no_argument, NULL, ARG_LIST_PROFILES},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, ARG_VERSION},
	{}};

/* Overrides collected while parsing, applied to the profile afterwards (any order). */
struct overrides {
	int image_check, progressive; /* -1 unset */
	bool no_slot_info;
	uint64_t buf_size, buf_count, safe_rate, latency, bandwidth;
	bool has_buf_size, has_buf_count, has_safe_rate, has_latency, has_bandwidth;
};

static int bad(const char *opt, const char *val)
{
	log_error("invalid %s '%s' (see otasim --help)", opt, val);
	return -EINVAL;
}

/* --security, --passkey, --io-caps */
static int parse_security(int c, const char *v)
{
	uint64_t u;

	if (c == ARG_SECURITY) {
		arg_security = !strcmp(v, "encrypt")	     ? SM_LEVEL_UNAUTHENTICATED
			       : !strcmp(v, "authenticated") ? SM_LEVEL_AUTHENTICATED
							     : -1;
		return arg_security < 0 ? bad("--security (encrypt, authenticated)", v) : 0;
	}
	if (c == ARG_PASSKEY) {
		if (strlen(v) > 6 || parse_u64(v, &u) < 0 || u > 999999)
			return bad("--passkey (0..999999)", v);
		arg_passkey = (int64_t)u;
		return 0;
	}
	arg_io_caps = sim_ble_io_cap_from_str(v);
	return arg_io_caps < 0
		       ? bad("--io-caps (display, keyboard, yesno, none, keyboard-display)", v)
		       : 0;
}

/* Options that take a number or a name. 1: not one of these. */
static int parse_valued(int c, const char *v, struct overrides *o, const char **profile)
{
	switch (c) {
	case ARG_PROFILE:
		*profile = v;
		return 0;
	case ARG_SEED:
		return parse_u64(v, &arg_seed) < 0 ? bad("--seed", v) : 0;
	case ARG_SPEED: {
		char *end;

		arg_speed = strtod(v, &end);
		return end != v && !*end && arg_speed > 0 && arg_speed <= 1e6 ? 0
									      : bad("--speed", v);
	}
	case ARG_INITIAL_VERSION:
		return img_version_parse(v, &arg_initial_version) < 0 ? bad("--initial-version", v)
								      : 0;
	case ARG_BUF_SIZE:
		o->has_buf_size = true;
		return parse_size(v, &o->buf_size) < 0 ? bad("--buf-size", v) : 0;
	case ARG_BUF_COUNT:
		o->has_buf_count = true;
		return parse_u64(v, &o->buf_count) < 0 || o->buf_count > 1024
			       ? bad("--buf-count", v)
			       : 0;
	case ARG_SAFE_RATE:
		o->has_safe_rate = true;
		return parse_size(v, &o->safe_rate) < 0 || !o->safe_rate ? bad("--safe-rate", v)
									 : 0;
	case ARG_LATENCY:
		o->has_latency = true;
		return parse_ms(v, &o->latency) < 0 ? bad("--latency", v) : 0;
	case ARG_BANDWIDTH:
		o->has_bandwidth = true;
		return parse_size(v, &o->bandwidth) < 0 || !o->bandwidth ? bad("--bandwidth", v)
									 : 0;
	case ARG_ATT_MTU:
		return parse_u64(v, &arg_att_mtu) < 0 || arg_att_mtu < 23 || arg_att_mtu > 517
			       ? bad("--att-mtu (23..517)", v)
			       : 0;
	case ARG_SECURITY:
	case ARG_PASSKEY:
	case ARG_IO_CAPS:
		return parse_security(c, v);
	}
	return 1;
}

/* Parses an offset of the image for a fault flag. */
static int parse_offset(const char *opt, const char *v, bool *ret_has, uint32_t *ret)
{
	uint64_t u;

	*ret_has = true;
	if (parse_size(v, &u) < 0 || u > UINT32_MAX)
		return bad(opt, v);
	*ret = (uint32_t)u;
	return 0;
}

/* "OFF[,OFF...]": offsets a fault fires at, each once; added to f. */
static int parse_offsets(const char *opt, const char *v, struct sim_fault_offsets *f)
{
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;
	bool has;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (f->n >= SIM_FAULT_OFFSETS_MAX)
			return bad(opt, v);
		if (parse_offset(opt, tok, &has, &f->off[f->n]) < 0)
			return -EINVAL;
		f->n++;
	}
	return f->n > 0 ? 0 : bad(opt, v);
}

/* Fault flags. 1: not one of these. */
static int parse_fault(int c, const char *v)
{
	struct sim_faults *f = &arg_faults;

	switch (c) {
	case ARG_DROP_RESPONSE:
		return parse_responses(v, arg_drops, &f->n_drop_response) < 0
			       ? bad("--drop-response", v)
			       : 0;
	case ARG_DROP_REQUEST:
		return parse_responses(v, arg_lost, &f->n_drop_request) < 0
			       ? bad("--drop-request", v)
			       : 0;
	case ARG_DUP_RESPONSE:
		return parse_responses(v, arg_dups, &f->n_dup_response) < 0
			       ? bad("--dup-response", v)
			       : 0;
	case ARG_REBOOT_AT:
		return parse_offsets("--reboot-at", v, &f->reboot_at);
	case ARG_LINK_LOSS_AT:
		return parse_offsets("--link-loss-at", v, &f->link_loss_at);
	case ARG_LINK_LOSS_TIME:
		return parse_ms(v, &f->link_loss_us) < 0 || !f->link_loss_us
			       ? bad("--link-loss-time", v)
			       : 0;
	case ARG_MUTE_AT:
		return parse_offset("--mute-at", v, &f->has_mute_at, &f->mute_at);
	case ARG_MUTE_AFTER:
		f->has_mute_after = true;
		return parse_u64(v, &f->mute_after) < 0 ? bad("--mute-after", v) : 0;
	case ARG_DISCONNECT_AT:
		return parse_offsets("--disconnect-at", v, &f->disconnect_at);
	}
	return 1;
}

/* Options that name a file or switch something. 1: not one of these. */
static int parse_plain(int c, const char *v, struct overrides *o)
{
	switch (c) {
	case ARG_UDP:
		arg_udp = v;
		return 0;
	case ARG_SERIAL:
		arg_serial = true;
		return 0;
	case ARG_SERIAL_LINK:
		arg_serial_link = v;
		return 0;
	case ARG_REENUMERATE:
		arg_reenumerate = true;
		return 0;
	case ARG_SHELL:
		arg_shell = true;
		return 0;
	case ARG_BLE:
		arg_ble = true;
		return 0;
	case ARG_FORGET_BONDS:
		arg_forget_bonds = true;
		return 0;
	case ARG_HCI:
		arg_hci = v;
		return 0;
	case ARG_NAME:
		arg_name = v;
		return 0;
	case ARG_STATE:
		arg_state = v;
		return 0;
	case ARG_TRACE:
		arg_trace = v;
		return 0;
	case ARG_LOG:
		arg_log = v;
		return 0;
	case ARG_KEY:
		arg_key = v;
		return 0;
	case ARG_INITIAL_IMAGE:
		arg_initial_image = v;
		return 0;
	case ARG_IMAGE_CHECK:
	case ARG_NO_IMAGE_CHECK:
		o->image_check = c == ARG_IMAGE_CHECK;
		return 0;
	case ARG_NO_SLOT_INFO:
		o->no_slot_info = true;
		return 0;
	case ARG_PROGRESSIVE:
	case ARG_NO_PROGRESSIVE:
		o->progressive = c == ARG_PROGRESSIVE;
		return 0;
	}
	return 1;
}

static int apply_overrides(const char *name, const struct overrides *o)
{
	const struct sim_profile *base = sim_profile_find(name);
	const char *why = NULL;

	if (!base)
		return log_error("unknown profile '%s' (see otasim --list-profiles)", name),
		       -EINVAL;
	arg_profile = *base;
	if (o->image_check >= 0)
		arg_profile.image_check = o->image_check;
	if (o->progressive >= 0)
		arg_profile.progressive_erase = o->progressive;
	if (o->no_slot_info)
		arg_profile.slot_info = false;
	if (o->has_buf_size)
		arg_profile.buf_size = (uint32_t)MIN(o->buf_size, (uint64_t)UINT32_MAX);
	if (o->has_buf_count)
		arg_profile.buf_count = (uint32_t)o->buf_count;
	if (o->has_safe_rate) {
		arg_profile.overrun = true; /* --safe-rate turns the overrun fault on */
		arg_profile.safe_rate = o->safe_rate;
	}
	if (o->has_latency)
		arg_profile.latency_us = o->latency;
	if (o->has_bandwidth)
		arg_profile.bandwidth = o->bandwidth;
	if (sim_profile_check(&arg_profile, &why) < 0)
		return log_error("profile %s with these options: %s", name, why), -EINVAL;
	return 0;
}

static int check_front_ends(void)
{
	if (!arg_udp && !arg_serial && !arg_ble)
		return log_error("nothing to serve: give --udp ADDR:PORT, --serial and/or --ble"),
		       -EINVAL;
	if ((arg_serial_link || arg_reenumerate || arg_shell) && !arg_serial)
		return log_error("--serial-link, --reenumerate and --shell need --serial"), -EINVAL;
	if ((arg_hci || arg_name || arg_att_mtu || arg_faults.disconnect_at.n ||
	     arg_security >= 0 || arg_passkey >= 0 || arg_io_caps >= 0 || arg_forget_bonds) &&
	    !arg_ble)
		return log_error("--hci, --name, --att-mtu, --disconnect-at, --security, "
				 "--passkey, --io-caps and --forget-bonds need --ble"),
		       -EINVAL;
	if (arg_ble && !arg_hci)
		return log_error("--ble needs a controller: --hci SPEC (tty:PATH[@BAUD], "
				 "userchan:hciN, unix:PATH, tcp:HOST:PORT)"),
		       -EINVAL;
	if (arg_ble && hci_spec_check(arg_hci) < 0)
		return bad("--hci (tty:PATH[@BAUD], userchan:hciN, unix:PATH, tcp:HOST:PORT)",
			   arg_hci);
	if (arg_name && (!*arg_name || strlen(arg_name) > 248))
		return bad("--name (1..248 bytes)", arg_name);
	return 0;
}

/* 0: run; 1: done (help, list); < 0: error. */
static int parse_argv(int argc, char *argv[])
{
	struct overrides o = {.image_check = -1, .progressive = -1};
	const char *profile = sim_profile_get(0)->name;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 'h') {
			help();
			return 1;
		} else if (c == ARG_VERSION) {
			printf("otasim %s\n", OTAD_VERSION);
			return 1;
		} else if (c == ARG_LIST_PROFILES) {
			list_profiles();
			return 1;
		} else if (c == '?') {
			return -EINVAL;
		}
		r = parse_valued(c, optarg, &o, &profile);
		if (r == 1)
			r = parse_fault(c, optarg);
		if (r == 1)
			r = parse_plain(c, optarg, &o);
		if (r < 0)
			return r;
	}
	if (optind < argc)
		return log_error("unexpected argument '%s'", argv[optind]), -EINVAL;
	r = check_front_ends();
	if (r < 0)
		return r;
	return apply_overrides(profile, &o);
}

/* A new device holds a factory image in slot 0: --initial-image, or one built here. */
static int flash_factory(struct sim_device *d, const uint8_t *key, size_t key_len)
{
	_cleanup_free_ uint8_t *img = NULL;
	size_t len = 0;
	int r;

	if (arg_initial_image) {
		struct img_info info;
		struct img_diag diag;
		char why[200];

		r = read_full_file(arg_initial_image, 16 * 1024 * 1024, &img, &len);
		if (r < 0)
			return log_error_errno(r, "%s: %m", arg_initial_image);
		if (img_parse(img, len, &info, &diag) < 0)
			return log_error("%s: not a valid MCUboot image: %s", arg_initial_image,
					 img_diag_format(&diag, why, sizeof(why))),
			       -EINVAL;
	} else {
		struct img_build_opts o = {.version = arg_initial_version,
					   .payload_size = FACTORY_PAYLOAD,
					   .seed = 0xfac7,
					   .key_pem = (const char *)key,
					   .key_pem_len = key_len};

		r = img_build(&o, &img, &len);
		if (r < 0)
			return log_error_errno(r, "cannot build the factory image%s: %m",
					       key ? " (--key must be a private key, or give "
						     "--initial-image)"
						   : "");
	}
	r = sim_device_flash_factory(d, img, len);
	if (r < 0)
		return log_error("the factory image (%zu bytes) does not fit slot 0", len), r;
	return 0;
}

static int open_device(struct sim_prng *prng, const uint8_t *key, size_t key_len,
		       struct sim_store **ret_store, struct sim_device **ret_dev)
{
	char err[512] = "", why[200] = "";
	bool created = false;
	int r;

	r = sim_store_open(arg_state, arg_profile.name, arg_profile.slot_size, ret_store, &created,
			   err, sizeof(err));
	if (r < 0)
		return log_error("refusing the state file: %s", err[0] ? err : strerror(-r)), r;
	r = sim_device_new(&arg_profile, *ret_store, prng, (const char *)key, key_len, NULL, NULL,
			   ret_dev);
	if (r < 0)
		return log_error_errno(r, "cannot create the device: %m");
	if (created) {
		r = flash_factory(*ret_dev, key, key_len);
		if (r < 0)
			return r;
	}
	/* MCUboot would not boot it: the device would stay down for ever */
	if (sim_device_validate_slot(*ret_dev, 0, why, sizeof(why)) < 0) {
		if (created)
			return log_error(
				       "the factory image does not pass MCUboot's validation%s: %s",
				       key ? " with --key" : "", why),
			       -EINVAL;
		return log_error("refusing the state file %s: slot 0 holds no bootable image (%s)",
				 arg_state, why),
		       -EINVAL;
	}
	if (created) {
		r = sim_store_sync(*ret_store);
		if (r < 0)
			return log_error_errno(r, "%s: %m", arg_state);
	}
	return 0;
}

/* Once the device has booted and every front end is reachable. */
static void print_ready(struct context *ctx)
{
	if (ctx->ready || !ctx->device_up || (ctx->ble && !ctx->ble_address[0]))
		return;
	ctx->ready = true;
	if (ctx->udp)
		printf("udp: %s\n", sim_udp_address(ctx->udp));
	if (ctx->pty && sim_pty_path(ctx->pty))
		printf("pty: %s\n", sim_pty_path(ctx->pty));
	if (ctx->ble)
		printf("ble: %s %s\n", arg_name ? arg_name : "otasim", ctx->ble_address);
	fflush(stdout);
}

static void on_device_up(void *user_data)
{
	struct context *ctx = user_data;

	ctx->device_up = true;
	print_ready(ctx);
}

static void on_ble_ready(const char *address, void *user_data)
{
	struct context *ctx = user_data;

	snprintf(ctx->ble_address, sizeof(ctx->ble_address), "%s", address);
	print_ready(ctx);
}

static void on_ble_fatal(const char *why, void *user_data)
{
	struct context *ctx = user_data;

	log_error("--ble: %s", why);
	sd_event_exit(ctx->event, -EIO);
}

static void on_ble_log(char level, const char *text, void *user_data)
{
	struct context *ctx = user_data;

	log_line(level, sim_server_now(ctx->server), text, NULL);
}

static void on_pty_opened(const char *path, void *user_data)
{
	struct context *ctx = user_data;

	if (ctx->ready) { /* re-enumerated */
		printf("pty: %s\n", path);
		fflush(stdout);
	}
}

static void on_pty_discard(const char *why, void *user_data)
{
	struct context *ctx = user_data;

	log_line('W', sim_server_now(ctx->server), why, NULL);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int start_front_ends(sd_event *e, struct context *ctx)
{
	static const struct sim_pty_ops pty_ops = {.opened = on_pty_opened,
						   .discard = on_pty_discard};
	static const struct sim_ble_ops ble_ops = {
		.ready = on_ble_ready, .fatal = on_ble_fatal, .log = on_ble_log};
	const struct sim_pty_params pty_params = {
		.link_path = arg_serial_link, .reenumerate = arg_reenumerate, .shell = arg_shell};
	/* a device that shows its passkey unless told otherwise: what authentication needs */
	bool shows = arg_passkey >= 0 || arg_security == SM_LEVEL_AUTHENTICATED;
	const struct sim_ble_params ble_params = {
		.hci = arg_hci,
		.name = arg_name ? arg_name : "otasim",
		.att_mtu = (uint16_t)arg_att_mtu,
		.smp = arg_security >= 0 || arg_passkey >= 0 || arg_io_caps >= 0,
		.security = arg_security >= 0 ? (uint8_t)arg_security : 0,
		.io_cap = arg_io_caps >= 0 ? (uint8_t)arg_io_caps
			  : shows	   ? SM_IO_DISPLAY_ONLY
					   : SM_IO_NO_INPUT_NO_OUTPUT,
		.fixed_passkey = arg_passkey >= 0,
		.passkey = arg_passkey >= 0 ? (uint32_t)arg_passkey : 0,
		.forget_bonds = arg_forget_bonds,
	};
	int r;

	if (arg_udp) {
		r = sim_udp_new(e, ctx->server, arg_udp, &ctx->udp);
		if (r < 0)
			return log_error_errno(r, "--udp %s: %m", arg_udp);
	}
	if (arg_serial) {
		r = sim_pty_new(e, ctx->server, &pty_params, &pty_ops, ctx, &ctx->pty);
		if (r < 0)
			return log_error_errno(r, "--serial: cannot open a pty%s%s: %m",
					       arg_serial_link ? " linked at " : "",
					       arg_serial_link ? arg_serial_link : "");
	}
	if (arg_ble) {
		r = sim_ble_new(e, ctx->server, &ble_params, &ble_ops, ctx, &ctx->ble);
		if (r < 0)
			return log_error_errno(r, "--ble: controller %s: %m", arg_hci);
	}
	return 0;
}

static int serve(struct sim_device *dev, struct sim_trace *trace)
{
	static const struct sim_server_ops server_ops = {.log = log_line, .up = on_device_up};
	struct context ctx = {0};
	sd_event *e = NULL;
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = sd_event_default(&e);
	if (r < 0)
		return log_error_errno(r, "sd-event: %m");
	ctx.event = e;
	if (sd_event_add_signal(e, NULL, SIGTERM, on_signal, NULL) < 0 ||
	    sd_event_add_signal(e, NULL, SIGINT, on_signal, NULL) < 0) {
		log_error("cannot watch SIGTERM/SIGINT");
		r = -EIO;
	}
	if (r >= 0)
		r = sim_server_new(e, arg_speed, dev, trace, &arg_faults, &server_ops, &ctx,
				   &ctx.server);
	if (r >= 0)
		r = start_front_ends(e, &ctx);
	if (r >= 0) {
		sim_server_power_on(ctx.server);
		r = sd_event_loop(e);
	}
	/* The front ends before the server: letting go of a link still calls back into it (a
	 * disconnection is logged at model time and ends the link's requests there). */
	sim_ble_free(ctx.ble);
	sim_pty_free(ctx.pty);
	sim_udp_free(ctx.udp);
	ctx.server = sim_server_free(ctx.server);
	sd_event_unref(e);
	return r;
}

int main(int argc, char *argv[])
{
	_cleanup_free_ uint8_t *key = NULL;
	struct sim_store *store = NULL;
	struct sim_device *dev = NULL;
	struct sim_trace *trace = NULL;
	struct sim_prng prng;
	size_t key_len = 0;
	int r;

	log_set_prefix("otasim");
	if (argc > 1 && strcmp(argv[1], "mkimage") == 0)
		return sim_mkimage_main(argc - 1, argv + 1);
	r = parse_argv(argc, argv);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (arg_key && (r = read_full_file(arg_key, 64 * 1024, &key, &key_len)) < 0)
		return log_error_errno(r, "--key %s: %m", arg_key), 1;
	if (arg_log && !(log_file = fopen(arg_log, "ae")))
		return log_error_errno(-errno, "--log %s: %m", arg_log), 1;
	if (arg_trace && (r = sim_trace_open(arg_trace, &trace)) < 0)
		return log_error_errno(r, "--trace %s: %m", arg_trace), 1;
	sim_prng_seed(&prng, arg_seed);
	r = open_device(&prng, key, key_len, &store, &dev);
	if (r >= 0)
		r = serve(dev, trace);
	if (store && r >= 0 && (r = sim_store_sync(store)) < 0)
		log_error_errno(r, "%s: %m", arg_state);
	sim_device_free(dev);
	sim_store_free(store);
	sim_trace_close(trace);
	if (log_file)
		fclose(log_file);
	return r < 0 ? 1 : 0;
}
