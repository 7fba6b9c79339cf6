# QEMU aarch64 `virt`: the same modules on virtio disks (one GPT disk, partitions by label, as on
# the eMMC), virtio NICs eth0 (WAN) / eth1 (LAN), an i6300esb watchdog, console on ttyAMA0.
# nixpkgs' generic aarch64 kernel (virtio, i6300esb) instead of the stripped RK3328 one.
{ modulesPath, lib, ... }:
{
  imports = [ "${modulesPath}/virtualisation/qemu-vm.nix" ];

  config = {
    boot.initrd.availableKernelModules = [
      "virtio_pci"
      "virtio_blk"
      "virtio_net"
      "squashfs"
      "f2fs"
      "vfat"
    ];
    boot.kernelModules = [ "i6300esb" ];
    # qemu-vm.nix boots its own root disk (a bare file system, no GPT): repartitioning it from the
    # initrd would fail. The repart path runs on the real image (eMMC or a build-image disk).
    boot.initrd.systemd.repart.enable = lib.mkForce false;
    systemd.watchdog.device = "/dev/watchdog0";

    virtualisation.memorySize = 1024;
    virtualisation.cores = 2;
    virtualisation.graphics = false;
    # The VM runner boots the system directly; the slots live on an extra GPT disk that the
    # checks partition with device-scripts/image/build-image.
    virtualisation.emptyDiskImages = [ 2048 ];
    virtualisation.qemu.options = [ "-device i6300esb" "-watchdog-action reset" ];
    # eth0 = QEMU user networking (WAN, DHCP), eth1 = vlan 1 (LAN).
    virtualisation.vlans = [ 1 ];
    # qemu-vm.nix mounts its own root; keep the shipped /data partition but do not wait for it.
    virtualisation.fileSystems."/data" = lib.mkForce {
      device = "/dev/disk/by-partlabel/data";
      fsType = "f2fs";
      options = [ "nofail" ];
    };
  };
}
