#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and runs each on a corpus seeded by real tools
# (GNU tar, the compressors) and fuzz/corpus/. A crash fails the run and leaves its input in
# build-fuzz/crashes/TARGET/: turn it into a regression test and a seed.
# By default each target runs a fixed number of inputs from a fixed seed over seeds made the same
# way every time, so that a run (CI's) does not depend on luck: about 2.5 minutes on 2 cores in all
# (200,000 inputs a target; fewer for the two whose inputs cost milliseconds). RECALL_FUZZ_RUNS=N
# runs N inputs each instead.
# RECALL_FUZZ_SECONDS=N fuzzes each target for N seconds from a random seed instead (by hand).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build-fuzz
seconds=${RECALL_FUZZ_SECONDS:-}
runs=${RECALL_FUZZ_RUNS:-}
# fuzz_tar_import writes a catalog per input (about 6 ms), fuzz_decompressed_reader reads each
# input twice through every decoder (about 1 ms).
declare -A runs_of=([fuzz_tar_import]=12000 [fuzz_decompressed_reader]=30000)
targets=(fuzz_dumpdir fuzz_member_parts fuzz_manifest fuzz_restic_tree fuzz_restic_unpacked fuzz_tar_import fuzz_point_record
  fuzz_pax_dumpdirs fuzz_decompressed_reader)

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
# The same bytes every run: fixed times, owners and order.
tar_=(tar --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --sort=name)
pax_=("${tar_[@]}" --pax-option=delete=atime,delete=ctime)
for fmt in ustar gnu; do "${tar_[@]}" --format=$fmt -cf "$seeds/tar/$fmt.tar" -C "$seeds" tree; done
"${pax_[@]}" --format=pax -cf "$seeds/tar/pax.tar" -C "$seeds" tree
"${tar_[@]}" --format=gnu -g "$seeds/snar" -cf "$seeds/tar/level0.tar" -C "$seeds" tree
rm "$seeds/tree/a.txt" && printf 'new\n' >"$seeds/tree/c.txt"
"${tar_[@]}" --format=gnu -g "$seeds/snar" -cf "$seeds/tar/level1.tar" -C "$seeds" tree
printf 'hello\n' >"$seeds/tree/a.txt"
"${pax_[@]}" --format=posix -g "$seeds/pax.snar" -cf "$seeds/tar/pax-level0.tar" -C "$seeds" tree
rm "$seeds/tree/c.txt"
"${pax_[@]}" --format=posix -g "$seeds/pax.snar" -cf "$seeds/tar/pax-level1.tar" -C "$seeds" tree
# Compressed archives, for the decompressors and the tar importer's compressed path.
mkdir -p "$seeds/packed"
gzip -9n <"$seeds/tar/ustar.tar" >"$seeds/packed/ustar.tar.gz"
bzip2 -9 <"$seeds/tar/ustar.tar" >"$seeds/packed/ustar.tar.bz2"
xz -6 <"$seeds/tar/ustar.tar" >"$seeds/packed/ustar.tar.xz"
lzip -6 <"$seeds/tar/ustar.tar" >"$seeds/packed/ustar.tar.lz"
zstd -q -19 <"$seeds/tar/ustar.tar" >"$seeds/packed/ustar.tar.zst"
lz4 -q <"$seeds/tar/ustar.tar" >"$seeds/packed/ustar.tar.lz4"
cp "$seeds/packed"/* "$seeds/tar/"
printf 'Ya.txt\0Dd\0Nlink\0\0' >"$seeds/dumpdir/one"
printf 'Rold\0Tnew\0Ynew\0\0' >"$seeds/dumpdir/rename"

# Targets without an entry take only fuzz/corpus/TARGET.
declare -A seed_dirs=([fuzz_tar_import]="$seeds/tar" [fuzz_dumpdir]="$seeds/dumpdir" [fuzz_pax_dumpdirs]="$seeds/tar"
  [fuzz_decompressed_reader]="$seeds/packed")
failed=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t crashes=$build/crashes/$t
  [ -z "$seconds" ] && rm -rf "$corpus"  # a bounded run starts from the same corpus every time
  mkdir -p "$corpus" "$crashes"
  [ -d "$here/fuzz/corpus/$t" ] && cp -n "$here/fuzz/corpus/$t"/* "$corpus/" 2>/dev/null || true
  [ -n "${seed_dirs[$t]:-}" ] && cp -n "${seed_dirs[$t]}"/* "$corpus/" 2>/dev/null || true
  if [ -n "$seconds" ]; then
    bound=(-max_total_time="$seconds")
    echo "fuzz: $t for ${seconds} s"
  else
    n=${runs:-${runs_of[$t]:-200000}}
    bound=(-runs="$n" -seed=1)
    echo "fuzz: $t, $n inputs from seed 1"
  fi
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$t" "${bound[@]}" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
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
