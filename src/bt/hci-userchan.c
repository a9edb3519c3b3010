/* hci-userchan.c — the kernel's HCI user channel (Linux 3.19+): exclusive raw access to hciN,
 * packets with their H4 indicator, one per read() and write(). bind() fails with EBUSY while
 * the kernel's own stack has the device up: take it down first. Needs CAP_NET_ADMIN.
 * Kept apart because libbluetooth's hci.h defines names our headers also use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bluetooth/bluetooth.h>
#include <bluetooth/hci.h>

int hci_userchan_open(const char *arg, int *ret_fd);
int hci_parse_userchan_spec(const char *arg, unsigned *ret_idx); /* hci-driver.c */

int hci_userchan_open(const char *arg, int *ret_fd)
{
	struct sockaddr_hci sa = {.hci_family = AF_BLUETOOTH, .hci_channel = HCI_CHANNEL_USER};
	unsigned idx;
	int fd, r;

	r = hci_parse_userchan_spec(arg, &idx);
	if (r < 0)
		return r;
	sa.hci_dev = (unsigned short)idx;
	fd = socket(AF_BLUETOOTH, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, BTPROTO_HCI);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
