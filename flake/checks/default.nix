# NixOS VM checks (pkgs.testers.runNixOSTest). Each drives the shipped device scripts on the
# gateway node: rauc with device-scripts/rauc/system.conf, fw_setenv with the shipped
# fw_env.config, os-verification, rk64-action, the nftables ruleset and its reload units.
# They need Nix and an aarch64 builder (KVM strongly advised); they cannot run on the build
# machines of this repository (see flake/README.md).
{
  pkgs,
  lib,
  rk64Pkgs,
}:
let
  gateway = ./gateway-node.nix;
  lanClient = ./lan-client.nix;
  pki = rk64Pkgs.test-pki;
  scripts = rk64Pkgs.device-scripts;
  src = ../../device-scripts;

  # Partition /dev/vdb like a provisioned eMMC (labels from device-scripts/repart + build-image),
  # install the test CA as keyring, start rauc.
  provision = ''
    gateway.wait_for_unit("multi-user.target")
    gateway.succeed(
        "sgdisk -Z /dev/vdb",
        "sgdisk -n1:16M:+64M -c1:boot-a -n2:0:+256M -c2:rootfs-a -n3:0:+64M -c3:boot-b"
        " -n4:0:+256M -c4:rootfs-b -n5:14M:+1M -c5:uboot-env -n6:0:0 -c6:data /dev/vdb",
        "udevadm settle",
        "mkfs.vfat /dev/disk/by-partlabel/boot-a && mkfs.vfat /dev/disk/by-partlabel/boot-b",
        "mkfs.f2fs -f /dev/disk/by-partlabel/data && mount /dev/disk/by-partlabel/data /data",
        "mkdir -p /data/config /data/rauc",
        "fw_setenv BOOT_ORDER 'A B' && fw_setenv BOOT_A_LEFT 3 && fw_setenv BOOT_B_LEFT 3",
        "systemctl restart rauc",
        # /data was mounted after boot: re-arm the SSH-on-WAN flag watcher on the new mount.
        "systemctl restart rk64-firewall.path rk64-firewall.service",
    )
  '';

  # A signed bundle (device-scripts/image/build-bundle) with tiny boot and root images.
  # `fillMiB` of incompressible filler makes the install take long enough to interrupt.
  bundle =
    version: fillMiB:
    pkgs.runCommand "rk64-test-bundle-${version}-${toString fillMiB}.raucb"
      {
        nativeBuildInputs = with pkgs; [
          rauc
          squashfsTools
          dosfstools
          mtools
          openssl
          bash
        ];
      }
      ''
        mkdir root && echo ${version} > root/version
        openssl enc -aes-128-ctr -K 00 -iv 00 -in /dev/zero 2>/dev/null | head -c ${toString fillMiB}M > root/filler
        mksquashfs root rootfs.img -noappend -quiet
        truncate -s 16M boot.img && mkfs.vfat boot.img
        bash ${src}/image/build-bundle --boot-image boot.img --rootfs-image rootfs.img \
          --version ${version} --cert ${pki}/signing.cert.pem --key ${pki}/signing.key.pem \
          --keyring ${pki}/ca.cert.pem --output $out
      '';

  mkCheck =
    name: extra: testScript:
    pkgs.testers.runNixOSTest {
      name = "rk64-${name}";
      # The shared modules take the flake's packages as a module argument.
      node.specialArgs = {
        inherit rk64Pkgs;
      };
      nodes = {
        gateway = {
          imports = [ gateway ];
          rk64.rauc.keyring = "${pki}/ca.cert.pem";
        };
      } // extra;
      testScript = provision + testScript;
    };
in
{
  slots = mkCheck "slots" { } ''
    out = gateway.succeed("rauc status --output-format=json")
    import json
    slots = {list(s.keys())[0] for s in json.loads(out)["slots"]}
    assert slots == {"rootfs.0", "rootfs.1", "boot.0", "boot.1"}, slots
    assert json.loads(out)["compatible"] == "rock64"
    assert json.loads(out)["booted"] == "A", out
  '';

  update = mkCheck "update" { } ''
    gateway.copy_from_host("${bundle "2.0.0" 1}", "/data/update.raucb")
    gateway.succeed("rk64-action install /data/update.raucb | tail -n1 | grep -q '\"ok\":true'")
    assert gateway.succeed("fw_printenv -n BOOT_ORDER").strip() == "B A"
    gateway.succeed("rauc status --output-format=json | grep -q '2.0.0'")
  '';

  confirm = mkCheck "confirm" { } ''
    gateway.succeed("touch /data/.completed_first_boot")
    gateway.succeed("systemctl set-environment RK64_VERIFY_INTERVAL=1 RK64_VERIFY_WINDOW=5")
    gateway.succeed("systemctl start os-verification")
    gateway.succeed("jq -e '.state == \"passed\"' /run/rk64/health.json")
    gateway.succeed("rauc status --output-format=json | jq -e '.slots[] | select(.\"rootfs.0\") | .\"rootfs.0\".boot_status == \"good\"'")
  '';

  rollback = mkCheck "rollback" { } ''
    gateway.copy_from_host("${bundle "2.0.0" 1}", "/data/update.raucb")
    gateway.succeed("rauc install /data/update.raucb")
    assert gateway.succeed("fw_printenv -n BOOT_ORDER").strip() == "B A"
    gateway.succeed("rk64-action mark-bad other")
    assert gateway.succeed("fw_printenv -n BOOT_B_LEFT").strip() == "0"
    gateway.succeed("rk64-action mark-good booted")
    assert gateway.succeed("fw_printenv -n BOOT_ORDER").strip().startswith("A")
    # RAUC's mark-good alone would leave B out of BOOT_ORDER; rk64-action appends it after A.
    gateway.succeed("rk64-action mark-good other")
    assert gateway.succeed("fw_printenv -n BOOT_ORDER").strip() == "A B"
    assert gateway.succeed("fw_printenv -n BOOT_B_LEFT").strip() == "3"
  '';

  watchdog = mkCheck "watchdog" { } ''
    gateway.succeed("test -c /dev/watchdog0")
    assert "10s" in gateway.succeed("systemctl show -p RuntimeWatchdogUSec")
    # Freeze PID 1: the i6300esb fires and QEMU resets the machine.
    gateway.execute("kill -STOP 1")
    gateway.wait_for_console_text("Linux version")
    gateway.connected = False  # the reset was not the driver's doing: reconnect to the new boot
    gateway.wait_for_unit("multi-user.target")
  '';

  power-loss = mkCheck "power-loss" { } ''
    gateway.copy_from_host("${bundle "2.0.0" 128}", "/data/update.raucb")
    gateway.execute("rauc install /data/update.raucb >/dev/null 2>&1 &")
    gateway.wait_until_succeeds("pgrep -f 'rauc install'")
    gateway.sleep(3)
    gateway.crash()
    gateway.start()
    gateway.wait_for_unit("multi-user.target")
    gateway.succeed("mount /dev/disk/by-partlabel/data /data || true")
    # The running slot and the boot order are untouched by the interrupted write.
    assert gateway.succeed("fw_printenv -n BOOT_ORDER").strip() == "A B"
  '';

  network-isolation = mkCheck "network-isolation" { lan = lanClient; } ''
    lan.wait_for_unit("systemd-networkd.service")
    lan.wait_until_succeeds("ip -4 addr show eth1 | grep -q 'inet 172.20.30.'")
    gateway.succeed("grep -q 172.20.30 /var/lib/dnsmasq/dnsmasq.leases")
    lan.succeed("chronyd -Q 'server 172.20.30.1 iburst' -t 20")
    assert gateway.succeed("sysctl -n net.ipv4.ip_forward").strip() == "0"
    # The gateway's WAN address is not reachable through it from the LAN side.
    lan.fail("curl -m 3 http://10.0.2.2/")
  '';

  firewall = mkCheck "firewall" { lan = lanClient; } ''
    gateway.wait_for_unit("rk64-firewall.service")
    gateway.succeed("nft list table inet rk64")
    lan.wait_until_succeeds("ip -4 addr show eth1 | grep -q 'inet 172.20.30.'")
    lan.succeed("nmap -Pn -p22 172.20.30.1 | grep -q '22/tcp open'")
    lan.succeed("nmap -Pn -p443 172.20.30.1 | grep -q 'filtered'")
    gateway.fail("nft list ruleset | grep -q 'chain forward' && nft list chain inet rk64 forward | grep -q accept")
  '';

  ssh-on-wan = mkCheck "ssh-on-wan" { } ''
    gateway.wait_for_unit("rk64-firewall.service")
    gateway.fail("nft list chain inet rk64 input_wan | grep -q rk64-ssh-wan")
    gateway.succeed("rk64-action ssh-wan on")
    gateway.wait_until_succeeds("nft list chain inet rk64 input_wan | grep -q rk64-ssh-wan")
    gateway.succeed("rk64-action ssh-wan off")
    gateway.wait_until_fails("nft list chain inet rk64 input_wan | grep -q rk64-ssh-wan")
  '';
}
