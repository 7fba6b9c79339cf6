# Firmware for the USB Wi-Fi drivers flake/kernel/rk3328.config builds as modules, and nothing
# else: all of linux-firmware would push the squashfs root past its 1 GiB gate
# (rk64.image.rootfsLimit). A file missing here fails the build, not the board.
#   RTL8192CU (rtlwifi), ATH9K_HTC (ath9k_htc), MT76x0U, MT76x2U, MT7921U (mediatek)
{ runCommand, linux-firmware }:
runCommand "rk64-wifi-firmware" { } ''
  cd ${linux-firmware}/lib/firmware
  mkdir -p $out/lib/firmware
  cp -L --parents \
    rtlwifi/rtl8192cufw.bin rtlwifi/rtl8192cufw_A.bin rtlwifi/rtl8192cufw_B.bin rtlwifi/rtl8192cufw_TMSC.bin \
    ath9k_htc/htc_9271-1.4.0.fw ath9k_htc/htc_7010-1.4.0.fw \
    mediatek/mt7610u.bin mediatek/mt7662u.bin mediatek/mt7662u_rom_patch.bin \
    mediatek/WIFI_MT7961_patch_mcu_1_2_hdr.bin mediatek/WIFI_RAM_CODE_MT7961_1.bin \
    $out/lib/firmware/
''
