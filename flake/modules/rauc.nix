# RAUC. nixpkgs has no RAUC NixOS module at the pinned revision (services.rauc was added to
# nixos-unstable in November 2025, PR NixOS/nixpkgs#460905), so the shipped rauc.service
# (device-scripts/systemd) runs `rauc service` on the system bus with the shipped
# /etc/rauc/system.conf (compatible rock64, bootloader=uboot, slots rootfs.0/1 + boot.0/1 by
# partition label) and the CA keyring; /data/rauc comes from device-scripts/tmpfiles.d.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.rk64.rauc;
  pkg = config.rk64.package;
  devKeyring = ../certs/ca.cert.pem;
in
{
  options.rk64.rauc = {
    enable = lib.mkEnableOption "the RAUC update service" // {
      default = true;
    };
    compatible = lib.mkOption {
      type = lib.types.str;
      default = "rock64";
      description = "RAUC compatible string; must equal `compatible` in device-scripts/rauc/system.conf.";
    };
    keyring = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = if builtins.pathExists devKeyring then devKeyring else null;
      defaultText = lib.literalExpression "./certs/ca.cert.pem if it exists";
      description = ''
        CA certificate that bundles must be signed under (installed as /etc/rauc/keyring.pem).
        Development: flake/certs/make-dev-keys, then `git add -f flake/certs/ca.cert.pem`
        (public; the private keys stay git-ignored). Release: the release CA certificate.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.keyring != null;
        message = "rk64.rauc.keyring is unset: run flake/certs/make-dev-keys and `git add -f flake/certs/ca.cert.pem`, or set it to the release CA certificate.";
      }
    ];
    environment.etc."rauc/system.conf".source = "${pkg}/etc/rauc/system.conf";
    environment.etc."rauc/keyring.pem" = lib.mkIf (cfg.keyring != null) { source = cfg.keyring; };
    environment.etc."fw_env.config".source = "${pkg}/etc/fw_env.config";
    environment.systemPackages = [
      pkgs.rauc
      pkgs.libubootenv
    ];
    # D-Bus policy for de.pengutronix.rauc (device-scripts/rauc/dbus), and rauc's own D-Bus
    # activation file (SystemdService=rauc.service), so a `rauc` call before rauc.service is up
    # (first-boot's mark-good) starts the shipped unit.
    services.dbus.packages = [
      pkg
      pkgs.rauc
    ];

    systemd.services.rauc.wantedBy = [ "multi-user.target" ];
    # device-scripts/rootfs/rauc-service finds rauc on the unit's PATH; rauc calls the U-Boot
    # environment and file-system tools by name.
    systemd.services.rauc.path = [
      pkgs.rauc
      pkgs.libubootenv
      pkgs.util-linux
      pkgs.dosfstools
      pkgs.mtools
    ];
  };
}
