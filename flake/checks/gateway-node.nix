# The gateway node of the VM checks: the shared modules on QEMU, with a provisioned GPT disk
# (/dev/vdb: boot-a, rootfs-a, boot-b, rootfs-b, uboot-env, data) so RAUC's slots and the boot
# state are real block devices. The system itself boots from qemu-vm.nix's disk.
{ pkgs, ... }:
{
  imports = [
    ../modules
    ../hosts/rock64-qemu.nix
  ];

  config = {
    # What the boot script passes on the hardware.
    boot.kernelParams = [ "rauc.slot=A" ];
    # A 10 s watchdog keeps the watchdog check short: instead of the shipped drop-in
    # (device-scripts/system.conf.d, 30 s; proven on the test gateway), NixOS's own setting.
    rk64.watchdog.enable = false;
    systemd.watchdog.runtimeTime = "10s";
    environment.systemPackages = [
      pkgs.gptfdisk
      pkgs.f2fs-tools
      pkgs.dosfstools
      pkgs.squashfsTools
      pkgs.nmap
      pkgs.curl
    ];
  };
}
