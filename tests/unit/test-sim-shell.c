/* test-sim-shell.c — otasim's console of Zephyr's shell transport, byte for byte: the boot
 * output, the prompt without newline, log messages through the shell's log backend, and the
 * answers' frames placed among them; every answer decodes again. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/console.h"
#include "sim/shell.h"

#define PROMPT "\x1b[1;32muart:~$ \x1b[m"
#define ERASE  "\x1b[8D\x1b[J"

struct sink {
	char buf[65536];
	size_t len;
};

static void sink_write(const void *data, size_t len, void *user_data)
{
	struct sink *s = user_data;

	assert_true(s->len + len <= sizeof(s->buf));
	memcpy(s->buf + s->len, data, len);
	s->len += len;
}

/* What the sink got since the last call, as a string. */
static const char *take(struct sink *s)
{
	static char copy[sizeof(s->buf) + 1];

	memcpy(copy, s->buf, s->len);
	copy[s->len] = 0;
	s->len = 0;
	return copy;
}

static void test_boot_output_ends_in_the_prompt_without_newline(void **state)
{
	struct sim_shell sh;
	struct sink s = {0};

	sim_shell_init(&sh, sink_write, &s);
	sim_shell_mcuboot(&sh, 'I', "Starting bootloader");
	sim_shell_mcuboot(&sh, 'E', "Image in the secondary slot is not valid!");
	assert_string_equal(take(&s), "*** Booting MCUboot v2.1.0 ***\r\n"
				      "*** Using Zephyr OS build v3.7.0 ***\r\n"
				      "I: Starting bootloader\r\n"
				      "E: Image in the secondary slot is not valid!\r\n");
	sim_shell_started(&sh, 1000000);
	assert_string_equal(take(&s), "*** Booting Zephyr OS build v3.7.0 ***\r\n"
				      "\x1b[m\r\n\r\n" PROMPT);
	/* the next reset prints MCUboot's banner again */
	sim_shell_mcuboot(&sh, 'I', "Starting bootloader");
	assert_string_equal(take(&s), "*** Booting MCUboot v2.1.0 ***\r\n"
				      "*** Using Zephyr OS build v3.7.0 ***\r\n"
				      "I: Starting bootloader\r\n");
}

static void test_log_messages_erase_and_reprint_the_prompt(void **state)
{
	struct sim_shell sh;
	struct sink s = {0};

	sim_shell_init(&sh, sink_write, &s);
	sim_shell_started(&sh, 5000000);
	take(&s);
	/* 3723.004005 s after the application started */
	sim_shell_log(&sh, 5000000 + 3723004005ULL, 'I', "mcumgr_img_grp",
		      "Erased 0x4000 bytes of image slot", true);
	assert_string_equal(take(&s), ERASE "[01:02:03.004,005] <inf> mcumgr_img_grp: Erased "
					    "0x4000 bytes of image slot\r\n" PROMPT);
	sim_shell_log(&sh, 5000000, 'E', "mcumgr_img_grp", "Image upload inspect failed: 3", true);
	assert_string_equal(take(&s), ERASE "\x1b[1;31m[00:00:00.000,000] <err> mcumgr_img_grp: "
					    "Image upload inspect failed: 3\x1b[0m\r\n" PROMPT);
	sim_shell_log(&sh, 5000000, 'W', "app", "half", false);
	assert_string_equal(take(&s), ERASE "half" PROMPT);
}

/* Answers 1..4 after a start: the first right after the prompt, then a message before, one
 * between the first two frames, one without newline before. */
static void test_answers_take_turns_with_log_messages(void **state)
{
	static uint8_t huge[CONSOLE_PKT_MAX + 1];
	uint8_t small[20], big[300], enc[1024];
	struct sim_shell sh;
	struct sink s = {0};
	char want[2048], *first_nl;
	ssize_t n;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 5 + 1);
	memset(small, 0x41, sizeof(small));
	sim_shell_init(&sh, sink_write, &s);
	sim_shell_started(&sh, 0);
	take(&s);

	n = console_encode(small, sizeof(small), enc, sizeof(enc));
	assert_int_equal(sim_shell_answer(&sh, 50000, small, sizeof(small)), 0);
	assert_int_equal(s.len, (size_t)n);
	assert_memory_equal(s.buf, enc, (size_t)n);
	take(&s);

	assert_int_equal(sim_shell_answer(&sh, 50000, small, sizeof(small)), 0);
	snprintf(want, sizeof(want), ERASE "[00:00:00.050,000] <inf> app: tick 2\r\n" PROMPT "%.*s",
		 (int)n, (const char *)enc);
	assert_string_equal(take(&s), want);

	n = console_encode(big, sizeof(big), enc, sizeof(enc));
	enc[n] = 0;
	first_nl = strchr((char *)enc, '\n');
	assert_int_equal(sim_shell_answer(&sh, 2000000, big, sizeof(big)), 0);
	snprintf(want, sizeof(want), "%.*s" ERASE "[00:00:02.000,000] <inf> app: tick 3\r\n" PROMPT
				     "%s",
		 (int)(first_nl + 1 - (char *)enc), (const char *)enc, first_nl + 1);
	assert_string_equal(take(&s), want);

	assert_int_equal(sim_shell_answer(&sh, 2000000, big, sizeof(big)), 0);
	snprintf(want, sizeof(want), ERASE "tick 4" PROMPT "%s", (const char *)enc);
	assert_string_equal(take(&s), want);

	/* a start begins the turns again: the first answer follows the prompt */
	sim_shell_started(&sh, 3000000);
	assert_int_equal(sim_shell_answer(&sh, 3000000, big, sizeof(big)), 0);
	assert_true(strstr(take(&s), PROMPT "\x06\x09") != NULL);
	assert_int_equal(sim_shell_answer(&sh, 0, huge, sizeof(huge)), -EMSGSIZE);
}

struct got {
	size_t n;
	size_t len[64];
};

static void on_packet(const uint8_t *pkt, size_t len, void *user_data)
{
	struct got *g = user_data;

	if (g->n < 64)
		g->len[g->n] = len;
	g->n++;
	for (size_t i = 0; i < len; i++)
		assert_int_equal(pkt[i], (uint8_t)(len + i));
}

static void on_discard(const char *why, void *user_data)
{
	fail_msg("discarded: %s", why);
}

/* A session (boot, answers of every size, img_mgmt's messages among them, a reset) decodes
 * into exactly the answers, within bounds. */
static void test_session_decodes_to_the_answers(void **state)
{
	static const struct console_decoder_ops ops = {.packet = on_packet, .discard = on_discard};
	static const size_t sizes[] = {9, 89, 90, 200, 500, 2475, 13, 4096};
	static uint8_t pkt[CONSOLE_PKT_MAX];
	struct got g = {0};
	struct console_decoder *d = console_decoder_new(&ops, &g);
	struct sim_shell sh;
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(d);
	sim_shell_init(&sh, sink_write, s);
	for (unsigned boot = 0; boot < 2; boot++) {
		sim_shell_mcuboot(&sh, 'I', "Jumping to the first image slot");
		sim_shell_started(&sh, boot * 1000000);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			for (size_t j = 0; j < sizes[i]; j++)
				pkt[j] = (uint8_t)(sizes[i] + j);
			s->len = 0;
			if (i == 3)
				sim_shell_log(&sh, 0, 'I', "mcumgr_img_grp", "Erased", true);
			assert_int_equal(sim_shell_answer(&sh, i * 1000, pkt, sizes[i]), 0);
			assert_true(s->len <= sim_shell_answer_max(sizes[i]) + (i == 3 ? 512 : 0));
			console_decoder_feed(d, (const uint8_t *)s->buf, s->len);
			assert_int_equal(g.n, boot * 8 + i + 1);
			assert_int_equal(g.len[g.n - 1], sizes[i]);
		}
	}
	console_decoder_free(d);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_output_ends_in_the_prompt_without_newline),
		cmocka_unit_test(test_log_messages_erase_and_reprint_the_prompt),
		cmocka_unit_test(test_answers_take_turns_with_log_messages),
		cmocka_unit_test(test_session_decodes_to_the_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
