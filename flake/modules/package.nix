# The device-scripts package every other module wires from: programs on PATH, units for systemd.
{
  config,
  lib,
  rk64Pkgs,
  ...
}:
let
  cfg = config.rk64;
in
{
  options.rk64.package = lib.mkOption {
    type = lib.types.package;
    default = rk64Pkgs.device-scripts;
    defaultText = lib.literalExpression "rk64Pkgs.device-scripts";
    description = "The device-scripts package (device-scripts/install into the store).";
  };

  config = {
    # rk64-status, rk64-action
    environment.systemPackages = [ cfg.package ];
    # Every unit under lib/systemd/system of the package; the modules enable the ones they own.
    systemd.packages = [ cfg.package ];
    # Its tmpfiles entries (device-scripts/tmpfiles.d): state directories on /var, /run and /data.
    # NixOS's systemd-tmpfiles reads /etc/tmpfiles.d, where nixpkgs' own tmpfiles module puts
    # every package's entries too (and leaves a name defined here to this definition).
    environment.etc."tmpfiles.d/rk64.conf".source = "${cfg.package}/lib/tmpfiles.d/rk64.conf";
  };
}
