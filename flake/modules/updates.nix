# Update polling. Default: the shipped os-upgrade.timer (device-scripts/rootfs/os-upgrade reads
# its server from /data/config). Alternative: rauc-hawkbit-updater. The two are mutually
# exclusive: choosing one disables the other, and enabling both by hand is an evaluation error.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.rk64.updates;
in
{
  options.rk64.updates = {
    method = lib.mkOption {
      type = lib.types.enum [
        "poll"
        "hawkbit"
      ];
      default = "poll";
      description = "How the gateway finds updates: the os-upgrade timer (poll) or rauc-hawkbit-updater.";
    };
    hawkbitConfigFile = lib.mkOption {
      type = lib.types.str;
      default = "/data/config/rauc-hawkbit-updater.conf";
      description = "rauc-hawkbit-updater configuration (server, tenant, token) -- on /data, never in the image.";
    };
  };

  config = lib.mkMerge [
    {
      # Both started by hand (another module adding either) is refused at evaluation.
      assertions = [
        {
          assertion = cfg.method == "hawkbit" || !(config.systemd.services ? rauc-hawkbit-updater);
          message = "rk64.updates: rauc-hawkbit-updater is defined while rk64.updates.method = \"poll\"; the two are mutually exclusive: set rk64.updates.method = \"hawkbit\".";
        }
      ];
    }
    (lib.mkIf (cfg.method == "poll") {
      systemd.timers.os-upgrade.wantedBy = [ "timers.target" ];
    })
    (lib.mkIf (cfg.method == "hawkbit") {
      systemd.timers.os-upgrade.enable = false;
      systemd.services.rauc-hawkbit-updater = {
        description = "rauc-hawkbit-updater (hawkBit DDI client)";
        after = [
          "rauc.service"
          "network-online.target"
        ];
        wants = [ "network-online.target" ];
        wantedBy = [ "multi-user.target" ];
        unitConfig.ConditionPathExists = cfg.hawkbitConfigFile;
        serviceConfig = {
          ExecStart = "${pkgs.rauc-hawkbit-updater}/bin/rauc-hawkbit-updater -c ${cfg.hawkbitConfigFile}";
          Restart = "on-failure";
        };
      };
    })
  ];
}
