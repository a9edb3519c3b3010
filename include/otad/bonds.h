/* bonds.h — the bond store: the keys of the pairings one gateway identity has made with LE
 * devices (bt-sm.h hands them over after a bonding pairing), kept in one file so that a later
 * process re-encrypts with them instead of pairing again. The file holds Long Term Keys: it is
 * written with mode 0600, atomically (fileio.h), and nothing here logs or shows a key.
 *
 * The gateway's own identity (a static random address and an IRK, Core 5.4 Vol 6 Part B 1.3.2.1,
 * Vol 3 Part H 2.4.2.1) is made on first use and kept in the same file: the bonds belong to it.
 * The host does not use it on the air yet (no LE Set Random Address; it connects with the
 * controller's public address, and distributes no identity): devices bond with that address.
 * Peers are keyed by their identity address (type and bytes); the peer's IRK is kept for the
 * resolution of its private addresses.
 *
 * Format (text, one record a line, '#' comments):
 *   format 1
 *   identity D3:41:5E:2A:99:10 irk=<32 hex>
 *   bond C0:11:22:33:44:55/public level=4 key_size=16 authenticated=1 sc=1 ltk=<32 hex>
 *        ediv=0 rand=<16 hex> [irk=<32 hex>] created=<seconds since the epoch>
 * (one line each). A file that does not parse is an error naming its line, never rewritten. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"

struct bond_store;

struct bond {
	struct bt_addr peer; /* the peer's identity address */
	struct sm_ltk ltk;
	uint8_t level; /* enum sm_level the key gives a link */
	bool has_irk;
	uint8_t irk[SM_KEY_LEN]; /* the peer's */
	uint64_t created;	 /* seconds since the epoch */
};

struct bond_identity {
	struct bt_addr addr; /* static random */
	uint8_t irk[SM_KEY_LEN];
};

/* Reads path; a missing file is an empty store (it is made by bond_store_save()). -EBADMSG
 * when the file does not parse (why: "PATH:LINE: what is wrong"), -EFBIG, other -errno of
 * reading it (why says so too); why may be NULL. */
int bond_store_load(const char *path, struct bond_store **ret, char *why, size_t why_size);
/* The same from text (len bytes); path names it in why. */
int bond_store_parse(const char *path, const char *text, size_t len, struct bond_store **ret,
		     char *why, size_t why_size);
/* The file's text (malloc'd, NUL-terminated; the caller wipes and frees it). 0 or -ENOMEM. */
int bond_store_format(const struct bond_store *s, char **ret, size_t *ret_len);
/* Writes the store to its path (the parent made 0700 if missing), atomically, mode 0600. */
int bond_store_save(struct bond_store *s);
/* Reads path, lets fn change the store (fn's < 0 stops: nothing written) and saves it, while
 * holding an exclusive lock (flock) on its directory: two processes that add a bond each at
 * once keep both. Errors as bond_store_load() and bond_store_save(), or fn's. */
int bond_store_update(const char *path, int (*fn)(struct bond_store *s, void *user_data),
		      void *user_data, char *why, size_t why_size);
/* Wipes the keys. NULL-safe; returns NULL. */
struct bond_store *bond_store_free(struct bond_store *s);

const char *bond_store_path(const struct bond_store *s);
/* Ours; with make, made (random) when the store has none yet (kept by the next save). NULL:
 * none (without make), or no randomness. */
const struct bond_identity *bond_store_identity(struct bond_store *s, bool make);
size_t bond_store_count(const struct bond_store *s);
const struct bond *bond_store_get(const struct bond_store *s, size_t i);
const struct bond *bond_store_find(const struct bond_store *s, const struct bt_addr *peer);
/* Adds b, or replaces the bond with b->peer. 0, -EINVAL (no key), -ENOMEM. */
int bond_store_put(struct bond_store *s, const struct bond *b);
/* 0, or -ENOENT when there is no bond with peer. */
int bond_store_remove(struct bond_store *s, const struct bt_addr *peer);

/* "ADDRESS[/public|/random]" as a peer; type_given tells whether the type was. 0 or -EINVAL. */
int bond_addr_parse(const char *s, struct bt_addr *ret, bool *type_given);
