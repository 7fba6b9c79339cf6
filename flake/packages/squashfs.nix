# The read-only root file system of one slot. Layout: the system closure under /nix/store,
# /sbin/init -> the system's init (the boot script's command line names /sbin/init, so the same
# boot.scr serves NixOS and the test gateway), and the empty mount points. Packed by
# device-scripts/image/make-squashfs, whose size gate fails the build above `limit`.
{
  runCommand,
  closureInfo,
  squashfsTools,
  coreutils,
  bash,
  deviceScriptsSrc,
  toplevel,
  limit,
}:
let
  closure = closureInfo { rootPaths = [ toplevel ]; };
in
runCommand "rk64-rootfs.squashfs"
  {
    nativeBuildInputs = [
      squashfsTools
      coreutils
      bash
    ];
  }
  ''
    root=$PWD/root
    mkdir -p $root/nix/store $root/nix/var $root/sbin $root/etc $root/var $root/tmp $root/run \
      $root/dev $root/proc $root/sys $root/data $root/home $root/root \
      $root/bin $root/usr
    xargs -a ${closure}/store-paths cp -a --parents -t $root
    ln -s ${toplevel}/init $root/sbin/init
    ln -s ${toplevel}/init $root/init
    bash ${deviceScriptsSrc + "/image/make-squashfs"} --root $root --out $out --limit ${limit} --comp zstd --block-size 1M
  ''
