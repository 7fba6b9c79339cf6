# Health check that commits the booted slot (device-scripts/rootfs/os-verification, unit from
# the package): after first boot, checks WAN/LAN addresses, dnsmasq, chronyd and the firewall
# every 5 s for 60 s, then `rauc status mark-good`; state in /run/rk64/health.json.
{ ... }:
{
  config = {
    systemd.services.os-verification.wantedBy = [ "multi-user.target" ];
  };
}
