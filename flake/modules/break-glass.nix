# Break-glass: physical recovery on the serial console, not an operator login. When U-Boot's
# `_RUT_OH_` is 1 the boot script adds `rk64.breakglass=1` to the kernel command line; for that
# boot only, a root shell is started on the serial console (UART2, 1500000 baud on the Rock64)
# and the flag is cleared so the next boot is normal again.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.rk64.breakGlass;
in
{
  options.rk64.breakGlass = {
    enable = lib.mkEnableOption "serial break-glass autologin" // {
      default = true;
    };
    tty = lib.mkOption {
      type = lib.types.str;
      default = "ttyS2";
      description = "Serial console device (ttyS2 = UART2 on the Rock64, ttyAMA0 on QEMU virt).";
    };
    baud = lib.mkOption {
      type = lib.types.int;
      default = 1500000;
      description = "Serial console speed.";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.rk64-break-glass = {
      description = "rk64 break-glass root console on ${cfg.tty}";
      unitConfig.ConditionKernelCommandLine = "rk64.breakglass=1";
      after = [ "systemd-user-sessions.service" ];
      wantedBy = [ "multi-user.target" ];
      conflicts = [ "serial-getty@${cfg.tty}.service" ];
      serviceConfig = {
        # Clear the flag first: a crash loop must not keep the back door open.
        ExecStartPre = "${pkgs.libubootenv}/bin/fw_setenv -c /etc/fw_env.config _RUT_OH_";
        ExecStart = "${pkgs.util-linux}/bin/agetty --autologin root --keep-baud ${toString cfg.baud} ${cfg.tty} vt220";
        Restart = "always";
      };
    };
  };
}
