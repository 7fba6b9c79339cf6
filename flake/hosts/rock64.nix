# The Rock64 hardware: stripped RK3328 kernel, rk3328-rock64.dtb, UART2 console, dw_wdt.
{ rk64Pkgs, ... }:
{
  config = {
    boot.kernelPackages = rk64Pkgs.kernelPackages;
    # Everything the board needs to mount its root is built in (flake/kernel/rk3328.config).
    boot.initrd.includeDefaultModules = false;
    boot.initrd.availableKernelModules = [ ];
    hardware.deviceTree.enable = true;
    hardware.deviceTree.name = "rockchip/rk3328-rock64.dtb";
    systemd.watchdog.device = "/dev/watchdog0";
    # The Wi-Fi modules load their firmware from here.
    hardware.firmware = [ rk64Pkgs.wifi-firmware ];
  };
}
