# A LAN client for the isolation and firewall checks: one NIC on the gateway's LAN (vlan 1),
# address from the gateway's dnsmasq.
{ pkgs, ... }:
{
  config = {
    virtualisation.vlans = [ 1 ];
    networking.useDHCP = false;
    networking.useNetworkd = true;
    systemd.network.networks."10-lan" = {
      matchConfig.Name = "eth1";
      networkConfig.DHCP = "ipv4";
    };
    networking.firewall.enable = false;
    environment.systemPackages = [
      pkgs.nmap
      pkgs.chrony
      pkgs.curl
    ];
  };
}
