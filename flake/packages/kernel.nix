# The stripped RK3328 kernel: nixpkgs' linuxManualConfig with the complete configuration from
# kernel-config.nix. Builds Image, modules (Wi-Fi, Bluetooth, USB serial, USB Ethernet) and the
# Rockchip device trees (rk3328-rock64.dtb).
{
  linuxManualConfig,
  linux_6_1,
  kernel-config,
  # flake/kernel/rk3328.config: its CONFIG_LOCALVERSION is part of the release string, which
  # manual-config's configurePhase compares with modDirVersion.
  fragment,
}:
let
  localVersion =
    let
      m = builtins.match ''.*CONFIG_LOCALVERSION="([^"]*)".*'' (builtins.readFile fragment);
    in
    if m == null then "" else builtins.head m;
in
linuxManualConfig {
  inherit (linux_6_1) src version;
  modDirVersion = linux_6_1.modDirVersion + localVersion;
  configfile = kernel-config;
  # Read the generated configuration so NixOS can check its requiredKernelConfig.
  allowImportFromDerivation = true;
}
