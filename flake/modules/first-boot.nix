# First boot (device-scripts/rootfs/first-boot, unit from the package): imports operator SSH
# keys into /data/config/ssh-authorized-keys/<user>, generates SSH host keys under /data/ssh,
# confirms the slot, writes /data/.completed_first_boot last.
{ ... }:
{
  config = {
    systemd.services.first-boot.wantedBy = [ "multi-user.target" ];
  };
}
