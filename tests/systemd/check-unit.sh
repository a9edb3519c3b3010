#!/bin/sh
# check-unit.sh UNIT OTAD — systemd-analyze verify on otad.service (ExecStart pointed at the
# built otad) and its sandbox's exposure score, which must stay at 2.0 or below.
set -eu
unit=$1
otad=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=.*|ExecStart=$otad|" "$unit" > "$dir/otad.service"
systemd-analyze verify --man=no "$dir/otad.service"
echo "systemd-analyze verify: ok"
score=$(systemd-analyze security --offline=yes --no-pager "$dir/otad.service" |
	sed -n 's/.*Overall exposure level for otad.service: \([0-9.]*\).*/\1/p')
echo "exposure: $score"
[ -n "$score" ] || { echo "no exposure score"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "exposure $score > 2.0"; exit 1; }
