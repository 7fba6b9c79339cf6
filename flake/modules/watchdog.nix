# systemd drives the hardware watchdog (dw_wdt on the Rock64, i6300esb in QEMU): it pets it
# every 15 s and a hang of 30 s resets the board; a reboot that itself hangs is cut off after
# 10 minutes. Repeated resets run down U-Boot's boot counter and fall back to the other slot.
{ config, lib, ... }:
let
  cfg = config.rk64.watchdog;
in
{
  options.rk64.watchdog = {
    enable = lib.mkEnableOption "the systemd hardware watchdog" // {
      default = true;
    };
    runtimeTime = lib.mkOption {
      type = lib.types.str;
      default = "30s";
      description = "RuntimeWatchdogSec.";
    };
    rebootTime = lib.mkOption {
      type = lib.types.str;
      default = "10min";
      description = "RebootWatchdogSec.";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.watchdog.runtimeTime = cfg.runtimeTime;
    systemd.watchdog.rebootTime = cfg.rebootTime;
  };
}
