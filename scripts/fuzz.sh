#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and runs each for a bounded time on a corpus
# seeded by real tools (GNU tar, restic) and fuzz/corpus/. A crash fails the run and leaves its
# input in build-fuzz/crashes/TARGET/: turn it into a regression test.
# RECALL_FUZZ_SECONDS: time per target (default 30).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build-fuzz
seconds=${RECALL_FUZZ_SECONDS:-30}
targets=(fuzz_dumpdir fuzz_member_parts fuzz_manifest fuzz_restic_tree fuzz_restic_unpacked fuzz_tar_import fuzz_point_record fuzz_pax_dumpdirs)

CC=clang CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECALL_FUZZ=ON \
  -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" $(printf -- '--target %s ' "${targets[@]}")

# Seeds made by the real tools, each run afresh: archives of a tiny tree in every format and a
# GNU incremental pair (its dumpdirs), besides the checked-in seeds.
seeds=$build/seeds
rm -rf "$seeds" && mkdir -p "$seeds/tree/d" "$seeds/tar" "$seeds/dumpdir"
printf 'hello\n' >"$seeds/tree/a.txt"
printf 'x%.0s' {1..3000} >"$seeds/tree/d/b.txt"
ln -sf a.txt "$seeds/tree/link"
for fmt in ustar pax gnu; do tar --format=$fmt -cf "$seeds/tar/$fmt.tar" -C "$seeds" tree; done
tar --format=gnu -g "$seeds/snar" -cf "$seeds/tar/level0.tar" -C "$seeds" tree
rm "$seeds/tree/a.txt" && printf 'new\n' >"$seeds/tree/c.txt"
tar --format=gnu -g "$seeds/snar" -cf "$seeds/tar/level1.tar" -C "$seeds" tree
printf 'hello\n' >"$seeds/tree/a.txt"
tar --format=posix -g "$seeds/pax.snar" -cf "$seeds/tar/pax-level0.tar" -C "$seeds" tree
rm "$seeds/tree/c.txt"
tar --format=posix -g "$seeds/pax.snar" -cf "$seeds/tar/pax-level1.tar" -C "$seeds" tree
printf 'Ya.txt\0Dd\0Nlink\0\0' >"$seeds/dumpdir/one"
printf 'Rold\0Tnew\0Ynew\0\0' >"$seeds/dumpdir/rename"

# Targets without an entry take only fuzz/corpus/TARGET.
declare -A seed_dirs=([fuzz_tar_import]="$seeds/tar" [fuzz_dumpdir]="$seeds/dumpdir" [fuzz_pax_dumpdirs]="$seeds/tar")
failed=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t crashes=$build/crashes/$t
  mkdir -p "$corpus" "$crashes"
  [ -d "$here/fuzz/corpus/$t" ] && cp -n "$here/fuzz/corpus/$t"/* "$corpus/" 2>/dev/null || true
  [ -n "${seed_dirs[$t]:-}" ] && cp -n "${seed_dirs[$t]}"/* "$corpus/" 2>/dev/null || true
  echo "fuzz: $t for ${seconds} s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; input in $crashes, log $build/$t.log:" >&2
    tail -40 "$build/$t.log" >&2
    failed=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/$t.log" | tr '\n' ' ' | sed 's/^/fuzz:   /'
    echo
  fi
done
exit $failed
