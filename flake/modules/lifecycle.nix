# The lifecycle journal's boot records (device-scripts/rootfs/rk64-boot-record, units from the
# package): every boot, how the previous one ended, a fall-back, and reaching multi-user.target.
{ ... }:
{
  config = {
    systemd.services.rk64-boot-record.wantedBy = [ "multi-user.target" ];
    systemd.services.rk64-boot-up.wantedBy = [ "multi-user.target" ];
  };
}
