# dnsmasq (DHCP on eth1 only) and chrony (NTP client on the WAN, server for 172.20.30.0/24) from
# the shipped units (device-scripts/systemd/rk64-dnsmasq.service, rk64-chronyd.service) with the
# shipped configuration files (device-scripts/lan, installed as /etc/rk64/*.conf): the command
# lines the test gateway runs. nixpkgs' dnsmasq and chrony modules stay off; what they would add
# beyond the unit (the daemon users) is declared here, the state directories come from the
# package's tmpfiles entries (modules/package.nix).
{ config, pkgs, ... }:
let
  pkg = config.rk64.package;
in
{
  config = {
    environment.etc."rk64/dnsmasq.conf".source = "${pkg}/etc/rk64/dnsmasq.conf";
    environment.etc."rk64/chrony.conf".source = "${pkg}/etc/rk64/chrony.conf";

    # device-scripts/rootfs/{dnsmasq,chronyd}-service find the daemons on the unit's PATH.
    systemd.services.rk64-dnsmasq.wantedBy = [ "multi-user.target" ];
    systemd.services.rk64-dnsmasq.path = [ pkgs.dnsmasq ];
    systemd.services.rk64-chronyd.wantedBy = [ "multi-user.target" ];
    systemd.services.rk64-chronyd.path = [ pkgs.chrony ];
    # chronyc (status, and the operator's `chronyc tracking`).
    environment.systemPackages = [ pkgs.chrony ];

    # The users the daemons drop to, named as Debian's packages name them (the test gateway
    # runs the same units): dnsmasq owns /var/lib/dnsmasq, _chrony /var/lib/chrony and /run/chrony.
    users.users.dnsmasq = {
      isSystemUser = true;
      group = "dnsmasq";
    };
    users.groups.dnsmasq = { };
    users.users._chrony = {
      isSystemUser = true;
      group = "_chrony";
      home = "/var/lib/chrony";
    };
    users.groups._chrony = { };

    # chronyd serves the time; never two clients stepping the clock.
    services.timesyncd.enable = false;
  };
}
