# Podman for application containers. The shipped containers.conf (host networking: the gateway
# never forwards, docs/services.md) and storage.conf (images and containers on /data, the root
# is read-only) from device-scripts/containers replace the files the containers module generates.
{ config, lib, ... }:
let
  pkg = config.rk64.package;
in
{
  options.rk64.podman.enable = lib.mkEnableOption "Podman for application workloads" // {
    default = true;
  };

  config = lib.mkIf config.rk64.podman.enable {
    virtualisation.podman.enable = true;
    environment.etc."containers/storage.conf".source = lib.mkForce "${pkg}/etc/containers/storage.conf";
    environment.etc."containers/containers.conf".source = lib.mkForce "${pkg}/etc/containers/containers.conf";
  };
}
