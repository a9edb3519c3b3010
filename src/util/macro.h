/* macro.h — cleanup attributes, ownership helpers and small macros shared by every layer.
 * The habits are systemd's (_cleanup_, TAKE_PTR), the definitions are ours. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "otad/common.h"

#define _cleanup_(f)     __attribute__((__cleanup__(f)))
#define _unused_         __attribute__((__unused__))
#define _printf_(a, b)   __attribute__((__format__(printf, a, b)))
#define _warn_unused_    __attribute__((__warn_unused_result__))
#define _likely_(x)      (__builtin_expect(!!(x), 1))
#define _unlikely_(x)    (__builtin_expect(!!(x), 0))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Nestable MIN/MAX: each expansion gets its own temporaries (__COUNTER__). */
#define OTAD_CONCAT_(a, b) a##b
#define OTAD_CONCAT(a, b)  OTAD_CONCAT_(a, b)
#define OTAD_MINMAX_(a, b, op, n)                                                                  \
	({                                                                                         \
		__typeof__(a) OTAD_CONCAT(_a, n) = (a);                                            \
		__typeof__(b) OTAD_CONCAT(_b, n) = (b);                                            \
		OTAD_CONCAT(_a, n) op OTAD_CONCAT(_b, n) ? OTAD_CONCAT(_a, n) : OTAD_CONCAT(_b, n); \
	})
#define MIN(a, b) OTAD_MINMAX_(a, b, <, __COUNTER__)
#define MAX(a, b) OTAD_MINMAX_(a, b, >, __COUNTER__)
#define DIV_ROUND_UP(x, y) (((x) + (y)-1) / (y))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

void closep(int *fd);
#define _cleanup_close_ _cleanup_(closep)

/* For x_free() functions that return NULL: defines x_freep() for _cleanup_(x_freep). */
/* NOLINTBEGIN(bugprone-macro-parentheses): type is a type name */
#define DEFINE_FREE_CLEANUP(type, func)                                                            \
	static inline void func##p(type **p)                                                       \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}
/* NOLINTEND(bugprone-macro-parentheses) */

#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define NSEC_PER_USEC UINT64_C(1000)

