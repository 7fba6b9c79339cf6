# Read-only squashfs root. The boot script picks the slot and passes root=PARTLABEL=rootfs-a|b
# and rauc.slot=A|B; the initrd links /dev/rk64-rootfs to the booted slot's partition, so one
# system configuration serves both slots. /etc is an overlay built in the initrd (nothing is
# written to the root), users come from systemd-sysusers, /var and /tmp are tmpfs.
{ lib, ... }:
{
  config = {
    boot.initrd.systemd.enable = true;
    boot.initrd.services.udev.rules = ''
      SUBSYSTEM=="block", ENV{ID_PART_ENTRY_NAME}=="rootfs-a", IMPORT{cmdline}="rauc.slot", ENV{rauc.slot}=="A", SYMLINK+="rk64-rootfs"
      SUBSYSTEM=="block", ENV{ID_PART_ENTRY_NAME}=="rootfs-b", IMPORT{cmdline}="rauc.slot", ENV{rauc.slot}=="B", SYMLINK+="rk64-rootfs"
    '';
    boot.initrd.supportedFilesystems = [
      "squashfs"
      "vfat"
      "f2fs"
    ];

    fileSystems."/" = {
      device = "/dev/rk64-rootfs";
      fsType = "squashfs";
      options = [ "ro" ];
    };
    fileSystems."/var" = {
      device = "tmpfs";
      fsType = "tmpfs";
      options = [ "mode=0755" ];
    };
    boot.tmp.useTmpfs = true;

    system.etc.overlay.enable = true;
    system.etc.overlay.mutable = false;
    systemd.sysusers.enable = true;
    # No Nix daemon or channels on an appliance: the system is replaced whole by RAUC.
    nix.enable = false;
    boot.loader.grub.enable = false;
    boot.loader.generic-extlinux-compatible.enable = false;
    services.journald.storage = "volatile";
  };
}
