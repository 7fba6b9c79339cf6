# Key-signed serial login (device-scripts/rootfs/serial-login): the shipped drop-in
# serial-getty@.service.d/rk64-10-serial-login.conf (from the package, through systemd.packages)
# replaces the agetty line of nixpkgs' own serial-getty@ definition (services/ttys/getty.nix, its
# drop-in overrides.conf) with serial-login-getty. Those programs find agetty and logger
# (util-linux) and ssh-keygen (openssh) on the unit's PATH; the login program for a verified user
# is the --login-program of nixpkgs' line, which break-glass reads too.
{ pkgs, ... }:
{
  config = {
    systemd.services."serial-getty@".path = [
      pkgs.util-linux
      pkgs.openssh
    ];
  };
}
