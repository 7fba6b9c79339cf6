# nftables ruleset from device-scripts/firewall (table inet rk64), loaded and re-applied by the
# shipped units whenever /data/config/ssh-wan-enabled appears or disappears, and checked every
# minute by rk64-firewall-check.timer (re-applied, SSH on WAN ended when its time is up).
{ config, pkgs, ... }:
let
  pkg = config.rk64.package;
in
{
  config = {
    environment.etc."rk64/rk64.nft".source = "${pkg}/etc/rk64/rk64.nft";
    environment.systemPackages = [ pkgs.nftables ];
    systemd.services.rk64-firewall.wantedBy = [ "sysinit.target" ];
    systemd.paths.rk64-firewall.wantedBy = [ "multi-user.target" ];
    systemd.timers.rk64-firewall-check.wantedBy = [ "timers.target" ];
  };
}
