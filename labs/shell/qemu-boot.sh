#!/bin/sh
# A lab's own boot script, pyboot-style, for Bootfarm's `shell` adapter:
#   qemu-boot.sh --kernel FILE [--ramdisk FILE] [--dtb FILE]
# Bootfarm passes the platform in BOOTFARM_* variables. The console goes to
# standard output; exit 0 when the boot marker was seen, 1 when it was not.
# A test plan comes as BOOTFARM_TEST_SUITES (comma-separated): it reaches the
# kernel as bootfarm.tests=SUITES, and the ramdisk (or the kernel) prints the
# suites' KTAP on the console after the marker. BOOTFARM_TIMEOUT covers the
# boot and the tests.
set -eu
kernel='' ramdisk=''
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel="$2"; shift 2 ;;
    --ramdisk) ramdisk="$2"; shift 2 ;;
    --dtb) shift 2 ;;
    *) echo "qemu-boot.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$kernel" ] || { echo "qemu-boot.sh: --kernel is required" >&2; exit 2; }
case "${BOOTFARM_ARCH:-x86_64}" in
  x86_64) qemu=qemu-system-x86_64 ;;
  i386) qemu=qemu-system-i386 ;;
  *) echo "qemu-boot.sh: this lab boots x86 only, not ${BOOTFARM_ARCH}" >&2; exit 2 ;;
esac
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set -- -nographic -no-reboot -m "${BOOTFARM_MEMORY_MB:-256}" \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -kernel "$kernel" -append "console=ttyS0 ${BOOTFARM_KERNEL_ARGS:-}${BOOTFARM_TEST_SUITES:+ bootfarm.tests=$BOOTFARM_TEST_SUITES}"
[ -n "$ramdisk" ] && set -- "$@" -initrd "$ramdisk"
# The kernel ends the VM itself; timeout guards against one that hangs.
timeout "${BOOTFARM_TIMEOUT:-60}" "$qemu" "$@" </dev/null | tee "$log" || true
grep -qF "${BOOTFARM_SUCCESS_PATTERN:-BOOTFARM: boot ok}" "$log"
