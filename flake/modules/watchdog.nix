# systemd drives the hardware watchdog with the timings of the shipped manager drop-in
# (device-scripts/system.conf.d/rk64-watchdog.conf: RuntimeWatchdogSec=30s,
# RebootWatchdogSec=10min); the test gateway runs the same file. The device is set per host.
{ config, lib, ... }:
let
  pkg = config.rk64.package;
in
{
  options.rk64.watchdog.enable = lib.mkEnableOption "the systemd hardware watchdog" // {
    default = true;
  };

  config = lib.mkIf config.rk64.watchdog.enable {
    environment.etc."systemd/system.conf.d/rk64-watchdog.conf".source =
      "${pkg}/lib/systemd/system.conf.d/rk64-watchdog.conf";
  };
}
