/* test-bt-afalg.c — the AF_ALG shim that btvirt runs with (tests/lib/afalg-shim.c): the exact
 * calls of BlueZ's src/shared/crypto.c give FIPS-197 AES and RFC 4493 AES-CMAC results, and
 * btvirt's /tmp/bt-server-* paths move into $OTAD_BTVIRT_DIR. The test re-executes itself
 * with the shim preloaded. */
#include <errno.h>
#include <linux/if_alg.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/testlib.h"

#ifndef SOL_ALG
#define SOL_ALG 279
#endif

static int alg_open(const char *type, const char *name, const uint8_t *key, size_t klen)
{
	struct sockaddr_alg sa = {.salg_family = AF_ALG};
	int fd = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), op;

	assert_true(fd >= 0);
	strcpy((char *)sa.salg_type, type);
	strcpy((char *)sa.salg_name, name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setsockopt(fd, SOL_ALG, ALG_SET_KEY, key, (socklen_t)klen), 0);
	op = accept(fd, NULL, 0);
	assert_true(op >= 0);
	close(fd);
	return op;
}

static void test_ecb_aes_matches_fips197(void **state)
{
	/* FIPS-197 C.1 */
	const uint8_t key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
	uint8_t in[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
			  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	const uint8_t want[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
				  0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
	uint32_t enc = ALG_OP_ENCRYPT;
	char cbuf[CMSG_SPACE(sizeof(enc))] = {0};
	struct iovec iov = {in, sizeof(in)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	uint8_t out[16];
	int fd = alg_open("skcipher", "ecb(aes)", key, 16);

	c->cmsg_level = SOL_ALG;
	c->cmsg_type = ALG_SET_OP;
	c->cmsg_len = CMSG_LEN(sizeof(enc));
	memcpy(CMSG_DATA(c), &enc, sizeof(enc));
	assert_int_equal(sendmsg(fd, &msg, 0), 16);
	assert_int_equal(read(fd, out, sizeof(out)), 16);
	assert_memory_equal(out, want, 16);
	close(fd);
}

static void test_cmac_aes_matches_rfc4493(void **state)
{
	const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
				 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
	const uint8_t m[16] = {0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
			       0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a};
	const uint8_t want0[16] = {0xbb, 0x1d, 0x69, 0x29, 0xe9, 0x59, 0x37, 0x28,
				   0x7f, 0xa3, 0x7d, 0x12, 0x9b, 0x75, 0x67, 0x46};
	const uint8_t want16[16] = {0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44,
				    0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c};
	uint8_t out[16];
	int fd = alg_open("hash", "cmac(aes)", key, 16);

	assert_int_equal(send(fd, m, 0, 0), 0); /* RFC 4493 example 1: empty message */
	assert_int_equal(read(fd, out, 16), 16);
	assert_memory_equal(out, want0, 16);
	assert_int_equal(send(fd, m, 16, 0), 16); /* example 2 */
	assert_int_equal(read(fd, out, 16), 16);
	assert_memory_equal(out, want16, 16);
	close(fd);
}

static void test_unknown_algorithm_is_refused(void **state)
{
	struct sockaddr_alg sa = {
		.salg_family = AF_ALG, .salg_type = "hash", .salg_name = "sha256"};
	int fd = socket(AF_ALG, SOCK_SEQPACKET, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), -1);
	assert_int_equal(errno, ENOENT);
	close(fd);
}

static void test_server_paths_move_into_private_dir(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char moved[512];
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(moved, sizeof(moved), "%s/bt-server-otadtest", getenv("OTAD_BTVIRT_DIR"));
	strcpy(sa.sun_path, "/tmp/bt-server-otadtest");
	assert_int_equal(unlink(sa.sun_path), -1); /* rewritten too: nothing there yet */
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(stat(moved, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(stat("/tmp/bt-server-otadtest", &st), -1);
	close(fd);
	assert_int_equal(unlink(sa.sun_path), 0);
	assert_int_equal(stat(moved, &st), -1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecb_aes_matches_fips197),
		cmocka_unit_test(test_cmac_aes_matches_rfc4493),
		cmocka_unit_test(test_unknown_algorithm_is_refused),
		cmocka_unit_test(test_server_paths_move_into_private_dir),
	};

	if (!getenv("OTAD_AFALG_SHIM_LOADED")) {
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];

		/* the shim is not sanitized; ASan must accept a library loaded before it */
		snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "",
			 asan && *asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		setenv("LD_PRELOAD", OTAD_AFALG_SHIM, 1);
		setenv("OTAD_AFALG_SHIM_LOADED", "1", 1);
		setenv("OTAD_BTVIRT_DIR", tl_tmpdir(), 1);
		fflush(NULL);
		/* argv[0], not /proc/self/exe: under valgrind that is the tool itself */
		execv(strchr(argv[0], '/') ? argv[0] : "/proc/self/exe", argv);
		perror("execv");
		return 1;
	}
	(void)argc;
	{
		int r = cmocka_run_group_tests(tests, NULL, NULL);

		rmdir(getenv("OTAD_BTVIRT_DIR")); /* made by the first exec, empty again */
		return r;
	}
}
