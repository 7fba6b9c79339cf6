# The shared gateway system: one module per concern, all options under `rk64.*`.
# Hardware (hosts/rock64.nix) and QEMU (hosts/rock64-qemu.nix) import this and differ only in
# kernel, disks, watchdog device and NICs.
{
  imports = [
    ./package.nix
    ./base.nix
    ./readonly-root.nix
    ./data-partition.nix
    ./network.nix
    ./lan-services.nix
    ./firewall.nix
    ./rauc.nix
    ./watchdog.nix
    ./updates.nix
    ./os-verification.nix
    ./lifecycle.nix
    ./first-boot.nix
    ./openvpn.nix
    ./podman.nix
    ./break-glass.nix
    ./serial-login.nix
    ./image.nix
  ];
}
