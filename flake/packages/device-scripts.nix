# One derivation holding every gateway file from device-scripts/, installed by the same
# `install` program the test gateway uses (prefix = $out, sysconfdir = $out/etc). Units get
# @bindir@/@libexecdir@/@sysconfdir@ substituted with store paths.
{
  stdenvNoCC,
  lib,
  makeWrapper,
  src,
  bash,
  coreutils,
  findutils,
  gnused,
  gnugrep,
  gawk,
  jq,
  iproute2,
  nftables,
  rauc,
  libubootenv,
  systemd,
  curl,
  openssh,
  util-linux,
  procps,
}:
stdenvNoCC.mkDerivation {
  pname = "rk64-device-scripts";
  version = "0.1.0";
  inherit src;
  nativeBuildInputs = [ makeWrapper ];
  # patchShebangs --host resolves `#!/usr/bin/env bash` against these.
  buildInputs = [ bash ];
  dontConfigure = true;
  dontBuild = true;
  installPhase = ''
    runHook preInstall
    patchShebangs --host .
    bash ./install --destdir "" --prefix "$out" --sysconfdir "$out/etc"
    runHook postInstall
  '';
  # The scripts call their tools by name (overridable through variables for tests); give them
  # a PATH that holds exactly what they use.
  postFixup = ''
    for f in $out/bin/* $out/lib/rk64/*; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      wrapProgram "$f" --prefix PATH : ${
        lib.makeBinPath [
          bash
          coreutils
          findutils
          gnused
          gnugrep
          gawk
          jq
          iproute2
          nftables
          rauc
          libubootenv
          systemd
          curl
          openssh
          util-linux
          procps
        ]
      }
    done
  '';
  meta.description = "rk64 gateway programs, units and configuration from device-scripts/";
}
