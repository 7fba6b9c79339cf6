# dnsmasq (DHCP on eth1 only) and chrony (NTP client on the WAN, server for 172.20.30.0/24) from
# nixpkgs' own service modules, each pointed at the shipped configuration file
# (device-scripts/lan, installed as /etc/rk64/*.conf), as the test gateway points Debian's units
# at the same files.
{ config, ... }:
let
  pkg = config.rk64.package;
in
{
  config = {
    environment.etc."rk64/dnsmasq.conf".source = "${pkg}/etc/rk64/dnsmasq.conf";
    environment.etc."rk64/chrony.conf".source = "${pkg}/etc/rk64/chrony.conf";

    services.dnsmasq.enable = true;
    # The gateway serves no DNS (port=0 in the shipped file): nothing for resolv.conf.
    services.dnsmasq.resolveLocalQueries = false;
    services.dnsmasq.settings.conf-file = [ "/etc/rk64/dnsmasq.conf" ];

    # The module's unit (user chrony, its state directory, timesyncd forced off) runs chronyd
    # with -f <generated file> first; chronyd takes the last -f, so the shipped file alone
    # configures it and the generated one (no servers) stays unread.
    services.chrony.enable = true;
    services.chrony.servers = [ ];
    services.chrony.extraFlags = [
      "-f"
      "/etc/rk64/chrony.conf"
    ];
    # chronyd serves the time; never two clients stepping the clock.
    services.timesyncd.enable = false;
  };
}
