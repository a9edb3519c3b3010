/* mkimage.c — "otasim mkimage": builds an MCUboot image for tests, demos and benchmarks
 * (img_build: deterministic payload from a seed, optional signature). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/image.h"
#include "sim/main.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

static void mkimage_help(void)
{
	printf("otasim mkimage --version V --size N [--key PEM] [--seed S] [--header-size H] "
	       "OUT\n\n"
	       "Builds an MCUboot image of N payload bytes (k/M suffixes) with version V\n"
	       "(1.2.3 or 1.2.3+4), signed with the private key PEM (EC P-256 or Ed25519) when\n"
	       "given. The payload is a function of S (default 1); H is the header size\n"
	       "(default 0x200, as Zephyr builds).\n");
}

static int parse_header_size(const char *s, uint16_t *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < IMG_HEADER_SIZE || v > UINT16_MAX)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int sim_mkimage_main(int argc, char *argv[])
{
	static const struct option options[] = {{"version", required_argument, NULL, 'v'},
						{"size", required_argument, NULL, 's'},
						{"key", required_argument, NULL, 'k'},
						{"seed", required_argument, NULL, 'S'},
						{"header-size", required_argument, NULL, 'H'},
						{"help", no_argument, NULL, 'h'},
						{}};
	struct img_build_opts o = {0};
	_cleanup_free_ uint8_t *key = NULL, *img = NULL;
	size_t key_len = 0, img_len = 0;
	bool have_version = false, have_size = false;
	uint64_t v;
	int c, r;

	o.seed = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'v':
			if (img_version_parse(optarg, &o.version) < 0)
				return log_error("mkimage: bad --version '%s'", optarg), 2;
			have_version = true;
			break;
		case 's':
			if (parse_size(optarg, &v) < 0 || v == 0 || v > 16 * 1024 * 1024)
				return log_error("mkimage: bad --size '%s'", optarg), 2;
			o.payload_size = (size_t)v;
			have_size = true;
			break;
		case 'k':
			r = read_full_file(optarg, 64 * 1024, &key, &key_len);
			if (r < 0)
				return log_error_errno(r, "mkimage: %s: %m", optarg), 1;
			break;
		case 'S':
			if (parse_u64(optarg, &v) < 0 || v > UINT32_MAX)
				return log_error("mkimage: bad --seed '%s'", optarg), 2;
			o.seed = (uint32_t)v;
			break;
		case 'H':
			if (parse_header_size(optarg, &o.hdr_size) < 0)
				return log_error("mkimage: bad --header-size '%s'", optarg), 2;
			break;
		case 'h':
			mkimage_help();
			return 0;
		default:
			return 2;
		}
	}
	if (!have_version || !have_size || optind != argc - 1) {
		mkimage_help();
		return 2;
	}
	o.key_pem = (const char *)key;
	o.key_pem_len = key_len;
	r = img_build(&o, &img, &img_len);
	if (r < 0)
		return log_error_errno(r, "mkimage: cannot build the image: %m"), 1;
	r = write_file_atomic(argv[optind], img, img_len, 0644);
	if (r < 0)
		return log_error_errno(r, "mkimage: %s: %m", argv[optind]), 1;
	return 0;
}
