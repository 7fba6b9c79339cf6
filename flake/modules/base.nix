# systemd, locale, time, hostname, users. No credential of any kind is in the image: the
# operator's SSH keys are read from /data/config/ssh-authorized-keys/<user> (sshd drop-in from
# device-scripts/ssh), SSH host keys are generated on first boot under /data/ssh, and root and
# the operator have locked passwords.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.rk64;
in
{
  options.rk64 = {
    hostName = lib.mkOption {
      type = lib.types.str;
      default = "rk64";
      description = "Host name of the gateway.";
    };
    operator = lib.mkOption {
      type = lib.types.str;
      default = "operator";
      description = "Name of the operator account (SSH keys from /data/config/ssh-authorized-keys/<name>).";
    };
  };

  config = {
    networking.hostName = cfg.hostName;
    time.timeZone = "UTC";
    i18n.defaultLocale = "C.UTF-8";
    system.stateVersion = "25.05";

    # Users come from the configuration only; "!" is a locked password (no login by password).
    users.mutableUsers = false;
    users.users.root.hashedPassword = "!";
    users.users.${cfg.operator} = {
      isNormalUser = true;
      hashedPassword = "!";
      extraGroups = [ "wheel" ];
      home = "/data/home/${cfg.operator}";
      createHome = false;
    };
    security.sudo.wheelNeedsPassword = false;
    # No password and no key in the configuration is the design (keys come from /data, see
    # above), so NixOS's lock-out assertion is answered here rather than defeated with a dummy.
    users.allowNoPasswordLogin = true;

    # sshd: keys only. Where keys and host keys live is device-scripts/ssh/sshd_config.d/rk64.conf
    # (AuthorizedKeysFile and HostKey under /data), included below.
    services.openssh.enable = true;
    services.openssh.openFirewall = false;
    services.openssh.hostKeys = [ ];
    # Only /data: sshd takes the first AuthorizedKeysFile, so replace the NixOS default list.
    services.openssh.authorizedKeysFiles = lib.mkForce [ "/data/config/ssh-authorized-keys/%u" ];
    services.openssh.settings.PasswordAuthentication = false;
    services.openssh.settings.KbdInteractiveAuthentication = false;
    services.openssh.settings.PermitRootLogin = "prohibit-password";
    services.openssh.extraConfig = "Include ${cfg.package}/etc/ssh/sshd_config.d/rk64.conf";

    documentation.enable = false;
    environment.systemPackages = [
      pkgs.libubootenv
      pkgs.jq
    ];
  };
}
