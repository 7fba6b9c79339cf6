# systemd, locale, time, hostname, users. No credential of any kind is in the image: the
# operator's SSH keys are read from /data/config/ssh-authorized-keys/<user> (sshd drop-in from
# device-scripts/ssh; first-boot imports them from what provision/flash put on boot-a), SSH host
# keys are generated on first boot under /data/ssh, and root and the operator have locked
# passwords. The operator is least-privileged: sudo for exactly rk64-status and rk64-action
# (device-scripts/sudoers.d/rk64-operator); root logs in only on the break-glass serial console.
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
  };

  config = {
    networking.hostName = cfg.hostName;
    time.timeZone = "UTC";
    i18n.defaultLocale = "C.UTF-8";
    system.stateVersion = "25.05";

    # Users come from the configuration only; "!" is a locked password (no login by password).
    users.mutableUsers = false;
    users.users.root.hashedPassword = "!";
    # The account device-scripts/sysusers.d/rk64.conf declares for sysusers systems (same name,
    # home and shell); its name is fixed by the shipped sudoers and sshd drop-ins (AllowUsers).
    users.users.operator = {
      isNormalUser = true;
      hashedPassword = "!";
      home = "/";
      createHome = false;
    };
    # NixOS's sudoers reads no sudoers.d: include the shipped drop-in from the package (a store
    # path, so the build's visudo check sees it too).
    security.sudo.extraConfig = "@include ${cfg.package}/etc/sudoers.d/rk64-operator";
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
    # NixOS writes its own PermitRootLogin before the Include below, and sshd keeps the first
    # value: this repeats the drop-in's "no" so that the drop-in's value is the one in force.
    services.openssh.settings.PermitRootLogin = "no";
    services.openssh.extraConfig = "Include ${cfg.package}/etc/ssh/sshd_config.d/rk64.conf";

    documentation.enable = false;
    environment.systemPackages = [
      pkgs.libubootenv
      pkgs.jq
    ];
  };
}
