#!/usr/bin/env bash
# Collection benchmark: for each size N, a fresh moto server seeded with a one-account chain of N
# roles (bench/seed_chain.py); then, side by side on the same data,
#   - `rolechain collect` with --concurrency 1 and 16, and `rolechain reach` over the whole chain;
#   - PMapper's `pmapper graph create` (PyPI `principalmapper`) pointed at moto.
# API calls are counted from moto's request log, the same way for both tools.
# Then a second table: secrets with resource policies (one GetResourcePolicy call each), collected
# with --concurrency 1, 4, 16 and 64, straight from moto and through bench/latency_proxy.py, which
# adds a round-trip delay to every call as a real network does (moto itself answers one request
# at a time in about a millisecond).
#
# Then a third: who-can on a chain of BENCH_CHAIN_ROLES roles (default 1000) behind a user, every
# tenth role up to 90% of the chain reading one secret (bench/seed_chain.py --who-can; the same
# chain as tests/it/chain.rs): rolechain's `who-can` against PMapper's
# `query 'who can do secretsmanager:GetSecretValue with ARN'`, counting the sources each finds.
# A rolechain built without the AWS SDK cannot collect: the chain's snapshot is then written
# from moto's own answers by the seeding script, and the first two tables are left out.
#
# Usage: bash bench/collect.sh [N...]        (default: 1000 3000)
#        BENCH_PARTS="chain" bash bench/collect.sh   (any of: collect secrets chain; default all)
# Needs: a built rolechain (cargo build), moto's server, and principalmapper for the PMapper column.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

sizes=("$@")
((${#sizes[@]})) || sizes=(1000 3000)
bin="${ROLECHAIN_BIN:-target/debug/rolechain}"
[[ -x "$bin" ]] || { echo "build rolechain first (cargo build)" >&2; exit 2; }
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL
work="$(mktemp -d)"
moto_pid=
proxy_pid=
cleanup() {
  if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; fi
  if [[ -n "$proxy_pid" ]]; then kill "$proxy_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# PMapper 1.1.5 imports `collections.Mapping`, which Python 3.10 removed; alias it and run PMapper unchanged.
pmapper() {
  python3 -c 'import collections, collections.abc, sys
collections.Mapping = collections.abc.Mapping
collections.MutableMapping = collections.abc.MutableMapping
from principalmapper.__main__ import main
sys.argv[0] = "pmapper"
sys.exit(main())' "$@"
}
have_pmapper=yes
python3 -c 'import principalmapper' 2>/dev/null || have_pmapper=no

now() { date +%s.%N; }
parts="${BENCH_PARTS:-collect secrets chain}"
wants() { [[ " $parts " == *" $1 "* ]]; }
can_collect=yes
probe=$("$bin" collect -q --endpoint-url http://127.0.0.1:9 --max-attempts 1 -o "$work/probe.json" 2>&1 || true)
if [[ "$probe" == *'without the `aws` feature'* ]]; then
  can_collect=no
  if wants collect || wants secrets; then
    echo "$bin was built without the aws feature: leaving out the collection tables" >&2
  fi
  parts="${parts//collect/}"; parts="${parts//secrets/}"
fi
requests() { grep -c '" 200 \|" 4[0-9][0-9] \|" 500 ' "$work/moto.log" || true; }

if wants collect; then
printf '| roles | seed (s) | collect, --concurrency 1 (s) | collect, --concurrency 16 (s) | API calls (rolechain) | reach (s) | collect 16 + reach (s) | pmapper graph create (s) | API calls (PMapper) | speed-up |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in "${sizes[@]}"; do
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:$port"
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$url/moto-api/" 2>/dev/null; do sleep 0.2; done

  t0=$(now); python3 bench/seed_chain.py "$url" "$n"; t1=$(now)
  seed=$(echo "$t1 - $t0" | bc)

  "$bin" collect -q --endpoint-url "$url" --concurrency 1 -o "$work/c1.json" 2>"$work/c1.err"
  c1=$(grep -o 'in [0-9.]*s' "$work/c1.err" | tr -dc '0-9.')
  before=$(requests)
  t0=$(now)
  "$bin" collect -q --endpoint-url "$url" --concurrency 16 -o "$work/snap.json" 2>"$work/c16.err"
  t1=$(now)
  c16=$(echo "$t1 - $t0" | bc)
  calls=$(( $(requests) - before ))
  reported=$(grep -o '[0-9]* call(s)' "$work/c16.err" | tr -dc '0-9')
  t0=$(now)
  "$bin" reach --snapshot "$work/snap.json" --format json >"$work/reach.json"
  t1=$(now)
  reach=$(echo "$t1 - $t0" | bc)
  total=$(echo "$c16 + $reach" | bc)
  python3 - "$work/reach.json" "$n" <<'PY'
import json, sys
paths = json.load(open(sys.argv[1]))["paths"]
n = int(sys.argv[2])
assert any(len(p["hops"]) == n + 1 for p in paths), "reach did not follow the whole chain"
PY

  if [[ "$have_pmapper" == yes ]]; then
    before=$(requests)
    t0=$(now)
    pmapper graph create --localstack-endpoint "$url" --include-regions us-east-1 >"$work/pmapper.log" 2>&1
    t1=$(now)
    pm=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
    pm_calls=$(( $(requests) - before ))
    speedup=$(echo "scale=1; $pm / $total" | bc)
  else
    pm="not installed"; pm_calls="-"; speedup="-"
  fi
  printf '| %s | %.1f | %.2f | %.2f | %s (moto log: %s) | %.2f | %.2f | %s | %s | %s× |\n' \
    "$n" "$seed" "$c1" "$c16" "$reported" "$calls" "$reach" "$total" "$pm" "$pm_calls" "$speedup"
  kill "$moto_pid"; wait "$moto_pid" 2>/dev/null || true; moto_pid=
done
fi

start_moto() {
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  url="http://127.0.0.1:$port"
  moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$url/moto-api/" 2>/dev/null; do sleep 0.2; done
}

if wants secrets; then
secrets="${BENCH_SECRETS:-300}"
delay_ms="${BENCH_DELAY_MS:-50}"
start_moto
python3 bench/seed_chain.py "$url" 10 "$secrets"
proxy_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 bench/latency_proxy.py "$proxy_port" "$url" "$delay_ms" &
proxy_pid=$!
sleep 1
printf '\n| %s secrets: --concurrency | collect from moto (s) | collect with %s ms per call (s) | API calls |\n|---:|---:|---:|---:|\n' "$secrets" "$delay_ms"
for c in 1 4 16 64; do
  before=$(requests)
  t0=$(now)
  "$bin" collect -q --endpoint-url "$url" --concurrency "$c" -o "$work/s.json" 2>"$work/s.err"
  t1=$(now)
  calls=$(( $(requests) - before ))
  direct=$(echo "$t1 - $t0" | bc)
  t0=$(now)
  "$bin" collect -q --endpoint-url "http://127.0.0.1:$proxy_port" --concurrency "$c" -o "$work/s.json" 2>"$work/s.err"
  t1=$(now)
  printf '| %s | %.2f | %.2f | %s |\n' "$c" "$direct" "$(echo "$t1 - $t0" | bc)" "$calls"
done
kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=
kill "$moto_pid"; wait "$moto_pid" 2>/dev/null || true; moto_pid=
fi

if wants chain; then
  n="${BENCH_CHAIN_ROLES:-1000}"
  last_reader=$(( n * 9 / 10 / 10 * 10 ))
  expected=$(( last_reader + 2 ))  # the user, and r-0 … r-last_reader
  start_moto
  t0=$(now)
  arn=$(python3 bench/seed_chain.py "$url" "$n" --who-can --snapshot "$work/chain.json")
  t1=$(now)
  seed=$(echo "$t1 - $t0" | bc)
  from="moto's answers, written by seed_chain.py"
  if [[ "$can_collect" == yes ]]; then
    "$bin" collect -q --endpoint-url "$url" -o "$work/chain.json" 2>"$work/chain.err"
    from="rolechain collect"
  fi
  count_sources() {
    python3 -c 'import json, sys; print(len({p["source"] for p in json.load(open(sys.argv[1]))["paths"]}))' "$1"
  }
  t0=$(now)
  "$bin" who-can "$arn" --snapshot "$work/chain.json" --format json >"$work/who-can.json"
  t1=$(now)
  rc_time=$(echo "$t1 - $t0" | bc)
  rc_sources=$(count_sources "$work/who-can.json")
  # The same with a limit that cuts the chain's longest paths (10 hops), to show the warning.
  "$bin" who-can "$arn" --snapshot "$work/chain.json" --max-depth 9 --format json \
    >"$work/who-can-9.json" 2>"$work/who-can-9.err"
  cut_sources=$(count_sources "$work/who-can-9.json")
  cut_warning=$(cat "$work/who-can-9.err")

  if [[ "$have_pmapper" == yes ]]; then
    t0=$(now)
    pmapper graph create --localstack-endpoint "$url" --include-regions us-east-1 >"$work/pmapper-chain.log" 2>&1
    t1=$(now)
    pm_create=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
    t0=$(now)
    pmapper --account 123456789012 query "who can do secretsmanager:GetSecretValue with $arn" >"$work/pmapper-query.log" 2>&1
    t1=$(now)
    pm_query=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
    # Each principal that can is one line "user/… IS authorized …" or "role/… CAN call … THRU …".
    pm_sources=$( (grep -E '^(user|role)/[^ ]+ (IS|CAN) ' "$work/pmapper-query.log" || true) | cut -d' ' -f1 | sort -u | wc -l)
  else
    pm_create="not installed"; pm_query="-"; pm_sources="-"
  fi
  printf '\n| roles | seed (s) | snapshot from | expected sources | rolechain who-can: sources | rolechain who-can (s) | with --max-depth 9: sources | pmapper graph create (s) | pmapper query (s) | PMapper: sources |\n'
  printf '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n'
  printf '| %s | %.1f | %s | %s | %s | %.2f | %s | %s | %s | %s |\n' \
    "$n" "$seed" "$from" "$expected" "$rc_sources" "$rc_time" "$cut_sources" "$pm_create" "$pm_query" "$pm_sources"
  printf '\n--max-depth 9 printed: %s\n' "$cut_warning"
fi
