# systemd-networkd with the shipped .link/.network files (device-scripts/network): onboard GMAC
# (platform-ff540000.ethernet) = eth0 WAN/DHCP, USB Ethernet = ethN, eth1 = LAN 172.20.30.1/24,
# Wi-Fi = wlanN. Predictable names are off so the .link files decide.
{ config, lib, ... }:
let
  pkg = config.rk64.package;
  netFiles = [
    "10-rk64-onboard.link"
    "10-rk64-wan.network"
    "20-rk64-lan.network"
    "20-rk64-usb-ethernet.link"
    "30-rk64-wlan.link"
  ];
in
{
  config = {
    networking.useNetworkd = true;
    networking.useDHCP = false;
    networking.usePredictableInterfaceNames = false;
    networking.firewall.enable = false;
    systemd.network.enable = true;
    # ...and no forwarding between interfaces (device-scripts/sysctl.d/90-rk64.conf).
    environment.etc =
      lib.listToAttrs (
        map (name: lib.nameValuePair "systemd/network/${name}" { source = "${pkg}/etc/systemd/network/${name}"; }) netFiles
      )
      // {
        "sysctl.d/90-rk64.conf".source = "${pkg}/etc/sysctl.d/90-rk64.conf";
      };
    boot.kernel.sysctl."net.ipv4.ip_forward" = 0;
  };
}
