/* otactl.c — the command line: options, dispatch, and the update/upload commands that run the
 * update engine in-process. */
#include "cli/commands.h"
#include "cli/daemon-client.h"
#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "cli/exit-codes.h"
#include "cli/progress.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

#include <inttypes.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct cli_args arg = {
	.timeout_usec = 5 * USEC_PER_SEC,
	.verbosity = LOG_LVL_NOTICE,
};

static void help(void)
{
	printf("Usage: otactl -t TRANSPORT [OPTIONS] COMMAND [ARGS]\n"
	       "       otactl [--user | --bus-address ADDR] DAEMON-COMMAND [ARGS]\n"
	       "\n"
	       "Update firmware of Zephyr/MCUboot devices over SMP, verified end to end.\n"
	       "\n"
	       "Transports:\n"
	       "  udp:HOST[:PORT]          SMP over UDP (default port 1337)\n"
	       "  serial:PATH[@BAUD]       SMP console framing on a tty (default 115200)\n"
	       "  ble:ADDRESS[/public|/random] | ble:name=NAME\n"
	       "                           SMP over GATT, through the controller of --hci\n"
	       "\n"
	       "Commands:\n"
	       "  update FILE              upload, verify, test, reset, check the boot, confirm;\n"
	       "                           FILE: signed .bin, its .hex, or dfu_application.zip\n"
	       "                           (each image of a multi-image zip in turn)\n"
	       "  image upload FILE        upload and verify only\n"
	       "  image list               slots with versions, hashes and flags\n"
	       "  image test HASH          mark the image in slot 1 for a test boot\n"
	       "  image confirm [HASH]     confirm the running image\n"
	       "  image erase              erase slot 1\n"
	       "  echo TEXT | reset | params\n"
	       "  scan                     BLE devices around (for --timeout, default 5s)\n"
	       "  pair                     BLE: pair with the device and keep the bond\n"
	       "  unpair ADDRESS           forget the bond with a device\n"
	       "  bonds                    the bonded devices (never their keys)\n"
	       "\n"
	       "Commands run by otad (D-Bus, org.otad1):\n"
	       "  upload DEVICE IMAGE      start a job (DEVICE: fleet name, BLE address or\n"
	       "                           transport spec; IMAGE: path or URL) and follow it;\n"
	       "                           in-process with --direct or when otad does not run\n"
	       "  jobs | watch JOB | cancel JOB\n"
	       "  devices | fleet status | reload\n"
	       "\n"
	       "Options:\n"
	       "  -t, --transport SPEC     device to talk to (or $OTACTL_TRANSPORT)\n"
	       "      --hci SPEC           BLE controller: tty:PATH[@BAUD], userchan:hciN, "
	       "unix:PATH,\n"
	       "                           tcp:HOST:PORT (or $OTACTL_HCI)\n"
	       "      --connect-timeout T  BLE: how long to look for the device (default 10s)\n"
	       "      --security none|encrypt|authenticated\n"
	       "                           BLE: pair before SMP (default: when the device asks,\n"
	       "                           by an ATT error; none: never)\n"
	       "      --passkey N          BLE: the passkey the device displays (0..999999)\n"
	       "      --repair             BLE: pair anew, not with the stored bond (the device\n"
	       "                           lost it); the new bond replaces it\n"
	       "      --window auto|N      requests in flight: adaptive (default) or fixed; never\n"
	       "                           more than the device has buffers\n"
	       "      --rate auto|R        image bytes per second, k/M suffixes: adaptive "
	       "(default:\n"
	       "                           no cap until the device shows trouble) or a fixed cap\n"
	       "                           of at least 512\n"
	       "      --chunk BYTES        cap on image bytes per request, 32..65536\n"
	       "      --mode test|confirm  test then confirm after the boot check (default), or\n"
	       "                           mark permanent before the reset\n"
	       "      --retries N          attempts after a refusal, one request at a time and\n"
	       "                           slower (default 2)\n"
	       "      --pace-key KEY       remember the pace under KEY (default: the transport)\n"
	       "      --pace-file PATH     pace memory (default $XDG_STATE_HOME/otad/pace)\n"
	       "      --no-pace-memory     neither use nor update the pace memory\n"
	       "      --key PEM            verify the image signature with this key first\n"
	       "      --force              upload even if slot 1 holds the image; reset a device\n"
	       "                           running another image unconfirmed back first\n"
	       "      --no-downgrade       the device refuses an image not newer than its own\n"
	       "      --image-num N        SMP image number (default 0; a zip's manifest says)\n"
	       "      --timeout T          answer timeout per request (default 5s)\n"
	       "      --boot-timeout T     how long the device may take to come back (default:\n"
	       "                           10s + 1s per 4 KiB of image, at least 60s)\n"
	       "      --json               JSON on stdout, an error object on failure\n"
	       "      --user               otad on the user bus; --bus-address ADDR: on that bus\n"
	       "      --direct             upload: the in-process engine, not otad\n"
	       "      --sha256 HEX         upload: pin of the image (required for URLs)\n"
	       "  -v, --verbose            more detail; -q, --quiet less\n"
	       "  -h, --help               this help; --version\n"
	       "\n"
	       "Exit codes: 0 ok, 1 internal or access denied, 2 usage, 3 image, 4 link,\n"
	       "5 timeout, 6 device error, 7 protocol, 8 verify failed, 9 bootloader refused,\n"
	       "10 cancelled, 11 otad's configuration has errors, 12 job already ended or device\n"
	       "busy, 13 pairing failed or the device lost our key. See otactl(1).\n");
}

enum {
	OPT_WINDOW = 0x100,
	OPT_RATE,
	OPT_CHUNK,
	OPT_MODE,
	OPT_RETRIES,
	OPT_KEY,
	OPT_FORCE,
	OPT_IMAGE_NUM,
	OPT_TIMEOUT,
	OPT_BOOT_TIMEOUT,
	OPT_JSON,
	OPT_VERSION,
	OPT_HCI,
	OPT_CONNECT_TIMEOUT,
	OPT_PACE_KEY,
	OPT_PACE_FILE,
	OPT_NO_PACE_MEMORY,
	OPT_NO_DOWNGRADE,
	OPT_USER,
	OPT_BUS_ADDRESS,
	OPT_DIRECT,
	OPT_SHA256,
	OPT_SECURITY,
	OPT_PASSKEY,
	OPT_REPAIR,
};

static const struct option options[] = {
	{ "transport", required_argument, NULL, 't' },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "no-downgrade", no_argument, NULL, OPT_NO_DOWNGRADE },
	{ "image-num", required_argument, NULL, OPT_IMAGE_NUM },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "hci", required_argument, NULL, OPT_HCI },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "pace-key", required_argument, NULL, OPT_PACE_KEY },
	{ "pace-file", required_argument, NULL, OPT_PACE_FILE },
	{ "no-pace-memory", no_argument, NULL, OPT_NO_PACE_MEMORY },
	{ "user", no_argument, NULL, OPT_USER },
	{ "bus-address", required_argument, NULL, OPT_BUS_ADDRESS },
	{ "direct", no_argument, NULL, OPT_DIRECT },
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ "security", required_argument, NULL, OPT_SECURITY },
	{ "passkey", required_argument, NULL, OPT_PASSKEY },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{}
};

/* "--rate" for OPT_RATE, "-t" for 't'. */
static const char *option_name(int val)
{
	static char buf[40];
	const struct option *o = options;

	while (o->name && o->val != val)
		o++;
	if (val < 0x100 || !o->name)
		snprintf(buf, sizeof(buf), "-%c", val);
	else
		snprintf(buf, sizeof(buf), "--%s", o->name);
	return buf;
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	fprintf(stderr, "Try 'otactl --help'.\n");
	return -EXIT_USAGE;
}

/* --security (not given: pair when the device asks) and --passkey. 1: not one of these. */
static int parse_security_option(int c, const char *v)
{
	uint64_t u;

	if (c == OPT_PASSKEY) {
		if (strlen(v) > 6 || parse_u64(v, &u) < 0 || u > 999999)
			return usage_error("--passkey takes the six-digit passkey (0..999999), "
					   "not '%s'",
					   v);
		arg.params.tr.has_passkey = true;
		arg.params.tr.passkey = (uint32_t)u;
		return 0;
	}
	if (c == OPT_REPAIR) {
		arg.params.tr.repair = true;
		return 0;
	}
	if (c != OPT_SECURITY)
		return 1;
	if (!strcmp(v, "none"))
		arg.params.tr.security = SM_LEVEL_NONE;
	else if (!strcmp(v, "encrypt"))
		arg.params.tr.security = SM_LEVEL_UNAUTHENTICATED;
	else if (!strcmp(v, "authenticated"))
		arg.params.tr.security = SM_LEVEL_AUTHENTICATED;
	else
		return usage_error("--security takes none, encrypt or authenticated, not '%s'", v);
	return 0;
}

static int parse_rate(const char *v)
{
	char took[32];
	uint64_t u;

	if (strcmp(v, "auto") == 0) {
		arg.params.pace.auto_rate = true;
		arg.params.pace.rate = 0;
		return 0;
	}
	if (parse_size(v, &u) < 0 || u == 0 || u > UINT32_MAX)
		return usage_error("--rate is auto or bytes per second like 20k, not '%s'", v);
	if (u < UPD_RATE_MIN)
		return usage_error("--rate %s is %" PRIu64 " byte%s per second: 128 KiB would take "
				   "%s; give auto or at least %u%s%s%s",
				   v, u, u == 1 ? "" : "s",
				   format_duration(128 * 1024 / u, took, sizeof(took)),
				   UPD_RATE_MIN, strpbrk(v, "kKM") ? "" : " (did you mean ",
				   strpbrk(v, "kKM") ? "" : v, strpbrk(v, "kKM") ? "" : "k?)");
	arg.params.pace.rate = (uint32_t)u;
	arg.params.pace.auto_rate = false;
	return 0;
}

static int parse_pacing_option(int c, const char *v)
{
	uint64_t u;

	switch (c) {
	case OPT_WINDOW:
		if (strcmp(v, "auto") == 0) {
			arg.params.pace.window = UPD_WINDOW_AUTO;
			return 0;
		}
		if (parse_u64(v, &u) < 0 || u < 1 || u > UPD_WINDOW_MAX)
			return usage_error("--window is auto or 1..32, not '%s'", v);
		arg.params.pace.window = (unsigned)u;
		return 0;
	case OPT_RATE:
		return parse_rate(v);
	case OPT_CHUNK:
		/* Zephyr's img_mgmt refuses a first chunk shorter than the image header (it
		 * checks the magic there): IMG_MGMT_ERR_INVALID_IMAGE_HEADER. */
		if (parse_size(v, &u) < 0 || u < IMG_HEADER_SIZE || u > 65536)
			return usage_error("--chunk takes %u..65536 bytes (the first request must "
					   "carry the whole %u-byte image header), not '%s'",
					   IMG_HEADER_SIZE, IMG_HEADER_SIZE, v);
		arg.params.chunk_max = (size_t)u;
		return 0;
	case OPT_RETRIES:
		if (parse_u64(v, &u) < 0 || u > 100)
			return usage_error("--retries takes 0..100, not '%s'", v);
		arg.params.retries = (unsigned)u;
		arg.retries_given = true;
		return 0;
	}
	return 1;
}

static int parse_other_option(int c, const char *v)
{
	uint64_t u;

	switch (c) {
	case 't':
		arg.transport = v;
		return 0;
	case OPT_MODE:
		if (strcmp(v, "test") == 0)
			arg.params.mode = UPD_MODE_TEST;
		else if (strcmp(v, "confirm") == 0)
			arg.params.mode = UPD_MODE_CONFIRM;
		else
			return usage_error("--mode is test or confirm, not '%s'", v);
		arg.mode_given = true;
		return 0;
	case OPT_KEY:
		arg.key_path = v;
		return 0;
	case OPT_PACE_KEY:
		arg.pace_key = v;
		return 0;
	case OPT_PACE_FILE:
		arg.pace_file = v;
		return 0;
	case OPT_NO_PACE_MEMORY:
		arg.no_pace_memory = true;
		return 0;
	case OPT_FORCE:
		arg.params.force = true;
		return 0;
	case OPT_NO_DOWNGRADE:
		arg.params.upgrade_only = true;
		return 0;
	case OPT_IMAGE_NUM:
		if (parse_u64(v, &u) < 0 || u > 15)
			return usage_error("--image-num takes 0..15, not '%s'", v);
		arg.params.image = (uint32_t)u;
		arg.image_num_set = true;
		return 0;
	case OPT_TIMEOUT:
	case OPT_BOOT_TIMEOUT:
	case OPT_CONNECT_TIMEOUT:
		if (parse_usec(v, &u) < 0)
			return usage_error("%s takes a duration like 5, 500ms or 2min, not '%s'",
					   option_name(c), v);
		if (u == 0)
			return usage_error("%s must be longer than 0 (e.g. 5, 500ms, 2min)",
					   option_name(c));
		if (c == OPT_TIMEOUT)
			arg.timeout_usec = arg.params.rsp_timeout_usec = u;
		else if (c == OPT_BOOT_TIMEOUT)
			arg.params.boot_timeout_usec = u;
		else
			arg.params.tr.connect_timeout_usec = u;
		return 0;
	case OPT_HCI:
		arg.params.tr.hci = v;
		return 0;
	case OPT_JSON:
		arg.json = true;
		return 0;
	case OPT_USER:
		client_opts.bus = CLIENT_BUS_USER;
		return 0;
	case OPT_BUS_ADDRESS:
		client_opts.bus = CLIENT_BUS_ADDRESS;
		client_opts.address = v;
		return 0;
	case OPT_DIRECT:
		client_opts.direct = true;
		return 0;
	case OPT_SHA256:
		client_opts.sha256 = v;
		return 0;
	case 'v':
		arg.verbosity++;
		return 0;
	case 'q':
		arg.verbosity--;
		return 0;
	}
	return usage_error("unknown option");
}

/* getopt_long() said '?' (unknown) or ':' (value missing) for argv[optind - 1] or, in a group
 * of short options, argv[optind]. */
static int option_error(int c, int argc, char **argv)
{
	const char *a = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (optind < argc && argv[optind][0] == '-' && argv[optind][1] == optopt)
		a = argv[optind];
	if (c == ':')
		return usage_error("%s needs a value", optopt ? option_name(optopt) : a);
	if (a[0] == '-' && a[1] >= '0' && a[1] <= '9')
		return usage_error("'%s' is not an option: job numbers and the other numbers "
				   "otactl takes are not negative (put -- before an argument "
				   "that starts with '-')",
				   a);
	if (optopt)
		return usage_error("unknown option '-%c'", optopt);
	return usage_error("unknown option '%.*s'", (int)strcspn(a, "="), a);
}

static int parse_args(int argc, char **argv)
{
	int c, r;

	upd_params_init(&arg.params);
	opterr = 0; /* our own messages, which --json repeats */
	while ((c = getopt_long(argc, argv, ":t:vqh", options, NULL)) >= 0) {
		if (c == 'h') {
			help();
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("otactl %s\n", OTAD_VERSION);
			return 1;
		}
		if (c == '?' || c == ':')
			return option_error(c, argc, argv);
		r = parse_pacing_option(c, optarg);
		if (r == 1)
			r = parse_security_option(c, optarg);
		if (r == 1)
			r = parse_other_option(c, optarg);
		if (r < 0)
			return r;
	}
	if (!arg.transport)
		arg.transport = getenv("OTACTL_TRANSPORT");
	if (!arg.params.tr.hci)
		arg.params.tr.hci = getenv("OTACTL_HCI");
	arg.argc = argc - optind;
	arg.argv = argv + optind;
	return 0;
}

/* The device and, for BLE, the controller. */
int check_link_args(bool scan)
{
	bool ble = scan || (arg.transport && strncmp(arg.transport, "ble:", 4) == 0);

	if (!scan && !arg.transport)
		return usage_error("no device: give -t udp:HOST[:PORT], -t serial:PATH or "
				   "-t ble:ADDRESS|name=NAME");
	if (ble && !arg.params.tr.hci)
		return usage_error("BLE needs a controller: give --hci SPEC or $OTACTL_HCI "
				   "(tty:PATH[@BAUD], userchan:hciN, unix:PATH, tcp:HOST:PORT)");
	if (ble && hci_spec_check(arg.params.tr.hci) < 0)
		return usage_error("--hci '%s' is not a controller spec: tty:PATH[@BAUD], "
				   "userchan:hciN, unix:PATH or tcp:HOST:PORT",
				   arg.params.tr.hci);
	if (!ble && (arg.params.tr.security || arg.params.tr.has_passkey || arg.params.tr.repair))
		return usage_error("--security, --passkey and --repair are for BLE devices "
				   "(-t ble:...)");
	if (arg.params.tr.security == SM_LEVEL_AUTHENTICATED && !arg.params.tr.has_passkey)
		return usage_error("--security authenticated needs --passkey N: the passkey the "
				   "device displays or has fixed");
	return 0;
}

static int load_key(void)
{
	uint8_t *pem;
	size_t len;
	int r;

	if (!arg.key_path)
		return 0;
	r = read_full_file(arg.key_path, 64 * 1024, &pem, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read the key %s: %m", arg.key_path);
	arg.params.key_pem = (const char *)pem;
	arg.params.key_pem_len = len;
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
		bool daemon; /* talks to otad: no -t needed */
	} commands[] = {
		{ "update", cmd_update },	 { "image", cmd_image },
		{ "echo", cmd_echo },		 { "reset", cmd_reset },
		{ "params", cmd_params },	 { "upload", cmd_upload, true },
		{ "jobs", cmd_jobs, true },	 { "watch", cmd_watch, true },
		{ "cancel", cmd_cancel, true },	 { "devices", cmd_devices, true },
		{ "fleet", cmd_fleet, true },	 { "reload", cmd_reload, true },
		{ "scan", cmd_scan, true },	 { "pair", cmd_pair },
		{ "unpair", cmd_unpair, true },	 { "bonds", cmd_bonds, true },
	};
	int r;

	r = parse_args(argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_OK : -r;
	log_set_max_level(arg.verbosity >= LOG_LVL_DEBUG ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (arg.argc < 1)
		return -usage_error("missing command");
	if (load_key() < 0)
		return EXIT_IMAGE;
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(arg.argv[0], commands[i].name) != 0)
			continue;
		if (!commands[i].daemon || strcmp(arg.argv[0], "scan") == 0) {
			r = check_link_args(strcmp(arg.argv[0], "scan") == 0);
			if (r != 0)
				return -r;
		}
		/* BLE: the bonds, checked before the device is touched */
		if (commands[i].fn != cmd_unpair && commands[i].fn != cmd_bonds && arg.transport &&
		    !strncmp(arg.transport, "ble:", 4) && (r = cli_check_bonds()) != 0)
			return r;
		return commands[i].fn(arg.argc, arg.argv);
	}
	return -usage_error("unknown command '%s'", arg.argv[0]);
}

static void on_log(int level, const char *msg)
{
	if (level <= LOG_LVL_ERR)
		exit_note_error(msg);
}

int main(int argc, char **argv)
{
	int r;

	log_set_prefix("otactl");
	log_set_observer(on_log);
	/* known before the options are parsed: a bad option is reported in JSON too */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		arg.json = arg.json || strcmp(argv[i], "--json") == 0;
	r = run(argc, argv);
	if (arg.json)
		exit_report_json(r);
	return r;
}
