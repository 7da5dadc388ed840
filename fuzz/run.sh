#!/usr/bin/env bash
# Runs every fuzz target of rolechain (cargo-fuzz, libFuzzer) one after the other for a given
# time each, and prints the executions and coverage of each run. See docs/fuzzing.md.
#
# Usage: bash fuzz/run.sh [seconds per target, default 600] [target ...]
#
# - Installs cargo-fuzz from crates.io when it is missing.
# - Uses the nightly toolchain; if none is installed and `rustup toolchain install nightly`
#   fails (no network to static.rust-lang.org), falls back to the stable toolchain with
#   RUSTC_BOOTSTRAP=1, which accepts the `-Z` flags cargo-fuzz passes.
# - New inputs go to fuzz/target/corpus/<target> (ignored by git); the committed seeds in
#   fuzz/corpus/<target> are read, never written. Crashes land in fuzz/artifacts/<target>/.
# - CARGO_TARGET_DIR, when set, is passed to cargo fuzz as --target-dir.
# - FUZZ_JOBS=N runs N libFuzzer processes per target (default 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
fuzz_dir="$(pwd)"

seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(snapshot policy_eval request rules)
fi

step() { printf '\n==> %s\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  step "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

toolchain=()
if rustup toolchain list | grep -q '^nightly'; then
  toolchain=(+nightly)
elif rustup toolchain install nightly --profile minimal >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  echo "no nightly toolchain and it cannot be installed here: using stable with RUSTC_BOOTSTRAP=1" >&2
  export RUSTC_BOOTSTRAP=1
fi
echo "toolchain: $(rustc "${toolchain[@]}" --version)"

target_dir=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  target_dir=(--target-dir "$CARGO_TARGET_DIR")
fi

step "building the fuzz targets"
cargo "${toolchain[@]}" fuzz build "${target_dir[@]}"

summary=()
for target in "${targets[@]}"; do
  step "fuzzing $target for ${seconds}s"
  work="$fuzz_dir/target/corpus/$target"
  mkdir -p "$work" "$fuzz_dir/artifacts/$target"
  log="$fuzz_dir/target/fuzz-$target.log"
  status=0
  cargo "${toolchain[@]}" fuzz run "${target_dir[@]}" --jobs "${FUZZ_JOBS:-1}" "$target" \
    "$work" "$fuzz_dir/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -dict="$fuzz_dir/iam.dict" \
    -print_final_stats=1 2>&1 | tee "$log" || status=$?
  # The last status line carries the final coverage; the final stats the executions.
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')"
  rate="$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{s += $2} END {print s + 0}')"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")"
  corp="$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")"
  result="ok"
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status; see fuzz/artifacts/$target/ and $log)"
  fi
  summary+=("$(printf '%-12s %5ss  execs %-10s (%s/s)  cov %-6s ft %-7s corpus %-12s %s' \
    "$target" "$seconds" "$execs" "$rate" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")")
done

step "summary"
printf '%s\n' "${summary[@]}"
if printf '%s\n' "${summary[@]}" | grep -q FAILED; then
  exit 1
fi
