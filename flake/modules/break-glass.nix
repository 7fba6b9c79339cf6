# Break-glass: physical recovery on the serial console, not an operator login. When U-Boot's
# `_RUT_OH_` is 1 the boot script adds `rk64.breakglass=1` to the kernel command line; the
# shipped rk64-break-glass.service (device-scripts/rootfs/break-glass, condition on that
# argument) clears the flag and turns the serial console's getty (UART2 at 1500000 baud on the
# Rock64: console=ttyS2,1500000 from the boot script) into a root autologin for that boot only,
# through a drop-in under /run.
{ config, lib, ... }:
{
  options.rk64.breakGlass.enable = lib.mkEnableOption "the serial break-glass autologin" // {
    default = true;
  };

  config = lib.mkIf config.rk64.breakGlass.enable {
    systemd.services.rk64-break-glass.wantedBy = [ "multi-user.target" ];
  };
}
