# Read-only squashfs root. The boot script picks the slot and passes root=PARTLABEL=rootfs-a|b
# and rauc.slot=A|B; the initrd links /dev/rk64-rootfs to the booted slot's partition, so one
# system configuration serves both slots (rule: device-scripts/udev/90-rk64-rootfs.rules). Nothing is ever written to the root: every directory
# NixOS activation writes (/etc, /var, /nix/var, /bin for /bin/sh, /usr for /usr/bin/env, /root)
# is a tmpfs mounted in the initrd before activation runs -- the same start state as the NixOS
# installer's empty tmpfs root -- /tmp is tmpfs, and state lives on /data.
# (nixpkgs' immutable `system.etc.overlay` needs a kernel >= 6.6; this kernel is 6.1 LTS.)
{ ... }:
let
  tmpfs = mode: {
    device = "tmpfs";
    fsType = "tmpfs";
    options = [ "mode=${mode}" ];
    neededForBoot = true;
  };
in
{
  config = {
    boot.initrd.systemd.enable = true;
    # The Rock64 has no TPM; with TPM2 on, the initrd would ask for tpm-tis/tpm-crb modules the
    # kernel does not build (and tpm-crb needs ACPI).
    boot.initrd.systemd.tpm2.enable = false;
    # /dev/rk64-rootfs (device-scripts/udev): the booted slot's root partition.
    boot.initrd.services.udev.rules = builtins.readFile ../../device-scripts/udev/90-rk64-rootfs.rules;
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
    fileSystems."/etc" = tmpfs "0755";
    fileSystems."/var" = tmpfs "0755";
    fileSystems."/nix/var" = tmpfs "0755";
    fileSystems."/bin" = tmpfs "0755";
    fileSystems."/usr" = tmpfs "0755";
    fileSystems."/root" = tmpfs "0700";
    # The loader stub would be written to /lib on the read-only root; nothing here needs it.
    environment.stub-ld.enable = false;
    boot.tmp.useTmpfs = true;

    # No Nix daemon or channels on an appliance: the system is replaced whole by RAUC.
    nix.enable = false;
    boot.loader.grub.enable = false;
    boot.loader.generic-extlinux-compatible.enable = false;
    services.journald.storage = "volatile";
  };
}
