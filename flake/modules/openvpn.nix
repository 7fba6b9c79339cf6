# OpenVPN recovery access: a client tunnel (tun0) to the operations VPN. Its configuration and
# keys live on /data (/data/config/openvpn/recovery.conf); the image carries none. Without that
# file the unit does not start.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.rk64.openvpn;
in
{
  options.rk64.openvpn = {
    enable = lib.mkEnableOption "OpenVPN recovery access" // {
      default = true;
    };
    configFile = lib.mkOption {
      type = lib.types.str;
      default = "/data/config/openvpn/recovery.conf";
      description = "OpenVPN client configuration on /data.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.openvpn ];
    systemd.services.openvpn-recovery = {
      description = "OpenVPN recovery tunnel (config from /data)";
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      wantedBy = [ "multi-user.target" ];
      unitConfig.ConditionPathExists = cfg.configFile;
      serviceConfig = {
        ExecStart = "${pkgs.openvpn}/bin/openvpn --suppress-timestamps --config ${cfg.configFile}";
        WorkingDirectory = "/data/config/openvpn";
        Restart = "always";
        RestartSec = "30s";
      };
    };
  };
}
