# rk64 A/B boot script (U-Boot hush). Compiled to boot.scr by compile-boot-script.
#
# Boot state: GPT partition "uboot-env" at LBA 0x7000 (14 MiB), two copies of a
# libubootenv redundant environment (crc32 LE + flags byte + "name=value\0...\0\0"),
# 16 KiB each: copy A at partition offset 0, copy B at 0x4000. Linux uses
# fw_printenv/fw_setenv with /etc/fw_env.config on the same bytes.
# Only BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT _RUT_OH_ are ever read or written.
# Works without setexpr (Debian's Rock64 U-Boot has none): addresses are built
# from a 16 MiB aligned scratch prefix, arithmetic is done with lookups.
# See docs/boot.md for the operator view.

echo "rk64: boot script on ${devtype} ${devnum}"

# ---- scratch memory: first 16 MiB boundary above kernel_addr_r (RAM on every board;
# the kernel is loaded there only after the state work is done).
setenv rk64_s
for h in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
  for l in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
    if test -z "${rk64_s}"; then
      if itest 0x${h}${l}000000 -gt ${kernel_addr_r}; then setenv rk64_s 0x${h}${l}; fi
    fi
  done
done
if test -z "${rk64_s}"; then echo "rk64: no scratch memory above kernel_addr_r=${kernel_addr_r}; resetting"; reset; fi

# ---- break-glass typed at the U-Boot prompt on the serial console (physical access):
# `setenv _RUT_OH_ 1; boot` asks for it for this boot only; it is never stored.
setenv rk64_bg_prompt 0
if test "${_RUT_OH_}" = 1; then setenv rk64_bg_prompt 1; fi

# ---- forget whatever U-Boot's own environment says about our variables
setenv BOOT_ORDER
setenv BOOT_A_LEFT
setenv BOOT_B_LEFT
setenv _RUT_OH_
setenv rk64_va 0
setenv rk64_vb 0
setenv rk64_cur none
setenv rk64_state 0

${devtype} dev ${devnum}
if part start ${devtype} ${devnum} uboot-env rk64_envstart; then
  if test "${rk64_envstart}" = "7000"; then
    setenv rk64_state 1
  else
    echo "rk64: uboot-env partition is at block ${rk64_envstart}, expected 7000; boot state ignored"
  fi
else
  echo "rk64: no uboot-env partition; boot state ignored"
fi

if test "${rk64_state}" = 1; then
  # both copies in one read: A at +0, B at +0x4000
  ${devtype} read ${rk64_s}000000 0x7000 0x40
  # re-join crc and data (U-Boot's env_t has no flags byte) so env import -c checks the crc
  cp.b ${rk64_s}000000 ${rk64_s}200000 4
  cp.b ${rk64_s}000005 ${rk64_s}200004 0x3ffb
  cp.b ${rk64_s}004000 ${rk64_s}300000 4
  cp.b ${rk64_s}004005 ${rk64_s}300004 0x3ffb
  # importing a variable name that never exists checks the crc and changes nothing
  if env import -c ${rk64_s}200000 0x3fff rk64_crc_probe_only; then setenv rk64_va 1; fi
  if env import -c ${rk64_s}300000 0x3fff rk64_crc_probe_only; then setenv rk64_vb 1; fi
  # pick the current copy like libubootenv and U-Boot's own redundant env:
  # higher flags wins, 0xff -> 0x00 wraps, equal flags -> copy A
  if test "${rk64_va}" = 1 && test "${rk64_vb}" = 1; then
    if itest.b *${rk64_s}000004 == 0xff && itest.b *${rk64_s}004004 == 0; then
      setenv rk64_cur b
    elif itest.b *${rk64_s}004004 == 0xff && itest.b *${rk64_s}000004 == 0; then
      setenv rk64_cur a
    elif itest.b *${rk64_s}000004 -ge *${rk64_s}004004; then
      setenv rk64_cur a
    else
      setenv rk64_cur b
    fi
  elif test "${rk64_va}" = 1; then
    setenv rk64_cur a
  elif test "${rk64_vb}" = 1; then
    setenv rk64_cur b
  fi
  if test "${rk64_cur}" = a; then
    env import -c ${rk64_s}200000 0x3fff BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT _RUT_OH_
  elif test "${rk64_cur}" = b; then
    env import -c ${rk64_s}300000 0x3fff BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT _RUT_OH_
  else
    echo "rk64: no valid boot state copy (both crc bad or empty); using defaults"
  fi
fi
echo "rk64: state copy=${rk64_cur} (valid a=${rk64_va} b=${rk64_vb})"

# ---- defaults for missing variables (RAUC's U-Boot contract)
if test -z "${BOOT_ORDER}"; then setenv BOOT_ORDER "A B"; fi
if env exists BOOT_A_LEFT; then true; else setenv BOOT_A_LEFT 3; fi
if env exists BOOT_B_LEFT; then true; else setenv BOOT_B_LEFT 3; fi
echo "rk64: BOOT_ORDER=${BOOT_ORDER} BOOT_A_LEFT=${BOOT_A_LEFT} BOOT_B_LEFT=${BOOT_B_LEFT}"

# ---- choose the first slot in BOOT_ORDER with attempts left; unknown names are skipped
setenv rk64_slot
for s in ${BOOT_ORDER}; do
  if test -z "${rk64_slot}"; then
    if test "${s}" = A; then
      if test "${BOOT_A_LEFT}" -gt 0; then setenv rk64_slot A; fi
    elif test "${s}" = B; then
      if test "${BOOT_B_LEFT}" -gt 0; then setenv rk64_slot B; fi
    else
      echo "rk64: ignoring unknown slot name ${s} in BOOT_ORDER"
    fi
  fi
done

# rk64_dec: rk64_n -> rk64_n minus one (counters above 9 count as 10)
setenv rk64_dec 'if test "${rk64_n}" -gt 9; then setenv rk64_n 9; elif test "${rk64_n}" = 9; then setenv rk64_n 8; elif test "${rk64_n}" = 8; then setenv rk64_n 7; elif test "${rk64_n}" = 7; then setenv rk64_n 6; elif test "${rk64_n}" = 6; then setenv rk64_n 5; elif test "${rk64_n}" = 5; then setenv rk64_n 4; elif test "${rk64_n}" = 4; then setenv rk64_n 3; elif test "${rk64_n}" = 3; then setenv rk64_n 2; elif test "${rk64_n}" = 2; then setenv rk64_n 1; else setenv rk64_n 0; fi'

setenv rk64_mode normal
if test -z "${rk64_slot}"; then
  # Exhausted: every slot in BOOT_ORDER is at 0. Do not write the state, say so
  # loudly, wait so the message can be read, then boot the primary slot marked
  # rk64.boot=exhausted. A health check that marks the slot good restores it.
  setenv rk64_mode exhausted
  for s in ${BOOT_ORDER}; do
    if test -z "${rk64_slot}"; then
      if test "${s}" = A || test "${s}" = B; then setenv rk64_slot ${s}; fi
    fi
  done
  if test -z "${rk64_slot}"; then setenv rk64_slot A; fi
  echo "rk64: ************************************************************"
  echo "rk64: BOOT ATTEMPTS EXHAUSTED: no slot in BOOT_ORDER has attempts left"
  echo "rk64: booting slot ${rk64_slot} in recovery mode (rk64.boot=exhausted) in 5 s"
  echo "rk64: ************************************************************"
  sleep 5
else
  if test "${rk64_slot}" = A; then
    setenv rk64_n ${BOOT_A_LEFT}; run rk64_dec; setenv BOOT_A_LEFT ${rk64_n}
  else
    setenv rk64_n ${BOOT_B_LEFT}; run rk64_dec; setenv BOOT_B_LEFT ${rk64_n}
  fi
  if test "${rk64_state}" = 1; then
    # write the OTHER copy with flags+1 so a torn write leaves the current copy intact
    env export -c -s 0x3fff ${rk64_s}400000 BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT _RUT_OH_
    cp.b ${rk64_s}400000 ${rk64_s}600000 4
    cp.b ${rk64_s}400004 ${rk64_s}600005 0x3ffb
    setenv rk64_flagaddr none
    if test "${rk64_cur}" = a; then setenv rk64_flagaddr ${rk64_s}000004; setenv rk64_blk 0x7020; fi
    if test "${rk64_cur}" = b; then setenv rk64_flagaddr ${rk64_s}004004; setenv rk64_blk 0x7000; fi
    if test "${rk64_cur}" = none; then setenv rk64_blk 0x7000; mw.b ${rk64_s}600004 0x01 1; fi
    if test "${rk64_flagaddr}" != none; then
      # flags+1 without setexpr: walk 00..ff, the value after the match is the new flag
      setenv rk64_hit 0
      for h in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
        for l in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
          if test "${rk64_hit}" = 1; then mw.b ${rk64_s}600004 0x${h}${l} 1; setenv rk64_hit 2; fi
          if test "${rk64_hit}" = 0; then
            if itest.b *${rk64_flagaddr} == 0x${h}${l}; then setenv rk64_hit 1; fi
          fi
        done
      done
      if test "${rk64_hit}" = 1; then mw.b ${rk64_s}600004 0x00 1; fi
    fi
    if ${devtype} write ${rk64_s}600000 ${rk64_blk} 0x20; then
      echo "rk64: state saved (block ${rk64_blk}) BOOT_A_LEFT=${BOOT_A_LEFT} BOOT_B_LEFT=${BOOT_B_LEFT}"
    else
      echo "rk64: WARNING: could not write the boot state; booting anyway"
    fi
  fi
fi

# ---- kernel command line: built from scratch, nothing from the stored state but the flag
if test "${rk64_slot}" = A; then setenv rk64_label a; else setenv rk64_label b; fi
setenv rk64_console
if test "${soc}" = rk3328; then
  # Rock64: UART2 console; a 60+ MiB kernel at 0x02080000 overlaps the default ramdisk address
  setenv rk64_console "console=ttyS2,1500000"
  setenv ramdisk_addr_r 0x08000000
elif test "${board}" = qemu-arm; then
  setenv rk64_console "console=ttyAMA0"
fi
setenv rk64_extra
if test "${_RUT_OH_}" = 1 || test "${rk64_bg_prompt}" = 1; then
  echo "rk64: break-glass requested (_RUT_OH_=1): serial root console for this boot"
  setenv rk64_extra " rk64.breakglass=1"
fi
if test "${rk64_mode}" = exhausted; then setenv rk64_extra "${rk64_extra} rk64.boot=exhausted"; fi
if part number ${devtype} ${devnum} boot-${rk64_label} rk64_bootpart; then true; else
  echo "rk64: no partition boot-${rk64_label}; resetting"
  reset
fi

# ---- parameters the system asks for: kernel-params.txt on the boot slot, appended after ours.
# Format (docs/boot.md): text, at most 1024 bytes, one line rk64_kernel_params=<words>; only
# printable ASCII without " ' \ $ ` (the kernel and systemd unquote, and a quoted key would slip
# past the check below). Anything else: the file is ignored, our own parameters boot, and we say so.
setenv rk64_params
setenv rk64_pfile kernel-params.txt
setenv rk64_pok 0
if test -e ${devtype} ${devnum}:${rk64_bootpart} ${rk64_pfile}; then
  mw.b ${rk64_s}800000 0 0x402
  if load ${devtype} ${devnum}:${rk64_bootpart} ${rk64_s}800000 ${rk64_pfile} 0x401; then
    if itest 0x${filesize} -gt 0x400; then
      echo "rk64: ${rk64_pfile} is larger than 1024 bytes; ignored"
    elif itest 0x${filesize} == 0; then
      echo "rk64: ${rk64_pfile} is empty; no parameters from it"
    else
      setenv rk64_pok 1
    fi
  else
    echo "rk64: cannot read ${rk64_pfile}; ignored"
  fi
else
  echo "rk64: no ${rk64_pfile} on boot-${rk64_label}; no parameters from it"
fi
if test "${rk64_pok}" = 1; then
  setenv rk64_psize ${filesize}
  for a in 0 1 2 3; do
    for b in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
      for c in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
        if test "${rk64_pok}" = 1 && itest 0x${a}${b}${c} -lt 0x${rk64_psize}; then
          setenv rk64_pb *${rk64_s}800${a}${b}${c}
          if itest.b ${rk64_pb} == 0x0a; then
            true
          elif itest.b ${rk64_pb} -lt 0x20 || itest.b ${rk64_pb} -gt 0x7e || itest.b ${rk64_pb} == 0x22 || itest.b ${rk64_pb} == 0x24 || itest.b ${rk64_pb} == 0x27 || itest.b ${rk64_pb} == 0x5c || itest.b ${rk64_pb} == 0x60; then
            echo "rk64: ${rk64_pfile} has a byte boot.scr does not accept at offset 0x${a}${b}${c}; ignored"
            setenv rk64_pok 0
          fi
        fi
      done
    done
  done
fi
if test "${rk64_pok}" = 1; then
  setenv rk64_kernel_params
  env import -t ${rk64_s}800000 ${rk64_psize} rk64_kernel_params
  # Each word's key (the text before its first "=", as the kernel reads it) is found by letting
  # env import parse "rk64k_<word>": it sets (or, for a bare word, deletes) rk64k_<key>. Keys
  # boot.scr sets itself are dropped. At most 32 words keep the environment's table small.
  setenv rk64_pcount
  for p in ${rk64_kernel_params}; do
    if test "${rk64_pcount}" = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; then
      echo "rk64: ${rk64_pfile}: more than 32 parameters; ${p} ignored"
    else
      setenv rk64_pcount "${rk64_pcount}x"
      setenv rk64k_root "not set"
      setenv rk64k_rauc.slot "not set"
      setenv rk64k_console "not set"
      setenv rk64k_init "not set"
      setenv rk64k_panic "not set"
      setenv rk64k_rk64.breakglass "not set"
      setenv rk64k_rk64.boot "not set"
      setenv rk64k_ "${p}"
      env export -t ${rk64_s}900000 rk64k_
      # drop the "=" after the name: "rk64k_=<word>" becomes "rk64k_<word>"
      cp.b ${rk64_s}900007 ${rk64_s}900006 ${filesize}
      env import -t ${rk64_s}900000 ${filesize}
      if test "${rk64k_root}" != "not set" || test "${rk64k_rauc.slot}" != "not set" || test "${rk64k_console}" != "not set" || test "${rk64k_init}" != "not set" || test "${rk64k_panic}" != "not set" || test "${rk64k_rk64.breakglass}" != "not set" || test "${rk64k_rk64.boot}" != "not set"; then
        echo "rk64: ${rk64_pfile}: ${p} is set by boot.scr itself; ignored"
      else
        setenv rk64_params "${rk64_params} ${p}"
      fi
    fi
  done
  echo "rk64: parameters from ${rk64_pfile}:${rk64_params}"
fi

# init=/sbin/init: NixOS's systemd initrd finds the system only through init= (the flake's root
# links /sbin/init to the system's init); on the Debian test gateway it is systemd already.
setenv bootargs "root=PARTLABEL=rootfs-${rk64_label} rootwait ro init=/sbin/init rauc.slot=${rk64_slot} panic=10 ${rk64_console}${rk64_extra}${rk64_params}"

# ---- load and boot; any failure resets, so the counter decides the next attempt
echo "rk64: booting slot ${rk64_slot} from ${devtype} ${devnum}:${rk64_bootpart} (${rk64_mode})"
echo "rk64: load addresses kernel=${kernel_addr_r} initrd=${ramdisk_addr_r} fdt=${fdt_addr_r}"
echo "rk64: bootargs: ${bootargs}"
if load ${devtype} ${devnum}:${rk64_bootpart} ${kernel_addr_r} Image; then true; else
  echo "rk64: cannot load Image from boot-${rk64_label}; resetting"
  reset
fi
setenv rk64_initrd -
if test -e ${devtype} ${devnum}:${rk64_bootpart} initrd; then
  if load ${devtype} ${devnum}:${rk64_bootpart} ${ramdisk_addr_r} initrd; then
    setenv rk64_initrd ${ramdisk_addr_r}:${filesize}
  else
    echo "rk64: cannot load initrd from boot-${rk64_label}; resetting"
    reset
  fi
fi
setenv rk64_fdt ${fdtcontroladdr}
if test -n "${fdt_addr_r}" && test -e ${devtype} ${devnum}:${rk64_bootpart} board.dtb; then
  if load ${devtype} ${devnum}:${rk64_bootpart} ${fdt_addr_r} board.dtb; then setenv rk64_fdt ${fdt_addr_r}; fi
fi
booti ${kernel_addr_r} ${rk64_initrd} ${rk64_fdt}
echo "rk64: booti failed for slot ${rk64_slot}; resetting"
reset
