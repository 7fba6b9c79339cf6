# dnsmasq (DHCP on eth1 only, leases in /var/lib/dnsmasq/dnsmasq.leases) and chrony (NTP client
# on the WAN, server for 172.20.30.0/24), both with the shipped configuration files.
{ config, pkgs, ... }:
let
  pkg = config.rk64.package;
in
{
  config = {
    environment.etc."rk64/dnsmasq.conf".source = "${pkg}/etc/rk64/dnsmasq.conf";
    environment.etc."rk64/chrony.conf".source = "${pkg}/etc/rk64/chrony.conf";

    systemd.services.dnsmasq = {
      description = "rk64 LAN DHCP server (dnsmasq)";
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        ExecStart = "${pkgs.dnsmasq}/bin/dnsmasq --keep-in-foreground --conf-file=/etc/rk64/dnsmasq.conf";
        StateDirectory = "dnsmasq";
        Restart = "on-failure";
      };
    };
    users.users.dnsmasq = {
      isSystemUser = true;
      group = "dnsmasq";
    };
    users.groups.dnsmasq = { };

    systemd.services.chronyd = {
      description = "rk64 NTP client and LAN server (chrony)";
      after = [ "network.target" ];
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        ExecStart = "${pkgs.chrony}/bin/chronyd -n -f /etc/rk64/chrony.conf";
        StateDirectory = "chrony";
        RuntimeDirectory = "chrony";
        Restart = "on-failure";
      };
    };
    users.users.chrony = {
      isSystemUser = true;
      group = "chrony";
    };
    users.groups.chrony = { };
  };
}
