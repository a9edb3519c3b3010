/* otadctl.c — private bus, otad and an HTTP server as test fixtures. */
#include "lib/otadctl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tl_write_file(const char *dir, const char *name, const char *text)
{
	static char path[4][700];
	static unsigned i;
	char *p = path[i++ % 4], sub[700];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(sub, sizeof(sub), "%s/fleet.d", dir);
	mkdir(sub, 0755);
	snprintf(p, 700, "%s/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	return p;
}

/* What the system bus allows by default (/usr/share/dbus-1/system.conf): anyone connects, nobody
 * owns names or calls methods unless a policy file punches a hole, signals and the replies a
 * caller asked for pass, the bus itself answers everyone; then otad's policy as installed. */
static const char system_conf[] =
	"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<busconfig>\n"
	"  <type>system</type>\n"
	"  <listen>unix:path=%s/bus</listen>\n"
	"  <auth>EXTERNAL</auth>\n"
	"  <policy context=\"default\">\n"
	"    <allow user=\"*\"/>\n"
	"    <deny own=\"*\"/>\n"
	"    <deny send_type=\"method_call\"/>\n"
	"    <allow send_type=\"signal\"/>\n"
	"    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
	"    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
	"    <allow receive_type=\"method_call\"/>\n"
	"    <allow receive_type=\"method_return\"/>\n"
	"    <allow receive_type=\"error\"/>\n"
	"    <allow receive_type=\"signal\"/>\n"
	"    <allow send_destination=\"org.freedesktop.DBus\"\n"
	"           send_interface=\"org.freedesktop.DBus\"/>\n"
	"    <allow send_destination=\"org.freedesktop.DBus\"\n"
	"           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
	"    <allow send_destination=\"org.freedesktop.DBus\"\n"
	"           send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
	"    <deny send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"\n"
	"          send_member=\"UpdateActivationEnvironment\"/>\n"
	"  </policy>\n"
	"  <policy user=\"root\">\n"
	"    <allow send_destination=\"org.freedesktop.DBus\"\n"
	"           send_interface=\"org.freedesktop.DBus.Monitoring\"/>\n"
	"  </policy>\n"
	"  <include>%s/dbus/org.otad1.conf</include>\n"
	"</busconfig>\n";

/* The policy names group otad. Where the machine has none (otad is not installed), the bus runs
 * in a mount namespace of its own whose /etc/group adds one with an unused gid. */
static int otad_group(struct tl_dbus *b, char *ret_group_file, size_t size)
{
	struct group *g = getgrnam("otad");
	char *etc, line[64];
	gid_t gid = 64000;

	ret_group_file[0] = 0;
	if (g) {
		b->otad_gid = g->gr_gid;
		return 0;
	}
	while (getgrgid(gid))
		gid--;
	etc = tl_read_file("/etc/group");
	if (!etc)
		return -errno;
	snprintf(line, sizeof(line), "%sotad:x:%u:\n",
		 etc[0] && etc[strlen(etc) - 1] != '\n' ? "\n" : "", (unsigned)gid);
	snprintf(ret_group_file, size, "%s", tl_path("group"));
	tl_write_file(tl_tmpdir(), "group", etc);
	free(etc);
	{
		FILE *f = fopen(ret_group_file, "a");

		if (!f)
			return -errno;
		fputs(line, f);
		fclose(f);
	}
	b->otad_gid = gid;
	return 0;
}

int tl_dbus_start(struct tl_dbus *b)
{
	char conf[4096], line[600], group_file[600], cfg_arg[600];
	char *plain[] = {"dbus-daemon", "--nofork", "--print-address=1", cfg_arg, NULL};
	char *in_ns[] = {"unshare", "--mount", "--propagation", "private", "sh", "-c",
			 "mount --bind \"$0\" /etc/group && exec dbus-daemon --nofork "
			 "--print-address=1 \"$1\"",
			 group_file, cfg_arg, NULL};
	const char *path;
	int r;

	memset(b, 0, sizeof(*b));
	snprintf(conf, sizeof(conf), system_conf, tl_tmpdir(), OTAD_SOURCE_DIR);
	path = tl_write_file(tl_tmpdir(), "bus.conf", conf);
	snprintf(cfg_arg, sizeof(cfg_arg), "--config-file=%s", path);
	r = otad_group(b, group_file, sizeof(group_file));
	if (r < 0)
		return r;
	r = tl_spawn(&b->proc, group_file[0] ? in_ns : plain);
	if (r < 0)
		return r;
	r = tl_proc_read_line(&b->proc, line, sizeof(line), 10000);
	if (r < 0) {
		char *err = tl_proc_stderr(&b->proc);

		fprintf(stderr, "the test bus did not start: %s\n", err ? err : "");
		free(err);
		tl_proc_kill(&b->proc, SIGKILL);
		tl_proc_wait(&b->proc, 5000);
		return r;
	}
	snprintf(b->address, sizeof(b->address), "%s", line);
	return 0;
}

void tl_dbus_stop(struct tl_dbus *b)
{
	tl_proc_kill(&b->proc, SIGTERM);
	tl_proc_wait(&b->proc, 5000);
}

static int notify_socket(struct tl_otad *d)
{
	static unsigned n;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(d->notify_path, sizeof(d->notify_path), "%s/notify-%u", tl_tmpdir(), n++);
	if (strlen(d->notify_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, d->notify_path, strlen(d->notify_path) + 1);
	unlink(d->notify_path);
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->notify_fd < 0)
		return -errno;
	if (bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* A datagram socket holds few messages (net.unix.max_dgram_qlen, 10 by default) and sd_notify()
 * blocks when it is full, as it would with a stuck systemd: a child drains it into a file. */
static int start_drain(struct tl_otad *d)
{
	pid_t pid;

	snprintf(d->notes_path, sizeof(d->notes_path), "%s.log", d->notify_path);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			char buf[2048];
			ssize_t n = recv(d->notify_fd, buf, sizeof(buf) - 1, 0);
			FILE *f;

			if (n <= 0)
				continue;
			buf[n] = 0;
			f = fopen(d->notes_path, "a");
			if (f) {
				fprintf(f, "%s\n", buf);
				fclose(f);
			}
		}
	}
	d->drain_pid = pid;
	return 0;
}

static void stop_drain(struct tl_otad *d)
{
	if (d->drain_pid > 0) {
		kill(d->drain_pid, SIGKILL);
		waitpid(d->drain_pid, NULL, 0);
	}
	d->drain_pid = 0;
	if (d->notify_fd >= 0)
		close(d->notify_fd);
	d->notify_fd = -1;
}

int tl_otad_wait_notify(struct tl_otad *d, const char *text, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		char *notes = tl_read_file(d->notes_path);

		if (notes) {
			snprintf(d->notes, sizeof(d->notes), "%s",
				 strlen(notes) >= sizeof(d->notes)
					 ? notes + strlen(notes) - sizeof(d->notes) + 1
					 : notes);
			free(notes);
		}
		if (strstr(d->notes, text))
			return 0;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

int tl_otad_start(struct tl_otad *d, const char *address, const char *config_dir,
		  const char *state_dir, const char *cache_dir, const char *const *extra)
{
	const char *argv[32];
	char bus[700], cfg[600], st[600], ca[600];
	unsigned n = 0;
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->config_dir, sizeof(d->config_dir), "%s", config_dir);
	snprintf(d->state_dir, sizeof(d->state_dir), "%s", state_dir);
	snprintf(d->cache_dir, sizeof(d->cache_dir), "%s", cache_dir);
	r = notify_socket(d);
	if (r >= 0)
		r = start_drain(d);
	if (r < 0)
		return r;
	snprintf(bus, sizeof(bus), "--bus-address=%s", address);
	snprintf(cfg, sizeof(cfg), "--config-dir=%s", config_dir);
	snprintf(st, sizeof(st), "--state-dir=%s", state_dir);
	snprintf(ca, sizeof(ca), "--cache-dir=%s", cache_dir);
	argv[n++] = tl_bin("otad");
	argv[n++] = bus;
	argv[n++] = cfg;
	argv[n++] = st;
	argv[n++] = ca;
	for (unsigned i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	setenv("NOTIFY_SOCKET", d->notify_path, 1);
	r = tl_spawn(&d->proc, (char *const *)argv);
	unsetenv("NOTIFY_SOCKET");
	if (r < 0)
		return r;
	r = tl_otad_wait_notify(d, "READY=1", tl_timeout(15000));
	if (r < 0) {
		char *err = tl_proc_stderr(&d->proc);

		fprintf(stderr, "otad did not become ready: %s\n", err ? err : "");
		free(err);
		tl_proc_kill(&d->proc, SIGKILL);
		tl_proc_wait(&d->proc, 5000);
		stop_drain(d);
	}
	return r;
}

int tl_otad_stop(struct tl_otad *d)
{
	int r;

	tl_proc_kill(&d->proc, SIGTERM);
	r = tl_proc_wait(&d->proc, tl_timeout(15000));
	stop_drain(d);
	return r;
}

void tl_otad_kill9(struct tl_otad *d)
{
	tl_proc_kill(&d->proc, SIGKILL);
	tl_proc_wait(&d->proc, 10000);
	stop_drain(d);
}
