# OpenVPN recovery server: the shipped openvpn-recovery.service (device-scripts/systemd), udp/1194
# on the WAN and 10.8.0.1/24 on tun0, whose configuration and keys live on /data
# (/data/config/openvpn/server.conf and its five files). The image carries none: without
# server.conf the unit is skipped by its condition. nixpkgs' services.openvpn.servers is not used:
# it writes the configuration into the Nix store, and this one must come from /data.
{
  config,
  lib,
  pkgs,
  ...
}:
{
  options.rk64.openvpn.enable = lib.mkEnableOption "OpenVPN recovery server" // {
    default = true;
  };

  config = lib.mkIf config.rk64.openvpn.enable {
    environment.systemPackages = [ pkgs.openvpn ];
    systemd.services.openvpn-recovery.wantedBy = [ "multi-user.target" ];
    # device-scripts/rootfs/openvpn-recovery finds openvpn on the unit's PATH.
    systemd.services.openvpn-recovery.path = [ pkgs.openvpn ];
  };
}
