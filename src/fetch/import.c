/* import.c — an image handed over as an open file (a client's fd over D-Bus, readable where the
 * daemon's sandbox cannot see): copied into the cache under its SHA-256, atomically. */
#include "otad/fetch.h"
#include "util/fileio.h"
#include "util/hex.h"
#include "util/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_fd(int fd, uint64_t max_size, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	int flags = fcntl(fd, F_GETFL);

	/* Not even its size for an fd that cannot read: an O_PATH fd names a file without the
	 * right to read it. */
	if (flags < 0)
		return -errno;
	if ((flags & O_PATH) || (flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max_size)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* shrank meanwhile: what was read is what is hashed */
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int fetch_import_fd(const char *cache_dir, int fd, uint64_t max_size, char **ret_path,
		    uint8_t ret_sha[32], bool *ret_created)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *path = NULL;
	char hex[65];
	size_t len = 0;
	int r = read_fd(fd, max_size ? max_size : 64 * 1024 * 1024, &buf, &len);

	if (r < 0)
		return r;
	SHA256(buf, len, ret_sha);
	if (asprintf(&path, "%s/%s.img", cache_dir, hex_encode(ret_sha, 32, hex)) < 0)
		return -ENOMEM;
	if (ret_created)
		*ret_created = false;
	if (access(path, F_OK) < 0) {
		r = write_file_atomic(path, buf, len, 0640);
		if (r < 0)
			return r;
		if (ret_created)
			*ret_created = true;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}
