# The stripped RK3328 kernel: nixpkgs' linuxManualConfig with the complete configuration from
# kernel-config.nix. Builds Image, modules (Wi-Fi, Bluetooth, USB serial, USB Ethernet) and the
# Rockchip device trees (rk3328-rock64.dtb).
{
  linuxManualConfig,
  linux_6_1,
  kernel-config,
}:
linuxManualConfig {
  inherit (linux_6_1) src version modDirVersion;
  configfile = kernel-config;
  # Read the generated configuration so NixOS can check its requiredKernelConfig.
  allowImportFromDerivation = true;
}
