#!/usr/bin/env bash
# check-docs.sh SOURCE_DIR — what the documentation says about itself holds: every man page
# formats without a groff warning (`man --warnings` at man's 80 columns); README.md's package list
# is the one .ci/run installs for the README's commands; its test command bounds make's jobs;
# its private-bus example stops the bus it starts; README, the unit and otad(8) name the same
# capabilities for the HCI user channel.
set -euo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

for page in "$src"/man/*.[158]; do
	w=$(groff -t -man -Tutf8 -ww -z -rLL=78n -rLT=78n "$page" 2>&1) || fail "$page: groff failed"
	[ -z "$w" ] || fail "$(basename "$page"): $w"
done

ci=$(sed -n '/^PACKAGES=(/,/^)/p' "$src/.ci/run" | sed '1d;$d' | xargs -n1 | sort)
readme=$(tr '\n' ' ' <"$src/README.md" | sed -E 's/.*installs for these two commands \(`([^`]*)`.*/\1/' |
	xargs -n1 | sort)
[ "$ci" = "$readme" ] || fail "README's packages differ from .ci/run's: $(diff <(echo "$ci") <(echo "$readme") | grep '^[<>]' | xargs)"

! grep -nE -- '--build [^`]*-j( |$|&)' "$src/README.md" || fail "README: a bare -j runs unbounded jobs"
grep -qE 'dbus-daemon .*--print-pid' "$src/README.md" || fail "README: the bus's pid is not kept"
grep -qE '^ +kill .*\$bus_pid' "$src/README.md" || fail "README: the private bus is never stopped"

caps() { grep -o 'CAP_[A-Z_]*' "$@" | sort -u | xargs; }
r=$(caps "$src/README.md") u=$(caps "$src/systemd/otad.service.in") m=$(caps "$src/man/otad.8")
[ "$r" = "$u" ] && [ "$u" = "$m" ] || fail "user channel capabilities: README '$r', unit '$u', otad(8) '$m'"
echo "docs: ok"
