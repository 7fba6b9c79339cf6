# Slot B (boot-b, rootfs-b) and the f2fs /data partition are created on first boot by
# systemd-repart in the initrd, from the definitions in device-scripts/repart/ (installed to
# lib/repart.d of the package). Later boots find them and change nothing.
{ config, lib, ... }:
{
  config = {
    boot.initrd.systemd.repart.enable = true;
    # Use the shipped definitions instead of ones generated from systemd.repart.partitions.
    # With no device set, systemd-repart works on the disk backing /sysroot: the booted eMMC (or
    # the QEMU virtio disk).
    boot.initrd.systemd.contents."/etc/repart.d".source = lib.mkForce "${config.rk64.package}/lib/repart.d";

    fileSystems."/data" = {
      device = "/dev/disk/by-partlabel/data";
      fsType = "f2fs";
      options = [
        "nofail"
        "x-systemd.device-timeout=60s"
      ];
      neededForBoot = true;
    };
  };
}
