# OpenVPN recovery access: the shipped openvpn-recovery.service (device-scripts/systemd), a
# client tunnel whose configuration and keys live on /data (/data/config/openvpn/recovery.conf).
# The image carries none: without that file the unit is skipped by its condition.
{
  config,
  lib,
  pkgs,
  ...
}:
{
  options.rk64.openvpn.enable = lib.mkEnableOption "OpenVPN recovery access" // {
    default = true;
  };

  config = lib.mkIf config.rk64.openvpn.enable {
    environment.systemPackages = [ pkgs.openvpn ];
    systemd.services.openvpn-recovery.wantedBy = [ "multi-user.target" ];
    # device-scripts/rootfs/openvpn-recovery finds openvpn on the unit's PATH.
    systemd.services.openvpn-recovery.path = [ pkgs.openvpn ];
  };
}
