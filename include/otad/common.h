/* common.h — the few definitions every public header shares. */
#pragma once

/* Callback-owned data: destroy(user_data) runs exactly once, when the registration ends. */
typedef void (*otad_destroy_fn)(void *user_data);
