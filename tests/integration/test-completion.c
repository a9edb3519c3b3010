/* test-completion.c — the bash completion of otactl (shell-completion/bash/otactl): it knows
 * every command and option `otactl --help` lists, and completes transports, option values,
 * subcommands and image files when bash runs it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/imgfile.h"
#include "lib/testlib.h"

#define COMPLETION	OTAD_SOURCE_DIR "/shell-completion/bash/otactl"
#define BASH_COMPLETION "/usr/share/bash-completion/bash_completion"

/* word is in text as a whole word (delimited by anything but [a-z0-9-]). */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		bool start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '-');
		bool end = !(isalnum((unsigned char)p[n]) || p[n] == '-');

		if (start && end)
			return true;
	}
	return false;
}

static void test_completion_knows_every_command_and_option(void **state)
{
	char *argv[] = {(char *)tl_bin("otactl"), "--help", NULL};
	char *help = NULL, *comp = tl_read_file(COMPLETION), *p, *line;
	bool in_commands = false;
	unsigned n_opts = 0, n_cmds = 0;

	assert_non_null(comp);
	assert_int_equal(tl_run(argv, 10000, &help, NULL), 0);
	/* Every --option anywhere in the help. */
	for (p = strstr(help, "--"); p; p = strstr(p + 2, "--")) {
		char opt[40];
		size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");

		if (n == 0 || n + 3 > sizeof(opt))
			continue;
		snprintf(opt, sizeof(opt), "--%.*s", (int)n, p + 2);
		if (!has_word(comp, opt))
			fail_msg("the completion does not know %s", opt);
		n_opts++;
	}
	/* Every command (and image subcommand) of the "Commands:" section. */
	for (line = strtok(help, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "Commands:", 9) == 0) {
			in_commands = true;
			continue;
		}
		if (!in_commands || strncmp(line, "  ", 2) != 0 || line[2] == ' ')
			continue;
		if (!isalpha((unsigned char)line[2]))
			break;
		for (char *alt = line + 2; alt;
		     alt = strstr(alt, "| ") ? strstr(alt, "| ") + 2 : NULL) {
			char cmd[32], sub[32];

			if (sscanf(alt, "%31[a-z] %31[a-z]", cmd, sub) == 2 &&
			    strcmp(cmd, "image") == 0 && !has_word(comp, sub))
				fail_msg("the completion does not know image %s", sub);
			if (sscanf(alt, "%31[a-z]", cmd) == 1 && !has_word(comp, cmd))
				fail_msg("the completion does not know the command %s", cmd);
			n_cmds++;
		}
	}
	assert_true(n_opts >= 15);
	assert_true(n_cmds >= 8);
	free(help);
	free(comp);
}

/* What the completion offers for line (words split at spaces; a trailing space starts an empty
 * word), one candidate per line, sorted. */
static char *complete(const char *line)
{
	char script[4096], *out = NULL, *err = NULL;
	char *argv[] = {"bash", "--norc", "--noprofile", "-c", script, NULL};
	int r;

	snprintf(script, sizeof(script),
		 ". " BASH_COMPLETION " && . " COMPLETION " && "
		 "COMP_LINE='%s' && COMP_POINT=${#COMP_LINE} && read -ra COMP_WORDS "
		 "<<<\"$COMP_LINE\" "
		 "&& COMP_CWORD=${#COMP_WORDS[@]} && "
		 "{ [[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=('') || ((COMP_CWORD--)); } && "
		 "_otactl otactl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"; "
		 "printf '%%s\\n' \"${COMPREPLY[@]}\" | sort",
		 line);
	r = tl_run(argv, 10000, &out, &err);
	if (r != 0)
		fail_msg("bash exited %d: %s", r, err ? err : "");
	free(err);
	return out;
}

static void expect(const char *line, const char *want)
{
	char *got = complete(line);

	if (strcmp(got, want) != 0)
		fail_msg("completing \"%s\": got\n%s\nwant\n%s", line, got, want);
	free(got);
}

static void test_completion_completes_in_bash(void **state)
{
	char line[512], want[512];
	const char *dir = tl_path("images");

	if (access(BASH_COMPLETION, R_OK) != 0)
		skip(); /* package bash-completion */
	expect("otactl up", "update\nupload\n");
	expect("otactl -t ser", "serial:\n");
	expect("otactl --hci user", "userchan:\n");
	expect("otactl -t udp:192.0.2.1 --mo", "--mode\n");
	expect("otactl --mode c", "confirm\n");
	expect("otactl -t udp:192.0.2.1 image ", "confirm\nerase\nlist\ntest\nupload\n");
	expect("otactl -t udp:192.0.2.1 --window 2 image list ", "\n");

	/* Image files: .bin, .hex, .zip (and directories), nothing else. */
	snprintf(line, sizeof(line), "mkdir -p %s/sub && touch %s/a.bin %s/b.hex %s/c.zip %s/d.txt",
		 dir, dir, dir, dir, dir);
	{
		char *argv[] = {"sh", "-c", line, NULL};

		assert_int_equal(tl_run(argv, 5000, NULL, NULL), 0);
	}
	snprintf(line, sizeof(line), "otactl -t udp:192.0.2.1 --rate 8k update %s/", dir);
	snprintf(want, sizeof(want), "%s/a.bin\n%s/b.hex\n%s/c.zip\n%s/sub\n", dir, dir, dir, dir);
	expect(line, want);
	snprintf(line, sizeof(line), "otactl image upload %s/", dir);
	expect(line, want);
	snprintf(line, sizeof(line), "otactl update %s/a.bin ", dir);
	expect(line, "\n"); /* one file only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completion_knows_every_command_and_option),
		cmocka_unit_test(test_completion_completes_in_bash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
