/* shell.c — the console of Zephyr's shell transport: boot output, log messages through the
 * shell's log backend, and SMP frames written past the shell (shell.h). */
#include "sim/shell.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/console.h"
#include "util/macro.h"

/* The shell's prompt at start, byte for byte as smp_svr prints it (CONFIG_SHELL_PROMPT_UART
 * "uart:~$ ", VT100 colours on); printed again after each log message without the leading
 * reset and blank line. */
#define PROMPT_FIRST "\x1b[m\r\n\r\n"
#define PROMPT	     "\x1b[1;32muart:~$ \x1b[m"
/* z_shell_cmd_line_erase() with an empty command line: back over the 8 columns of the prompt,
 * clear to the end of the screen. */
#define ERASE "\x1b[8D\x1b[J"
/* Room for one message with its erase and prompt. */
#define MESSAGE_MAX 512

static const char mcuboot_banner[] = "*** Booting MCUboot v2.1.0 ***\r\n"
				     "*** Using Zephyr OS build v3.7.0 ***\r\n";
static const char kernel_banner[] = "*** Booting Zephyr OS build v3.7.0 ***\r\n";

void sim_shell_init(struct sim_shell *sh, sim_shell_write_fn write, void *user_data)
{
	*sh = (struct sim_shell){.write = write, .user_data = user_data};
}

static void out(struct sim_shell *sh, const void *data, size_t len)
{
	if (len)
		sh->write(data, len, sh->user_data);
}

static void out_str(struct sim_shell *sh, const char *s)
{
	out(sh, s, strlen(s));
}

void sim_shell_mcuboot(struct sim_shell *sh, char level, const char *text)
{
	char line[300];
	int n;

	if (!sh->in_mcuboot)
		out_str(sh, mcuboot_banner);
	sh->in_mcuboot = true;
	/* MCUboot's minimal log format: "I: text" */
	n = snprintf(line, sizeof(line), "%c: %s\r\n", level, text);
	out(sh, line, (size_t)MIN(n, (int)sizeof(line) - 1));
}

void sim_shell_started(struct sim_shell *sh, uint64_t now_us)
{
	sh->in_mcuboot = false;
	sh->boot_us = now_us;
	sh->answers = 0;
	out_str(sh, kernel_banner);
	out_str(sh, PROMPT_FIRST PROMPT);
}

/* log_output.c: "[hh:mm:ss.mmm,uuu] <inf> module: text", errors red, warnings yellow. */
static size_t format_message(const struct sim_shell *sh, uint64_t now_us, char level,
			     const char *module, const char *text, bool newline, char *buf,
			     size_t size)
{
	uint64_t t = now_us > sh->boot_us ? now_us - sh->boot_us : 0;
	const char *lvl = level == 'E' ? "err" : level == 'W' ? "wrn" : "inf";
	const char *color = level == 'E' ? "\x1b[1;31m" : level == 'W' ? "\x1b[1;33m" : "";
	int n;

	if (!newline) /* printk: the text alone */
		n = snprintf(buf, size, ERASE "%s" PROMPT, text);
	else
		n = snprintf(buf, size,
			     ERASE "%s[%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64
				   ",%03" PRIu64 "] <%s> %s: %s%s\r\n" PROMPT,
			     color, t / 3600000000 % 100, t / 60000000 % 60, t / 1000000 % 60,
			     t / 1000 % 1000, t % 1000, lvl, module, text, color[0] ? "\x1b[0m" : "");
	return n < 0 ? 0 : MIN((size_t)n, size - 1);
}

void sim_shell_log(struct sim_shell *sh, uint64_t now_us, char level, const char *module,
		   const char *text, bool newline)
{
	char buf[MESSAGE_MAX];

	out(sh, buf, format_message(sh, now_us, level, module, text, newline, buf, sizeof(buf)));
}

size_t sim_shell_answer_max(size_t len)
{
	return console_encoded_size(len) + MESSAGE_MAX;
}

int sim_shell_answer(struct sim_shell *sh, uint64_t now_us, const uint8_t *pkt, size_t len)
{
	size_t size = console_encoded_size(len);
	unsigned k = ++sh->answers, turn = k % 3;
	uint8_t *enc, *nl;
	char tick[32];
	ssize_t n;

	if (len > CONSOLE_PKT_MAX)
		return -EMSGSIZE;
	enc = malloc(size);
	if (!enc)
		return -ENOMEM;
	n = console_encode(pkt, len, enc, size);
	if (n < 0) {
		free(enc);
		return (int)n;
	}
	snprintf(tick, sizeof(tick), "tick %u", k);
	nl = (uint8_t *)memchr(enc, '\n', (size_t)n) + 1;
	if (k > 1 && turn == 1)
		sim_shell_log(sh, now_us, 'I', "app", tick, false);
	else if (k > 1 && (turn == 2 || nl == enc + n))
		sim_shell_log(sh, now_us, 'I', "app", tick, true);
	out(sh, enc, (size_t)(nl - enc));
	if (k > 1 && turn == 0 && nl < enc + n)
		sim_shell_log(sh, now_us, 'I', "app", tick, true);
	out(sh, nl, (size_t)(enc + n - nl));
	free(enc);
	return 0;
}
