# Update polling. Default: the shipped os-upgrade.timer (device-scripts/rootfs/os-upgrade reads
# its server from /data/config). Alternative: the shipped rauc-hawkbit-updater.service, running
# rauc-hawkbit-updater (flake/packages/rauc-hawkbit-updater.nix) with its configuration from
# /data/config/rauc-hawkbit-updater.conf. The two are mutually exclusive: choosing one disables
# the other, and enabling both by hand is an evaluation error.
{
  config,
  lib,
  rk64Pkgs,
  ...
}:
let
  cfg = config.rk64.updates;
  hawkbit = if cfg.hawkbitPackage != null then cfg.hawkbitPackage else rk64Pkgs.rauc-hawkbit-updater;
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
    hawkbitPackage = lib.mkOption {
      type = lib.types.nullOr lib.types.package;
      default = null;
      defaultText = lib.literalExpression "null (rk64Pkgs.rauc-hawkbit-updater)";
      description = ''
        rauc-hawkbit-updater package for method "hawkbit". null: the flake's own build
        (flake/packages/rauc-hawkbit-updater.nix), evaluated only when hawkbit is chosen.
      '';
    };
  };

  config = lib.mkMerge [
    {
      # Both started by hand (another module enabling the hawkBit unit) is refused at evaluation.
      assertions = [
        {
          assertion = cfg.method == "hawkbit" || (config.systemd.services.rauc-hawkbit-updater.wantedBy or [ ]) == [ ];
          message = "rk64.updates: rauc-hawkbit-updater is enabled while rk64.updates.method = \"poll\"; the two are mutually exclusive: set rk64.updates.method = \"hawkbit\".";
        }
      ];
    }
    (lib.mkIf (cfg.method == "poll") {
      systemd.timers.os-upgrade.wantedBy = [ "timers.target" ];
    })
    (lib.mkIf (cfg.method == "hawkbit") {
      systemd.timers.os-upgrade.enable = false;
      systemd.services.rauc-hawkbit-updater.wantedBy = [ "multi-user.target" ];
      # device-scripts/rootfs/hawkbit-updater finds the program on the unit's PATH.
      systemd.services.rauc-hawkbit-updater.path = [ hawkbit ];
    })
  ];
}
