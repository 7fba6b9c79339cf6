# Podman for application containers. Images and containers live on /data (the root is
# read-only). Storage driver vfs is not needed: overlay works on f2fs.
{ config, lib, ... }:
let
  cfg = config.rk64.podman;
in
{
  options.rk64.podman.enable = lib.mkEnableOption "Podman for application workloads" // {
    default = true;
  };

  config = lib.mkIf cfg.enable {
    virtualisation.podman.enable = true;
    virtualisation.containers.storage.settings.storage = {
      driver = "overlay";
      graphroot = "/data/containers/storage";
      runroot = "/run/containers/storage";
    };
  };
}
