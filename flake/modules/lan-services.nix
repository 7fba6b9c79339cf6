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
        # Binds the DHCP port as root, then drops to the dnsmasq user (which owns the leases).
        ExecStart = "${pkgs.dnsmasq}/bin/dnsmasq --keep-in-foreground --user=dnsmasq --group=dnsmasq --conf-file=/etc/rk64/dnsmasq.conf";
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
        # Drops to the chrony user, which owns the drift file; /run/chrony-dhcp is the sourcedir
        # of the shipped configuration.
        ExecStart = "${pkgs.chrony}/bin/chronyd -n -u chrony -f /etc/rk64/chrony.conf";
        RuntimeDirectory = "chrony chrony-dhcp";
        Restart = "on-failure";
      };
    };
    users.users.chrony = {
      isSystemUser = true;
      group = "chrony";
    };
    users.groups.chrony = { };

    # State directories owned by the daemons' users (/var is a tmpfs rebuilt every boot).
    systemd.tmpfiles.rules = [
      "d /var/lib/dnsmasq 0755 dnsmasq dnsmasq - -"
      "d /var/lib/chrony 0750 chrony chrony - -"
    ];
  };
}
