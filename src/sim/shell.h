/* shell.h — the console of a device whose SMP transport is Zephyr's shell
 * (CONFIG_MCUMGR_TRANSPORT_SHELL, subsys/mgmt/mcumgr/transport/src/smp_shell.c), as a host reads
 * it on the UART:
 *   - at a reset MCUboot's log ("I: Starting bootloader" ...) after its banner, then, once the
 *     application runs, the kernel's banner and the shell's prompt, which ends no line:
 *     "\e[m\r\n\r\n\e[1;32muart:~$ \e[m";
 *   - the application's log messages through the shell's log backend (shell_log_backend.c
 *     process_log_msg): the prompt erased ("\e[8D\e[J"), the message, the prompt printed again;
 *     a message without newline (printk) leaves the prompt on its line;
 *   - SMP answers written straight to the UART (smp_shell_tx_raw, uart_poll_out), bypassing the
 *     shell: the first frame lands wherever the shell left the cursor, right after a prompt, and
 *     a message can come between two frames of one answer, never inside a frame line.
 * Pure: bytes go to the write callback; the caller passes model time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*sim_shell_write_fn)(const void *data, size_t len, void *user_data);

struct sim_shell {
	sim_shell_write_fn write;
	void *user_data;
	bool in_mcuboot; /* MCUboot's banner is out: it is logging */
	uint64_t boot_us; /* model time the application started: its log timestamps count from it */
	unsigned answers; /* answers since the application started */
};

void sim_shell_init(struct sim_shell *sh, sim_shell_write_fn write, void *user_data);
/* A line of MCUboot's log ('I', 'W', 'E'), its banner first after a reset. */
void sim_shell_mcuboot(struct sim_shell *sh, char level, const char *text);
/* The application runs: the kernel's banner, the shell's prompt. */
void sim_shell_started(struct sim_shell *sh, uint64_t now_us);
/* A log message of the application's module (img_mgmt's "mcumgr_img_grp"), with a newline or
 * without (printk-style, the prompt reprinted on the same line). */
void sim_shell_log(struct sim_shell *sh, uint64_t now_us, char level, const char *module,
		   const char *text, bool newline);
/* One SMP answer, as frames (console.h) with the application's own messages among them: none
 * before the first answer after a start (it follows the prompt), then in turn a message before
 * the answer, one between its first two frames (before it, when it has one frame), and one
 * without newline before it. -EMSGSIZE when len > CONSOLE_PKT_MAX, -ENOMEM. */
int sim_shell_answer(struct sim_shell *sh, uint64_t now_us, const uint8_t *pkt, size_t len);
/* Bytes sim_shell_answer() writes at most for a packet of len bytes. */
size_t sim_shell_answer_max(size_t len);
