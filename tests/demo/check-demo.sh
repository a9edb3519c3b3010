#!/usr/bin/env bash
# check-demo.sh SOURCE_DIR BIN_DIR — the README's ./demo and ./demo overrun, on the built
# programs and a device 20 times faster than real time: the story each tells is what happened,
# and neither reads or writes anything outside its private directory (HOME and XDG_STATE_HOME
# point to an empty directory that must stay empty).
set -euo pipefail
src=$1 bin=$2
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

run() {
	HOME=$home XDG_STATE_HOME=$home/state OTAD_DEMO_BIN=$bin OTAD_DEMO_SPEED=20 \
		"$src/demo" "$@" >"$home.out" 2>&1 || { cat "$home.out"; fail "./demo $* exited $?"; }
	grep -v '^    device | ' "$home.out" || true
	[ -z "$(ls -A "$home")" ] || fail "./demo $* wrote into HOME: $(find "$home" -mindepth 1)"
}

out=$(run)
grep -qx 'done: device runs 2.0.0 (hash [0-9a-f]*), confirmed' <<<"$out" || fail "./demo: no update"

out=$(run overrun)
rm -f "$home.out"
# 1: refused, exit 9, the device still on 1.0.0
first=$(sed -n '/^== 1\. /,/^== 2\. /p' <<<"$out")
grep -qx '   otactl exit code: 9 (9 = the bootloader refused the image)' <<<"$first" ||
	fail "run 1 did not exit 9: $first"
grep -q '^failed (refused, during boot): bootloader refused the image' <<<"$first" ||
	fail "run 1 was not refused by the bootloader"
grep -A2 '^== the device, after the refusal:' <<<"$first" | grep -qx '    version: 1.0.0' ||
	fail "after the refusal the device does not run 1.0.0"
# 2: refused once more at full speed, then the retry one request at a time boots it
second=$(sed -n '/^== 2\. /,$p' <<<"$out")
grep -q '^  bootloader refused the image: .*; attempt 2 of 3, one request at a time, at most [0-9]* B/s$' \
	<<<"$second" || fail "run 2 shows no retry after a refusal"
grep -q '^upload: .* 2 attempts, pace: window 1, ' <<<"$second" || fail "run 2's retry not at window 1"
grep -qx '   otactl exit code: 0 (0 = updated, verified, booted and confirmed)' <<<"$second" ||
	fail "run 2 did not exit 0"
grep -A4 '^== the device now runs:' <<<"$second" | grep -qx '    flags: bootable confirmed active' ||
	fail "the device does not end on a confirmed image"
grep -A2 '^== the device now runs:' <<<"$second" | grep -qx '    version: 2.0.0' ||
	fail "the device does not end on 2.0.0"
echo "demo: ok"
