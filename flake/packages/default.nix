# Build outputs. Each image derivation runs a step of flake/packages/build-outputs, which calls
# the device-scripts program that owns it (boot/compile-boot-script, image/make-squashfs,
# image/make-boot-vfat, image/build-image; image/build-bundle for signing). The repository's
# tests run the same steps; Nix only supplies inputs and tools.
{
  pkgs,
  lib,
  deviceScriptsSrc,
  rock64,
}:
let
  cfg = rock64.config;
  toolbox = with pkgs; [
    bash
    coreutils
    findutils
    gnused
    gnugrep
    gawk
    squashfsTools
    mtools
    dosfstools
    gptfdisk
    util-linux
    ubootTools
    rauc
    openssl
  ];
  runScript =
    name: script:
    pkgs.runCommand name {
      nativeBuildInputs = toolbox;
      RK64_DEVICE_SCRIPTS = deviceScriptsSrc;
    } script;
  # flake/packages/build-outputs: the command lines of every image step, also run by the tests.
  buildOutputs = "bash ${./build-outputs}";
  closure = pkgs.closureInfo { rootPaths = [ cfg.system.build.toplevel ]; };
  kernelImage = "${cfg.system.build.kernel}/Image";
  dtb = "${cfg.system.build.kernel}/dtbs/rockchip/rk3328-rock64.dtb";
  initrd = "${cfg.system.build.initialRamdisk}/${cfg.system.boot.loader.initrdFile}";
  # boot.kernelParams reach the kernel through the boot slot's kernel-params.txt (make-boot-vfat),
  # which boot.scr appends after its own root=/rauc.slot=/console=/init= (docs/boot.md).
  kernelParams = lib.escapeShellArg (lib.concatStringsSep " " cfg.boot.kernelParams);
in
rec {
  device-scripts = pkgs.callPackage ./device-scripts.nix { src = deviceScriptsSrc; };

  kernel-config = pkgs.callPackage ./kernel-config.nix { };
  # Not callPackage: NixOS overrides the kernel with `kernel.override { randstructSeed;
  # kernelPatches; features; }`, which must reach linuxManualConfig's own makeOverridable.
  kernel = import ./kernel.nix {
    inherit (pkgs) linuxManualConfig linux_6_1;
    inherit kernel-config;
    fragment = ../kernel/rk3328.config;
  };
  kernelPackages = pkgs.linuxPackagesFor kernel;

  uboot = pkgs.callPackage ./uboot.nix { };

  # Firmware for the Wi-Fi modules (hosts/rock64.nix: hardware.firmware).
  wifi-firmware = pkgs.callPackage ./wifi-firmware.nix { };

  # For rk64.updates.method = "hawkbit" (modules/updates.nix).
  rauc-hawkbit-updater = pkgs.callPackage ./rauc-hawkbit-updater.nix { };

  # Development PKI for the VM checks only (made by device-scripts/pki/make-dev-ca at build
  # time). Test keys in the store are fine; real signing keys never go there.
  test-pki = runScript "rk64-test-pki" ''
    bash ${deviceScriptsSrc}/pki/make-dev-ca --out $out --name "rk64 VM check"
  '';

  # boot.cmd compiled to boot.scr by device-scripts/boot/compile-boot-script (one copy on
  # boot-a serves both slots).
  boot-script = runScript "rk64-boot.scr" ''
    ${buildOutputs} boot-script --out $out
  '';

  # The root file system image for one slot: the system closure, read-only squashfs.
  squashfs = runScript "rk64-rootfs.squashfs" ''
    ${buildOutputs} squashfs --store-paths ${closure}/store-paths \
      --init ${cfg.system.build.toplevel}/init --limit ${cfg.rk64.image.rootfsLimit} --out $out
  '';

  # The vfat image for one boot slot: kernel Image, rk3328-rock64.dtb, initrd, boot.scr.
  boot-vfat = runScript "rk64-boot.vfat" ''
    ${buildOutputs} boot-vfat --kernel ${kernelImage} --dtb ${dtb} --initrd ${initrd} \
      --boot-script ${boot-script} --kernel-params ${kernelParams} --out $out
  '';

  # The flashable eMMC image: U-Boot at sectors 64/16384, boot-a (vfat) at 16 MiB, rootfs-a.
  image = runScript "rk64-rock64-image" ''
    ${buildOutputs} image --idbloader ${uboot}/idbloader.img --uboot-itb ${uboot}/u-boot.itb \
      --kernel ${kernelImage} --dtb ${dtb} --initrd ${initrd} --boot-script ${boot-script} \
      --rootfs ${squashfs} --kernel-params ${kernelParams} --out-dir $out
  '';

  # Signing needs a private key, and a private key must never enter the world-readable Nix
  # store. So the bundle output is a program with the boot and root images baked in; it signs
  # with the certificate and key it is given (development keys from flake/certs/, or a release
  # key from outside the store):
  #   nix run .#rauc-bundle -- --cert C --key K --keyring CA --output out.raucb
  rauc-bundle = pkgs.writeShellApplication {
    name = "rk64-rauc-bundle";
    runtimeInputs = toolbox;
    text = ''
      exec bash ${deviceScriptsSrc}/image/build-bundle \
        --boot-image ${boot-vfat} \
        --rootfs-image ${squashfs} \
        --version ${lib.escapeShellArg cfg.rk64.image.version} \
        --compatible ${lib.escapeShellArg cfg.rk64.rauc.compatible} \
        "$@"
    '';
  };
}
