# U-Boot for the Rock64: nixpkgs' ubootRock64 as is (rock64-rk3328_defconfig with TF-A BL31 for
# the RK3328), which installs idbloader.img (written at sector 64) and u-boot.itb (sector 16384).
# No configuration change is needed: device-scripts/boot/boot.cmd is written for a stock U-Boot
# (no setexpr; boot state read with `mmc read` + `env import -c`, written with `mmc write` on
# the `uboot-env` partition; `part`, `load`, `booti`, `itest` only), so the same script runs in
# Debian's Rock64 and qemu_arm64 builds where the tests exercise it. It overrides
# ramdisk_addr_r to 0x08000000 itself because a large Image at 0x02080000 overlaps the default.
{ ubootRock64 }:
ubootRock64
